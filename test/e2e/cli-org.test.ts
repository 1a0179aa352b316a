/**
 * The org-facing `sovra` commands, spawned as a user runs them (`bin/run.js …`, the same
 * commands as `sf sovra …`) against the org emulator. Each user is authorized the way the
 * Salesforce CLI stores it — an AuthInfo saved by @salesforce/core (JWT bearer) — inside an
 * isolated HOME, never the real ~/.sfdx. Every --json result is checked against its JSON
 * schema in test/fixtures/schemas.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { AuditLog, checkpointToRecord, entryToRecord } from '../../service/src/audit/index.js';
import { loadConfig } from '../../service/src/config/index.js';
import { createKeyService } from '../../service/src/keys/index.js';
import { openStore } from '../../service/src/store/index.js';
import { DEMO, generateJwtKeyPair, startEmulator, type RunningEmulator } from '../emulator/index.js';
import { ensureBuilt } from '../support/cli.js';

const ROOT = resolve('.');
const ajv = new Ajv2020({ allErrors: true, strict: true });
ajv.addFormat(
  'date-time',
  (v: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/.test(v) && !Number.isNaN(Date.parse(v)),
);

function schemaCheck(name: string, value: unknown): void {
  const validate =
    ajv.getSchema(name) ??
    ajv.compile({ ...JSON.parse(readFileSync(join(ROOT, 'test/fixtures/schemas', `${name}.schema.json`), 'utf8')), $id: name });
  const ok = validate(value);
  if (!ok) throw new Error(`${name}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value, null, 2).slice(0, 2000)}`);
}

let emu: RunningEmulator;
let home: string;
let dir: string;
let config: string;
let env: NodeJS.ProcessEnv;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json: {
    status: number;
    result?: Record<string, unknown>;
    data?: Record<string, unknown>;
    name?: string;
    code?: string;
    message?: string;
    actions?: string[];
  };
}

/** Spawns the CLI asynchronously: the emulator runs in this process and must keep answering. */
function sovra(args: string[], opts: { json?: boolean } = {}): Promise<Run> {
  const all = opts.json === false ? args : [...args, '--json'];
  return new Promise((res) => {
    execFile(process.execPath, ['bin/run.js', ...all], { env, encoding: 'utf8', timeout: 60_000, cwd: ROOT }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      let json: Run['json'] = { status: code };
      if (opts.json !== false) {
        try {
          json = JSON.parse(stdout) as Run['json'];
        } catch {
          json = { status: code, message: `not JSON: ${stdout.slice(0, 300)} ${stderr.slice(0, 300)}` };
        }
      }
      res({ code, stdout, stderr, json });
    });
  });
}

/**
 * Authorizes a seeded user for the CLI (JWT bearer, as `sf org login jwt` does) in a child
 * process whose HOME is the isolated one: @salesforce/core writes auth files under
 * os.homedir(), which a change to this (jest) process's env would not redirect.
 */
const AUTHORIZE = `
import { AuthInfo } from '@salesforce/core';
const info = await AuthInfo.create({
  username: process.env.AUTH_USER,
  oauth2Options: { clientId: process.env.AUTH_CLIENT, privateKey: process.env.AUTH_KEY, loginUrl: process.env.AUTH_URL },
});
await info.save();
`;
function authorize(username: string, keyFile: string): Promise<void> {
  return new Promise((res, rej) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', AUTHORIZE],
      {
        cwd: ROOT,
        env: { ...env, AUTH_USER: username, AUTH_CLIENT: DEMO.clientId, AUTH_KEY: keyFile, AUTH_URL: emu.url },
        encoding: 'utf8',
        timeout: 60_000,
      },
      (err, _out, stderr) => (err ? rej(new Error(`authorize ${username}: ${stderr}`)) : res()),
    );
  });
}

const orgId = (): string => emu.admin.orgs().find((o) => o.key === DEMO.orgKey)!.orgId;

