/**
 * One contract, two implementations: every case below runs against SQLite and PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { isSovraError } from '../../shared/errors.js';
import { LATEST_VERSION, PostgresStore, SqliteStore, type Store, type TenantStore } from '../index.js';
import { createTestSchema, type TestSchema } from './pg.js';

interface Harness {
  store: Store;
  /** Another Store instance on the same database (a second replica), when the backend supports it. */
  replica?: () => Promise<Store>;
  reopen: () => Promise<Store>;
  advance: (ms: number) => void;
  cleanup: () => Promise<void>;
}

function sqliteHarness(): () => Promise<Harness> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sovra-store-'));
    const path = join(dir, 'store.db');
    let offset = 0;
    const now = (): number => Date.now() + offset;
    const store = new SqliteStore({ path, now });
    const opened: Store[] = [store];
    return {
      store,
      reopen: async () => {
        const s = new SqliteStore({ path, now });
        opened.push(s);
        return s;
      },
      advance: (ms) => (offset += ms),
      cleanup: async () => {
        for (const s of opened) await s.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

function postgresHarness(): () => Promise<Harness> {
  return async () => {
    const schema: TestSchema = await createTestSchema();
    let offset = 0;
    const now = (): number => Date.now() + offset;
    const open = (): Promise<Store> => PostgresStore.open({ connectionString: schema.url, schema: schema.schema, poolSize: 4, now });
    const store = await open();
    const opened: Store[] = [store];
    const more = async (): Promise<Store> => {
      const s = await open();
      opened.push(s);
      return s;
    };
    return {
      store,
      replica: more,
      reopen: more,
      advance: (ms) => (offset += ms),
      cleanup: async () => {
        for (const s of opened) await s.close();
        await schema.drop();
      },
    };
  };
}

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect(isSovraError(err) ? err.code : String(err)).toBe(code);
    return;
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}

describe.each([
  ['sqlite', sqliteHarness()],
  ['postgres', postgresHarness()],
])('store contract (%s)', (_name, makeHarness) => {
  let h: Harness;
  let t: TenantStore;
  let n = 0;
  const rid = (): string => `req-${++n}`;

  beforeAll(async () => {
    h = await makeHarness();
    t = h.store.forTenant('acme');
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it('applies versioned migrations once, and reopening is idempotent', async () => {
    expect(await h.store.schemaVersion()).toBe(LATEST_VERSION);
    const again = await h.reopen();
    expect(await again.schemaVersion()).toBe(LATEST_VERSION);
  });

  it('claims a request once: replays and the sweep get held/final, never a second claim', async () => {
    const id = rid();
    const first = await t.claim(id, { jurisdiction: 'EU', owner: 'r1', leaseMs: 60_000, source: 'event' });
    expect(first.status).toBe('claimed');
    expect((await t.claim(id, { jurisdiction: 'EU', owner: 'r1', leaseMs: 60_000, source: 'event' })).status).toBe('held');
    expect((await t.claim(id, { jurisdiction: 'EU', owner: 'r2', leaseMs: 60_000, source: 'sweep' })).status).toBe('held');
    if (first.status !== 'claimed') throw new Error('unreachable');
    const done = await t.setStatus(first.lease, { status: 'Completed', reason: 'answered' });
    expect(done.status).toBe('Completed');
    expect(done.owner).toBeNull();
    expect(done.finishedAt).not.toBeNull();
    const replay = await t.claim(id, { jurisdiction: 'EU', owner: 'r2', leaseMs: 60_000 });
    expect(replay.status).toBe('final');
    expect(replay.request.attempts).toBe(1);
  });

  it('refuses a claim from another jurisdiction', async () => {
    const id = rid();
    await t.enqueueRequest(id, { jurisdiction: 'EU' });
    await expectCode(t.claim(id, { jurisdiction: 'US', owner: 'r1', leaseMs: 1000 }), 'REQUEST_JURISDICTION_MISMATCH');
  });

  it('enqueues idempotently and claims queued work in batches', async () => {
    const other = h.store.forTenant('batchco');
    for (let i = 0; i < 10; i++) expect((await other.enqueueRequest(`b-${i}`, { jurisdiction: 'EU', source: 'sweep' })).created).toBe(true);
    expect((await other.enqueueRequest('b-0', { jurisdiction: 'EU' })).created).toBe(false);
    const a = await other.claimBatch({ owner: 'r1', leaseMs: 60_000, limit: 4 });
    const b = await other.claimBatch({ owner: 'r2', leaseMs: 60_000, limit: 4 });
    const c = await other.claimBatch({ owner: 'r1', leaseMs: 60_000, limit: 4 });
    expect([a.length, b.length, c.length]).toEqual([4, 4, 2]);
    expect(await other.claimBatch({ owner: 'r1', leaseMs: 60_000, limit: 4 })).toEqual([]);
    const ids = [...a, ...b, ...c].map((x) => x.request.requestId);
    expect(new Set(ids).size).toBe(10);
    expect((await other.countRequests()).Processing).toBe(10);
  });

  it('expires leases of a dead replica, lists them, and fences the old owner out', async () => {
    const id = rid();
    const c1 = await t.claim(id, { jurisdiction: 'EU', owner: 'dead', leaseMs: 1000 });
    if (c1.status !== 'claimed') throw new Error('not claimed');
    expect((await t.listExpiredLeases()).map((r) => r.requestId)).not.toContain(id);
    h.advance(5000);
    expect((await t.listExpiredLeases()).map((r) => r.requestId)).toContain(id);
    const c2 = await t.claim(id, { jurisdiction: 'EU', owner: 'alive', leaseMs: 60_000 });
    expect(c2.status).toBe('claimed');
    if (c2.status !== 'claimed') throw new Error('not claimed');
    expect(c2.lease.generation).toBe(c1.lease.generation + 1);
    expect(c2.request.attempts).toBe(2);
    await expectCode(t.setStatus(c1.lease, { status: 'Completed' }), 'LEASE_LOST');
    await expectCode(t.renewLease(c1.lease, 1000), 'LEASE_LOST');
    const renewed = await t.renewLease(c2.lease, 120_000);
    expect(renewed.expiresAt).toBeGreaterThan(c2.lease.expiresAt);
    expect((await t.setStatus(renewed, { status: 'Failed', reason: 'x', reasonCode: 'E' })).status).toBe('Failed');
  });

  it('releases a lease back to Queued for another replica', async () => {
    const id = rid();
    const c = await t.claim(id, { jurisdiction: 'EU', owner: 'r1', leaseMs: 60_000 });
    if (c.status !== 'claimed') throw new Error('not claimed');
    await t.releaseLease(c.lease, 'shutdown');
    expect((await t.getRequest(id))!.status).toBe('Queued');
    expect((await t.claim(id, { jurisdiction: 'EU', owner: 'r2', leaseMs: 60_000 })).status).toBe('claimed');
  });

  it('commits a state change, its outbox rows and its chain entry together — or none of them', async () => {
    const id = rid();
    const c = await t.claim(id, { jurisdiction: 'EU', owner: 'r1', leaseMs: 60_000 });
    if (c.status !== 'claimed') throw new Error('not claimed');
    const before = await t.outboxStats();
    await expect(
      t.transaction(async (tx) => {
        await tx.setStatus(c.lease, { status: 'Completed' });
        await tx.enqueueOutbox({
          jurisdiction: 'EU',
          sobject: 'AiRequest__c',
          externalIdField: 'ExternalId__c',
          externalId: id,
          operation: 'upsert',
          payload: bytes('{}'),
          encrypted: false,
        });
        const head = await tx.lockChainHead('tx-chain');
        await tx.appendChainEntry('tx-chain', { seq: head.lastSeq + 1, prevHash: '0', entryHash: 'h1', body: '{}', occurredAt: 1 });
        throw new Error('crash before commit');
      }),
    ).rejects.toThrow('crash before commit');
    expect((await t.getRequest(id))!.status).toBe('Processing');
    expect((await t.outboxStats()).pending).toBe(before.pending);
    expect(await t.getChainHead('tx-chain')).toBeUndefined();

    await t.transaction(async (tx) => {
      await tx.setStatus(c.lease, { status: 'Completed' });
      await tx.enqueueOutbox({
        jurisdiction: 'EU',
        sobject: 'AiRequest__c',
        externalIdField: 'ExternalId__c',
        externalId: id,
        operation: 'upsert',
        payload: bytes('{}'),
        encrypted: false,
      });
      const head = await tx.lockChainHead('tx-chain');
      await tx.appendChainEntry('tx-chain', { seq: head.lastSeq + 1, prevHash: '0', entryHash: 'h1', body: '{}', occurredAt: 1 });
    });
    expect((await t.getRequest(id))!.status).toBe('Completed');
    expect((await t.outboxStats()).pending).toBe(before.pending + 1);
    expect((await t.getChainHead('tx-chain'))!.lastSeq).toBe(1);
  });

  it('leases outbox batches of one sObject, keeps per-record order, retries with backoff', async () => {
    const o = h.store.forTenant('outboxco');
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        await o.enqueueOutbox({
          jurisdiction: 'EU',
          sobject: 'AiAuditEntry__c',
          externalIdField: 'EntryKey__c',
          externalId: `k${i}`,
          operation: 'upsert',
          payload: bytes(`e${i}`),
          encrypted: true,
        }),
      );
    }
    await o.enqueueOutbox({
      jurisdiction: 'EU',
      sobject: 'AiRequest__c',
      externalIdField: 'ExternalId__c',
      externalId: 'r1',
      operation: 'upsert',
      payload: bytes('processing'),
      encrypted: false,
    });
    await o.enqueueOutbox({
      jurisdiction: 'EU',
      sobject: 'AiRequest__c',
      externalIdField: 'ExternalId__c',
      externalId: 'r1',
      operation: 'upsert',
      payload: bytes('completed'),
      encrypted: false,
    });
    await o.enqueueOutbox({ jurisdiction: 'EU', sobject: 'AiResult__e', operation: 'publish', payload: bytes('evt'), encrypted: false });

    await expectCode(o.leaseOutboxBatch({ owner: 'f', limit: 201, leaseMs: 1000 }), 'STORE_INPUT_INVALID');
    const b1 = await o.leaseOutboxBatch({ owner: 'f', limit: 200, leaseMs: 30_000 });
    expect(b1.map((r) => r.externalId)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect(b1.every((r) => r.encrypted && r.sobject === 'AiAuditEntry__c')).toBe(true);
    expect(b1[2]!.payload.toString()).toBe('e2');

    const b2 = await o.leaseOutboxBatch({ owner: 'f', limit: 200, leaseMs: 30_000 });
    expect(b2.map((r) => r.payload.toString())).toEqual(['processing']); // 'completed' waits for it
    const b3 = await o.leaseOutboxBatch({ owner: 'f', limit: 200, leaseMs: 30_000 });
    expect(b3.map((r) => r.sobject)).toEqual(['AiResult__e']);
    expect(await o.leaseOutboxBatch({ owner: 'f', limit: 200, leaseMs: 30_000 })).toEqual([]);

    await o.markSent(b2.map((r) => r.id));
    const b4 = await o.leaseOutboxBatch({ owner: 'f', limit: 200, leaseMs: 30_000, sobject: 'AiRequest__c' });
    expect(b4.map((r) => r.payload.toString())).toEqual(['completed']);

    await o.markFailed(
      b1.slice(0, 2).map((r) => ({ id: r.id, error: 'HTTP 503' })),
      { backoffMs: 10_000 },
    );
    await o.markFailed([{ id: b1[2]!.id, error: 'INVALID_FIELD' }], { backoffMs: 0, permanent: true });
    await o.markSent([b1[3]!.id, b1[4]!.id, ...b3.map((r) => r.id), ...b4.map((r) => r.id)]);
    expect(await o.leaseOutboxBatch({ owner: 'f', limit: 200, leaseMs: 30_000 })).toEqual([]);
    let stats = await o.outboxStats();
    expect(stats).toMatchObject({ pending: 2, dead: 1, sent: 5, due: 0 });
    expect(stats.bySObject).toEqual({ AiAuditEntry__c: 2 });
    h.advance(11_000);
    const retry = await o.leaseOutboxBatch({ owner: 'f', limit: 200, leaseMs: 1000 });
    expect(retry.map((r) => [r.externalId, r.attempts, r.lastError])).toEqual([
      ['k0', 1, 'HTTP 503'],
      ['k1', 1, 'HTTP 503'],
    ]);
    // A flusher that died: its lease runs out and another takes the rows.
    h.advance(2000);
    expect((await o.leaseOutboxBatch({ owner: 'g', limit: 200, leaseMs: 1000 })).length).toBe(2);
    stats = await o.outboxStats();
    expect(stats.oldestPendingAt).not.toBeNull();
    const metrics = await h.store.metrics();
    expect(metrics.outbox.outboxco!.pending).toBe(2);
  });

  it('validates outbox input', async () => {
    await expectCode(
      t.enqueueOutbox({ jurisdiction: 'EU', sobject: 'AiRequest__c', operation: 'upsert', payload: bytes('x'), encrypted: false }),
      'STORE_INPUT_INVALID',
    );
    await expectCode(
      t.enqueueOutbox({ jurisdiction: 'EU', sobject: 'X', operation: 'delete' as never, payload: bytes('x'), encrypted: false }),
      'STORE_INPUT_INVALID',
    );
    await expectCode(
      t.enqueueOutbox({ jurisdiction: 'EU', sobject: 'X', operation: 'create', payload: new Uint8Array(), encrypted: false }),
      'STORE_INPUT_INVALID',
    );
  });

  it('keeps replay checkpoints per channel, incidents, and token maps with a TTL', async () => {
    expect(await t.getReplayCheckpoint('/event/SovraEU__chn')).toBeUndefined();
    await t.setReplayCheckpoint('/event/SovraEU__chn', '41');
    await t.setReplayCheckpoint('/event/SovraEU__chn', '42');
    expect((await t.getReplayCheckpoint('/event/SovraEU__chn'))!.replayId).toBe('42');
    await expectCode(t.setReplayCheckpoint('/event/SovraEU__chn', 'abc'), 'STORE_INPUT_INVALID');

    const since = Date.now() - 1;
    await t.recordIncident({
      kind: 'replay_outside_retention',
      severity: 'warning',
      details: { channel: '/event/SovraEU__chn', replayId: '42' },
    });
    const inc = await t.listIncidents({ kind: 'replay_outside_retention', since });
    expect(inc).toHaveLength(1);
    expect(inc[0]!.details).toEqual({ channel: '/event/SovraEU__chn', replayId: '42' });

    const base = Date.now() + 10_000_000; // beyond any clock moves above
    await t.putTokenMap({ jurisdiction: 'EU', requestId: 'tm1', ciphertext: bytes('c1'), expiresAt: base + 1000 });
    await t.putTokenMap({ jurisdiction: 'EU', requestId: 'tm2', ciphertext: bytes('c2'), expiresAt: base + 100_000 });
    expect((await t.getTokenMap('EU', 'tm1'))!.ciphertext.toString()).toBe('c1');
    expect(await t.getTokenMap('US', 'tm1')).toBeUndefined();
    h.advance(10_000_000 + 5000);
    expect(await t.getTokenMap('EU', 'tm1')).toBeUndefined();
    expect(await h.store.purgeExpiredTokenMaps()).toBeGreaterThanOrEqual(1);
    expect((await t.getTokenMap('EU', 'tm2'))!.ciphertext.toString()).toBe('c2');
    expect(await t.deleteTokenMap('EU', 'tm2')).toBe(true);
  });

  it('finds gateway keys by digest only, and revoked keys no longer', async () => {
    const d = 'a'.repeat(64);
    await t.putApiKey('ci', d);
    expect(await h.store.findApiKey(d)).toEqual({ tenant: 'acme', keyId: 'ci' });
    await expectCode(t.putApiKey('bad', 'not-a-digest'), 'STORE_INPUT_INVALID');
    expect(await t.revokeApiKey('ci')).toBe(true);
    expect(await h.store.findApiKey(d)).toBeUndefined();
  });

  it('appends to a chain only at head + 1 under the head lock, and checkpoints contiguous ranges', async () => {
    await expectCode(t.lockChainHead('c'), 'STORE_TX_REQUIRED');
    await t.transaction(async (tx) => {
      const head = await tx.lockChainHead('c');
      expect(head).toMatchObject({ lastSeq: 0, lastHash: null, lastCheckpointSeq: 0 });
      await tx.appendChainEntry('c', { seq: 1, prevHash: 'g', entryHash: 'h1', body: 'b1', occurredAt: 1 });
      await tx.appendChainEntry('c', { seq: 2, prevHash: 'h1', entryHash: 'h2', body: 'b2', occurredAt: 2 });
    });
    await expectCode(
      t.transaction(async (tx) => {
        await tx.lockChainHead('c');
        await tx.appendChainEntry('c', { seq: 4, prevHash: 'h2', entryHash: 'h4', body: 'b4', occurredAt: 4 });
      }),
      'CHAIN_CONFLICT',
    );
    await expectCode(
      t.transaction(async (tx) => {
        await tx.lockChainHead('c');
        await tx.appendChainEntry('c', { seq: 3, prevHash: 'WRONG', entryHash: 'h3', body: 'b3', occurredAt: 3 });
      }),
      'CHAIN_CONFLICT',
    );
    await t.transaction(async (tx) => {
      await tx.lockChainHead('c');
      await tx.putChainCheckpoint('c', { fromSeq: 1, toSeq: 2, body: 'cp', createdAt: 10 });
    });
    await expectCode(
      t.transaction(async (tx) => tx.putChainCheckpoint('c', { fromSeq: 1, toSeq: 2, body: 'cp', createdAt: 10 })),
      'CHAIN_CONFLICT',
    );
    expect((await t.readChainEntries('c')).map((e) => e.body)).toEqual(['b1', 'b2']);
    const it: string[] = [];
    for await (const e of t.iterateChainEntries('c', { pageSize: 1 })) it.push(e.entryHash);
    expect(it).toEqual(['h1', 'h2']);
    expect(await t.countChainEntries('c')).toBe(2);
    expect((await t.listChainCheckpoints('c')).map((c) => [c.fromSeq, c.toSeq])).toEqual([[1, 2]]);
    expect((await t.getChainHead('c'))!).toMatchObject({ lastSeq: 2, lastHash: 'h2', lastCheckpointSeq: 2 });
  });

  it("never lets one tenant read or change another tenant's rows", async () => {
    const a = h.store.forTenant('tenant-a');
    const b = h.store.forTenant('tenant-b');
    const c = await a.claim('shared-id', { jurisdiction: 'EU', owner: 'r1', leaseMs: 60_000 });
    if (c.status !== 'claimed') throw new Error('not claimed');
    await a.enqueueOutbox({
      jurisdiction: 'EU',
      sobject: 'AiRequest__c',
      externalIdField: 'ExternalId__c',
      externalId: 'shared-id',
      operation: 'upsert',
      payload: bytes('secret'),
      encrypted: false,
    });
    await a.setReplayCheckpoint('/event/SovraEU__chn', '7');
    await a.recordIncident({ kind: 'k', severity: 'info' });
    await a.putTokenMap({ jurisdiction: 'EU', requestId: 'shared-id', ciphertext: bytes('tm'), expiresAt: Date.now() + 1e12 });
    await a.putApiKey('k1', 'b'.repeat(64));
    await a.transaction(async (tx) => {
      await tx.lockChainHead('EU');
      await tx.appendChainEntry('EU', { seq: 1, prevHash: 'g', entryHash: 'h', body: 'audit', occurredAt: 1 });
      await tx.putChainCheckpoint('EU', { fromSeq: 1, toSeq: 1, body: 'cp', createdAt: 1 });
    });

    expect(await b.getRequest('shared-id')).toBeUndefined();
    expect(await b.listExpiredLeases()).toEqual([]);
    expect(await b.claimBatch({ owner: 'r2', leaseMs: 1000, limit: 100 })).toEqual([]);
    await expectCode(b.setStatus(c.lease, { status: 'Completed' }), 'LEASE_LOST');
    await expectCode(b.renewLease(c.lease, 1000), 'LEASE_LOST');
    expect(await b.leaseOutboxBatch({ owner: 'f', limit: 200, leaseMs: 1000 })).toEqual([]);
    expect(await b.listOutbox()).toEqual([]);
    expect((await b.outboxStats()).pending).toBe(0);
    const aRow = (await a.listOutbox())[0]!;
    expect(await b.getOutbox(aRow.id)).toBeUndefined();
    expect(await b.markSent([aRow.id])).toBe(0);
    expect(await b.markFailed([{ id: aRow.id, error: 'x' }], { backoffMs: 0, permanent: true })).toBe(0);
    expect(await b.getReplayCheckpoint('/event/SovraEU__chn')).toBeUndefined();
    expect(await b.listIncidents()).toEqual([]);
    expect(await b.getTokenMap('EU', 'shared-id')).toBeUndefined();
    expect(await b.deleteTokenMap('EU', 'shared-id')).toBe(false);
    expect(await b.listApiKeys()).toEqual([]);
    expect(await b.revokeApiKey('k1')).toBe(false);
    expect(await b.getChainHead('EU')).toBeUndefined();
    expect(await b.readChainEntries('EU')).toEqual([]);
    expect(await b.listChainCheckpoints('EU')).toEqual([]);
    expect(await b.listChains()).toEqual([]);

    // The same request id in tenant b is a different request.
    expect((await b.claim('shared-id', { jurisdiction: 'EU', owner: 'r2', leaseMs: 1000 })).status).toBe('claimed');
    expect((await a.getRequest('shared-id'))!.owner).toBe('r1');
    expect((await a.listOutbox())[0]!.status).toBe('pending');
    expect(await h.store.tenants()).toEqual(expect.arrayContaining(['tenant-a', 'tenant-b']));
  });

  it('claims a burst from two owners concurrently without doing any request twice', async () => {
    const second = h.replica ? await h.replica() : h.store;
    const tenant = 'burst';
    const a = h.store.forTenant(tenant);
    const b = second.forTenant(tenant);
    const total = 300;
    for (let i = 0; i < total; i++) await a.enqueueRequest(`burst-${i}`, { jurisdiction: 'EU', source: 'event' });
    const done: string[] = [];
    const worker = async (s: TenantStore, owner: string): Promise<void> => {
      for (;;) {
        const batch = await s.claimBatch({ owner, leaseMs: 60_000, limit: 7 });
        if (batch.length === 0) return;
        for (const { lease } of batch) {
          await s.transaction(async (tx) => {
            await tx.setStatus(lease, { status: 'Completed' });
            await tx.enqueueOutbox({
              jurisdiction: 'EU',
              sobject: 'AiRequest__c',
              externalIdField: 'ExternalId__c',
              externalId: lease.requestId,
              operation: 'upsert',
              payload: bytes(owner),
              encrypted: false,
            });
          });
          done.push(lease.requestId);
        }
      }
    };
    await Promise.all([worker(a, 'replica-1'), worker(b, 'replica-2'), worker(a, 'replica-1b'), worker(b, 'replica-2b')]);
    expect(done).toHaveLength(total);
    expect(new Set(done).size).toBe(total);
    const counts = await a.countRequests();
    expect(counts.Completed).toBe(total);
    const rows = await a.listOutbox({ limit: 10_000 });
    expect(rows).toHaveLength(total);
    for (let i = 0; i < total; i++) expect((await a.getRequest(`burst-${i}`))!.attempts).toBe(1);
  });
});
