/**
 * The shared store for replicas: PostgreSQL through a `pg` pool. Work is claimed with
 * `FOR UPDATE SKIP LOCKED`, chain appends serialise on the chain head's row lock, and
 * migrations run under a transaction-scoped advisory lock so replicas starting together
 * migrate once.
 */
import pg from 'pg';
import { conflictError, SovraError } from '../shared/errors.js';
import { log } from '../shared/log.js';
import { LATEST_VERSION, MIGRATIONS, MIGRATIONS_TABLE, renderMigration } from './migrations.js';
import { collectMetrics } from './sqlite.js';
import { findApiKey, listTenants, purgeExpiredTokenMaps, SqlTenantOps, type Row, type SqlExecutor } from './sqlOps.js';
import type { Store, StoreMetrics, StoreOptions, TenantOps, TenantStore } from './types.js';

const INT8_OID = 20;
const MIGRATION_LOCK = 0x50a7a; // arbitrary, constant: pg_advisory_xact_lock key for migrations
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** `?` placeholders → `$1…$n` (the store's SQL has no `?` inside literals). */
function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

function mapPgError(err: unknown): unknown {
  const code = (err as { code?: string }).code;
  if (code === '40P01' || code === '40001') {
    return conflictError('The store aborted a transaction to resolve contention.', {
      code: 'STORE_CONTENTION',
      fix: 'Retry the operation.',
      retryable: true,
      cause: err,
    });
  }
  return err;
}

interface Queryable {
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
}

class PgExecutor implements SqlExecutor {
  readonly dialect = 'postgres' as const;
  constructor(
    private readonly pool: pg.Pool,
    private readonly client: Queryable | undefined,
  ) {}

  get inTransaction(): boolean {
    return this.client !== undefined;
  }

  async all(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    try {
      const r = await (this.client ?? this.pool).query(numbered(sql), [...params]);
      return r.rows as Row[];
    } catch (err) {
      throw mapPgError(err);
    }
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    try {
      const r = await (this.client ?? this.pool).query(numbered(sql), [...params]);
      return r.rowCount ?? 0;
    } catch (err) {
      throw mapPgError(err);
    }
  }

  async atomic<T>(fn: (ex: SqlExecutor) => Promise<T>): Promise<T> {
    if (this.client) return fn(this);
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const out = await fn(new PgExecutor(this.pool, client));
      await client.query('COMMIT');
      return out;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw mapPgError(err);
    } finally {
      client.release(broken);
    }
  }
}

class PgTenantStore extends SqlTenantOps implements TenantStore {
  transaction<T>(fn: (tx: TenantOps) => Promise<T>): Promise<T> {
    return this.ex.atomic((tx) => fn(new SqlTenantOps(this.tenant, tx, this.now)));
  }
}

function sessionOptions(o: PostgresStoreOptions): { options?: string } {
  const settings = { ...(o.schema ? { search_path: o.schema } : {}), ...(o.sessionSettings ?? {}) };
  for (const [k, v] of Object.entries(settings)) {
    if (!/^[a-z_]+$/.test(k) || !/^[\w.-]+$/.test(v)) {
      throw new SovraError('validation', `Session setting '${k}' is not usable.`, {
        code: 'STORE_INPUT_INVALID',
        fix: 'Use plain PostgreSQL setting names and values.',
      });
    }
  }
  const parts = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`);
  return parts.length > 0 ? { options: parts.join(' ') } : {};
}

export interface PostgresStoreOptions extends StoreOptions {
  connectionString: string;
  poolSize?: number;
  /** A schema of its own (created if missing); defaults to the connection's search_path. */
  schema?: string;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
  /** Extra session settings, e.g. { synchronous_commit: 'off' } for throwaway test databases. */
  sessionSettings?: Record<string, string>;
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly ex: PgExecutor;
  private readonly now: () => number;
  private closed = false;

  private constructor(pool: pg.Pool, now: () => number) {
    this.pool = pool;
    this.ex = new PgExecutor(pool, undefined);
    this.now = now;
  }

  /** Connects, creates the schema if asked, and applies pending migrations. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
      throw new SovraError('validation', `'${options.schema}' is not a usable schema name.`, {
        code: 'STORE_INPUT_INVALID',
        fix: 'Use lower-case letters, digits and underscores, starting with a letter.',
      });
    }
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      application_name: options.applicationName ?? 'sovra',
      types,
      ...sessionOptions(options),
    });
    pool.on('error', (err) => log().warn('store pool client error', { err }));
    const store = new PostgresStore(pool, options.now ?? Date.now);
    try {
      if (options.schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
      await store.migrate();
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (err instanceof SovraError) throw err;
      const code = (err as { code?: string }).code;
      throw new SovraError('unavailable', `The PostgreSQL store cannot be reached or prepared (${code ?? 'error'}).`, {
        code: 'STORE_UNAVAILABLE',
        fix: 'Check store.url (host, port, database, credentials) and that the server is running and reachable from this sidecar.',
        details: { pgCode: code ?? null },
        cause: err,
        retryable: true,
      });
    }
    return store;
  }

  private async migrate(): Promise<void> {
    await this.ex.atomic(async (ex) => {
      await ex.run(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      await ex.run(MIGRATIONS_TABLE);
      const current = Number((await ex.all('SELECT MAX(version) AS v FROM schema_migrations'))[0]?.v ?? 0);
      if (current > LATEST_VERSION) {
        throw new SovraError(
          'unavailable',
          `The store's schema (version ${current}) is newer than this sidecar understands (${LATEST_VERSION}).`,
          {
            code: 'STORE_SCHEMA_TOO_NEW',
            fix: 'Run a sidecar release at least as new as the one that last migrated this store.',
            retryable: false,
          },
        );
      }
      for (const m of MIGRATIONS.filter((x) => x.version > current)) {
        for (const stmt of renderMigration(m, 'postgres')) await ex.run(stmt);
        await ex.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
          m.version,
          m.name,
          new Date().toISOString(),
        ]);
        log().info('store migration applied', { store: 'postgres', version: m.version });
      }
    });
  }

  forTenant(tenant: string): TenantStore {
    return new PgTenantStore(tenant, this.ex, this.now);
  }

  tenants(): Promise<string[]> {
    return listTenants(this.ex);
  }

  async schemaVersion(): Promise<number> {
    return Number((await this.ex.all('SELECT MAX(version) AS v FROM schema_migrations'))[0]?.v ?? 0);
  }

  findApiKey(sha256: string): Promise<{ tenant: string; keyId: string } | undefined> {
    return findApiKey(this.ex, sha256);
  }

  purgeExpiredTokenMaps(): Promise<number> {
    return purgeExpiredTokenMaps(this.ex, this.now());
  }

  metrics(): Promise<StoreMetrics> {
    return collectMetrics(this);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