beforeAll(async () => {
  ensureBuilt();
  process.env.SF_DISABLE_DNS_CHECK = 'true';
  emu = await startEmulator({ cometdTimeoutMs: 1000 });
  home = mkdtempSync(join(tmpdir(), 'sovra-cli-home-'));
  dir = mkdtempSync(join(tmpdir(), 'sovra-cli-org-'));
  const { privateKeyPem, publicKeyPem } = generateJwtKeyPair();
  emu.admin.registerCertificate(DEMO.clientId, publicKeyPem, DEMO.orgKey);
  const keyFile = join(home, 'jwt.key');
  writeFileSync(keyFile, privateKeyPem, { mode: 0o600 });
  env = {
    ...process.env,
    HOME: home,
    SF_USE_GENERIC_UNIX_KEYCHAIN: 'true',
    SF_DISABLE_DNS_CHECK: 'true',
    SF_DISABLE_TELEMETRY: 'true',
    SF_AUTOUPDATE_DISABLE: 'true',
    SF_SKIP_NEW_VERSION_CHECK: 'true',
    NODE_OPTIONS: '',
  };
  for (const u of [DEMO.users.admin, DEMO.users.integration]) await authorize(u, keyFile);

  // A deployment config for the emulator's demo org (unpackaged: no namespace).
  mkdirSync(join(dir, 'config'));
  mkdirSync(join(dir, 'data'));
  config = join(dir, 'config', 'sovra.yaml');
  copyFileSync(join(ROOT, 'config', 'sovra.example.yaml'), config);
  writeFileSync(
    config,
    readFileSync(config, 'utf8').replace('orgId: 00D5g000004XYZaEAO', `orgId: ${orgId()}`).replace('namespace: sovra', "namespace: ''"),
  );
}, 120_000);

afterAll(async () => {
  await emu?.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('sovra org setup', () => {
  it('passes on a ready org and lists every check', async () => {
    const r = await sovra(['org', 'setup', '--target-org', DEMO.users.admin, '--integration-user', DEMO.users.integration]);
    expect(r.code).toBe(0);
    schemaCheck('org-setup', r.json.result);
    const ids = (r.json.result!.checks as { id: string; ok: boolean }[]).map((c) => c.id);
    expect(ids).toEqual(
      expect.arrayContaining(['package', 'integration-user', 'permission-set:SovraIntegration', 'channel:EU', 'channel:US']),
    );
    expect(ids.some((i) => i.startsWith('classification:'))).toBe(true);
    expect(r.json.result).toMatchObject({ ok: true, fixed: 0, org: { namespace: '' } });
    expect(r.stdout).not.toMatch(/Contact\.Title/);
  });

  it('fails with what is missing and how to fix it, then --fix assigns the permission set', async () => {
    const a = emu.admin;
    const userId = a.userId(DEMO.users.integration, DEMO.orgKey);
    const psId = a.query("SELECT Id FROM PermissionSet WHERE Name = 'SovraIntegration'", DEMO.orgKey)[0]!.Id as string;
    const psa = a.query(
      `SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = '${userId}' AND PermissionSetId = '${psId}'`,
      DEMO.orgKey,
    );
    for (const p of psa) a.delete('PermissionSetAssignment', String(p.Id), { org: DEMO.orgKey, username: DEMO.users.admin });
    // Contact.Title is classified only by the package's FieldPolicy__mdt record (the org leaves it blank): drop that record.
    const policies = a.org(DEMO.orgKey).table('FieldPolicy__mdt');
    const [policyKey, policy] = [...policies.entries()].find(([, r]) => r.ObjectApiName__c === 'Contact' && r.FieldApiName__c === 'Title')!;
    policies.delete(policyKey);

    const bad = await sovra(['org', 'setup', '--target-org', DEMO.users.admin, '--integration-user', DEMO.users.integration]);
    expect(bad.code).toBe(1);
    expect(bad.json.code).toBe('ORG_NOT_READY');
    schemaCheck('org-setup', bad.json.data);
    const checks = bad.json.data!.checks as { id: string; ok: boolean; detail: string; fix?: string }[];
    const ps = checks.find((c) => c.id === 'permission-set:SovraIntegration')!;
    expect(ps).toMatchObject({ ok: false });
    expect(ps.fix).toMatch(/--fix|sf org assign permset --name SovraIntegration/);
    const unclassified = checks.filter((c) => c.id.startsWith('classification:') && !c.ok);
    expect(unclassified.map((c) => c.detail).join(' ')).toMatch(/Contact\.Title/);
    expect(unclassified[0]!.fix).toMatch(/Data Sensitivity Level|FieldPolicy__mdt/);

    const human = await sovra(['org', 'setup', '--target-org', DEMO.users.admin, '--integration-user', DEMO.users.integration], {
      json: false,
    });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/✗ permission-set:SovraIntegration: SovraIntegration is not assigned/);
    expect(human.stdout).toMatch(/fix: Run this command again with --fix/);

    const fixed = await sovra(['org', 'setup', '--target-org', DEMO.users.admin, '--integration-user', DEMO.users.integration, '--fix']);
    expect(fixed.code).toBe(1); // the classification cannot be fixed from the CLI
    const after = fixed.json.data!.checks as { id: string; ok: boolean; fixed?: boolean }[];
    expect(after.find((c) => c.id === 'permission-set:SovraIntegration')).toMatchObject({ ok: true, fixed: true });
    expect(fixed.json.data!.fixed).toBe(1);
    expect(
      a.query(`SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = '${userId}' AND PermissionSetId = '${psId}'`, DEMO.orgKey),
    ).toHaveLength(1);

    a.setFieldClassification('Contact', 'Title', { securityClassification: 'Internal' }, DEMO.orgKey);
    policies.set(policyKey, policy);
    const ready = await sovra(['org', 'setup', '--target-org', DEMO.users.admin, '--integration-user', DEMO.users.integration]);
    expect(ready.code).toBe(0);
  });

  it('says the package is missing with the wrong namespace', async () => {
    const r = await sovra(['org', 'setup', '--target-org', DEMO.users.admin, '--namespace', 'sovra']);
    expect(r.code).toBe(1);
    const checks = r.json.data!.checks as { id: string; ok: boolean; fix?: string }[];
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ id: 'package', ok: false });
    expect(checks[0]!.fix).toMatch(/Install the Sovra package/);
  });
});

