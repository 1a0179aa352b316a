/**
 * Standalone Salesforce org emulator: `npm run emulator -- --port <p> [--seed <file>]`.
 * Prints `SOVRA_EMULATOR_URL=<url>` as its first stdout line, then serves until stopped
 * (SIGINT/SIGTERM). Options: --port (0 = any free port), --host, --seed <json file>,
 * --cometd-timeout-ms, --force-app <dir>, --enforce-field-security (object/field security from the
 * package's permission sets).
 */
import { parseArgs } from 'node:util';
import { DEMO, startEmulator } from '../test/emulator/index.js';

function fail(message: string): never {
  process.stderr.write(`emulator: ${message}\n`);
  process.exit(2);
}

let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      seed: { type: 'string' },
      'cometd-timeout-ms': { type: 'string' },
      'force-app': { type: 'string' },
      'enforce-field-security': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
} catch (e) {
  fail(`${(e as Error).message}. Usage: npm run emulator -- --port <p> [--seed <file>]`);
}
if (values.help) {
  process.stdout.write(
    'Usage: npm run emulator -- --port <p> [--host 127.0.0.1] [--seed <file.json>] [--cometd-timeout-ms 110000] [--force-app <dir>]\n',
  );
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be an integer 0..65535, got '${String(values.port)}'`);
const timeout = values['cometd-timeout-ms'] === undefined ? undefined : Number(values['cometd-timeout-ms']);
if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) fail('--cometd-timeout-ms must be a positive integer');

try {
  const emu = await startEmulator({
    port,
    host: String(values.host),
    seed: typeof values.seed === 'string' ? values.seed : undefined,
    forceAppDir: typeof values['force-app'] === 'string' ? values['force-app'] : undefined,
    cometdTimeoutMs: timeout,
    enforceFieldSecurity: values['enforce-field-security'] === true ? true : undefined,
  });
  process.stdout.write(`SOVRA_EMULATOR_URL=${emu.url}\n`);
  for (const o of emu.admin.orgs()) {
    const app = emu.admin.org(o.key).connectedApps[0];
    process.stdout.write(
      `org ${o.key} ${o.orgId}${o.namespace ? ` namespace=${o.namespace}` : ''}${app ? ` clientId=${app.clientId}` : ''}\n`,
    );
  }
  if (!values.seed) process.stdout.write(`demo integration user: ${DEMO.integrationUser}\n`);
  const stop = (): void => {
    emu.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (e) {
  fail((e as Error).message);
}
