// The WebAssembly the service carries (scanWasm.ts) is the compiled scan.wat: `npm run wasm` after editing it.
import { describe, expect, it } from '@jest/globals';
import { SCAN_WASM_BASE64 } from '../../service/src/sanitize/scanWasm.js';
import { compileScanWasm } from '../../scripts/wasmCompile.js';

describe('scanWasm.ts', () => {
  it('is scan.wat compiled, byte for byte', async () => {
    const compiled = Buffer.from(await compileScanWasm()).toString('base64');
    expect(SCAN_WASM_BASE64).toBe(compiled);
  });
});
