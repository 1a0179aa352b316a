// `npm run bench:sanitize [-- <records>]`: Sovra vs redact-pii, @openredaction/openredaction and
// @arcjet/redact on two generated EN/DE/FR CRM corpora (see test/bench/sanitizeBench.ts).
// Sovra is measured as it ships — compiled JavaScript — so this script is bundled with esbuild
// first (the sanitize stage and the harness inside, dependencies external) and each tool runs in
// a child process of its own: the bundle under plain node, with SOVRA_BENCH_RUN=<corpus>:<tool>.
import { spawnSync } from 'node:child_process';
import { main, runOne } from '../test/bench/sanitizeBench.js';
import type { ToolResult } from '../test/bench/sanitizeBench.js';
import { recordsArg, withBundledScript } from './sanitizeBundle.js';

const n = recordsArg('bench:sanitize', 4000, 100);

const child = process.env.SOVRA_BENCH_RUN;
if (child) {
  const [ci, ti] = child.split(':').map(Number);
  process.stdout.write(JSON.stringify(await runOne(ci, ti, n)));
} else {
  await withBundledScript(import.meta.url, async (bundle) => {
    await main(n, (ci, ti) => {
      const r = spawnSync(process.execPath, [bundle, String(n)], {
        env: { ...process.env, SOVRA_BENCH_RUN: `${ci}:${ti}` },
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (r.status !== 0) throw new Error(`benchmark child ${ci}:${ti} exited with ${r.status ?? r.signal}`);
      return JSON.parse(r.stdout) as ToolResult;
    });
  });
}
