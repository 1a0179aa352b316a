/**
 * A second "sidecar" for the concurrency test: opens the keyring given on the command line and
 * creates data keys for many tenants at once, then prints one envelope per tenant as JSON.
 */
import { configureLogging } from '../../shared/log.js';
import { createKeyService } from '../index.js';

configureLogging({ silent: true });
const [path, prefix, count] = process.argv.slice(2);
const keys = await createKeyService('EU', { provider: 'local', region: 'eu-central-1', path }, { baseDir: '/' });
const out: Record<string, string> = {};
await Promise.all(
  Array.from({ length: Number(count) }, async (_, i) => {
    const tenant = `${prefix}${i}`;
    out[tenant] = (await keys.encrypt({ tenant, jurisdiction: 'EU', purpose: 'outbox' }, tenant)).toString('base64');
  }),
);
await keys.close();
process.stdout.write(JSON.stringify(out));
