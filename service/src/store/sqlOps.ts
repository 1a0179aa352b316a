/**
 * The store's queries, written once over a small executor that SQLite and PostgreSQL each
 * implement. Every statement filters by the handle's tenant: there is no method here that
 * takes a tenant from its caller. Row locks (`FOR UPDATE`, `SKIP LOCKED`) are rendered only
 * for PostgreSQL; SQLite runs one writer at a time (BEGIN IMMEDIATE under an in-process
 * mutex), which gives the same guarantees on one machine.
 */
import { conflictError, SovraError, validationError } from '../shared/errors.js';
import { FINAL_STATUSES, REQUEST_STATUSES, type RequestStatus } from '../shared/schema.js';
import type { Dialect } from './migrations.js';
import {
  OUTBOX_MAX_BATCH,
  OUTBOX_OPERATIONS,
  type ApiKeyRow,
  type ChainCheckpointInput,
  type ChainCheckpointRow,
  type ChainEntryInput,
  type ChainEntryRow,
  type ChainHead,
  type ClaimOptions,
  type ClaimResult,
  type EnqueueRequestOptions,
  type Incident,
  type IncidentInput,
  type LeaseOutboxOptions,
  type Lease,
  type OutboxFailure,
  type OutboxInput,
  type OutboxRow,
  type OutboxStats,
  type RangeOptions,
  type ReplayCheckpoint,
  type RequestRecord,
  type StatusChange,
  type TenantOps,
  type TokenMapInput,
  type TokenMapRow,
} from './types.js';

export type Row = Record<string, unknown>;

export interface SqlExecutor {
  readonly dialect: Dialect;
  readonly inTransaction: boolean;
  /** `?` placeholders; PostgreSQL's executor renumbers them. */
  all(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Runs `fn` atomically: inside the current transaction, or in a new one. */
  atomic<T>(fn: (ex: SqlExecutor) => Promise<T>): Promise<T>;
}

const MAX_ID = 255;
const MAX_ERROR = 1000;

function requireId(what: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID) {
    throw validationError(`${what} must be a non-empty string of at most ${MAX_ID} characters.`, {
      code: 'STORE_INPUT_INVALID',
      fix: `Pass a valid ${what}.`,
      details: { field: what },
    });
  }
  return v;
}

function requireInt(what: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw validationError(`${what} must be an integer between ${min} and ${max}.`, {
      code: 'STORE_INPUT_INVALID',
      fix: `Pass a valid ${what}.`,
      details: { field: what },
    });
  }
  return v;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(',');
const isFinal = (s: RequestStatus): boolean => FINAL_STATUSES.includes(s);

function toRequest(r: Row): RequestRecord {
  return {
    tenant: String(r.tenant),
    requestId: String(r.request_id),
    jurisdiction: String(r.jurisdiction),
    status: String(r.status) as RequestStatus,
    reason: strOrNull(r.reason),
    reasonCode: strOrNull(r.reason_code),
    owner: strOrNull(r.owner),
    generation: num(r.generation),
    leaseExpiresAt: numOrNull(r.lease_expires_at),
    attempts: num(r.attempts),
    source: String(r.source) as RequestRecord['source'],
    meta: JSON.parse(String(r.meta)) as RequestRecord['meta'],
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    finishedAt: numOrNull(r.finished_at),
  };
}

function toLease(r: RequestRecord): Lease {
  return { tenant: r.tenant, requestId: r.requestId, owner: r.owner!, generation: r.generation, expiresAt: r.leaseExpiresAt! };
}

function toOutbox(r: Row): OutboxRow {
  return {
    id: num(r.id),
    tenant: String(r.tenant),
    jurisdiction: String(r.jurisdiction),
    sobject: String(r.sobject),
    externalIdField: strOrNull(r.external_id_field),
    externalId: strOrNull(r.external_id),
    operation: String(r.operation) as OutboxRow['operation'],
    payload: Buffer.from(r.payload as Uint8Array),
    encrypted: num(r.encrypted) === 1,
    attempts: num(r.attempts),
    nextAttemptAt: num(r.next_attempt_at),
    lastError: strOrNull(r.last_error),
    status: String(r.status) as OutboxRow['status'],
    createdAt: num(r.created_at),
    sentAt: numOrNull(r.sent_at),
  };
}

function toHead(r: Row): ChainHead {
  return {
    tenant: String(r.tenant),
    chainId: String(r.chain_id),
    lastSeq: num(r.last_seq),
    lastHash: strOrNull(r.last_hash),
    lastCheckpointSeq: num(r.last_checkpoint_seq),
    lastCheckpointAt: num(r.last_checkpoint_at),
  };
}

