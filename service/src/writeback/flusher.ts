/**
 * The outbox flusher: every write to Salesforce was first committed to the store's outbox in
 * the same transaction as the state change it reflects; this sends it.
 *
 * Guarantees:
 *  - batches of at most 200 rows of one sObject, one Composite sObject collections call per
 *    (operation, external-id field) group, so a burst costs few API calls;
 *  - upserts go by external id (PATCH /composite/sobjects/{type}/{field}), so a retry after
 *    a crash between "sent" and "marked sent" updates the record instead of duplicating it;
 *    rows of immutable objects (audit entries, checkpoints) that already exist are sent;
 *  - a row is marked sent only after Salesforce reported success for it; a failure is
 *    retried with exponential backoff and jitter (503, REQUEST_LIMIT_EXCEEDED, the API
 *    reserve, an expired session, row locks), and a call-level failure pauses the flusher;
 *    a row Salesforce rejects for what it is (validation) is parked as dead, not retried
 *    for ever, and counted for the admin console;
 *  - encrypted payloads are decrypted only in memory, right before the call.
 *
 * Payload format (what producers enqueue): UTF-8 JSON of one object `{ field: value }` with
 * unprefixed API names (the connection applies the namespace). For `upsert` the row's
 * `externalIdField`/`externalId` are set on the record; `update` rows are keyed by
 * `externalIdField: 'Id'` and the record id.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KeyService } from '../keys/types.js';
import type { SalesforceConnection, SaveOutcome, SObjectRecord } from '../salesforce/index.js';
import { SovraError, isSovraError, toSovraError } from '../shared/errors.js';
import { log } from '../shared/log.js';
import { OUTBOX_MAX_BATCH, type OutboxInput, type OutboxRow, type TenantStore } from '../store/types.js';

/** Objects the package never lets anyone change once inserted (their Apex guard refuses updates). */
export const IMMUTABLE_SOBJECTS: readonly string[] = ['AiAuditEntry__c', 'AiAuditCheckpoint__c'];

export type DecryptOutbox = (row: OutboxRow) => Promise<Uint8Array>;

/** The decryptor for rows sealed with KeyService purpose 'outbox'. */
export function outboxDecryptor(keys: KeyService): DecryptOutbox {
  return (row) => keys.decrypt({ tenant: row.tenant, jurisdiction: row.jurisdiction, purpose: 'outbox' }, row.payload);
}

/** Encodes a record for the outbox (unprefixed API names, JSON values only). */
export function encodeOutboxPayload(fields: Record<string, string | number | boolean | null>): Uint8Array {
  return Buffer.from(JSON.stringify(fields), 'utf8');
}

/** Builds an outbox row; encrypt the payload first (KeyService 'outbox') when it carries CRM-derived text. */
export function outboxRow(input: Omit<OutboxInput, 'payload' | 'encrypted'> & { payload: Uint8Array; encrypted?: boolean }): OutboxInput {
  return { ...input, encrypted: input.encrypted ?? false };
}

export interface FlusherOptions {
  sf: SalesforceConnection;
  store: TenantStore;
  /** Required when any row is encrypted; rows that need it fail (and retry) without it. */
  decrypt?: DecryptOutbox;
  owner?: string;
  batchSize?: number;
  leaseMs?: number;
  /** Poll interval when nothing is due (`notify()` wakes the flusher earlier). */
  idleMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  now?: () => number;
}

export interface FlushResult {
  sobject: string | null;
  leased: number;
  sent: number;
  retried: number;
  dead: number;
  apiCalls: number;
}

export interface FlusherMetrics {
  batches: number;
  sent: number;
  retried: number;
  dead: number;
  /** Collections calls made by the flusher (each counts against the org's daily API limit). */
  apiCalls: number;
  pausedUntil: number | null;
  lastError: string | null;
}

interface Prepared {
  row: OutboxRow;
  record: SObjectRecord;
}

export class OutboxFlusher {
  readonly owner: string;
  private readonly o: Required<Omit<FlusherOptions, 'decrypt' | 'owner'>> & { decrypt?: DecryptOutbox };
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private pausedUntil = 0;
  private failuresInARow = 0;
  private readonly m: FlusherMetrics = { batches: 0, sent: 0, retried: 0, dead: 0, apiCalls: 0, pausedUntil: null, lastError: null };

