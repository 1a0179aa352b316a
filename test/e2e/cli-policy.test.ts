import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ensureBuilt, runSovra } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sovra-policy-'));
const pass = readFileSync('test/fixtures/policy/pass.yaml', 'utf8');

beforeAll(() => ensureBuilt(), 120_000);

describe('sovra policy check', () => {
  it('exits 0 for a compliant deployment', () => {
    const r = runSovra(['policy', 'check', '--config', 'test/fixtures/policy/pass.yaml', '--no-dns']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/passes the residency gate: 2 jurisdiction\(s\), 3 endpoint\(s\)/);
  });

  it('exits 1 listing each finding with its path, rule and fix, and a typed --json result', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      pass.replace('region: eu-west-1, model: m', 'region: us-east-1, model: m').replace('jurisdictions: [EU, US]', 'jurisdictions: [US]'),
    );
    const human = runSovra(['policy', 'check', '--config', file, '--no-dns']);
    expect(human.status).toBe(1);
    expect(human.stderr).toMatch(/jurisdictions\.EU\.endpoints\[1\]\.region \[ENDPOINT_OUTSIDE\]/);
    expect(human.stderr).toMatch(/tenants\[0\]\.jurisdictions \[TENANT_NOT_ENTITLED\]/);
    expect(human.stderr).toMatch(/fix: {2}use a region inside EU/);
    const json = runSovra(['policy', 'check', '--config', file, '--no-dns', '--json']);
    expect(json.status).toBe(1);
    const out = JSON.parse(json.stdout);
    expect(out.code).toBe('RESIDENCY_GATE_FAILED');
    expect(out.data.passed).toBe(false);
    expect(out.data.findings.map((f: { rule: string }) => f.rule).sort()).toEqual(['ENDPOINT_OUTSIDE', 'TENANT_NOT_ENTITLED']);
  });

  it('fails closed when a host cannot be resolved', () => {
    const r = runSovra(['policy', 'check', '--config', 'test/fixtures/policy/pass.yaml', '--json']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).data.findings[0]).toMatchObject({
      rule: 'ENDPOINT_RESOLVES_OUTSIDE',
      path: 'jurisdictions.EU.endpoints[0].baseUrl',
    });
  });
});