function toEntry(r: Row): ChainEntryRow {
  return {
    tenant: String(r.tenant),
    chainId: String(r.chain_id),
    seq: num(r.seq),
    prevHash: String(r.prev_hash),
    entryHash: String(r.entry_hash),
    body: String(r.body),
    occurredAt: num(r.occurred_at),
  };
}

function toCheckpoint(r: Row): ChainCheckpointRow {
  return {
    tenant: String(r.tenant),
    chainId: String(r.chain_id),
    fromSeq: num(r.from_seq),
    toSeq: num(r.to_seq),
    body: String(r.body),
    createdAt: num(r.created_at),
  };
}

function emptyCounts(): Record<RequestStatus, number> {
  return Object.fromEntries(REQUEST_STATUSES.map((s) => [s, 0])) as Record<RequestStatus, number>;
}

export class SqlTenantOps implements TenantOps {
  constructor(
    readonly tenant: string,
    protected readonly ex: SqlExecutor,
    protected readonly now: () => number,
  ) {
    requireId('tenant', tenant);
  }

  private get forUpdate(): string {
    return this.ex.dialect === 'postgres' ? ' FOR UPDATE' : '';
  }
  private get skipLocked(): string {
    return this.ex.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
  }

  // ---------------------------------------------------------------- requests

  async enqueueRequest(requestId: string, o: EnqueueRequestOptions): Promise<{ created: boolean; request: RequestRecord }> {
    requireId('requestId', requestId);
    requireId('jurisdiction', o.jurisdiction);
    const t = this.now();
    return this.ex.atomic(async (ex) => {
      const ins = await ex.all(
        `INSERT INTO requests (tenant, request_id, jurisdiction, status, generation, attempts, source, meta, created_at, updated_at)
         VALUES (?, ?, ?, 'Queued', 0, 0, ?, ?, ?, ?) ON CONFLICT (tenant, request_id) DO NOTHING RETURNING *`,
        [this.tenant, requestId, o.jurisdiction, o.source ?? 'other', JSON.stringify(o.meta ?? {}), t, t],
      );
      if (ins.length > 0) return { created: true, request: toRequest(ins[0]!) };
      const cur = await ex.all(`SELECT * FROM requests WHERE tenant = ? AND request_id = ?`, [this.tenant, requestId]);
      return { created: false, request: toRequest(cur[0]!) };
    });
  }

  async claim(requestId: string, o: ClaimOptions): Promise<ClaimResult> {
    requireId('requestId', requestId);
    requireId('jurisdiction', o.jurisdiction);
    requireId('owner', o.owner);
    requireInt('leaseMs', o.leaseMs, 1);
    return this.ex.atomic(async (ex) => {
      const t = this.now();
      const ins = await ex.all(
        `INSERT INTO requests (tenant, request_id, jurisdiction, status, owner, generation, lease_expires_at, attempts, source, meta, created_at, updated_at)
         VALUES (?, ?, ?, 'Processing', ?, 1, ?, 1, ?, ?, ?, ?) ON CONFLICT (tenant, request_id) DO NOTHING RETURNING *`,
        [this.tenant, requestId, o.jurisdiction, o.owner, t + o.leaseMs, o.source ?? 'other', JSON.stringify(o.meta ?? {}), t, t],
      );
      if (ins.length > 0) {
        const request = toRequest(ins[0]!);
        return { status: 'claimed', lease: toLease(request), request };
      }
      const cur = toRequest(
        (await ex.all(`SELECT * FROM requests WHERE tenant = ? AND request_id = ?${this.forUpdate}`, [this.tenant, requestId]))[0]!,
      );
      if (cur.jurisdiction !== o.jurisdiction) {
        throw conflictError(`Request ${requestId} belongs to jurisdiction ${cur.jurisdiction}, not ${o.jurisdiction}.`, {
          code: 'REQUEST_JURISDICTION_MISMATCH',
          fix: 'Only the sidecar of the request’s own jurisdiction may process it.',
          details: { requestId, jurisdiction: cur.jurisdiction },
        });
      }
      if (isFinal(cur.status)) return { status: 'final', request: cur };
      const takeable = cur.status === 'Queued' || (cur.status === 'Processing' && (cur.leaseExpiresAt ?? 0) <= t);
      if (!takeable) return { status: 'held', request: cur };
      const upd = await ex.all(
        `UPDATE requests SET status = 'Processing', owner = ?, generation = generation + 1, lease_expires_at = ?, attempts = attempts + 1, updated_at = ?
         WHERE tenant = ? AND request_id = ? AND generation = ? RETURNING *`,
        [o.owner, t + o.leaseMs, t, this.tenant, requestId, cur.generation],
      );
      if (upd.length === 0) return { status: 'held', request: cur };
      const request = toRequest(upd[0]!);
      return { status: 'claimed', lease: toLease(request), request };
    });
  }

