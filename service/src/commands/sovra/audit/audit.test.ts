/**
 * `sovra audit verify` and `sovra audit export` on the example configuration (copied to a
 * temp dir), over a store filled by the real audit writer with the real key service.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { AuditLog } from '../../../audit/index.js';
import { loadConfig } from '../../../config/index.js';
import { createKeyService } from '../../../keys/index.js';
import { openStore } from '../../../store/index.js';
import AuditExport from './export.js';
import AuditVerify from './verify.js';

const ROOT = resolve('.');
let dir: string;
let config: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sovra-audit-cmd-'));
  mkdirSync(join(dir, 'config'));
  mkdirSync(join(dir, 'data'));
  config = join(dir, 'config', 'sovra.yaml');
  copyFileSync(join(ROOT, 'config', 'sovra.example.yaml'), config);
  const cfg = loadConfig(config);
  const keys = await createKeyService('EU', cfg.jurisdictions.EU!.keys, { baseDir: cfg.baseDir });
  const store = await openStore(cfg.store, { baseDir: cfg.baseDir });
  const audit = new AuditLog({ store, keys, tenant: 'acme', region: cfg.deployment.region, checkpointEvery: 20 });
  const at = Date.parse('2025-02-10T12:00:00Z');
  for (let i = 0; i < 50; i++) {
    await audit.record({
      eventType: i % 10 === 9 ? 'egress.refused' : 'model.called',
      decision: i % 10 === 9 ? 'deny' : 'allow',
      requestId: `r${i}`,
      action: i % 2 ? 'summarize' : 'draft_email',
      endpoint: 'eu-vllm-1',
      model: 'llama-3.1-8b',
      fieldClasses: { 'Contact.Email': 'Confidential', 'Account.Name': 'Internal' },
      sanitizedPrompt: `Write to ⟦PERSON_1⟧, "quoted", line\nbreak ${i}`,
      rawPrompt: `Write to Jane ${i}`,
      occurredAt: at + i * 3_600_000,
    });
  }
  await keys.close();
  await store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  jest.restoreAllMocks();
  process.exitCode = undefined;
});

function quiet(): void {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
}

describe('sovra audit', () => {
  it('export writes a JSON evidence pack for the period with an Art. 30 record', async () => {
    quiet();
    const out = join(dir, 'pack.json');
    const r = await AuditExport.run(['--config', config, '--from', '2025-02-10', '--to', '2025-02-11', '--output', out, '--json'], ROOT);
    expect(r).toMatchObject({ ok: true, format: 'json', tenant: 'acme', jurisdiction: 'EU', verification: { ok: true, issues: 0 } });
    const pack = JSON.parse(readFileSync(out, 'utf8'));
    // 12:00 on the 10th until the end of the 11th: 36 hourly entries (+ checkpoint entries in that time).
    expect(pack.entries.length).toBe(r.entries);
    expect(pack.entries.every((e: { occurredAt: string }) => e.occurredAt >= '2025-02-10' && e.occurredAt < '2025-02-12')).toBe(true);
    expect(pack.publicKeys[0]).toMatchObject({ jurisdiction: 'EU', algorithm: 'Ed25519' });
    expect(pack.checkpoints.length).toBeGreaterThan(0);
    expect(pack.art30.purposes.map((p: { action: string }) => p.action)).toEqual(['draft_email', 'summarize']);
    expect(pack.art30.dataCategories).toEqual([
      { classification: 'Confidential', fields: ['Contact.Email'] },
      { classification: 'Internal', fields: ['Account.Name'] },
    ]);
    expect(pack.art30.recipients[0]).toMatchObject({ endpoint: 'eu-vllm-1', models: ['llama-3.1-8b'] });
    expect(pack.art30.transfers).toMatchObject({ thirdCountryTransfers: 'none', refusedEgress: 3 });
    expect(JSON.stringify(pack)).not.toContain('Jane');
  });

  it('export writes CSV files', async () => {
    quiet();
    const out = join(dir, 'csv');
    const r = await AuditExport.run(
      ['--config', config, '--from', '2025-01-01', '--to', '2025-12-31', '--format', 'csv', '--output', out, '--json'],
      ROOT,
    );
    expect(r.files.map((f) => f.slice(out.length + 1)).sort()).toEqual([
      'art30.csv',
      'checkpoints.csv',
      'entries.csv',
      'public-keys.csv',
      'verification.csv',
    ]);
    const csv = readFileSync(join(out, 'entries.csv'), 'utf8');
    expect(csv.split('\r\n')[0]).toMatch(/^seq,occurredAt,eventType/);
    expect(csv).toContain('"Write to ⟦PERSON_1⟧, ""quoted"", line\nbreak 0"');
    expect(readFileSync(join(out, 'art30.csv'), 'utf8')).toContain('transfers,refused egress,,5');
  });

  it('export refuses a bad period', async () => {
    quiet();
    await expect(
      AuditExport.run(['--config', config, '--from', 'yesterday', '--to', '2025-01-01', '--output', join(dir, 'x.json')], ROOT),
    ).rejects.toThrow(/not a date/);
    expect(existsSync(join(dir, 'x.json'))).toBe(false);
  });

  it('verify passes a clean chain, then names the tampered sequence numbers and exits non-zero', async () => {
    quiet();
    const clean = await AuditVerify.run(['--config', config, '--json'], ROOT);
    expect(clean).toMatchObject({ ok: true, issues: 0, jurisdiction: 'EU' });
    expect(clean.chains[0]).toMatchObject({ tenant: 'acme', chainId: 'acme:EU', ok: true });
    expect(process.exitCode ?? 0).toBe(0);

    const db = new Database(join(dir, 'data', 'sovra-eu.db'));
    const row = db.prepare('SELECT body FROM chain_entries WHERE seq = 12').get() as { body: string };
    db.prepare('UPDATE chain_entries SET body = ? WHERE seq = 12').run(row.body.replace('summarize', 'approve_loan'));
    db.prepare('DELETE FROM chain_entries WHERE seq = 30').run();
    db.close();
    const bad = await AuditVerify.run(['--config', config, '--json'], ROOT);
    expect(bad.ok).toBe(false);
    expect(bad.chains[0]!.issues.map((i) => `${i.kind}@${i.sequence}`)).toEqual(expect.arrayContaining(['edited@12', 'deleted@30']));
    expect(process.exitCode).toBe(1);
  });
});
