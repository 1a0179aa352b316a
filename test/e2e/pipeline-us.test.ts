/**
 * The reverse direction: a US deployment answers US records on the US model only, and an EU
 * record that reaches it (on the US channel) is quarantined — the EU model server receives
 * nothing, counted by connections.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEMO } from '../emulator/index.js';
import { startSidecar, type SidecarUnderTest } from './pipelineHarness.js';

let s: SidecarUnderTest;
const record = (sobject: string, match: (r: Record<string, unknown>) => boolean): string =>
  s.org.emu.admin.records(sobject, DEMO.orgKey).find(match)!.Id as string;

beforeAll(async () => {
  s = await startSidecar({ jurisdiction: 'US' });
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe('pipeline, US deployment', () => {
  it('answers a US case reply draft on the US model, with nothing sent to the EU model', async () => {
    const caseId = record('Case', (c) => c.Subject === 'Billing question on patient portal');
    const out = s.org.emu.admin.submitAiRequest(
      { recordId: caseId, action: 'CaseReplyDraft' },
      { org: DEMO.orgKey, username: DEMO.users.usSales },
    );
    expect(out.accepted).toBe(true);
    const [o] = await s.run([out.requestId!]);
    expect(o).toMatchObject({ status: 'Completed', jurisdiction: 'US', endpoint: 'us-loopback' });
    expect(s.upstreams.US.requests.length).toBe(1);
    expect(JSON.stringify(s.upstreams.US.requests[0]!.body)).not.toMatch(/Garcia|billing@granitepeak|\d{3}-\d{2}-\d{4}/);
    expect(s.upstreams.EU.connections).toBe(0);
  });

  it('quarantines an EU record that arrived on the US channel; the EU model server gets no connection', async () => {
    const before = s.upstreams.US.requests.length;
    const id = s.org.emu.admin.insert(
      'AiRequest__c',
      {
        Status__c: 'Queued',
        ExternalId__c: 'us-channel-eu-record',
        RecordId__c: record('Account', (a) => String(a.Name).startsWith('Müller')),
        ObjectApiName__c: 'Account',
        Action__c: 'AccountSummary',
        Jurisdiction__c: 'US',
        RequestedBy__c: s.org.emu.admin.userId(DEMO.users.admin, DEMO.orgKey),
      },
      { org: DEMO.orgKey, username: DEMO.users.admin },
    );
    const [o] = await s.run([id]);
    expect(o).toMatchObject({ status: 'Quarantined', reasonCode: 'REQUEST_MISMATCH', jurisdiction: 'EU' });
    expect(s.upstreams.US.requests.length).toBe(before);
    expect(s.upstreams.EU.connections).toBe(0);
  });

  it('keeps a verifying US chain', async () => {
    const r = await s.audit.verify();
    expect(r.issues).toEqual([]);
    expect(r.chainId).toBe('demo:US');
  });
});