describe('sovra quarantine', () => {
  const ids: string[] = [];
  let requestId: string;

  beforeAll(() => {
    const a = emu.admin;
    const account = a.query("SELECT Id FROM Account WHERE Name = 'Müller Maschinenbau GmbH'", DEMO.orgKey)[0]!.Id as string;
    const sub = a.submitAiRequest(
      { recordId: account, action: 'AccountAsk', question: 'Who is the main contact?' },
      { org: DEMO.orgKey, username: DEMO.users.euSales },
    );
    requestId = sub.requestId!;
    const as = { org: DEMO.orgKey, username: DEMO.users.integration };
    ids.push(
      a.insert(
        'AiQuarantine__c',
        {
          RecordId__c: account,
          ObjectApiName__c: 'Account',
          RequestId__c: requestId,
          Reason__c: 'Jurisdiction unknown',
          ExpectedJurisdiction__c: 'EU',
          Status__c: 'Open',
        },
        as,
      ),
      a.insert(
        'AiQuarantine__c',
        {
          RecordId__c: account,
          ObjectApiName__c: 'Account',
          Reason__c: 'Record belongs to US',
          DetectedJurisdiction__c: 'US',
          ExpectedJurisdiction__c: 'EU',
          Status__c: 'Open',
        },
        as,
      ),
      a.insert(
        'AiQuarantine__c',
        {
          RecordId__c: account,
          ObjectApiName__c: 'Account',
          Reason__c: 'Record belongs to EU',
          DetectedJurisdiction__c: 'EU',
          ExpectedJurisdiction__c: 'US',
          Status__c: 'Released',
        },
        as,
      ),
    );
  });

  it('lists with status and jurisdiction filters', async () => {
    const all = await sovra(['quarantine', 'list', '--target-org', DEMO.users.admin]);
    expect(all.code).toBe(0);
    schemaCheck('quarantine-list', all.json.result);
    expect(all.json.result!.total).toBe(3);
    const open = await sovra(['quarantine', 'list', '--target-org', DEMO.users.admin, '--status', 'Open', '--jurisdiction', 'us']);
    expect(open.code).toBe(0);
    expect((open.json.result!.items as { id: string }[]).map((i) => i.id)).toEqual([ids[1]]);
  });

  it('refuses a user without AiQuarantineRelease, with the fix', async () => {
    const r = await sovra(['quarantine', 'release', '--target-org', DEMO.users.integration, '--id', ids[0]!]);
    expect(r.code).toBe(1);
    expect(r.json.message).toMatch(/lacks the custom permission AiQuarantineRelease/);
    expect(r.json.actions?.join(' ')).toMatch(/SovraAdmin/);
    expect(emu.admin.record('AiQuarantine__c', ids[0]!, DEMO.orgKey)!.Status__c).toBe('Open');
  });

  it('releases with an audit entry in the deployment chain (--config)', async () => {
    const r = await sovra(['quarantine', 'release', '--target-org', DEMO.users.admin, '--id', ids[0]!, '--config', config]);
    expect(r.code).toBe(0);
    schemaCheck('quarantine-resolve', r.json.result);
    const adminId = emu.admin.userId(DEMO.users.admin, DEMO.orgKey);
    expect(r.json.result).toMatchObject({
      operation: 'release',
      status: 'Released',
      resolvedBy: adminId,
      audit: { chained: true, tenant: 'acme', chainId: 'acme:EU' },
    });
    const row = emu.admin.record('AiQuarantine__c', ids[0]!, DEMO.orgKey)!;
    expect(row).toMatchObject({ Status__c: 'Released', ResolvedBy__c: adminId });
    expect(row.ResolvedAt__c).toBeTruthy();

    // The entry is in the local chain (and its outbox), and the chain verifies.
    const verify = await sovra(['audit', 'verify', '--config', config, '--tenant', 'acme']);
    expect(verify.code).toBe(0);
    const cfg = loadConfig(config);
    const store = await openStore(cfg.store, { baseDir: cfg.baseDir, readonly: true });
    try {
      const seq = (r.json.result!.audit as { sequences: number[] }).sequences[0]!;
      const rows = [];
      for await (const e of store.forTenant('acme').iterateChainEntries('acme:EU', { fromSeq: seq, toSeq: seq }))
        rows.push(JSON.parse(e.body));
      expect(rows[0]).toMatchObject({
        eventType: 'quarantine.released',
        decision: 'allow',
        actorId: adminId,
        requestId,
        details: { operation: 'quarantine.release', quarantineId: ids[0] },
      });
    } finally {
      await store.close();
    }

    const again = await sovra(['quarantine', 'release', '--target-org', DEMO.users.admin, '--id', ids[0]!]);
    expect(again.code).toBe(1);
    expect(again.json.message).toMatch(/is Released; only Open entries can be released/);
  });

  it('purges, erases the request question, and says no chained entry was written without --config', async () => {
    const r = await sovra(['quarantine', 'purge', '--target-org', DEMO.users.admin, '--id', ids[0]!]);
    expect(r.code).toBe(0);
    schemaCheck('quarantine-resolve', r.json.result);
    expect(r.json.result).toMatchObject({
      operation: 'purge',
      status: 'Purged',
      erasedRequests: [requestId],
      audit: { chained: false, sequences: [] },
    });
    expect(String((r.json.result!.audit as { note: string }).note)).toMatch(/No hash-chained audit entry was written/);
    expect(emu.admin.record('AiRequest__c', requestId, DEMO.orgKey)!.Question__c ?? null).toBeNull();
    expect(emu.admin.record('AiQuarantine__c', ids[0]!, DEMO.orgKey)!.Status__c).toBe('Purged');
  });

  it('refuses an entry of another deployment when auditing into this one', async () => {
    const r = await sovra(['quarantine', 'purge', '--target-org', DEMO.users.admin, '--id', ids[2]!, '--config', config]);
    expect(r.code).toBe(1);
    expect(r.json.message).toMatch(/quarantined by another deployment than EU/);
    expect(emu.admin.record('AiQuarantine__c', ids[2]!, DEMO.orgKey)!.Status__c).toBe('Released');
  });
});

