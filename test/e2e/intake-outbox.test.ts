/**
 * The outbox flusher against the emulator: batching (API calls per burst), external-id
 * idempotency, encrypted payloads, and outages (503, REQUEST_LIMIT_EXCEEDED, session expiry).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyService, type ManagedKeyService } from '../../service/src/keys/index.js';
import { SalesforceConnection } from '../../service/src/salesforce/index.js';
import { SqliteStore, type TenantStore } from '../../service/src/store/index.js';
import { OutboxFlusher, encodeOutboxPayload, outboxDecryptor } from '../../service/src/writeback/index.js';
import { DEMO } from '../emulator/index.js';
import { startTestOrg, type TestOrg } from '../reliability/harness.js';

describe('outbox flusher', () => {
  let org: TestOrg;
  let sf: SalesforceConnection;
  let dir: string;
  let store: SqliteStore;
  let t: TenantStore;
  let keys: ManagedKeyService;
  const fast = { minBackoffMs: 20, maxBackoffMs: 200, idleMs: 20 };

  beforeAll(async () => {
    org = await startTestOrg();
    sf = await SalesforceConnection.connect({ tenant: org.tenant, baseDir: process.cwd(), env: org.env });
    dir = mkdtempSync(join(tmpdir(), 'sovra-outbox-'));
    store = new SqliteStore({ path: join(dir, 'store.db') });
    t = store.forTenant('demo');
    keys = await createKeyService('EU', { provider: 'local', region: 'eu-central-1', path: join(dir, 'keyring.json') }, { baseDir: dir });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    await org.close();
  });

  const n = (f: string): string => org.emu.admin.names(DEMO.orgKey).name(f);
  const requestsWith = (prefix: string): Record<string, unknown>[] =>
    org.emu.admin.records('AiRequest__c', DEMO.orgKey).filter((r) => String(r[n('ExternalId__c')]).startsWith(prefix));
  const entriesWith = (prefix: string): Record<string, unknown>[] =>
    org.emu.admin.records('AiAuditEntry__c', DEMO.orgKey).filter((r) => String(r[n('EntryKey__c')]).startsWith(prefix));

  async function enqueueRequests(prefix: string, count: number, status = 'Completed'): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      await t.enqueueOutbox({
        jurisdiction: 'EU',
        sobject: 'AiRequest__c',
        operation: 'upsert',
        externalIdField: 'ExternalId__c',
        externalId: `${prefix}${i}`,
        payload: encodeOutboxPayload({ Status__c: status, Jurisdiction__c: 'EU', Action__c: 'summarize', ObjectApiName__c: 'Account' }),
        encrypted: false,
      });
    }
  }
  async function enqueueEntries(prefix: string, count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      const body = encodeOutboxPayload({
        ChainId__c: 'EU',
        Sequence__c: i + 1,
        EventType__c: 'request',
        Jurisdiction__c: 'EU',
        SanitizedPrompt__c: `Summarize ⟦PERSON_${i}⟧`,
      });
      await t.enqueueOutbox({
        jurisdiction: 'EU',
        sobject: 'AiAuditEntry__c',
        operation: 'upsert',
        externalIdField: 'EntryKey__c',
        externalId: `${prefix}${i}`,
        payload: await keys.encrypt({ tenant: 'demo', jurisdiction: 'EU', purpose: 'outbox' }, body),
        encrypted: true,
      });
    }
  }

  it('flushes a burst of 1,000 rows in far fewer than 1,000 API calls', async () => {
    await enqueueRequests('burst-', 400);
    await enqueueEntries('burst-', 400);
    for (let i = 0; i < 200; i += 1) {
      await t.enqueueOutbox({
        jurisdiction: 'EU',
        sobject: 'AiResult__e',
        operation: 'publish',
        payload: encodeOutboxPayload({ RequestId__c: `a0${String(i).padStart(13, '0')}`, Status__c: 'Completed', Jurisdiction__c: 'EU' }),
        encrypted: false,
      });
    }
    const events0 = org.emu.admin.events(DEMO.orgKey).length;
    const usage0 = org.emu.admin.apiUsage()[org.tenant.orgId];
    const flusher = new OutboxFlusher({ sf, store: t, decrypt: outboxDecryptor(keys), ...fast });
    expect(await flusher.drain()).toBe(1000);
    const calls = org.emu.admin.apiUsage()[org.tenant.orgId] - usage0;
    process.stdout.write(`outbox burst: 1000 rows -> ${calls} API calls (flusher counted ${flusher.metrics().apiCalls})\n`);
    expect(calls).toBeLessThanOrEqual(10);
    expect(requestsWith('burst-')).toHaveLength(400);
    const entries = entriesWith('burst-');
    expect(entries).toHaveLength(400);
    expect(entries.every((e) => String(e[n('SanitizedPrompt__c')]).startsWith('Summarize ⟦PERSON_'))).toBe(true);
    expect(org.emu.admin.events(DEMO.orgKey).length - events0).toBe(200);
    expect((await t.outboxStats()).pending).toBe(0);
  });

  it('loses nothing through 503s, REQUEST_LIMIT_EXCEEDED and an expired session, and duplicates nothing', async () => {
    await enqueueRequests('outage-', 300);
    await enqueueEntries('outage-', 300);
    org.emu.admin.fault('503', 4, DEMO.orgKey);
    org.emu.admin.fault('REQUEST_LIMIT_EXCEEDED', 4, DEMO.orgKey);
    org.emu.admin.expireSessions(DEMO.orgKey);
    const flusher = new OutboxFlusher({ sf, store: t, decrypt: outboxDecryptor(keys), ...fast });
    expect(await flusher.drain(30_000)).toBe(600);
    expect(flusher.metrics().retried).toBeGreaterThan(0);
    expect(requestsWith('outage-')).toHaveLength(300);
    expect(entriesWith('outage-')).toHaveLength(300);
    expect((await t.outboxStats()).dead).toBe(0);
  });

  it('re-sends after a crash between the call and markSent without duplicating (immutable entries reconcile)', async () => {
    await enqueueRequests('crash-', 50, 'Completed');
    await enqueueEntries('crash-', 50);
    // The first attempt reaches Salesforce but the process "dies" before markSent.
    const crashing: TenantStore = Object.create(t) as TenantStore;
    crashing.markSent = () => Promise.reject(new Error('killed'));
    const first = new OutboxFlusher({ sf, store: crashing, decrypt: outboxDecryptor(keys), ...fast, leaseMs: 1_500 });
    await expect(first.flushOnce()).rejects.toThrow('killed');
    await expect(first.flushOnce()).rejects.toThrow('killed');
    expect(requestsWith('crash-')).toHaveLength(50);
    expect(entriesWith('crash-')).toHaveLength(50);
    await new Promise((r) => setTimeout(r, 1_600)); // the dead flusher's leases run out
    const second = new OutboxFlusher({ sf, store: t, decrypt: outboxDecryptor(keys), ...fast });
    expect(await second.drain()).toBe(100);
    expect(requestsWith('crash-')).toHaveLength(50);
    expect(entriesWith('crash-')).toHaveLength(50);
    expect((await t.outboxStats()).dead).toBe(0);
  });

  it('parks a row Salesforce rejects as dead instead of retrying it for ever', async () => {
    await t.enqueueOutbox({
      jurisdiction: 'EU',
      sobject: 'AiRequest__c',
      operation: 'upsert',
      externalIdField: 'ExternalId__c',
      externalId: 'bad-1',
      payload: encodeOutboxPayload({ LatencyMs__c: 'not a number' }),
      encrypted: false,
    });
    const flusher = new OutboxFlusher({ sf, store: t, ...fast });
    await flusher.drain(5_000);
    const stats = await t.outboxStats();
    expect(stats.pending).toBe(0);
    expect(stats.dead).toBe(1);
    const [dead] = await t.listOutbox({ status: 'dead' });
    expect(dead.lastError).toMatch(/^[A-Z_,]+$/);
  });
});
