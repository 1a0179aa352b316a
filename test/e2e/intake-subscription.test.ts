/**
 * Intake end to end: the real jsforce/faye streaming client against the emulator's CometD,
 * claims and checkpoints in a real SQLite store.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Intake, type IntakeWork } from '../../service/src/intake/index.js';
import { SalesforceConnection } from '../../service/src/salesforce/index.js';
import { SqliteStore } from '../../service/src/store/index.js';
import { DEMO } from '../emulator/index.js';
import { queueRequest, startTestOrg, waitFor, type TestOrg } from '../reliability/harness.js';

describe('intake', () => {
  let org: TestOrg;
  let sf: SalesforceConnection;
  let dir: string;
  let store: SqliteStore;
  let intake: Intake | undefined;
  const seen: IntakeWork[] = [];

  const newIntake = (over: Partial<ConstructorParameters<typeof Intake>[0]> = {}): Intake =>
    new Intake({
      sf,
      store: store.forTenant('demo'),
      jurisdiction: 'EU',
      leaseMs: 2_000,
      sweepIntervalMs: 60_000,
      sweepMinAgeMs: 0,
      batchWindowMs: 20,
      staleMs: 2_000,
      process: async (batch) => {
        for (const w of batch) {
          seen.push(w);
          await store.forTenant('demo').setStatus(w.lease, { status: 'Completed' });
        }
      },
      ...over,
    });
  const ids = (): string[] => seen.map((w) => w.requestId);

  beforeAll(async () => {
    org = await startTestOrg({ cometdTimeoutMs: 300 });
    sf = await SalesforceConnection.connect({ tenant: org.tenant, baseDir: process.cwd(), env: org.env });
    dir = mkdtempSync(join(tmpdir(), 'sovra-intake-'));
    store = new SqliteStore({ path: join(dir, 'store.db') });
  });
  afterEach(async () => {
    await intake?.stop();
    intake = undefined;
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    await org.close();
  });

  it('claims only this jurisdiction’s events, each once, and checkpoints the replayId', async () => {
    intake = newIntake();
    await intake.start();
    await waitFor(() => intake!.metrics().subscription === 'subscribed', 10_000, 'subscription');
    const eu = Array.from({ length: 6 }, (_, i) => queueRequest(org, 'EU', i));
    const us = Array.from({ length: 4 }, (_, i) => queueRequest(org, 'US', i));
    await waitFor(() => eu.every((id) => ids().includes(id)), 10_000, 'EU requests');
    expect(ids().filter((id) => us.includes(id))).toEqual([]);
    expect(new Set(ids()).size).toBe(ids().length);
    expect(seen.every((w) => w.source === 'event' || w.source === 'sweep')).toBe(true);
    const cp = await store.forTenant('demo').getReplayCheckpoint(intake.channel);
    const lastEu = Math.max(
      ...org.emu.admin
        .events(DEMO.orgKey)
        .filter((e) => e.payload.Jurisdiction__c === 'EU')
        .map((e) => e.replayId),
    );
    await waitFor(
      async () => Number((await store.forTenant('demo').getReplayCheckpoint(intake!.channel))?.replayId) === lastEu,
      5_000,
      'checkpoint',
    );
    expect(cp).toBeDefined();
  });

  it('resumes from the checkpoint after a restart without processing anything twice', async () => {
    const before = seen.length;
    const stopped = Array.from({ length: 3 }, (_, i) => queueRequest(org, 'EU', 10 + i)); // published while down
    intake = newIntake({ sweepMinAgeMs: 3_600_000 }); // only replay can find them
    await intake.start();
    await waitFor(() => stopped.every((id) => ids().includes(id)), 10_000, 'replayed requests');
    expect(seen.slice(before).map((w) => w.source)).toEqual(['event', 'event', 'event']);
    expect(new Set(ids()).size).toBe(ids().length);
  });

  it('re-handshakes after 403::Unknown client and after the session expires (401)', async () => {
    intake = newIntake({ sweepMinAgeMs: 3_600_000 });
    await intake.start();
    await waitFor(() => intake!.metrics().subscription === 'subscribed', 10_000, 'subscription');
    org.emu.admin.expireCometdClients(DEMO.orgKey);
    const a = queueRequest(org, 'EU', 20);
    await waitFor(() => ids().includes(a), 10_000, 'request after 403::Unknown client');
    const renewals = sf.metrics().sessionRenewals;
    org.emu.admin.expireSessions(DEMO.orgKey);
    await waitFor(() => sf.metrics().sessionRenewals > renewals, 10_000, 'session renewal after 401::Authentication invalid');
    const b = queueRequest(org, 'EU', 21);
    await waitFor(() => ids().includes(b), 15_000, 'request after 401');
    expect(intake.metrics().streaming.handshakes).toBeGreaterThanOrEqual(2);
    expect(intake.metrics().streaming.authFailures).toBeGreaterThanOrEqual(1);
    org.emu.admin.fault('DROP_COMETD', 1, DEMO.orgKey);
    const c = queueRequest(org, 'EU', 22);
    await waitFor(() => ids().includes(c), 15_000, 'request after a dropped connection');
    expect(new Set(ids()).size).toBe(ids().length);
  });

  it('sweeps up a request whose event was lost', async () => {
    org.emu.admin.setApexEmulation(false, DEMO.orgKey); // the trigger that publishes AiRequest__e does not run
    let lost: string;
    try {
      lost = queueRequest(org, 'EU', 30);
    } finally {
      org.emu.admin.setApexEmulation(true, DEMO.orgKey);
    }
    intake = newIntake({ sweepIntervalMs: 200 });
    await intake.start();
    await waitFor(() => ids().includes(lost), 10_000, 'swept request');
    expect(seen.find((w) => w.requestId === lost)?.source).toBe('sweep');
  });

  it('falls back to -1 with a sweep and an incident when the replayId is outside retention', async () => {
    const t = store.forTenant('demo');
    const channel = sf.names.channelPath('EU');
    const cp = Number((await t.getReplayCheckpoint(channel))!.replayId);
    const missed = queueRequest(org, 'EU', 40); // its event will be gone
    org.emu.admin.setEventRetention(1, DEMO.orgKey);
    org.emu.admin.advanceClock(10);
    expect(org.emu.admin.events(DEMO.orgKey).length).toBe(0);
    org.emu.admin.setEventRetention(72 * 3600_000, DEMO.orgKey);
    expect(cp).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1_100)); // SOQL datetimes have whole seconds
    intake = newIntake({ sweepIntervalMs: 60_000, sweepMinAgeMs: 0 });
    await intake.start();
    await waitFor(() => ids().includes(missed), 10_000, 'request found by the sweep after the gap');
    await waitFor(() => intake!.metrics().replayGaps > 0, 10_000, 'replay gap');
    await waitFor(async () => (await t.listIncidents({ kind: 'replay_gap' })).length > 0, 5_000, 'incident');
    const incidents = await t.listIncidents({ kind: 'replay_gap' });
    expect(incidents.length).toBeGreaterThanOrEqual(1);
    expect(incidents[0].details.channel).toBe(channel);
    await waitFor(() => intake!.metrics().subscription === 'subscribed', 10_000, 're-subscription from -1');
    const after = queueRequest(org, 'EU', 41);
    await waitFor(() => ids().includes(after), 10_000, 'new events after the gap');
  });
});
