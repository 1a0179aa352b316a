/**
 * The store stage: durable state of the sidecar behind one async contract (see types.ts),
 * on SQLite for one machine or PostgreSQL for replicas. `openStore` picks the implementation
 * from the deployment config and applies pending migrations before returning.
 */
import { readSecret } from '../config/secrets.js';
import type { StoreConfig } from '../config/schema.js';
import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { Store, StoreOptions } from './types.js';

export * from './types.js';
export { SqliteStore, type SqliteStoreOptions } from './sqlite.js';
export { PostgresStore, type PostgresStoreOptions } from './postgres.js';
export { LATEST_VERSION, MIGRATIONS } from './migrations.js';

export interface OpenStoreOptions extends StoreOptions {
  /** Folder that relative secret files are resolved against (the config file's folder). */
  baseDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Open a SQLite store read-only (audit commands reading a live sidecar's file). */
  readonly?: boolean;
}

/** Opens the configured store and migrates it. */
export async function openStore(config: StoreConfig, options: OpenStoreOptions = {}): Promise<Store> {
  if (config.kind === 'sqlite') {
    return new SqliteStore({ path: config.path, now: options.now, readonly: options.readonly });
  }
  const url = readSecret(config.url, options.baseDir ?? process.cwd(), options.env);
  return PostgresStore.open({ connectionString: url, poolSize: config.poolSize, now: options.now });
}

/** Default request lease for a config (PostgreSQL: leaseSeconds; SQLite: 60 s). */
export function leaseMsFor(config: StoreConfig): number {
  return (config.kind === 'postgres' ? config.leaseSeconds : 60) * 1000;
}
