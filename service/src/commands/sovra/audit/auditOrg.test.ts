/**
 * `sovra audit verify|export --target-org` with a stubbed org (TestContext): the org's
 * AiAuditEntry__c / AiAuditCheckpoint__c records (as the outbox writes them) are read page by
 * page and verified against keys from outside the org; a key only found in the records is
 * never trusted.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { MockTestOrgData, TestContext } from '@salesforce/core/testSetup';
import type { AnyJson } from '@salesforce/ts-types';
import { AuditLog, checkpointToRecord, entryToRecord } from '../../../audit/index.js';
import { loadConfig } from '../../../config/index.js';
import { createKeyService } from '../../../keys/index.js';
import type { PublicKeyInfo } from '../../../keys/types.js';
import { openStore } from '../../../store/index.js';
import AuditExport from './export.js';
import AuditVerify from './verify.js';

const ROOT = resolve('.');
let dir: string;
let keysFile: string;
let pemFile: string;
let entries: Record<string, unknown>[];
let checkpoints: Record<string, unknown>[];
let trusted: PublicKeyInfo[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sovra-audit-org-'));
  mkdirSync(join(dir, 'config'));
  mkdirSync(join(dir, 'data'));
  const config = join(dir, 'config', 'sovra.yaml');
  copyFileSync(join(ROOT, 'config', 'sovra.example.yaml'), config);
  const cfg = loadConfig(config);
  const keys = await createKeyService('EU', cfg.jurisdictions.EU!.keys, { baseDir: cfg.baseDir });
  const store = await openStore(cfg.store, { baseDir: cfg.baseDir });
  const audit = new AuditLog({ store, keys, tenant: 'acme', region: cfg.deployment.region, checkpointEvery: 5 });
  for (let i = 0; i < 12; i++) {
    await audit.record({
      eventType: 'model.called',
      decision: 'allow',
      requestId: `r${i}`,
      action: 'AccountSummary',
      endpoint: 'eu-vllm-1',
      occurredAt: Date.parse('2025-02-10T12:00:00Z') + i * 60_000,
    });
  }
  await audit.checkpointIfDue({ force: true });
  const t = store.forTenant('acme');
  entries = [];
  for await (const row of t.iterateChainEntries('acme:EU', {}))
    entries.push({
      Id: `a0E${String(row.seq).padStart(15, '0')}`,
      ...entryToRecord({ ...JSON.parse(row.body), seq: row.seq, entryHash: row.entryHash }),
    });
  checkpoints = (await t.listChainCheckpoints('acme:EU', {})).map((c) => checkpointToRecord(JSON.parse(c.body)));
  trusted = await keys.publicKeys();
  await keys.close();
  await store.close();
  keysFile = join(dir, 'keys.json');
  writeFileSync(keysFile, JSON.stringify({ publicKeys: trusted }));
  pemFile = join(dir, 'keys.pem');
  writeFileSync(pemFile, trusted.map((k) => k.publicKeyPem).join('\n'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sovra audit --target-org (TestContext)', () => {
  const $$ = new TestContext();
  const testOrg = new MockTestOrgData();
  let served: { entries: Record<string, unknown>[]; checkpoints: Record<string, unknown>[] };
  let queries: string[];

  beforeEach(async () => {
    await $$.stubAuths(testOrg);
    $$.stubAliases({});
    served = { entries: entries.map((e) => ({ ...e })), checkpoints: checkpoints.map((c) => ({ ...c })) };
    queries = [];
    $$.fakeConnectionRequest = (request: AnyJson): Promise<AnyJson> => {
      const r = (typeof request === 'string' ? { url: request, method: 'GET' } : request) as unknown as { url: string; method?: string };
      const url = decodeURIComponent(r.url);
      if (/\/sobjects\/sovra__AiRequest__c\/describe/.test(url))
        return Promise.reject(Object.assign(new Error('not found'), { name: 'NOT_FOUND', errorCode: 'NOT_FOUND' }));
      if (/\/sobjects\/AiRequest__c\/describe/.test(url))
        return Promise.resolve({ name: 'AiRequest__c', fields: [], childRelationships: [] });
      // Two pages of entries, as the REST query API returns them (nextRecordsUrl).
      if (url.includes('/query/01gENTRIES-2')) {
        queries.push('page2');
        return Promise.resolve({ totalSize: served.entries.length, done: true, records: served.entries.slice(7) } as unknown as AnyJson);
      }
      if (url.includes('FROM AiAuditEntry__c')) {
        queries.push(url);
        return Promise.resolve({
          totalSize: served.entries.length,
          done: false,
          nextRecordsUrl: '/services/data/v62.0/query/01gENTRIES-2',
          records: served.entries.slice(0, 7),
        } as unknown as AnyJson);
      }
      if (url.includes('FROM AiAuditCheckpoint__c'))
        return Promise.resolve({ totalSize: served.checkpoints.length, done: true, records: served.checkpoints } as unknown as AnyJson);
      return Promise.reject(new Error(`unexpected request ${url}`));
    };
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    process.exitCode = undefined;
  });

  it('verifies every page of the chain against trusted keys from a file', async () => {
    const r = await AuditVerify.run(['--target-org', testOrg.username, '--chain', 'acme:EU', '--public-keys', keysFile, '--json'], ROOT);
    expect(r).toMatchObject({ ok: true, source: 'org', issues: 0, trust: { source: 'public-keys', keys: trusted.length } });
    expect(r.chains[0]).toMatchObject({ chainId: 'acme:EU', entries: entries.length, ok: true });
    expect(queries[0]).toMatch(/WHERE ChainId__c = 'acme:EU'/);
    expect(queries).toContain('page2');
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('names a deleted entry and a checkpoint re-signed with a key from the records', async () => {
    served.entries.splice(4, 1); // seq 5
    const forged = {
      ...served.checkpoints[0]!,
      PublicKey__c: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n',
      Signature__c: Buffer.alloc(64, 1).toString('base64'),
    };
    served.checkpoints[0] = forged;
    const r = await AuditVerify.run(['--target-org', testOrg.username, '--chain', 'acme:EU', '--public-keys', pemFile, '--json'], ROOT);
    expect(r.ok).toBe(false);
    expect(r.chains[0]!.issues.map((i) => `${i.kind}@${i.sequence}`)).toEqual(expect.arrayContaining(['deleted@5', 'bad-signature@1']));
    expect(process.exitCode).toBe(1);
  });

  it('refuses PEM keys without --chain, and a run without any trusted keys', async () => {
    await expect(AuditVerify.run(['--target-org', testOrg.username, '--public-keys', pemFile, '--json'], ROOT)).rejects.toThrow(
      /do not say their jurisdiction/,
    );
    await expect(AuditVerify.run(['--target-org', testOrg.username, '--chain', 'acme:EU', '--json'], ROOT)).rejects.toThrow(
      /public keys from outside the org/,
    );
  });

  it('exports an evidence pack of the period from the org', async () => {
    const out = join(dir, 'pack.json');
    const r = await AuditExport.run(
      [
        '--target-org',
        testOrg.username,
        '--public-keys',
        keysFile,
        '--from',
        '2025-02-10T12:03:00Z',
        '--to',
        '2025-02-10T12:05:59Z',
        '--output',
        out,
        '--json',
      ],
      ROOT,
    );
    expect(r).toMatchObject({ ok: true, source: 'org', chainId: 'acme:EU', entries: 3, verification: { ok: true } });
    const pack = JSON.parse(readFileSync(out, 'utf8'));
    // Sequence 6 is the checkpoint.signed entry the writer adds after five entries (signed now, outside the period).
    expect(pack.entries.map((e: { seq: number }) => e.seq)).toEqual([4, 5, 7]);
    expect(pack.publicKeys).toEqual(trusted);
  });
});
