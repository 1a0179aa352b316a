// `npm run bench:sanitize [-- <records>]`: Sovra vs redact-pii, @openredaction/openredaction and
// @arcjet/redact on two generated EN/DE/FR CRM corpora (see test/bench/sanitizeBench.ts).
// Sovra is measured as it ships — compiled JavaScript — so the sanitize stage is bundled with
// esbuild first (dependencies stay external) instead of running through tsx's transform wrappers.
// Each tool runs in a child process of its own (this script, with SOVRA_BENCH_RUN=<corpus>:<tool>).
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { main, runOne } from '../test/bench/sanitizeBench.js';
import { withSanitizeBundle } from './sanitizeBundle.js';
import type { SanitizeModule, ToolResult } from '../test/bench/sanitizeBench.js';

const n = Number(process.argv[2] ?? 4000);
if (!Number.isInteger(n) || n < 100) {
  process.stderr.write('usage: npm run bench:sanitize [-- <records, at least 100>]\n');
  process.exit(2);
}

const child = process.env.SOVRA_BENCH_RUN;
if (child) {
  const [ci, ti] = child.split(':').map(Number);
  const mod = (await import(pathToFileURL(process.env.SOVRA_BENCH_MODULE!).href)) as SanitizeModule;
  process.stdout.write(JSON.stringify(await runOne(ci, ti, n, mod)));
} else {
  await withSanitizeBundle(async (outfile) => {
    const script = fileURLToPath(import.meta.url);
    await main(n, (ci, ti) => {
      const r = spawnSync(process.execPath, [...process.execArgv, script, String(n)], {
        env: { ...process.env, SOVRA_BENCH_RUN: `${ci}:${ti}`, SOVRA_BENCH_MODULE: outfile },
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (r.status !== 0) throw new Error(`benchmark child ${ci}:${ti} exited with ${r.status ?? r.signal}`);
      return JSON.parse(r.stdout) as ToolResult;
    });
  });
}
