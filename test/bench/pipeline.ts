/**
 * `npm run bench:pipeline` — requests per second and the latency Sovra adds (model time
 * excluded) through the org emulator with a fast local model, and Salesforce API calls per
 * request for single requests and for a burst.
 *   --singles N   requests sent one at a time (default 20)
 *   --burst N     requests submitted at once (default 1000)
 */
import { formatPipelineResult, runPipelineBench } from './pipelineBench.js';

function arg(name: string, fallback: string): number {
  const i = process.argv.indexOf(`--${name}`);
  return Number(i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback);
}

const singles = arg('singles', '20');
const burst = arg('burst', '1000');
if (!Number.isInteger(singles) || singles < 0 || !Number.isInteger(burst) || burst < 1) {
  process.stderr.write('usage: npm run bench:pipeline -- [--singles N] [--burst N]\n');
  process.exit(2);
}
const r = await runPipelineBench({ singles, burst });
process.stdout.write(`${formatPipelineResult(r)}\n`);
process.exit(r.correct ? 0 : 1);