  constructor(options: FlusherOptions) {
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}:outbox`;
    this.o = {
      sf: options.sf,
      store: options.store,
      decrypt: options.decrypt,
      batchSize: Math.min(Math.max(options.batchSize ?? OUTBOX_MAX_BATCH, 1), OUTBOX_MAX_BATCH),
      leaseMs: options.leaseMs ?? 60_000,
      idleMs: options.idleMs ?? 500,
      minBackoffMs: options.minBackoffMs ?? 1_000,
      maxBackoffMs: options.maxBackoffMs ?? 300_000,
      now: options.now ?? Date.now,
    };
  }

  metrics(): FlusherMetrics {
    return { ...this.m, pausedUntil: this.pausedUntil > this.o.now() ? this.pausedUntil : null };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** New rows were committed: flush now instead of at the next poll. */
  notify(): void {
    this.wake?.();
  }

  /** Flushes until nothing is due (or `timeoutMs` passes); for shutdown and tests. Returns rows sent. */
  async drain(timeoutMs = 30_000): Promise<number> {
    const end = this.o.now() + timeoutMs;
    let sent = 0;
    while (this.o.now() < end) {
      const wait = this.pausedUntil - this.o.now();
      if (wait > 0) await sleep(Math.min(wait, end - this.o.now()));
      const r = await this.flushOnce();
      sent += r.sent;
      if (r.leased === 0) {
        const stats = await this.o.store.outboxStats();
        if (stats.pending === 0) return sent;
        const next = stats.due > 0 ? 0 : 50;
        await sleep(next);
      }
    }
    return sent;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let idle: boolean;
      try {
        const wait = this.pausedUntil - this.o.now();
        if (wait > 0) {
          await this.sleepOrWake(wait);
          continue;
        }
        const r = await this.flushOnce();
        idle = r.leased === 0;
      } catch (err) {
        // The store itself failed: wait and try again.
        this.m.lastError = toSovraError(err).code;
        log().warn('outbox flush failed', { err });
        idle = true;
      }
      if (idle) await this.sleepOrWake(this.o.idleMs);
    }
  }

  private sleepOrWake(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  /** Leases one batch (one sObject), sends it, records the outcome per row. */
  async flushOnce(): Promise<FlushResult> {
    const rows = await this.o.store.leaseOutboxBatch({ owner: this.owner, limit: this.o.batchSize, leaseMs: this.o.leaseMs });
    const result: FlushResult = { sobject: rows[0]?.sobject ?? null, leased: rows.length, sent: 0, retried: 0, dead: 0, apiCalls: 0 };
    if (rows.length === 0) return result;
    this.m.batches += 1;
    const calls0 = this.o.sf.metrics().apiCalls;

    const prepared: Prepared[] = [];
    for (const row of rows) {
      try {
        prepared.push({ row, record: await this.decode(row) });
      } catch (err) {
        const e = toSovraError(err);
        await this.fail(result, [row], e.code, !e.retryable);
      }
    }
    const groups = new Map<string, Prepared[]>();
    for (const p of prepared) {
      const key = `${p.row.operation}|${p.row.externalIdField ?? ''}`;
      groups.set(key, [...(groups.get(key) ?? []), p]);
    }
    for (const group of groups.values()) {
      await this.send(result, group);
    }
    result.apiCalls = this.o.sf.metrics().apiCalls - calls0;
    this.m.apiCalls += result.apiCalls;
    this.m.sent += result.sent;
    this.m.retried += result.retried;
    this.m.dead += result.dead;
    return result;
  }

  private async decode(row: OutboxRow): Promise<SObjectRecord> {
    let bytes: Uint8Array = row.payload;
    if (row.encrypted) {
      if (!this.o.decrypt) {
        throw new SovraError('internal', 'An encrypted outbox row arrived and no decryptor is configured.', {
          code: 'OUTBOX_NO_DECRYPTOR',
          fix: 'Start the flusher with outboxDecryptor(keyService).',
          retryable: true,
        });
      }
      bytes = await this.o.decrypt(row);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new SovraError('validation', `Outbox row ${row.id} does not hold a JSON object.`, {
        code: 'OUTBOX_PAYLOAD_INVALID',
        fix: 'Enqueue payloads with encodeOutboxPayload().',
        details: { id: row.id, sobject: row.sobject },
        retryable: false,
      });
    }
    const record = { ...(parsed as SObjectRecord) };
    if (row.operation === 'update') {
      // The store keys update rows too: by record id (externalIdField 'Id').
      if (row.externalIdField !== 'Id' || !row.externalId) {
        throw new SovraError('validation', `Outbox update row ${row.id} is not keyed by record Id.`, {
          code: 'OUTBOX_PAYLOAD_INVALID',
          fix: "Enqueue updates with externalIdField 'Id' and the record id (or use upsert by an external id field).",
          details: { id: row.id, sobject: row.sobject },
          retryable: false,
        });
      }
      record.Id = row.externalId;
    }
    if (row.operation === 'upsert') {
      if (!row.externalIdField || !row.externalId) {
        throw new SovraError('validation', `Outbox upsert row ${row.id} has no external id.`, {
          code: 'OUTBOX_PAYLOAD_INVALID',
          fix: 'Give every upsert row externalIdField and externalId.',
          details: { id: row.id, sobject: row.sobject },
          retryable: false,
        });
      }
      record[row.externalIdField] = row.externalId;
    }
    return record;
  }

  private async send(result: FlushResult, group: Prepared[]): Promise<void> {
    const { row: first } = group[0];
    const records = group.map((p) => p.record);
    let outcomes: SaveOutcome[];
    try {
      switch (first.operation) {
        case 'upsert':
          outcomes = await this.o.sf.upsert(first.sobject, first.externalIdField!, records);
          break;
        case 'create':
          outcomes = await this.o.sf.create(first.sobject, records);
          break;
        case 'update':
          outcomes = await this.o.sf.update(first.sobject, records);
          break;
        case 'publish':
          outcomes = await this.o.sf.publish(first.sobject, records);
          break;
      }
    } catch (err) {
      const e = toSovraError(err);
      this.m.lastError = e.code;
      // A call-level failure says nothing about the records: retry all, and pause the flusher.
      const backoff = this.backoffFor(
        group.map((p) => p.row),
        e,
      );
      this.failuresInARow += 1;
      this.pausedUntil = this.o.now() + backoff;
      log().warn('outbox call failed; retrying later', { sobject: first.sobject, rows: group.length, code: e.code, backoffMs: backoff });
      await this.fail(
        result,
        group.map((p) => p.row),
        e.code,
        false,
        backoff,
      );
      return;
    }
    this.failuresInARow = 0;
    const sent: number[] = [];
    const retry: OutboxRow[] = [];
    const rejected: { row: OutboxRow; code: string }[] = [];
    outcomes.forEach((o, i) => {
      const row = group[i].row;
      if (o.ok) sent.push(row.id);
      else if (o.retryable) retry.push(row);
      else rejected.push({ row, code: o.errors.map((x) => x.statusCode).join(',') });
    });
    // Immutable rows that already exist landed on an earlier attempt (the crash came before markSent).
    if (rejected.length > 0 && first.operation === 'upsert' && IMMUTABLE_SOBJECTS.includes(first.sobject)) {
      const present = await this.existing(
        first.sobject,
        first.externalIdField!,
        rejected.map((r) => r.row.externalId!),
      ).catch(() => new Set<string>());
      for (let i = rejected.length - 1; i >= 0; i -= 1) {
        if (present.has(rejected[i].row.externalId!)) {
          sent.push(rejected[i].row.id);
          rejected.splice(i, 1);
        }
      }
    }
    if (sent.length > 0) {
      await this.o.store.markSent(sent);
      result.sent += sent.length;
    }
    if (retry.length > 0) await this.fail(result, retry, 'RECORD_RETRYABLE', false);
    for (const r of rejected) {
      log().warn('outbox row rejected by Salesforce', { id: r.row.id, sobject: r.row.sobject, code: r.code });
      await this.fail(result, [r.row], r.code, true);
    }
  }

  private async existing(sobject: string, field: string, keys: string[]): Promise<Set<string>> {
    const rows = await this.o.sf.queryIn(sobject, field, keys, [field]);
    return new Set(rows.map((r) => String(r[field])));
  }

  private async fail(result: FlushResult, rows: OutboxRow[], code: string, permanent: boolean, backoffMs?: number): Promise<void> {
    if (rows.length === 0) return;
    const backoff = backoffMs ?? this.backoffFor(rows);
    await this.o.store.markFailed(
      rows.map((r) => ({ id: r.id, error: code.slice(0, 200) })),
      { backoffMs: backoff, permanent },
    );
    if (permanent) result.dead += rows.length;
    else result.retried += rows.length;
  }

  /** Exponential in the rows' attempts (and failures in a row), with jitter; longer for limits. */
  private backoffFor(rows: OutboxRow[], err?: SovraError): number {
    const attempts = Math.max(...rows.map((r) => r.attempts), this.failuresInARow);
    const exp = Math.min(this.o.maxBackoffMs, this.o.minBackoffMs * 2 ** Math.min(attempts, 20));
    let base = exp;
    if (err && isSovraError(err)) {
      const hinted = err.details.retryAfterMs;
      if (typeof hinted === 'number' && hinted > base) base = Math.min(this.o.maxBackoffMs, hinted);
      if (err.code === 'SF_REQUEST_LIMIT_EXCEEDED') base = Math.min(this.o.maxBackoffMs, Math.max(base, this.o.minBackoffMs * 8));
    }
    return Math.round(base / 2 + Math.random() * (base / 2));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
