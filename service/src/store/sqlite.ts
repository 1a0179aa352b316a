/**
 * The embedded store: one SQLite file (better-sqlite3, WAL) owned by one sidecar process.
 * better-sqlite3 is synchronous; the async contract is kept by running every statement under
 * an in-process mutex, and a transaction holds that mutex (BEGIN IMMEDIATE … COMMIT) for its
 * whole async body, so no other call of this process can interleave with it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SovraError } from '../shared/errors.js';
import { log } from '../shared/log.js';
import { LATEST_VERSION, MIGRATIONS, MIGRATIONS_TABLE, renderMigration } from './migrations.js';
import { findApiKey, listTenants, purgeExpiredTokenMaps, SqlTenantOps, type Row, type SqlExecutor } from './sqlOps.js';
import { REQUEST_STATUSES, type RequestStatus } from '../shared/schema.js';
import type { Store, StoreMetrics, StoreOptions, TenantOps, TenantStore } from './types.js';

type Db = Database.Database;
type Statement = Database.Statement;

class Mutex {
  private tail: Promise<void> = Promise.resolve();
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

class SqliteExecutor implements SqlExecutor {
  readonly dialect = 'sqlite' as const;
  constructor(
    private readonly db: Db,
    private readonly mutex: Mutex,
    private readonly cache: Map<string, Statement>,
    readonly inTransaction: boolean,
  ) {}

  private prepare(sql: string): Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  private exec<T>(fn: () => T): Promise<T> {
    if (this.inTransaction) return Promise.resolve().then(fn);
    return this.mutex.run(async () => fn());
  }

  all(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return this.exec(() => {
      const s = this.prepare(sql);
      if (!s.reader) {
        s.run(...params);
        return [];
      }
      return s.all(...params) as Row[];
    });
  }

  run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return this.exec(() => this.prepare(sql).run(...params).changes);
  }

  atomic<T>(fn: (ex: SqlExecutor) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    return this.mutex.run(async () => {
      this.db.prepare('BEGIN IMMEDIATE').run();
      try {
        const out = await fn(new SqliteExecutor(this.db, this.mutex, this.cache, true));
        this.db.prepare('COMMIT').run();
        return out;
      } catch (err) {
        if (this.db.inTransaction) this.db.prepare('ROLLBACK').run();
        throw err;
      }
    });
  }
}

class SqliteTenantStore extends SqlTenantOps implements TenantStore {
  transaction<T>(fn: (tx: TenantOps) => Promise<T>): Promise<T> {
    return this.ex.atomic((tx) => fn(new SqlTenantOps(this.tenant, tx, this.now)));
  }
}

function migrate(db: Db): void {
  db.exec(MIGRATIONS_TABLE);
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  const current = row.v ?? 0;
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
    db.transaction(() => {
      for (const stmt of renderMigration(m, 'sqlite')) db.exec(stmt);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
    }).immediate();
    log().info('store migration applied', { store: 'sqlite', version: m.version });
  }
}

export interface SqliteStoreOptions extends StoreOptions {
  /** File path, or ':memory:'. */
  path: string;
  readonly?: boolean;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Db;
  private readonly ex: SqliteExecutor;
  private readonly mutex = new Mutex();
  private readonly now: () => number;
  private closed = false;

  constructor(options: SqliteStoreOptions) {
    this.now = options.now ?? Date.now;
    try {
      // First start: the store's folder is created (owner-only), as the keyring's is.
      if (options.readonly !== true && options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
      this.db = new Database(options.path, { fileMustExist: options.readonly === true, readonly: options.readonly === true });
    } catch (err) {
      throw new SovraError(
        'unavailable',
        `The SQLite store at ${options.path} cannot be opened (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
        {
          code: 'STORE_UNAVAILABLE',
          fix: 'Check that store.path points at a writable file in an existing folder.',
          details: { path: options.path },
          cause: err,
          retryable: false,
        },
      );
    }
    if (options.readonly !== true) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
    }
    this.db.pragma('busy_timeout = 5000');
    if (options.readonly !== true) migrate(this.db);
    this.ex = new SqliteExecutor(this.db, this.mutex, new Map(), false);
  }

  forTenant(tenant: string): TenantStore {
    return new SqliteTenantStore(tenant, this.ex, this.now);
  }

  tenants(): Promise<string[]> {
    return listTenants(this.ex);
  }

  async schemaVersion(): Promise<number> {
    const rows = await this.ex.all('SELECT MAX(version) AS v FROM schema_migrations');
    return Number(rows[0]?.v ?? 0);
  }

  findApiKey(sha256: string): Promise<{ tenant: string; keyId: string } | undefined> {
    return findApiKey(this.ex, sha256);
  }

  purgeExpiredTokenMaps(): Promise<number> {
    return purgeExpiredTokenMaps(this.ex, this.now());
  }

  async metrics(): Promise<StoreMetrics> {
    return collectMetrics(this);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Wait for in-flight work: take the mutex once more before closing.
    await this.mutex.run(async () => this.db.close());
  }
}

export async function collectMetrics(store: Store): Promise<StoreMetrics> {
  const out: StoreMetrics = { outbox: {}, requests: {} };
  for (const t of await store.tenants()) {
    const ts = store.forTenant(t);
    out.outbox[t] = await ts.outboxStats();
    const counts = await ts.countRequests();
    out.requests[t] = Object.fromEntries(REQUEST_STATUSES.map((s) => [s, counts[s] ?? 0])) as Record<RequestStatus, number>;
  }
  return out;
}
