/** `npm run wasm`: rewrites service/src/sanitize/scanWasm.ts from scan.wat. */
import { writeFileSync } from 'node:fs';
import { compileScanWasm, scanWasmModuleSource } from './wasmCompile.js';

const wasm = await compileScanWasm();
writeFileSync(new URL('../service/src/sanitize/scanWasm.ts', import.meta.url), scanWasmModuleSource(wasm));
process.stdout.write(`scanWasm.ts: ${wasm.length} bytes of WebAssembly\n`);