describe('sovra audit verify|export --target-org', () => {
  let packFile: string;
  let firstEntryId: string;
  const expected = { entries: 0, checkpointedThrough: 0 };

  beforeAll(async () => {
    // A chain written by the real audit writer, then carried to the org as the outbox would.
    const cfg = loadConfig(config);
    const keys = await createKeyService('EU', cfg.jurisdictions.EU!.keys, { baseDir: cfg.baseDir });
    const store = await openStore(cfg.store, { baseDir: cfg.baseDir });
    const audit = new AuditLog({ store, keys, tenant: 'globex', region: cfg.deployment.region, checkpointEvery: 10 });
    const at = Date.parse('2025-03-01T09:00:00Z');
    for (let i = 0; i < 25; i++) {
      await audit.record({
        eventType: 'model.called',
        decision: 'allow',
        requestId: `req-${i}`,
        action: 'AccountSummary',
        endpoint: 'eu-vllm-1',
        model: 'llama-3.1-8b',
        fieldClasses: { 'Account.Name': 'Public' },
        sanitizedPrompt: `Summarize ⟦ORG_1⟧ #${i}`,
        occurredAt: at + i * 60_000,
      });
    }
    await audit.checkpointIfDue({ force: true });
    const trustedKeys = await keys.publicKeys();
    const as = { org: DEMO.orgKey, username: DEMO.users.integration };
    const t = store.forTenant('globex');
    for await (const row of t.iterateChainEntries('globex:EU', {})) {
      const body = JSON.parse(row.body);
      const id = emu.admin.insert('AiAuditEntry__c', entryToRecord({ ...body, seq: row.seq, entryHash: row.entryHash }), as);
      if (row.seq === 3) firstEntryId = id;
      expected.entries += 1;
    }
    for (const cp of await t.listChainCheckpoints('globex:EU', { fromSeq: 1, toSeq: 1_000 })) {
      emu.admin.insert('AiAuditCheckpoint__c', checkpointToRecord(JSON.parse(cp.body)), as);
      expected.checkpointedThrough = Math.max(expected.checkpointedThrough, cp.toSeq);
    }
    await keys.close();
    await store.close();
    // The auditor's trust anchor, kept apart from the org: the public-key list `audit export` writes.
    packFile = join(dir, 'trusted-keys.json');
    writeFileSync(packFile, JSON.stringify({ publicKeys: trustedKeys }, null, 2));
  });

  it('verifies the org records against keys from outside the org', async () => {
    const r = await sovra(['audit', 'verify', '--target-org', DEMO.users.admin, '--chain', 'globex:EU', '--public-keys', packFile]);
    expect(r.code).toBe(0);
    schemaCheck('audit-verify', r.json.result);
    expect(r.json.result).toMatchObject({ ok: true, source: 'org', jurisdiction: 'EU', issues: 0, trust: { source: 'public-keys' } });
    const chain = (r.json.result!.chains as { entries: number; checkpoints: number; verifiedThrough: number }[])[0]!;
    // 25 model calls plus the checkpoint.signed entries the writer adds; verified through the last checkpoint.
    expect(expected.entries).toBeGreaterThan(25);
    expect(chain).toMatchObject({ entries: expected.entries, verifiedThrough: expected.checkpointedThrough });
    const withConfig = await sovra(['audit', 'verify', '--target-org', DEMO.users.admin, '--chain', 'globex:EU', '--config', config]);
    expect(withConfig.code).toBe(0);
  });

  it('refuses to run without a trust anchor from outside the org', async () => {
    const r = await sovra(['audit', 'verify', '--target-org', DEMO.users.admin, '--chain', 'globex:EU']);
    expect(r.code).toBe(1);
    expect(r.json.message).toMatch(/public keys from outside the org/);
  });

  it('exports an evidence pack from the org records', async () => {
    const out = join(dir, 'org-pack.json');
    const r = await sovra([
      'audit',
      'export',
      '--target-org',
      DEMO.users.admin,
      '--chain',
      'globex:EU',
      '--public-keys',
      packFile,
      '--from',
      '2025-03-01T09:05:00Z',
      '--to',
      '2025-03-01T09:09:59Z',
      '--output',
      out,
    ]);
    expect(r.code).toBe(0);
    schemaCheck('audit-export', r.json.result);
    expect(r.json.result).toMatchObject({
      ok: true,
      source: 'org',
      entries: 5,
      chainId: 'globex:EU',
      verification: { ok: true, issues: 0 },
    });
    const pack = JSON.parse(readFileSync(out, 'utf8'));
    expect(pack.entries.map((e: { seq: number }) => e.seq)).toEqual([6, 7, 8, 9, 10]);
    expect(pack.art30.recipients[0]).toMatchObject({ endpoint: 'eu-vllm-1', calls: 5 });
  });

  it('names an edited entry in the org and exits 1', async () => {
    const a = emu.admin;
    a.setApexEmulation(false, DEMO.orgKey); // as if the immutability trigger were bypassed
    try {
      a.update('AiAuditEntry__c', firstEntryId, { Decision__c: 'deny' }, { org: DEMO.orgKey, username: DEMO.users.admin });
    } finally {
      a.setApexEmulation(true, DEMO.orgKey);
    }
    const r = await sovra(['audit', 'verify', '--target-org', DEMO.users.admin, '--chain', 'globex:EU', '--public-keys', packFile]);
    expect(r.code).toBe(1);
    schemaCheck('audit-verify', r.json.result);
    const issues = (r.json.result!.chains as { issues: { kind: string; sequence: number }[] }[])[0]!.issues;
    expect(issues.map((i) => `${i.kind}@${i.sequence}`)).toContain('edited@3');
  });
});

