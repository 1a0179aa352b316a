/**
 * The salesforce connection against the org emulator, through the real @salesforce/core
 * (JWT bearer) and jsforce clients.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SalesforceConnection } from '../../service/src/salesforce/index.js';
import { SovraError } from '../../service/src/shared/errors.js';
import { DEMO } from '../emulator/index.js';
import { queueRequest, startTestOrg, type TestOrg } from '../reliability/harness.js';

describe('salesforce connection', () => {
  let org: TestOrg;
  let sf: SalesforceConnection;
  beforeAll(async () => {
    org = await startTestOrg();
    sf = await SalesforceConnection.connect({ tenant: org.tenant, baseDir: process.cwd(), env: org.env });
  });
  afterAll(async () => {
    await org.close();
  });

  it('logs in with the JWT bearer flow and queries with pagination', async () => {
    expect(sf.accessToken).not.toBe('');
    const ids = Array.from({ length: 5 }, (_, i) => queueRequest(org, 'EU', i));
    const rows = await sf.retrieveRequests(ids, ['Status__c', 'Jurisdiction__c']);
    expect(rows.map((r) => r.Id).sort()).toEqual([...ids].sort());
    expect(rows.every((r) => r.Status__c === 'Queued' && r.Jurisdiction__c === 'EU')).toBe(true);
    expect(sf.metrics().usage?.limit).toBeGreaterThan(0);
  });

  it('follows nextRecordsUrl across query batches', async () => {
    org.emu.admin.org(DEMO.orgKey).queryBatchSize = 3;
    try {
      const all = await sf.query('SELECT Id FROM Account');
      expect(all.length).toBe(org.emu.admin.records('Account', DEMO.orgKey).length);
      expect(all.length).toBeGreaterThan(3);
    } finally {
      org.emu.admin.org(DEMO.orgKey).queryBatchSize = 2000;
    }
  });

  it('renews the session on INVALID_SESSION_ID and retries once', async () => {
    const before = sf.accessToken;
    org.emu.admin.expireSessions(DEMO.orgKey);
    const rows = await sf.query('SELECT Id FROM Account LIMIT 1');
    expect(rows).toHaveLength(1);
    expect(sf.accessToken).not.toBe(before);
    expect(sf.metrics().sessionRenewals).toBe(1);
    org.emu.admin.fault('INVALID_SESSION_ID', 1, DEMO.orgKey);
    await sf.query('SELECT Id FROM Account LIMIT 1');
    expect(sf.metrics().sessionRenewals).toBe(2);
  });

  it('maps 503 and REQUEST_LIMIT_EXCEEDED to retryable unavailable errors', async () => {
    // Writes (POST/PATCH) are not retried inside jsforce, so the fault reaches the mapping.
    const write = (): Promise<unknown> =>
      sf.publish('AiResult__e', [{ RequestId__c: 'a00000000000009', Status__c: 'Completed', Jurisdiction__c: 'EU' }]);
    org.emu.admin.fault('503', 1, DEMO.orgKey);
    const e1 = await write().catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(SovraError);
    expect((e1 as SovraError).kind).toBe('unavailable');
    expect((e1 as SovraError).retryable).toBe(true);
    org.emu.admin.fault('REQUEST_LIMIT_EXCEEDED', 1, DEMO.orgKey);
    const e2 = (await write().catch((e: unknown) => e)) as SovraError;
    expect(e2.code).toBe('SF_REQUEST_LIMIT_EXCEEDED');
    expect(e2.retryable).toBe(true);
    // GETs are retried by jsforce's transport (503 with backoff) before they surface.
    org.emu.admin.fault('503', 1, DEMO.orgKey);
    await expect(sf.query('SELECT Id FROM Account LIMIT 1')).resolves.toHaveLength(1);
  });

  it('maps a rejected query to validation with the Salesforce errorCode and no values', async () => {
    const e = (await sf
      .query("SELECT Nope__c FROM Account WHERE Name = 'Müller Maschinenbau GmbH'")
      .catch((x: unknown) => x)) as SovraError;
    expect(e.kind).toBe('validation');
    expect(e.details.salesforceErrorCode).toBe('INVALID_FIELD');
    expect(JSON.stringify({ m: e.message, d: e.details })).not.toContain('Müller');
  });

  it('upserts by external id in collections of at most 200, with per-record results and no duplicates', async () => {
    const calls0 = sf.metrics().apiCalls;
    const keys = Array.from({ length: 450 }, (_, i) => `upsert-${i}`);
    const recs = keys.map((k) => ({
      ExternalId__c: k,
      Status__c: 'Queued',
      Jurisdiction__c: 'US',
      Action__c: 'summarize',
      ObjectApiName__c: 'Account',
    }));
    const first = await sf.upsert('AiRequest__c', 'ExternalId__c', recs);
    expect(first.every((o) => o.ok && o.created === true)).toBe(true);
    expect(sf.metrics().apiCalls - calls0).toBe(3);
    const again = await sf.upsert(
      'AiRequest__c',
      'ExternalId__c',
      recs.map((r) => ({ ...r, Status__c: 'Completed' })),
    );
    expect(again.every((o) => o.ok && o.created === false)).toBe(true);
    const n = org.emu.admin.names(DEMO.orgKey);
    const stored = org.emu.admin
      .records('AiRequest__c', DEMO.orgKey)
      .filter((r) => String(r[n.name('ExternalId__c')]).startsWith('upsert-'));
    expect(stored).toHaveLength(450);
    expect(stored.every((r) => r[n.name('Status__c')] === 'Completed')).toBe(true);
  });

  it('reports per-record failures by statusCode without the message', async () => {
    const entry = { EntryKey__c: 'immutable-1', ChainId__c: 'EU', Sequence__c: 1, EventType__c: 'request', Jurisdiction__c: 'EU' };
    expect((await sf.upsert('AiAuditEntry__c', 'EntryKey__c', [entry]))[0].ok).toBe(true);
    const [again] = await sf.upsert('AiAuditEntry__c', 'EntryKey__c', [entry]);
    expect(again).toEqual({ ok: false, retryable: false, errors: [{ statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', fields: [] }] });
  });

  it('publishes events through the collections endpoint', async () => {
    const before = org.emu.admin.events(DEMO.orgKey).length;
    const out = await sf.publish('AiResult__e', [
      { RequestId__c: 'a00000000000001', Status__c: 'Completed', Jurisdiction__c: 'EU' },
      { RequestId__c: 'a00000000000002', Status__c: 'Failed', Jurisdiction__c: 'EU' },
    ]);
    expect(out.every((o) => o.ok)).toBe(true);
    expect(org.emu.admin.events(DEMO.orgKey).length).toBe(before + 2);
  });

  it('slows down before the daily limit and holds the reserve back', async () => {
    const pauses: number[] = [];
    const throttled = await SalesforceConnection.connect({
      tenant: org.tenant,
      baseDir: process.cwd(),
      env: org.env,
      maxSlowdownMs: 1000,
      reserveProbeMs: 60_000,
      sleep: (ms) => {
        pauses.push(ms);
        return Promise.resolve();
      },
    });
    const used = org.emu.admin.apiUsage()[org.tenant.orgId];
    // apiReserve 0.1: the slow band is 80–90 % of the limit, the reserve the last 10 %.
    org.emu.admin.setApiLimit(Math.ceil((used + 1) / 0.85), DEMO.orgKey);
    await throttled.query('SELECT Id FROM Account LIMIT 1');
    await throttled.query('SELECT Id FROM Account LIMIT 1');
    expect(throttled.backpressure().state).toBe('slow');
    expect(pauses.length).toBeGreaterThan(0);
    expect(pauses[0]).toBeGreaterThan(0);
    org.emu.admin.setApiLimit(used + 5, DEMO.orgKey);
    await throttled.query('SELECT Id FROM Account LIMIT 1'); // the response shows usage past the reserve
    expect(throttled.backpressure().state).toBe('reserve');
    await throttled.query('SELECT Id FROM Account LIMIT 1'); // one probe call is let through
    const e = (await throttled.query('SELECT Id FROM Account LIMIT 1').catch((x: unknown) => x)) as SovraError;
    expect(e.code).toBe('SF_API_RESERVE');
    expect(e.retryable).toBe(true);
    expect(throttled.metrics().reserveRefusals).toBe(1);
    org.emu.admin.setApiLimit(15_000, DEMO.orgKey);
  });
});
