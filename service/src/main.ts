/**
 * `npm start`: starts the sidecar on a configuration (the example EU config by default) and
 * serves its HTTP face until stopped. Readiness says, per dependency, what is not ready yet.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/index.js';
import { startHttpFace, type ReadinessCheck } from './http/index.js';
import { configureLogging, log } from './shared/log.js';

const VERSION = '0.1.0';

function usage(): string {
  return [
    'Usage: npm start -- [--config <file>] [--port <n>]',
    '  --config <file>  deployment configuration (default: config/sovra.example.yaml)',
    '  --port <n>       HTTP port (default: from the config; 0 picks a free port)',
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
  const file = args.config ?? 'config/sovra.example.yaml';
  let cfg;
  try {
    cfg = loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n${err.fix ?? ''}\n`);
      return 1;
    }
    throw err;
  }
  const logger = configureLogging({
    level: cfg.log.level,
    defaultMeta: { service: 'sovra', jurisdiction: cfg.deployment.jurisdiction, region: cfg.deployment.region },
  });

  const jurisdiction = cfg.jurisdictions[cfg.deployment.jurisdiction]!;
  const readiness: ReadinessCheck[] = [
    {
      name: 'model-endpoints',
      check: async () => {
        const missing = jurisdiction.endpoints.filter((e) => e.provider === 'embedded' && !existsSync(e.modelPath)).map((e) => e.id);
        return missing.length === 0
          ? { ready: true }
          : {
              ready: false,
              detail: `embedded model file missing for ${missing.join(', ')}: set modelPath in the config or SOVRA_MODEL_PATH to a GGUF file`,
            };
      },
    },
    { name: 'store', check: async () => ({ ready: false, detail: 'the store is not wired into the sidecar yet' }) },
    {
      name: 'org-connections',
      check: async () => ({ ready: false, detail: 'no Salesforce org connection is wired into the sidecar yet' }),
    },
  ];

  const port = args.port !== undefined ? Number(args.port) : cfg.http.port;
  const face = await startHttpFace({
    host: cfg.http.host,
    port,
    service: { name: cfg.deployment.name, jurisdiction: cfg.deployment.jurisdiction, region: cfg.deployment.region, version: VERSION },
    readiness,
  });
  process.stdout.write(`SOVRA_HTTP_URL=${face.url}\n`);
  logger.info('sidecar http face listening', { port: face.server.address() && (face.server.address() as { port: number }).port });

  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await face.close();
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
