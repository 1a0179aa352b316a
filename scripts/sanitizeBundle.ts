/**
 * The sanitize stage as it ships — compiled JavaScript — for the benchmarks: bundled with esbuild
 * (dependencies stay external) into a temporary file under node_modules, handed to `use`, and
 * removed afterwards. Running it through tsx's transform wrappers would measure those instead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

export async function withSanitizeBundle<T>(use: (modulePath: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(process.cwd(), 'node_modules/.sovra-bench-'));
  try {
    const outfile = join(dir, 'sanitize.mjs');
    await build({
      entryPoints: ['service/src/sanitize/index.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile,
      logLevel: 'error',
    });
    return await use(outfile);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
