/**
 * Runs the sidecar of one deployment config until SIGINT/SIGTERM: the production entry
 * (`node dist/main.js --config`) and `npm start -- --config` share it.
 */
import { ConfigError, loadConfig } from '../config/index.js';
import { configureLogging } from '../shared/log.js';
import { startSidecar } from './sidecar.js';

/** Serves until stopped; returns the process exit code. Prints the URLs on stdout first. */
export async function serveConfigFile(file: string, options: { port?: number } = {}): Promise<number> {
  // Everything the sidecar creates (store, WAL, keyring, logs) is readable by its own user only.
  process.umask(0o077);
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
  configureLogging({
    level: cfg.log.level,
    defaultMeta: { service: 'sovra', jurisdiction: cfg.deployment.jurisdiction, region: cfg.deployment.region },
  });
  const sidecar = await startSidecar({ config: cfg, port: options.port });
  process.stdout.write(`SOVRA_HTTP_URL=${sidecar.url}\nSOVRA_GATEWAY_URL=${sidecar.url}/v1\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await sidecar.stop();
  return 0;
}
