import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { apiNames } from '../../shared/schema.js';
import { SqliteStore } from '../../store/index.js';
import {
  AuditLog,
  entryToRecord,
  hashEntry,
  recordToCheckpoint,
  recordToEntry,
  checkpointToRecord,
  verifyChain,
  verifyInclusion,
  type AuditEntryRecord,
  type SObjectRecord,
  type VerifyResult,
} from '../index.js';
import { TestKeyService } from './testKeys.js';

const names = apiNames('sovra');
const kinds = (r: VerifyResult): string[] => r.issues.map((i) => `${i.kind}@${i.sequence}`);

describe('audit log', () => {
  let dir: string;
  let path: string;
  let store: SqliteStore;
  let keys: TestKeyService;
  let audit: AuditLog;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sovra-audit-'));
    path = join(dir, 'store.db');
    store = new SqliteStore({ path });
    keys = new TestKeyService('EU');
    audit = new AuditLog({ store, keys, tenant: 'acme', region: 'eu-central-1', checkpointEvery: 10, checkpointIntervalSeconds: 60 });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function fill(n: number): Promise<AuditEntryRecord[]> {
    const out: AuditEntryRecord[] = [];
    for (let i = 0; i < n; i++) {
      out.push(
        await audit.record({
          eventType: i % 2 ? 'model.answered' : 'request.received',
          decision: 'allow',
          requestId: `req-${i}`,
          recordId: '001000000000001AAA',
          actorId: '005000000000001AAA',
          action: 'summarize',
          endpoint: 'eu-vllm-1',
          model: 'llama',
          reason: '  allowed by policy  ',
          fieldClasses: { 'Contact.Email': 'Confidential', 'Account.Name': 'Internal' },
          sanitizedPrompt: `Summarize ⟦PERSON_1⟧ #${i}\r\n`,
          sanitizedAnswer: i % 2 ? `⟦PERSON_1⟧ is a customer #${i}` : null,
          rawPrompt: `Summarize Jane Doe #${i}`,
          rawAnswer: i % 2 ? `Jane Doe is a customer #${i}` : null,
          timings: { totalMs: 12.4, modelMs: 7 },
          details: { attempt: 1 },
        }),
      );
    }
    return out;
  }

  it('chains entries with keyed hashes of raw text, sanitized text only, and signed checkpoints', async () => {
    const entries = await fill(25);
    expect(entries[0]!.prevHash).toBe('0'.repeat(64));
    expect(entries[1]!.prevHash).toBe(entries[0]!.entryHash);
    expect(entries[0]!.entryHash).toBe(hashEntry(entries[0]!));
    expect(entries[0]!.promptHmac).toBe(
      await keys.hmac({ tenant: 'acme', jurisdiction: 'EU', purpose: 'audit-hmac' }, 'Summarize Jane Doe #0'),
    );
    expect(entries[0]!.sanitizedPrompt).toBe('Summarize ⟦PERSON_1⟧ #0\n');
    expect(entries[0]!.reason).toBe('allowed by policy');
    expect(entries[0]!.timings).toEqual({ totalMs: 12, modelMs: 7 });
    const t = store.forTenant('acme');
    for (const row of await t.readChainEntries(audit.chainId)) expect(row.body).not.toContain('Jane');
    // checkpoint after 10 entries (+1 'checkpoint.signed' entry), then after the next 10.
    const cps = await audit.checkpoints();
    expect(cps.map((c) => [c.fromSeq, c.toSeq])).toEqual([
      [1, 10],
      [11, 20],
    ]);
    expect((await t.readChainEntries(audit.chainId, { fromSeq: 11, toSeq: 11 }))[0]!.body).toContain('checkpoint.signed');
    const result = await audit.verify();
    expect(result).toMatchObject({ ok: true, issues: [], verifiedThrough: 20 });
    expect(result.entries).toBe(27);
  });

  it('enqueues every entry and checkpoint to the outbox, entries encrypted for their scope', async () => {
    await fill(10);
    const rows = await store.forTenant('acme').listOutbox();
    const entryRows = rows.filter((r) => r.sobject === 'sovra__AiAuditEntry__c');
    const cpRows = rows.filter((r) => r.sobject === 'sovra__AiAuditCheckpoint__c');
    expect(entryRows).toHaveLength(11);
    expect(cpRows).toHaveLength(1);
    expect(entryRows[0]).toMatchObject({
      operation: 'upsert',
      externalIdField: 'sovra__EntryKey__c',
      externalId: 'acme:EU:1',
      encrypted: true,
    });
    expect(entryRows[0]!.payload.toString()).not.toContain('PERSON');
    const rec = JSON.parse(
      (await keys.decrypt({ tenant: 'acme', jurisdiction: 'EU', purpose: 'outbox' }, entryRows[0]!.payload)).toString(),
    ) as SObjectRecord;
    expect(rec['sovra__EntryKey__c']).toBe('acme:EU:1');
    const parsed = recordToEntry(rec, names);
    expect(parsed.ok && parsed.record.entryHash === hashEntry(parsed.record)).toBe(true);
    const cp = recordToCheckpoint(JSON.parse(cpRows[0]!.payload.toString()) as SObjectRecord, names);
    expect(cp.ok && cp.checkpoint.toSeq).toBe(10);
  });

  it('rolls the entry and its outbox row back with the transaction that failed', async () => {
    const t = store.forTenant('acme');
    await expect(
      t.transaction(async (tx) => {
        await audit.append(tx, { eventType: 'request.received', decision: 'allow' });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await t.getChainHead(audit.chainId)).toBeUndefined();
    expect(await t.listOutbox()).toEqual([]);
    expect((await audit.record({ eventType: 'request.received', decision: 'allow' })).seq).toBe(1);
  });

  it('signs a checkpoint after T seconds and proves single entries against it', async () => {
    await fill(5);
    expect(await audit.checkpointIfDue()).toBeUndefined();
    const cp = await audit.checkpointIfDue({ force: true });
    expect(cp).toMatchObject({ fromSeq: 1, toSeq: 5, jurisdiction: 'EU' });
    const trusted = await keys.publicKeys();
    for (let s = 1; s <= 5; s++) {
      const proof = await audit.proveInclusion(s);
      expect(verifyInclusion(proof, trusted)).toBe(true);
      expect(verifyInclusion({ ...proof, entryHash: 'f'.repeat(64) }, trusted)).toBe(false);
    }
    const other = await new TestKeyService('EU').publicKeys();
    expect(verifyInclusion(await audit.proveInclusion(3), other)).toBe(false);
    await expect(audit.proveInclusion(6)).rejects.toMatchObject({ code: 'AUDIT_NOT_CHECKPOINTED' });
  });

  it('rejects invalid input and never stores an invalid Salesforce id', async () => {
    await expect(audit.record({ eventType: 'nope' as never, decision: 'allow' })).rejects.toMatchObject({ code: 'AUDIT_INPUT_INVALID' });
    await expect(audit.record({ eventType: 'request.rejected', decision: 'reject', timings: { x: -1 } })).rejects.toMatchObject({
      code: 'AUDIT_INPUT_INVALID',
    });
    const e = await audit.record({ eventType: 'request.rejected', decision: 'reject', recordId: "x' OR 1=1", reason: 'forged event' });
    expect(e.recordId).toBeNull();
    expect(e.details.recordIdInvalid).toBe(true);
  });

  describe('tampering in the local store', () => {
    const db = (): Database.Database => new Database(path);
    const trusted = async (): Promise<VerifyResult> => audit.verify();

    it('names an edited entry', async () => {
      await fill(25);
      const d = db();
      const row = d.prepare('SELECT body FROM chain_entries WHERE seq = 7').get() as { body: string };
      d.prepare('UPDATE chain_entries SET body = ? WHERE seq = 7').run(row.body.replace('summarize', 'exfiltrate'));
      d.close();
      const r = await trusted();
      expect(r.ok).toBe(false);
      expect(kinds(r)).toEqual(['edited@7']);
      expect(r.verifiedThrough).toBe(0);
    });

    it('names a deleted entry, also at the tail', async () => {
      await fill(25);
      const d = db();
      d.prepare('DELETE FROM chain_entries WHERE seq IN (4, 27)').run();
      d.close();
      expect(kinds(await trusted())).toEqual(expect.arrayContaining(['deleted@4', 'deleted@27']));
    });

    it('names reordered entries', async () => {
      await fill(25);
      const d = db();
      d.prepare('UPDATE chain_entries SET seq = -1 WHERE seq = 5').run();
      d.prepare('UPDATE chain_entries SET seq = 5 WHERE seq = 6').run();
      d.prepare('UPDATE chain_entries SET seq = 6 WHERE seq = -1').run();
      d.close();
      const r = await trusted();
      expect(kinds(r)).toEqual(expect.arrayContaining(['reordered@5', 'reordered@6']));
      expect(r.issues.every((i) => i.kind === 'reordered' || i.kind === 'checkpoint-mismatch')).toBe(true);
    });

    it('names an inserted entry, even one with a self-consistent hash', async () => {
      await fill(25);
      const d = db();
      const row = d.prepare('SELECT * FROM chain_entries WHERE seq = 8').get() as Record<string, unknown>;
      const body = JSON.parse(String(row.body)) as AuditEntryRecord;
      const forged = { ...body, seq: 26, action: 'forged', prevHash: String(row.prev_hash) };
      d.prepare('UPDATE chain_entries SET seq = seq + 1000 WHERE seq >= 26').run();
      d.prepare(
        'INSERT INTO chain_entries (tenant, chain_id, seq, prev_hash, entry_hash, body, occurred_at) VALUES (?, ?, 26, ?, ?, ?, 0)',
      ).run('acme', audit.chainId, forged.prevHash, hashEntry(forged), JSON.stringify(forged));
      d.close();
      const r = await trusted();
      expect(r.ok).toBe(false);
      // The forged record takes 26; the real 26 and 27 were pushed away and are named too.
      expect(kinds(r)).toEqual(['inserted@26', 'reordered@26', 'reordered@27']);
    });
  });

  describe('verification from org records alone', () => {
    async function orgRecords(n: number): Promise<{ entries: SObjectRecord[]; checkpoints: SObjectRecord[] }> {
      const es = await fill(n);
      const cps = await audit.checkpoints();
      const t = store.forTenant('acme');
      const all = (await t.readChainEntries(audit.chainId)).map((r) => ({
        ...(JSON.parse(r.body) as AuditEntryRecord),
        entryHash: r.entryHash,
      }));
      expect(all.length).toBeGreaterThan(es.length - 1);
      // What Salesforce returns: namespaced fields, DateTime as +0000.
      const entries = all.map((e) => {
        const rec = entryToRecord(e, names);
        rec['sovra__OccurredAt__c'] = String(rec['sovra__OccurredAt__c']).replace('Z', '+0000');
        return rec;
      });
      return { entries, checkpoints: cps.map((c) => checkpointToRecord(c, names)) };
    }
    const verify = async (entries: SObjectRecord[], checkpoints: SObjectRecord[], trusted = keys.publicKeys()): Promise<VerifyResult> =>
      verifyChain(
        entries.map((r) => recordToEntry(r, names)),
        { chainId: audit.chainId, checkpoints: checkpoints.map((c) => recordToCheckpoint(c, names)), trustedKeys: await trusted },
      );

    it('verifies clean records', async () => {
      const { entries, checkpoints } = await orgRecords(25);
      const r = await verify(entries, checkpoints);
      expect(r).toMatchObject({ ok: true, verifiedThrough: 20 });
    });

    it('detects an edit of any single field', async () => {
      const { entries, checkpoints } = await orgRecords(12);
      const editable = Object.keys(entries[2]!).filter((k) => k !== 'sovra__EntryKey__c');
      for (const field of editable) {
        const copy = entries.map((e) => ({ ...e }));
        const v = copy[2]![field];
        copy[2]![field] =
          typeof v === 'number'
            ? v + 100
            : v === null
              ? 'x'
              : field.endsWith('Timings__c')
                ? '{"modelMs": 7,"totalMs":12}'
                : `${String(v)} `.replace(/ $/, '!');
        const r = await verify(copy, checkpoints);
        expect({ field, ok: r.ok }).toEqual({ field, ok: false });
      }
    });

    it('names edited, deleted, reordered and inserted records by sequence number', async () => {
      const { entries, checkpoints } = await orgRecords(25);
      const seqOf = (r: SObjectRecord): number => Number(r['sovra__Sequence__c']);
      let copy = entries.map((e) => ({ ...e }));
      copy.find((r) => seqOf(r) === 3)!['sovra__SanitizedAnswer__c'] = 'rewritten answer';
      copy = copy.filter((r) => seqOf(r) !== 9);
      const a = copy.find((r) => seqOf(r) === 14)!;
      const b = copy.find((r) => seqOf(r) === 15)!;
      a['sovra__Sequence__c'] = 15;
      b['sovra__Sequence__c'] = 14;
      const extra = { ...copy.find((r) => seqOf(r) === 18)!, sovra__Action__c: 'inserted', sovra__EntryKey__c: 'acme:EU:18x' };
      copy.push(extra);
      const r = await verify(copy, checkpoints);
      expect(r.ok).toBe(false);
      expect(kinds(r)).toEqual(expect.arrayContaining(['edited@3', 'deleted@9', 'reordered@14', 'reordered@15', 'inserted@18']));
      expect(r.counts.edited).toBe(1);
      expect(r.counts.deleted).toBe(1);
      expect(r.counts.inserted).toBe(1);
    });

    it('detects a deleted checkpoint and a forged one', async () => {
      const { entries, checkpoints } = await orgRecords(25);
      const r1 = await verify(entries, [checkpoints[1]!]);
      expect(r1.issues.map((i) => i.kind)).toContain('checkpoint-missing');
      const forged = { ...checkpoints[0]!, sovra__MerkleRoot__c: 'a'.repeat(64) };
      const r2 = await verify(entries, [forged, checkpoints[1]!]);
      expect(r2.issues.map((i) => `${i.kind}@${i.sequence}`)).toEqual(expect.arrayContaining(['bad-signature@1', 'checkpoint-mismatch@1']));
    });

    it("does not accept a checkpoint signed with another jurisdiction's key", async () => {
      const { entries, checkpoints } = await orgRecords(12);
      const us = new TestKeyService('US');
      // Verified against US keys only: the EU checkpoint has no trusted key.
      const r1 = await verify(entries, checkpoints, us.publicKeys());
      expect(r1.counts['bad-signature']).toBe(1);
      // A checkpoint re-signed with the US key but claiming EU is refused even when US keys are trusted.
      const usStore = new SqliteStore({ path: join(dir, 'us.db') });
      const usAudit = new AuditLog({
        store: usStore,
        keys: us,
        tenant: 'acme',
        jurisdiction: 'US',
        region: 'us-east-1',
        checkpointEvery: 1000,
      });
      await usAudit.record({ eventType: 'config.loaded', decision: 'info' });
      const usCp = (await usAudit.checkpointIfDue({ force: true }))!;
      const claimed = { ...usCp, jurisdiction: 'EU' };
      const all = [...(await keys.publicKeys()), ...(await us.publicKeys())];
      const r2 = await verifyChain([], { chainId: usAudit.chainId, checkpoints: [claimed], trustedKeys: all });
      expect(r2.issues.map((i) => i.kind)).toContain('bad-signature');
      const r3 = await verifyChain([], { chainId: usAudit.chainId, checkpoints: [usCp], trustedKeys: await keys.publicKeys() });
      expect(r3.issues.map((i) => i.kind)).toContain('bad-signature');
      await usStore.close();
    });
  });
});
