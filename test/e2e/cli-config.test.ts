import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ensureBuilt, runSovra } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sovra-cli-'));
const example = readFileSync('config/sovra.example.yaml', 'utf8');

beforeAll(() => ensureBuilt(), 120_000);

describe('sovra config validate', () => {
  it('exits 0 on the example config and says what it validated', () => {
    const r = runSovra(['config', 'validate', '--config', 'config/sovra.example.yaml']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/is valid: deployment sovra-eu-frankfurt in jurisdiction EU/);
  });

  it('exits non-zero naming the path of an EU endpoint declared in a US region', () => {
    const file = join(dir, 'us-region.yaml');
    writeFileSync(file, example.replace('region: fra-dc1', 'region: us-east-1'));
    const r = runSovra(['config', 'validate', '--config', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/jurisdictions\.EU\.endpoints\[1\]\.region: Endpoint 'eu-vllm' is declared in 'us-east-1' \(US\)/);
  });

  it('exits non-zero for an unknown jurisdiction in a tenant, with a typed --json result', () => {
    const file = join(dir, 'tenant.yaml');
    writeFileSync(file, example.replace('jurisdictions: [EU]\n\nstore', 'jurisdictions: [EU, APAC]\n\nstore'));
    const r = runSovra(['config', 'validate', '--config', file, '--json']);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.code).toBe('CONFIG_INVALID');
    expect(out.data.valid).toBe(false);
    expect(out.data.issues).toEqual([expect.objectContaining({ path: 'tenants[0].jurisdictions[1]' })]);
  });

  it('exits non-zero for malformed YAML with a line number', () => {
    const file = join(dir, 'malformed.yaml');
    writeFileSync(file, 'deployment:\n  jurisdiction: EU\n   region: [x\n');
    const r = runSovra(['config', 'validate', '--config', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/line \d+, column \d+/);
  });

  it('returns the valid result as JSON for CI', () => {
    const r = runSovra(['config', 'validate', '--config', 'config/us.yaml', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).result).toMatchObject({ valid: true, deployment: { jurisdiction: 'US' }, issues: [] });
  });
});
