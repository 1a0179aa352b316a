/**
 * The request pipeline end to end on the org emulator: every end state with its audit
 * entries and a verifying chain, and proof (connections counted on both model servers) that
 * an EU deployment never sends anything to the US endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEMO } from '../emulator/index.js';
import { startSidecar, type SidecarUnderTest } from './pipelineHarness.js';

let s: SidecarUnderTest;
const accountId = (name: string): string =>
  s.org.emu.admin.records('Account', DEMO.orgKey).find((a) => String(a.Name).startsWith(name))!.Id as string;
const userId = (u: string): string => s.org.emu.admin.userId(u, DEMO.orgKey);

function submit(recordId: string, action: string, as: string, question?: string): string {
  const out = s.org.emu.admin.submitAiRequest({ recordId, action, question }, { org: DEMO.orgKey, username: as });
  if (!out.accepted || !out.requestId) throw new Error(`submission refused: ${out.message}`);
  return out.requestId;
}

/**
 * Inserts a request row directly as the requesting user (what a custom integration or a forged
 * client could do), bypassing the Apex service's checks: the sidecar must still decide.
 */
function insertRequest(fields: Record<string, unknown> & { RequestedBy__c: string }, as?: string): string {
  return s.org.emu.admin.insert(
    'AiRequest__c',
    { Status__c: 'Queued', ExternalId__c: `t-${Math.random().toString(36).slice(2)}`, ...fields },
    { org: DEMO.orgKey, username: as ?? usernameOf(fields.RequestedBy__c) },
  );
}

function usernameOf(id: string): string {
  const u = s.org.emu.admin.records('User', DEMO.orgKey).find((r) => r.Id === id);
  if (!u) throw new Error(`no user ${id}`);
  return String(u.Username);
}

async function outboxOf(sobject: string): Promise<Record<string, unknown>[]> {
  const rows = await s.tenantStore.listOutbox({ status: 'pending', limit: 1000 });
  const out: Record<string, unknown>[] = [];
  for (const r of rows.filter((x) => x.sobject === sobject)) {
    const bytes = r.encrypted
      ? await s.keys.decrypt({ tenant: s.org.tenant.id, jurisdiction: 'EU', purpose: 'outbox' }, r.payload)
      : r.payload;
    out.push(JSON.parse(bytes.toString('utf8')) as Record<string, unknown>);
  }
  return out;
}

