// `npm run bench:sanitize [-- <records>]`: Sovra vs redact-pii, @openredaction/openredaction and
// @arcjet/redact on one generated EN/DE/FR CRM corpus (see test/bench/sanitizeBench.ts).
import { main } from '../test/bench/sanitizeBench.js';

const n = Number(process.argv[2] ?? 4000);
if (!Number.isInteger(n) || n < 100) {
  process.stderr.write('usage: npm run bench:sanitize [-- <records, at least 100>]\n');
  process.exit(2);
}
await main(n);