  async claimBatch(o: {
    owner: string;
    leaseMs: number;
    limit: number;
    jurisdiction?: string;
  }): Promise<{ lease: Lease; request: RequestRecord }[]> {
    requireId('owner', o.owner);
    requireInt('leaseMs', o.leaseMs, 1);
    requireInt('limit', o.limit, 1, 10_000);
    return this.ex.atomic(async (ex) => {
      const t = this.now();
      const jFilter = o.jurisdiction === undefined ? '' : ' AND jurisdiction = ?';
      // The pick is a MATERIALIZED CTE: as an IN (subquery) PostgreSQL may re-run it and exceed LIMIT.
      const rows = await ex.all(
        `WITH picked AS MATERIALIZED (
           SELECT request_id FROM requests
           WHERE tenant = ? AND (status = 'Queued' OR (status = 'Processing' AND lease_expires_at <= ?))${jFilter}
           ORDER BY created_at, request_id LIMIT ?${this.skipLocked})
         UPDATE requests SET status = 'Processing', owner = ?, generation = generation + 1, lease_expires_at = ?, attempts = attempts + 1, updated_at = ?
         WHERE tenant = ? AND request_id IN (SELECT request_id FROM picked)
         RETURNING *`,
        [this.tenant, t, ...(o.jurisdiction === undefined ? [] : [o.jurisdiction]), o.limit, o.owner, t + o.leaseMs, t, this.tenant],
      );
      return rows
        .map(toRequest)
        .sort((a, b) => a.createdAt - b.createdAt || a.requestId.localeCompare(b.requestId))
        .map((request) => ({ lease: toLease(request), request }));
    });
  }

  private leaseLost(lease: Lease): SovraError {
    return conflictError(`The lease on request ${lease.requestId} is no longer held by ${lease.owner}.`, {
      code: 'LEASE_LOST',
      fix: 'Another replica took the request over after this lease expired; drop this work (its transaction is rolled back).',
      details: { requestId: lease.requestId, generation: lease.generation },
      retryable: false,
    });
  }

  private checkLease(lease: Lease): void {
    if (lease.tenant !== this.tenant) throw this.leaseLost(lease);
  }

  async renewLease(lease: Lease, leaseMs: number): Promise<Lease> {
    this.checkLease(lease);
    requireInt('leaseMs', leaseMs, 1);
    const t = this.now();
    const rows = await this.ex.all(
      `UPDATE requests SET lease_expires_at = ?, updated_at = ? WHERE tenant = ? AND request_id = ? AND owner = ? AND generation = ? AND status = 'Processing' RETURNING *`,
      [t + leaseMs, t, this.tenant, lease.requestId, lease.owner, lease.generation],
    );
    if (rows.length === 0) throw this.leaseLost(lease);
    return toLease(toRequest(rows[0]!));
  }

  async releaseLease(lease: Lease, reason?: string): Promise<void> {
    this.checkLease(lease);
    const n = await this.ex.run(
      `UPDATE requests SET status = 'Queued', owner = NULL, lease_expires_at = NULL, reason = ?, updated_at = ? WHERE tenant = ? AND request_id = ? AND owner = ? AND generation = ? AND status = 'Processing'`,
      [reason ?? null, this.now(), this.tenant, lease.requestId, lease.owner, lease.generation],
    );
    if (n === 0) throw this.leaseLost(lease);
  }

  async setStatus(lease: Lease, change: StatusChange): Promise<RequestRecord> {
    this.checkLease(lease);
    if (!REQUEST_STATUSES.includes(change.status)) {
      throw validationError(`'${String(change.status)}' is not a request status.`, {
        code: 'STORE_INPUT_INVALID',
        fix: `Use one of ${REQUEST_STATUSES.join(', ')}.`,
      });
    }
    if (change.status === 'Queued')
      return this.releaseLease(lease, change.reason ?? undefined).then(async () => (await this.getRequest(lease.requestId))!);
    const t = this.now();
    const final = isFinal(change.status);
    const rows = await this.ex.all(
      `UPDATE requests SET status = ?, reason = ?, reason_code = ?, updated_at = ?${final ? ', owner = NULL, lease_expires_at = NULL, finished_at = ?' : ''}
       WHERE tenant = ? AND request_id = ? AND owner = ? AND generation = ? AND status = 'Processing' RETURNING *`,
      [
        change.status,
        change.reason ?? null,
        change.reasonCode ?? null,
        t,
        ...(final ? [t] : []),
        this.tenant,
        lease.requestId,
        lease.owner,
        lease.generation,
      ],
    );
    if (rows.length === 0) throw this.leaseLost(lease);
    return toRequest(rows[0]!);
  }

