/**
 * The production entry point: `node dist/main.js --config <file> [--port <n>]` runs the sidecar
 * of one jurisdiction against real orgs until SIGINT/SIGTERM. (`npm start` runs the demo on the
 * org emulator, or this same sidecar with `npm start -- --config <file>`.)
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/index.js';
import { configureLogging, log } from './shared/log.js';
import { startSidecar } from './sidecar/index.js';

function usage(): string {
  return [
    'Usage: node dist/main.js --config <file> [--port <n>]',
    '  --config <file>  deployment configuration (see README.md, "Configuration")',
    '  --port <n>       HTTP port (default: http.port of the config; 0 picks a free port)',
  ].join('\n');
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: { config: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean' } },
      allowPositionals: false,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage()}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (!args.config) {
    process.stderr.write(`--config is required.\n${usage()}\n`);
    return 2;
  }
  let cfg;
  try {
    cfg = loadConfig(args.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n${err.fix ?? ''}\n`);
      return 1;
    }
    throw err;
  }
  configureLogging({
    level: cfg.log.level,
    defaultMeta: { service: 'sovra', jurisdiction: cfg.deployment.jurisdiction, region: cfg.deployment.region },
  });
  const port = args.port !== undefined ? Number(args.port) : undefined;
  const sidecar = await startSidecar({ config: cfg, port });
  process.stdout.write(`SOVRA_HTTP_URL=${sidecar.url}\nSOVRA_GATEWAY_URL=${sidecar.url}/v1\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await sidecar.stop();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    log().error('sidecar failed to start', { error: err });
    process.stderr.write(`Sovra failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
