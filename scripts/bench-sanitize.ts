// `npm run bench:sanitize [-- <records>]`: Sovra vs redact-pii, @openredaction/openredaction and
// @arcjet/redact on one generated EN/DE/FR CRM corpus (see test/bench/sanitizeBench.ts).
// Sovra is measured as it ships — compiled JavaScript — so the sanitize stage is bundled with
// esbuild first (dependencies stay external) instead of running through tsx's transform wrappers.
import { mkdtempSync, rmSync } from 'node:fs';

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { main } from '../test/bench/sanitizeBench.js';
import type { SanitizeModule } from '../test/bench/sanitizeBench.js';

const n = Number(process.argv[2] ?? 4000);
if (!Number.isInteger(n) || n < 100) {
  process.stderr.write('usage: npm run bench:sanitize [-- <records, at least 100>]\n');
  process.exit(2);
}
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
  const mod = (await import(pathToFileURL(outfile).href)) as SanitizeModule;
  await main(n, mod);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