  async getRequest(requestId: string): Promise<RequestRecord | undefined> {
    const rows = await this.ex.all(`SELECT * FROM requests WHERE tenant = ? AND request_id = ?`, [this.tenant, requestId]);
    return rows[0] ? toRequest(rows[0]) : undefined;
  }

  async listExpiredLeases(options: { limit?: number } = {}): Promise<RequestRecord[]> {
    const rows = await this.ex.all(
      `SELECT * FROM requests WHERE tenant = ? AND status = 'Processing' AND lease_expires_at <= ? ORDER BY lease_expires_at, request_id LIMIT ?`,
      [this.tenant, this.now(), requireInt('limit', options.limit ?? 1000, 1, 100_000)],
    );
    return rows.map(toRequest);
  }

  async countRequests(): Promise<Record<RequestStatus, number>> {
    const out = emptyCounts();
    for (const r of await this.ex.all(`SELECT status, COUNT(*) AS n FROM requests WHERE tenant = ? GROUP BY status`, [this.tenant])) {
      out[String(r.status) as RequestStatus] = num(r.n);
    }
    return out;
  }

  // ---------------------------------------------------------------- outbox

  async enqueueOutbox(row: OutboxInput): Promise<number> {
    requireId('jurisdiction', row.jurisdiction);
    requireId('sobject', row.sobject);
    if (!OUTBOX_OPERATIONS.includes(row.operation)) {
      throw validationError(`'${String(row.operation)}' is not an outbox operation.`, {
        code: 'STORE_INPUT_INVALID',
        fix: `Use one of ${OUTBOX_OPERATIONS.join(', ')}.`,
      });
    }
    if (row.operation === 'upsert' || row.operation === 'update') {
      requireId('externalIdField', row.externalIdField);
      requireId('externalId', row.externalId);
    }
    if (!(row.payload instanceof Uint8Array) || row.payload.length === 0) {
      throw validationError('An outbox payload must be non-empty bytes.', {
        code: 'STORE_INPUT_INVALID',
        fix: 'Serialise (and encrypt) the record first.',
      });
    }
    const t = this.now();
    const rows = await this.ex.all(
      `INSERT INTO outbox (tenant, jurisdiction, sobject, external_id_field, external_id, operation, payload, encrypted, status, attempts, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) RETURNING id`,
      [
        this.tenant,
        row.jurisdiction,
        row.sobject,
        row.externalIdField ?? null,
        row.externalId ?? null,
        row.operation,
        Buffer.from(row.payload),
        row.encrypted ? 1 : 0,
        t,
        t,
      ],
    );
    return num(rows[0]!.id);
  }

  /** Due, unleased, and no older pending row for the same record (so writes land in order). */
  private dueClause(alias: string): string {
    return `${alias}.tenant = ? AND ${alias}.status = 'pending' AND ${alias}.next_attempt_at <= ?
      AND (${alias}.lease_expires_at IS NULL OR ${alias}.lease_expires_at <= ?)
      AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.tenant = ${alias}.tenant AND ${alias}.external_id IS NOT NULL
        AND p.sobject = ${alias}.sobject AND p.external_id = ${alias}.external_id AND p.status = 'pending' AND p.id < ${alias}.id)`;
  }

