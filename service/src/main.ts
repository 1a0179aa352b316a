/**
 * The production entry point: `node dist/main.js --config <file> [--port <n>]` runs the sidecar
 * of one jurisdiction against real orgs until SIGINT/SIGTERM. (`npm start` runs the demo on the
 * org emulator, or this same sidecar with `npm start -- --config <file>`.)
 */
import { parseArgs } from 'node:util';
import { log } from './shared/log.js';
import { serveConfigFile } from './sidecar/index.js';

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
  return serveConfigFile(args.config, { port: args.port !== undefined ? Number(args.port) : undefined });
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
