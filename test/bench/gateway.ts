/**
 * `npm run bench:gateway` — prints the overhead Sovra's gateway adds over calling the same local
 * upstream directly (p50/p99, requests/s), non-streamed and streamed, sanitization and audit on.
 *   --requests N      measured requests per path (default 500)
 *   --concurrency N   parallel callers (default 8)
 *   --upstream loopback|llama   loopback OpenAI-compatible server (default) or llama-server with the tiny model
 */
import { formatResult, runGatewayBench, type BenchOptions } from './gatewayBench.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const requests = Number(arg('requests', '500'));
const concurrency = Number(arg('concurrency', '8'));
const upstream = arg('upstream', 'loopback') as BenchOptions['upstream'];
if (
  !Number.isInteger(requests) ||
  requests < 1 ||
  !Number.isInteger(concurrency) ||
  concurrency < 1 ||
  !['loopback', 'llama'].includes(upstream)
) {
  process.stderr.write('usage: npm run bench:gateway -- [--requests N] [--concurrency N] [--upstream loopback|llama]\n');
  process.exit(2);
}

let failed = false;
for (const stream of [false, true]) {
  const r = await runGatewayBench({ requests, concurrency, upstream, stream });
  process.stdout.write(`${formatResult(r)}\n`);
  if (!r.correct) failed = true;
}
process.exit(failed ? 1 : 0);