  async leaseOutboxBatch(o: LeaseOutboxOptions): Promise<OutboxRow[]> {
    requireId('owner', o.owner);
    requireInt('limit', o.limit, 1, OUTBOX_MAX_BATCH);
    requireInt('leaseMs', o.leaseMs, 1);
    return this.ex.atomic(async (ex) => {
      const t = this.now();
      const sFilter = o.sobject === undefined ? '' : ' AND o.sobject = ?';
      const sParams = o.sobject === undefined ? [] : [o.sobject];
      const head = await ex.all(
        `SELECT o.sobject, o.external_id_field, o.operation FROM outbox o WHERE ${this.dueClause('o')}${sFilter} ORDER BY o.id LIMIT 1`,
        [this.tenant, t, t, ...sParams],
      );
      if (head.length === 0) return [];
      const h = head[0]!;
      const rows = await ex.all(
        `WITH picked AS MATERIALIZED (
           SELECT o.id FROM outbox o WHERE ${this.dueClause('o')}
             AND o.sobject = ? AND o.operation = ? AND o.external_id_field IS NOT DISTINCT FROM ?
           ORDER BY o.id LIMIT ?${this.skipLocked})
         UPDATE outbox SET leased_by = ?, lease_expires_at = ? WHERE tenant = ? AND id IN (SELECT id FROM picked)
         RETURNING *`,
        [this.tenant, t, t, h.sobject, h.operation, h.external_id_field ?? null, o.limit, o.owner, t + o.leaseMs, this.tenant],
      );
      return rows.map(toOutbox).sort((a, b) => a.id - b.id);
    });
  }