describe('sovra policy check --target-org', () => {
  it("passes when the org's residency metadata agrees with the config", async () => {
    const r = await sovra(['policy', 'check', '--config', config, '--no-dns', '--target-org', DEMO.users.admin]);
    expect(r.code).toBe(0);
    expect(r.json.result).toMatchObject({ passed: true, org: { jurisdictions: 3, rules: 5 } });
  });

  it('fails, naming each disagreement, when the org lists other countries and lacks a residency rule', async () => {
    const n = emu.admin.names(DEMO.orgKey);
    // Custom metadata is not writable through the data API: change the org's rows in place.
    const org = emu.admin.org(DEMO.orgKey);
    const eu = org.mdtRows('Jurisdiction__mdt').find((j) => j.DeveloperName === 'EU')!;
    const caseRule = org.mdtRows('ResidencyRule__mdt').find((r) => r[n.name('ObjectApiName__c')] === 'Case')!;
    const before = { countries: eu[n.name('Countries__c')], active: caseRule[n.name('Active__c')] };
    eu[n.name('Countries__c')] = `${String(before.countries)};CH`;
    caseRule[n.name('Active__c')] = false;
    try {
      const r = await sovra(['policy', 'check', '--config', config, '--no-dns', '--target-org', DEMO.users.admin]);
      expect(r.code).toBe(1);
      expect(r.json.code).toBe('RESIDENCY_GATE_FAILED');
      const findings = (r.json.data as { findings: { rule: string; path: string; message: string }[] }).findings;
      expect(findings.every((f) => f.rule === 'ORG_MISMATCH')).toBe(true);
      expect(findings.map((f) => f.message).join('\n')).toMatch(/only the org lists CH[\s\S]*no active ResidencyRule__mdt for Case/);
    } finally {
      eu[n.name('Countries__c')] = before.countries;
      caseRule[n.name('Active__c')] = before.active;
    }
  });
});
