/**
 * Versioned schema migrations, applied in order at start. Each migration is written once
 * with three dialect slots ({ID} auto-increment key, {INT} 64-bit integer, {BLOB} bytes) and
 * rendered for SQLite or PostgreSQL. Migrations are append-only: a released one is never
 * edited, a change is a new version. Every table's key starts with the tenant.
 */

export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const SLOTS: Record<Dialect, Record<string, string>> = {
  sqlite: { ID: 'INTEGER PRIMARY KEY AUTOINCREMENT', INT: 'INTEGER', BLOB: 'BLOB' },
  postgres: { ID: 'BIGSERIAL PRIMARY KEY', INT: 'BIGINT', BLOB: 'BYTEA' },
};

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'requests, outbox, replay, incidents, token maps, api keys, hash chains',
    sql: `
CREATE TABLE requests (
  tenant TEXT NOT NULL,
  request_id TEXT NOT NULL,
  jurisdiction TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  reason_code TEXT,
  owner TEXT,
  generation {INT} NOT NULL DEFAULT 0,
  lease_expires_at {INT},
  attempts {INT} NOT NULL DEFAULT 0,
  source TEXT NOT NULL,
  meta TEXT NOT NULL DEFAULT '{}',
  created_at {INT} NOT NULL,
  updated_at {INT} NOT NULL,
  finished_at {INT},
  PRIMARY KEY (tenant, request_id)
);
CREATE INDEX requests_status ON requests (tenant, status, lease_expires_at);

CREATE TABLE outbox (
  id {ID},
  tenant TEXT NOT NULL,
  jurisdiction TEXT NOT NULL,
  sobject TEXT NOT NULL,
  external_id_field TEXT,
  external_id TEXT,
  operation TEXT NOT NULL,
  payload {BLOB} NOT NULL,
  encrypted {INT} NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  attempts {INT} NOT NULL DEFAULT 0,
  next_attempt_at {INT} NOT NULL,
  last_error TEXT,
  leased_by TEXT,
  lease_expires_at {INT},
  created_at {INT} NOT NULL,
  sent_at {INT}
);
CREATE INDEX outbox_due ON outbox (tenant, status, next_attempt_at);
CREATE INDEX outbox_key ON outbox (tenant, sobject, external_id, status);

CREATE TABLE replay_checkpoints (
  tenant TEXT NOT NULL,
  channel TEXT NOT NULL,
  replay_id TEXT NOT NULL,
  updated_at {INT} NOT NULL,
  PRIMARY KEY (tenant, channel)
);

CREATE TABLE incidents (
  id {ID},
  tenant TEXT NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  details TEXT NOT NULL,
  occurred_at {INT} NOT NULL
);
CREATE INDEX incidents_time ON incidents (tenant, occurred_at);

CREATE TABLE token_maps (
  tenant TEXT NOT NULL,
  jurisdiction TEXT NOT NULL,
  request_id TEXT NOT NULL,
  ciphertext {BLOB} NOT NULL,
  expires_at {INT} NOT NULL,
  created_at {INT} NOT NULL,
  PRIMARY KEY (tenant, jurisdiction, request_id)
);
CREATE INDEX token_maps_expiry ON token_maps (expires_at);

CREATE TABLE api_keys (
  tenant TEXT NOT NULL,
  key_id TEXT NOT NULL,
  sha256 TEXT NOT NULL UNIQUE,
  created_at {INT} NOT NULL,
  revoked_at {INT},
  PRIMARY KEY (tenant, key_id)
);

CREATE TABLE chain_heads (
  tenant TEXT NOT NULL,
  chain_id TEXT NOT NULL,
  last_seq {INT} NOT NULL,
  last_hash TEXT,
  last_checkpoint_seq {INT} NOT NULL,
  last_checkpoint_at {INT} NOT NULL,
  PRIMARY KEY (tenant, chain_id)
);

CREATE TABLE chain_entries (
  tenant TEXT NOT NULL,
  chain_id TEXT NOT NULL,
  seq {INT} NOT NULL,
  prev_hash TEXT NOT NULL,
  entry_hash TEXT NOT NULL,
  body TEXT NOT NULL,
  occurred_at {INT} NOT NULL,
  PRIMARY KEY (tenant, chain_id, seq)
);

CREATE TABLE chain_checkpoints (
  tenant TEXT NOT NULL,
  chain_id TEXT NOT NULL,
  from_seq {INT} NOT NULL,
  to_seq {INT} NOT NULL,
  body TEXT NOT NULL,
  created_at {INT} NOT NULL,
  PRIMARY KEY (tenant, chain_id, to_seq)
);
`,
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The migration's statements for one dialect. */
export function renderMigration(m: Migration, dialect: Dialect): string[] {
  const slots = SLOTS[dialect];
  return m.sql
    .replace(/\{(\w+)\}/g, (_, k: string) => {
      const v = slots[k];
      if (v === undefined) throw new Error(`Unknown migration slot {${k}} in migration ${m.version}.`);
      return v;
    })
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`;
