/**
 * A sanitize benchmark script as it ships — compiled JavaScript — for its child processes: the
 * script is bundled with esbuild, the sanitize stage and the benchmark harness inside and the
 * dependencies external, into a temporary file under node_modules, handed to `use`, and removed
 * afterwards. Children run that file with plain `node`: through tsx, they measured its transform
 * wrappers, and its loader's larger heap moved garbage collections in and out of the counted
 * passes (instruction counts of one build moved by up to a quarter between runs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export async function withBundledScript<T>(scriptUrl: string, use: (bundle: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(process.cwd(), 'node_modules/.sovra-bench-'));
  try {
    const outfile = join(dir, 'bench.mjs');
    await build({
      entryPoints: [fileURLToPath(scriptUrl)],
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