beforeAll(async () => {
  s = await startSidecar();
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe('pipeline', () => {
  it('completes an EU account summary: masked prompt to the EU endpoint only, answer restored, written back through the outbox', async () => {
    const id = submit(accountId('Müller'), 'AccountSummary', DEMO.users.euSales);
    const [o] = await s.run([id]);
    expect(o).toMatchObject({
      status: 'Completed',
      jurisdiction: 'EU',
      endpoint: 'eu-loopback',
      model: 'loopback-model',
      reasonCode: null,
    });
    const seen = JSON.stringify(s.upstreams.EU.requests.map((r) => r.body));
    expect(seen).toContain('⟦');
    expect(s.upstreams.US.connections).toBe(0);
    const update = (await outboxOf('AiRequest__c')).find((r) => r.Id === id)!;
    expect(update).toMatchObject({ Status__c: 'Completed', Endpoint__c: 'eu-loopback', ProcessingRegion__c: 'eu-central-1' });
    expect(String(update.Answer__c)).toMatch(/^Summary: /);
    expect(String(update.Answer__c)).not.toContain('⟦');
    const events = await outboxOf('AiResult__e');
    expect(events).toContainEqual(expect.objectContaining({ RequestId__c: id, Status__c: 'Completed' }));
  });

  it('never lets a regulated value reach the model: the account name, and emails, phones and IBANs typed into the question are tokens', async () => {
    const before = s.upstreams.EU.requests.length;
    const id = submit(
      accountId('Müller'),
      'AccountAsk',
      DEMO.users.euSales,
      'Should we call katrin.weber@mueller-maschinenbau.example.de or +49 171 3345 982 about the refund to DE89 3704 0044 0532 0130 00?',
    );
    const [o] = await s.run([id]);
    expect(o!.status).toBe('Completed');
    const sent = JSON.stringify(s.upstreams.EU.requests.slice(before).map((r) => r.body));
    expect(sent).not.toContain('katrin.weber@');
    expect(sent).not.toContain('3345 982');
    expect(sent).not.toContain('DE89 3704');
    expect(sent).not.toContain('Maschinenbau GmbH');
    expect(o!.sanitizedPrompt).toMatch(/⟦EMAIL_1⟧.*⟦PHONE_1⟧.*⟦IBAN_1⟧/);
  });

  it('keeps free text readable while masking the values in it: a case reply draft', async () => {
    const caseId = s.org.emu.admin.records('Case', DEMO.orgKey).find((c) => c.Subject === 'Refund for double charge')!.Id as string;
    const id = submit(caseId, 'CaseReplyDraft', DEMO.users.euService);
    const [o] = await s.run([id]);
    expect(o!.status).toBe('Completed');
    const prompt = o!.sanitizedPrompt!;
    // The contact's full name, email, phone and IBAN in the description are tokens …
    expect(prompt).not.toMatch(/Katrin|Weber|katrin\.weber@|3345 982|DE\d\d ?3704/);
    expect(prompt).toMatch(/⟦PERSON_1⟧ ⟦PERSON_2⟧/);
    expect(prompt).toMatch(/⟦IBAN_1⟧/);
    // … while what the notes say, and order numbers and amounts, survive for the model to use.
    expect(prompt).toContain('Refund approved by finance; waiting for the bank run on Friday.');
    expect(prompt).toContain('SO-2024-118734');
    expect(o!.answer).not.toContain('⟦');
  });

  it('blocks a user without the AiInference right, and sends nothing', async () => {
    const before = s.upstreams.EU.requests.length;
    const id = insertRequest({
      RecordId__c: accountId('Müller'),
      ObjectApiName__c: 'Account',
      Action__c: 'AccountSummary',
      Jurisdiction__c: 'EU',
      RequestedBy__c: userId(DEMO.users.euNoSovra),
    });
    const [o] = await s.run([id]);
    expect(o).toMatchObject({ status: 'Blocked', reasonCode: 'POLICY_DENIED' });
    expect(o!.reason).toMatch(/AiInference/);
    expect(s.upstreams.EU.requests.length).toBe(before);
  });

  it('blocks a US-only user on an EU record (jurisdiction entitlement)', async () => {
    const id = insertRequest({
      RecordId__c: accountId('Müller'),
      ObjectApiName__c: 'Account',
      Action__c: 'AccountSummary',
      Jurisdiction__c: 'EU',
      RequestedBy__c: userId(DEMO.users.usSales),
    });
    const [o] = await s.run([id]);
    expect(o).toMatchObject({ status: 'Blocked', reasonCode: 'POLICY_DENIED' });
    expect(o!.reason).toMatch(/not entitled/);
  });

  it('quarantines a US record that arrived on the EU channel, and writes AiQuarantine__c', async () => {
    const before = s.upstreams.EU.requests.length;
    const id = insertRequest({
      RecordId__c: accountId('Granite'),
      ObjectApiName__c: 'Account',
      Action__c: 'AccountSummary',
      Jurisdiction__c: 'EU',
      RequestedBy__c: userId(DEMO.users.admin),
    });
    const [o] = await s.run([id]);
    expect(o).toMatchObject({ status: 'Quarantined', reasonCode: 'REQUEST_MISMATCH', jurisdiction: 'US' });
    expect(s.upstreams.EU.requests.length).toBe(before);
    expect(s.upstreams.US.connections).toBe(0);
    const q = (await outboxOf('AiQuarantine__c')).find((r) => r.RequestId__c === id);
    expect(q).toMatchObject({ DetectedJurisdiction__c: 'US', ExpectedJurisdiction__c: 'EU', Status__c: 'Open' });
  });

  it('quarantines a record whose jurisdiction nobody knows (a Canadian account)', async () => {
    const id = insertRequest({
      RecordId__c: accountId('Maple'),
      ObjectApiName__c: 'Account',
      Action__c: 'AccountSummary',
      Jurisdiction__c: 'EU',
      RequestedBy__c: userId(DEMO.users.admin),
    });
    const [o] = await s.run([id]);
    expect(o).toMatchObject({ status: 'Quarantined' });
    expect(['JURISDICTION_UNKNOWN', 'JURISDICTION_CONFLICT']).toContain(o!.reasonCode);
  });

  it('rejects a forged event whose request is not in the org, and one for a request that is not Queued', async () => {
    const forged = 'a0A000000000999AAA';
    const done = insertRequest({
      RecordId__c: accountId('Müller'),
      ObjectApiName__c: 'Account',
      Action__c: 'AccountSummary',
      Jurisdiction__c: 'EU',
      RequestedBy__c: userId(DEMO.users.euSales),
      Status__c: 'Completed',
    });
    const outs = await s.run([forged, done]);
    expect(outs.map((o) => [o.status, o.reasonCode])).toEqual([
      ['Failed', 'REJECTED_NO_REQUEST'],
      ['Failed', 'REJECTED_NOT_QUEUED'],
    ]);
  });

  it('rejects a request that names another user as its requester than the one who created it', async () => {
    const id = s.org.emu.admin.insert(
      'AiRequest__c',
      {
        Status__c: 'Queued',
        ExternalId__c: 'impersonation-1',
        RecordId__c: accountId('Müller'),
        ObjectApiName__c: 'Account',
        Action__c: 'AccountSummary',
        Jurisdiction__c: 'EU',
        RequestedBy__c: userId(DEMO.users.admin),
      },
      { org: DEMO.orgKey, username: DEMO.users.euNoSovra },
    );
    const [o] = await s.run([id]);
    expect(o).toMatchObject({ status: 'Failed', reasonCode: 'REJECTED_IMPERSONATION' });
  });

  it('ends a request Failed after five claims instead of retrying it for ever', async () => {
    const id = submit(accountId('Müller'), 'AccountSummary', DEMO.users.euSales);
    for (let i = 0; i < 5; i++) {
      const c = await s.tenantStore.claim(id, { jurisdiction: 'EU', owner: 'crashed-replica', leaseMs: 60_000, source: 'event' });
      if (c.status !== 'claimed') throw new Error('expected a claim');
      await s.tenantStore.releaseLease(c.lease, 'simulated crash');
    }
    const [o] = await s.run([id]);
    expect(o).toMatchObject({ status: 'Failed', reasonCode: 'GAVE_UP' });
    expect((await outboxOf('AiRequest__c')).find((r) => r.Id === id)).toMatchObject({ Status__c: 'Failed', ReasonCode__c: 'GAVE_UP' });
  });

  it('fails with a reason when the EU endpoint is down, and nothing goes to the US endpoint', async () => {
    const id = submit(accountId('Lumière'), 'AccountSummary', DEMO.users.euSales);
    await s.upstreams.EU.close();
    const [o] = await s.run([id]);
    expect(o!.status).toBe('Failed');
    expect(o!.reason).toMatch(/Nothing was sent outside EU/);
    expect(s.upstreams.US.connections).toBe(0);
  });

  it('audited every end state in a chain that verifies', async () => {
    const result = await s.audit.verify();
    expect(result.issues).toEqual([]);
    expect(result.ok).toBe(true);
    const counts = await s.tenantStore.countRequests();
    expect(counts.Queued + counts.Processing).toBe(0);
    const chain = await s.tenantStore.readChainEntries(s.audit.chainId, { limit: 1000 });
    const types = chain.map((e) => (JSON.parse(e.body) as { eventType: string }).eventType);
    for (const t of [
      'request.received',
      'request.rejected',
      'request.quarantined',
      'request.blocked',
      'model.called',
      'model.answered',
      'model.failed',
    ]) {
      expect(types).toContain(t);
    }
    expect(JSON.stringify(chain)).not.toContain('katrin.weber@');
  });
});
