/**
 * Verifying from Salesforce alone. A real sidecar writes its audit chain and signed
 * checkpoints to the org (through the outbox); then someone able to bypass the package's
 * immutability trigger (here: Apex emulation switched off, as a data load with triggers
 * disabled would) edits, deletes, reorders and inserts `AiAuditEntry__c` records. The verifier,
 * given only the org's records and the jurisdiction's public keys, names each by sequence number.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { recordToCheckpoint, recordToEntry, verifyChain, type VerifyResult } from '../../service/src/audit/index.js';
import type { PublicKeyInfo } from '../../service/src/keys/index.js';
import { startSidecar, type Sidecar } from '../../service/src/sidecar/index.js';
import { DEMO, type RunningEmulator } from '../emulator/index.js';
import { startLoopbackUpstream, type LoopbackUpstream } from './models-upstream.js';
import { demoConfig, startDemoOrg } from '../support/demoConfig.js';

let emu: RunningEmulator;
let upstream: LoopbackUpstream;
let sidecar: Sidecar;
let dir: string;
let trusted: PublicKeyInfo[];
const CHAIN = 'demo:EU';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sovra-tamper-'));
  emu = await startDemoOrg({ cometdTimeoutMs: 5_000 });
  upstream = await startLoopbackUpstream(() => ({ kind: 'completion', content: 'Call back on Friday.' }));
  const done = new Set<string>();
  sidecar = await startSidecar({
    config: demoConfig({
      jurisdiction: 'EU',
      dir,
      emu,
      modelPath: resolve('..', 'shared/models/stories260K.gguf'),
      endpoint: { kind: 'loopback', port: upstream.port, id: 'eu-fast', model: 'loopback-model' },
      auditCheckpointEvery: 6,
    }),
    onOutcome: (_t, o) => done.add(o.requestId),
    intake: { sweepIntervalMs: 500, sweepMinAgeMs: 0, batchWindowMs: 20 },
    flushIdleMs: 50,
  });
  const account = emu.admin.records('Account', DEMO.orgKey).find((a) => String(a.Name).startsWith('Müller'))!;
  const ids = [0, 1, 2, 3].map(
    () =>
      emu.admin.submitAiRequest(
        { recordId: String(account.Id), action: 'AccountSummary' },
        { org: DEMO.orgKey, username: DEMO.users.euSales },
      ).requestId!,
  );
  const until = Date.now() + 30_000;
  while (!ids.every((id) => done.has(id)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  await sidecar.tenants.get('demo')!.audit.checkpointIfDue({ force: true });
  await sidecar.drain(30_000);
  trusted = await sidecar.keys.publicKeys();
}, 90_000);

afterAll(async () => {
  await sidecar?.stop();
  await upstream?.close();
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const names = () => emu.admin.names(DEMO.orgKey);
const entryRecords = () => emu.admin.records('AiAuditEntry__c', DEMO.orgKey).filter((r) => r[names().name('ChainId__c')] === CHAIN);
const bySeq = (seq: number) => entryRecords().find((r) => Number(r[names().name('Sequence__c')]) === seq)!;

async function verifyOrg(): Promise<VerifyResult> {
  const checkpoints = emu.admin
    .records('AiAuditCheckpoint__c', DEMO.orgKey)
    .filter((r) => r[names().name('ChainId__c')] === CHAIN)
    .map((r) => recordToCheckpoint(r, names()));
  return verifyChain(
    entryRecords().map((r) => recordToEntry(r, names())),
    { chainId: CHAIN, checkpoints, trustedKeys: trusted },
  );
}

describe('audit verification from the org records alone', () => {
  it('verifies the chain the sidecar wrote, with its signed checkpoints', async () => {
    expect(entryRecords().length).toBeGreaterThanOrEqual(12);
    const r = await verifyOrg();
    expect(r.issues).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.checkpoints).toBeGreaterThanOrEqual(2);
  });

  it('names an edited, a deleted, a reordered and an inserted entry by sequence number', async () => {
    const n = names();
    emu.admin.setApexEmulation(false, DEMO.orgKey); // the immutability trigger is bypassed
    try {
      // Edited: the decision of entry 3 rewritten.
      emu.admin.update(
        'AiAuditEntry__c',
        String(bySeq(3).Id),
        { [n.name('Decision__c')]: 'allow', [n.name('Reason__c')]: 'approved' },
        { org: DEMO.orgKey },
      );
      // Deleted: entry 5 removed.
      emu.admin.delete('AiAuditEntry__c', String(bySeq(5).Id), { org: DEMO.orgKey });
      // Reordered: entries 8 and 9 swap their sequence numbers.
      const e8 = bySeq(8);
      const e9 = bySeq(9);
      emu.admin.update('AiAuditEntry__c', String(e8.Id), { [n.name('Sequence__c')]: 9 }, { org: DEMO.orgKey });
      emu.admin.update('AiAuditEntry__c', String(e9.Id), { [n.name('Sequence__c')]: 8 }, { org: DEMO.orgKey });
      // Inserted: a forged entry claiming sequence 11, copied from a real one.
      const src = bySeq(11);
      const forged: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(src)) if (k.endsWith('__c')) forged[k] = v;
      forged[n.name('EntryKey__c')] = `${CHAIN}:forged`;
      forged[n.name('Reason__c')] = 'forged';
      emu.admin.insert('AiAuditEntry__c', forged, { org: DEMO.orgKey });
    } finally {
      emu.admin.setApexEmulation(true, DEMO.orgKey);
    }
    const r = await verifyOrg();
    expect(r.ok).toBe(false);
    const found = (kind: string) => r.issues.filter((i) => i.kind === kind).map((i) => i.sequence);
    expect(found('edited')).toContain(3);
    expect(found('deleted')).toContain(5);
    expect([...found('reordered'), ...found('edited')]).toEqual(expect.arrayContaining([8]));
    expect(found('inserted')).toContain(11);
  });

  it('refuses a checkpoint signature under another jurisdiction’s key', async () => {
    const us = trusted.map((k) => ({ ...k, jurisdiction: 'US' }));
    const checkpoints = emu.admin
      .records('AiAuditCheckpoint__c', DEMO.orgKey)
      .filter((r) => r[names().name('ChainId__c')] === CHAIN)
      .map((r) => recordToCheckpoint(r, names()));
    const r = await verifyChain(
      entryRecords().map((rec) => recordToEntry(rec, names())),
      { chainId: CHAIN, checkpoints, trustedKeys: us },
    );
    expect(r.issues.some((i) => i.kind === 'bad-signature')).toBe(true);
  });
});
