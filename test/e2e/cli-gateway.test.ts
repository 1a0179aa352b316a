import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ensureBuilt, runSovra } from '../support/cli.js';

beforeAll(() => ensureBuilt(), 120_000);

describe('sovra gateway key', () => {
  it('prints a new key once with the digest the config needs, and a typed --json result', () => {
    const r = runSovra(['gateway', 'key', '--tenant', 'acme', '--id', 'ci-key', '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout).result as { tenant: string; id: string; key: string; sha256: string };
    expect(out).toMatchObject({ tenant: 'acme', id: 'ci-key' });
    expect(out.key).toMatch(/^sovra_[A-Za-z0-9_-]{40,}$/);
    expect(out.sha256).toBe(createHash('sha256').update(out.key).digest('hex'));
    const again = JSON.parse(runSovra(['gateway', 'key', '--tenant', 'acme', '--json']).stdout).result as { key: string };
    expect(again.key).not.toBe(out.key);
  });

  it('refuses a tenant id that cannot be in a config', () => {
    const r = runSovra(['gateway', 'key', '--tenant', 'Not A Tenant']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is not a tenant id/);
  });
});