  async markSent(ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.ex.atomic(async (ex) => {
      let n = 0;
      const t = this.now();
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500).map((id) => requireInt('outbox id', id, 1));
        n += await ex.run(
          `UPDATE outbox SET status = 'sent', sent_at = ?, leased_by = NULL, lease_expires_at = NULL WHERE tenant = ? AND status = 'pending' AND id IN (${placeholders(chunk.length)})`,
          [t, this.tenant, ...chunk],
        );
      }
      return n;
    });
  }

  async markFailed(failures: readonly OutboxFailure[], retry: { backoffMs: number; permanent?: boolean }): Promise<number> {
    requireInt('backoffMs', retry.backoffMs, 0);
    if (failures.length === 0) return 0;
    return this.ex.atomic(async (ex) => {
      const t = this.now();
      let n = 0;
      for (const f of failures) {
        n += await ex.run(
          `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, status = ?, leased_by = NULL, lease_expires_at = NULL
           WHERE tenant = ? AND id = ? AND status = 'pending'`,
          [
            String(f.error).slice(0, MAX_ERROR),
            t + retry.backoffMs,
            retry.permanent ? 'dead' : 'pending',
            this.tenant,
            requireInt('outbox id', f.id, 1),
          ],
        );
      }
      return n;
    });
  }

  async getOutbox(id: number): Promise<OutboxRow | undefined> {
    const rows = await this.ex.all(`SELECT * FROM outbox WHERE tenant = ? AND id = ?`, [this.tenant, id]);
    return rows[0] ? toOutbox(rows[0]) : undefined;
  }

  async listOutbox(options: { status?: OutboxRow['status']; limit?: number } = {}): Promise<OutboxRow[]> {
    const limit = requireInt('limit', options.limit ?? 1000, 1, 100_000);
    const rows =
      options.status === undefined
        ? await this.ex.all(`SELECT * FROM outbox WHERE tenant = ? ORDER BY id LIMIT ?`, [this.tenant, limit])
        : await this.ex.all(`SELECT * FROM outbox WHERE tenant = ? AND status = ? ORDER BY id LIMIT ?`, [
            this.tenant,
            options.status,
            limit,
          ]);
    return rows.map(toOutbox);
  }

  async outboxStats(): Promise<OutboxStats> {
    const t = this.now();
    const [agg] = await this.ex.all(
      `SELECT
         SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending,
         SUM(CASE WHEN status = 'pending' AND lease_expires_at > ? THEN 1 ELSE 0 END) AS leased,
         SUM(CASE WHEN status = 'pending' AND next_attempt_at <= ? THEN 1 ELSE 0 END) AS due,
         SUM(CASE WHEN status = 'dead' THEN 1 ELSE 0 END) AS dead,
         SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END) AS sent,
         MIN(CASE WHEN status = 'pending' THEN created_at END) AS oldest
       FROM outbox WHERE tenant = ?`,
      [t, t, this.tenant],
    );
    const bySObject: Record<string, number> = {};
    for (const r of await this.ex.all(
      `SELECT sobject, COUNT(*) AS n FROM outbox WHERE tenant = ? AND status = 'pending' GROUP BY sobject`,
      [this.tenant],
    )) {
      bySObject[String(r.sobject)] = num(r.n);
    }
    return {
      pending: num(agg?.pending ?? 0),
      leased: num(agg?.leased ?? 0),
      due: num(agg?.due ?? 0),
      dead: num(agg?.dead ?? 0),
      sent: num(agg?.sent ?? 0),
      oldestPendingAt: numOrNull(agg?.oldest),
      bySObject,
    };
  }

  async purgeSentOutbox(olderThanMs: number): Promise<number> {
    requireInt('olderThanMs', olderThanMs, 0);
    return this.ex.run(`DELETE FROM outbox WHERE tenant = ? AND status = 'sent' AND sent_at <= ?`, [this.tenant, this.now() - olderThanMs]);
  }

  // ---------------------------------------------------------------- replay and incidents

  async getReplayCheckpoint(channel: string): Promise<ReplayCheckpoint | undefined> {
    const rows = await this.ex.all(`SELECT * FROM replay_checkpoints WHERE tenant = ? AND channel = ?`, [this.tenant, channel]);
    const r = rows[0];
    return r ? { channel: String(r.channel), replayId: String(r.replay_id), updatedAt: num(r.updated_at) } : undefined;
  }

  async setReplayCheckpoint(channel: string, replayId: string): Promise<void> {
    requireId('channel', channel);
    if (!/^-?\d{1,20}$/.test(replayId)) {
      throw validationError('A replayId must be an integer.', {
        code: 'STORE_INPUT_INVALID',
        fix: 'Pass the event’s replayId as a decimal string.',
      });
    }
    await this.ex.run(
      `INSERT INTO replay_checkpoints (tenant, channel, replay_id, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (tenant, channel) DO UPDATE SET replay_id = excluded.replay_id, updated_at = excluded.updated_at`,
      [this.tenant, channel, replayId, this.now()],
    );
  }

  async recordIncident(i: IncidentInput): Promise<number> {
    requireId('incident kind', i.kind);
    if (!['info', 'warning', 'critical'].includes(i.severity)) {
      throw validationError(`'${String(i.severity)}' is not an incident severity.`, {
        code: 'STORE_INPUT_INVALID',
        fix: 'Use info, warning or critical.',
      });
    }
    const rows = await this.ex.all(
      `INSERT INTO incidents (tenant, kind, severity, details, occurred_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
      [this.tenant, i.kind, i.severity, JSON.stringify(i.details ?? {}), i.occurredAt ?? this.now()],
    );
    return num(rows[0]!.id);
  }

  async listIncidents(options: { since?: number; kind?: string; limit?: number } = {}): Promise<Incident[]> {
    const params: unknown[] = [this.tenant, options.since ?? 0];
    let sql = `SELECT * FROM incidents WHERE tenant = ? AND occurred_at >= ?`;
    if (options.kind !== undefined) {
      sql += ' AND kind = ?';
      params.push(options.kind);
    }
    sql += ' ORDER BY occurred_at, id LIMIT ?';
    params.push(requireInt('limit', options.limit ?? 1000, 1, 100_000));
    return (await this.ex.all(sql, params)).map((r) => ({
      id: num(r.id),
      tenant: String(r.tenant),
      kind: String(r.kind),
      severity: String(r.severity) as Incident['severity'],
      details: JSON.parse(String(r.details)) as Incident['details'],
      occurredAt: num(r.occurred_at),
    }));
  }

  // ---------------------------------------------------------------- token maps

  async putTokenMap(row: TokenMapInput): Promise<void> {
    requireId('jurisdiction', row.jurisdiction);
    requireId('requestId', row.requestId);
    requireInt('expiresAt', row.expiresAt, 0);
    await this.ex.run(
      `INSERT INTO token_maps (tenant, jurisdiction, request_id, ciphertext, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, jurisdiction, request_id) DO UPDATE SET ciphertext = excluded.ciphertext, expires_at = excluded.expires_at`,
      [this.tenant, row.jurisdiction, row.requestId, Buffer.from(row.ciphertext), row.expiresAt, this.now()],
    );
  }

  async getTokenMap(jurisdiction: string, requestId: string): Promise<TokenMapRow | undefined> {
    const rows = await this.ex.all(`SELECT * FROM token_maps WHERE tenant = ? AND jurisdiction = ? AND request_id = ? AND expires_at > ?`, [
      this.tenant,
      jurisdiction,
      requestId,
      this.now(),
    ]);
    const r = rows[0];
    return r
      ? {
          tenant: String(r.tenant),
          jurisdiction: String(r.jurisdiction),
          requestId: String(r.request_id),
          ciphertext: Buffer.from(r.ciphertext as Uint8Array),
          expiresAt: num(r.expires_at),
          createdAt: num(r.created_at),
        }
      : undefined;
  }

  async deleteTokenMap(jurisdiction: string, requestId: string): Promise<boolean> {
    return (
      (await this.ex.run(`DELETE FROM token_maps WHERE tenant = ? AND jurisdiction = ? AND request_id = ?`, [
        this.tenant,
        jurisdiction,
        requestId,
      ])) > 0
    );
  }

  // ---------------------------------------------------------------- gateway keys

  async putApiKey(keyId: string, sha256: string): Promise<void> {
    requireId('keyId', keyId);
    if (!/^[a-f0-9]{64}$/.test(sha256)) {
      throw validationError('An API key digest must be 64 lower-case hex characters (SHA-256).', {
        code: 'STORE_INPUT_INVALID',
        fix: 'Store the SHA-256 hex digest of the key, never the key.',
      });
    }
    await this.ex.run(
      `INSERT INTO api_keys (tenant, key_id, sha256, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (tenant, key_id) DO UPDATE SET sha256 = excluded.sha256, revoked_at = NULL`,
      [this.tenant, keyId, sha256, this.now()],
    );
  }

  async revokeApiKey(keyId: string): Promise<boolean> {
    return (
      (await this.ex.run(`UPDATE api_keys SET revoked_at = ? WHERE tenant = ? AND key_id = ? AND revoked_at IS NULL`, [
        this.now(),
        this.tenant,
        keyId,
      ])) > 0
    );
  }

  async listApiKeys(): Promise<ApiKeyRow[]> {
    return (await this.ex.all(`SELECT * FROM api_keys WHERE tenant = ? ORDER BY key_id`, [this.tenant])).map((r) => ({
      tenant: String(r.tenant),
      keyId: String(r.key_id),
      sha256: String(r.sha256),
      createdAt: num(r.created_at),
      revokedAt: numOrNull(r.revoked_at),
    }));
  }

  // ---------------------------------------------------------------- hash chains

  private requireTx(what: string): void {
    if (!this.ex.inTransaction) {
      throw new SovraError('internal', `${what} must run inside store.transaction().`, {
        code: 'STORE_TX_REQUIRED',
        fix: 'Wrap the call in tenantStore.transaction(async (tx) => …).',
        retryable: false,
      });
    }
  }

  async lockChainHead(chainId: string): Promise<ChainHead> {
    requireId('chainId', chainId);
    this.requireTx('lockChainHead');
    await this.ex.run(
      `INSERT INTO chain_heads (tenant, chain_id, last_seq, last_hash, last_checkpoint_seq, last_checkpoint_at) VALUES (?, ?, 0, NULL, 0, ?)
       ON CONFLICT (tenant, chain_id) DO NOTHING`,
      [this.tenant, chainId, this.now()],
    );
    const rows = await this.ex.all(`SELECT * FROM chain_heads WHERE tenant = ? AND chain_id = ?${this.forUpdate}`, [this.tenant, chainId]);
    return toHead(rows[0]!);
  }

  private chainConflict(chainId: string, what: string): SovraError {
    return conflictError(`The ${what} does not follow the head of chain ${chainId}.`, {
      code: 'CHAIN_CONFLICT',
      fix: 'Lock the chain head in the same transaction (lockChainHead) and append at head + 1.',
      details: { chainId },
      retryable: true,
    });
  }

  async appendChainEntry(chainId: string, e: ChainEntryInput): Promise<void> {
    this.requireTx('appendChainEntry');
    requireInt('seq', e.seq, 1);
    const moved = await this.ex.run(
      `UPDATE chain_heads SET last_seq = ?, last_hash = ? WHERE tenant = ? AND chain_id = ? AND last_seq = ? AND (last_hash IS NULL OR last_hash = ?)`,
      [e.seq, e.entryHash, this.tenant, chainId, e.seq - 1, e.prevHash],
    );
    if (moved !== 1) throw this.chainConflict(chainId, `entry ${e.seq}`);
    await this.ex.run(
      `INSERT INTO chain_entries (tenant, chain_id, seq, prev_hash, entry_hash, body, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [this.tenant, chainId, e.seq, e.prevHash, e.entryHash, e.body, e.occurredAt],
    );
  }

  async getChainHead(chainId: string): Promise<ChainHead | undefined> {
    const rows = await this.ex.all(`SELECT * FROM chain_heads WHERE tenant = ? AND chain_id = ?`, [this.tenant, chainId]);
    return rows[0] ? toHead(rows[0]) : undefined;
  }

  async listChains(): Promise<ChainHead[]> {
    return (await this.ex.all(`SELECT * FROM chain_heads WHERE tenant = ? ORDER BY chain_id`, [this.tenant])).map(toHead);
  }

  async readChainEntries(chainId: string, range: RangeOptions = {}): Promise<ChainEntryRow[]> {
    const rows = await this.ex.all(
      `SELECT * FROM chain_entries WHERE tenant = ? AND chain_id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`,
      [
        this.tenant,
        chainId,
        range.fromSeq ?? 1,
        range.toSeq ?? Number.MAX_SAFE_INTEGER,
        requireInt('limit', range.limit ?? 100_000, 1, 1_000_000),
      ],
    );
    return rows.map(toEntry);
  }

  async *iterateChainEntries(
    chainId: string,
    range: { fromSeq?: number; toSeq?: number; pageSize?: number } = {},
  ): AsyncIterable<ChainEntryRow> {
    const pageSize = requireInt('pageSize', range.pageSize ?? 1000, 1, 100_000);
    const toSeq = range.toSeq ?? Number.MAX_SAFE_INTEGER;
    let from = range.fromSeq ?? 1;
    for (;;) {
      const page = await this.readChainEntries(chainId, { fromSeq: from, toSeq, limit: pageSize });
      for (const e of page) yield e;
      if (page.length < pageSize) return;
      from = page[page.length - 1]!.seq + 1;
    }
  }

  async countChainEntries(chainId: string, range: { fromSeq?: number; toSeq?: number } = {}): Promise<number> {
    const rows = await this.ex.all(`SELECT COUNT(*) AS n FROM chain_entries WHERE tenant = ? AND chain_id = ? AND seq >= ? AND seq <= ?`, [
      this.tenant,
      chainId,
      range.fromSeq ?? 1,
      range.toSeq ?? Number.MAX_SAFE_INTEGER,
    ]);
    return num(rows[0]?.n ?? 0);
  }

  async putChainCheckpoint(chainId: string, c: ChainCheckpointInput): Promise<void> {
    this.requireTx('putChainCheckpoint');
    requireInt('fromSeq', c.fromSeq, 1);
    requireInt('toSeq', c.toSeq, c.fromSeq);
    const moved = await this.ex.run(
      `UPDATE chain_heads SET last_checkpoint_seq = ?, last_checkpoint_at = ? WHERE tenant = ? AND chain_id = ? AND last_checkpoint_seq = ? AND last_seq >= ?`,
      [c.toSeq, c.createdAt, this.tenant, chainId, c.fromSeq - 1, c.toSeq],
    );
    if (moved !== 1) throw this.chainConflict(chainId, `checkpoint ${c.fromSeq}..${c.toSeq}`);
    await this.ex.run(`INSERT INTO chain_checkpoints (tenant, chain_id, from_seq, to_seq, body, created_at) VALUES (?, ?, ?, ?, ?, ?)`, [
      this.tenant,
      chainId,
      c.fromSeq,
      c.toSeq,
      c.body,
      c.createdAt,
    ]);
  }

  async listChainCheckpoints(chainId: string, range: { fromSeq?: number; toSeq?: number } = {}): Promise<ChainCheckpointRow[]> {
    // A checkpoint is listed when its range overlaps [fromSeq, toSeq].
    const rows = await this.ex.all(
      `SELECT * FROM chain_checkpoints WHERE tenant = ? AND chain_id = ? AND to_seq >= ? AND from_seq <= ? ORDER BY to_seq`,
      [this.tenant, chainId, range.fromSeq ?? 1, range.toSeq ?? Number.MAX_SAFE_INTEGER],
    );
    return rows.map(toCheckpoint);
  }
}

/** Store-wide queries that are not tenant data reads (admin and metrics). */
export async function listTenants(ex: SqlExecutor): Promise<string[]> {
  const rows = await ex.all(
    `SELECT tenant FROM requests UNION SELECT tenant FROM outbox UNION SELECT tenant FROM chain_heads UNION SELECT tenant FROM replay_checkpoints ORDER BY tenant`,
  );
  return rows.map((r) => String(r.tenant));
}

export async function findApiKey(ex: SqlExecutor, sha256: string): Promise<{ tenant: string; keyId: string } | undefined> {
  const rows = await ex.all(`SELECT tenant, key_id FROM api_keys WHERE sha256 = ? AND revoked_at IS NULL`, [sha256]);
  return rows[0] ? { tenant: String(rows[0].tenant), keyId: String(rows[0].key_id) } : undefined;
}

export async function purgeExpiredTokenMaps(ex: SqlExecutor, now: number): Promise<number> {
  return ex.run(`DELETE FROM token_maps WHERE expires_at <= ?`, [now]);
}
