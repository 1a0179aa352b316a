/**
 * What the two sanitize benchmark scripts share: their record-count argument, and the script as
 * it ships — compiled JavaScript — for their child processes. The script is bundled with esbuild,
 * the sanitize stage and the benchmark harness inside and the dependencies external, into a
 * temporary file under node_modules, handed to `use`, and removed afterwards. Children run that
 * file with plain `node`: through tsx, they measured its transform wrappers, and its loader's
 * larger heap moved garbage collections in and out of the counted passes (instruction counts of
 * one build moved by up to a quarter between runs).
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

/** The record count a benchmark script was given (argv[2], default `fallback`); below `min`, its usage and exit 2. */
export function recordsArg(command: string, fallback: number, min: number): number {
  const records = Number(process.argv[2] ?? fallback);
  if (!Number.isInteger(records) || records < min) {
    process.stderr.write(`usage: npm run ${command} [-- <records, at least ${min}>]\n`);
    process.exit(2);
  }
  return records;
}
