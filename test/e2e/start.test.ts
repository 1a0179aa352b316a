/**
 * `npm start -- --once --json` on the embedded model: the demo's requests reach the end
 * states the issue names, the audit chains verify, and the output is the documented JSON.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';

describe('npm start -- --once --json', () => {
  it('runs the demo to the expected end states with a verified audit trail', () => {
    const r = spawnSync(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/start.ts', '--once', '--json'], {
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(r.stderr).not.toMatch(/Sovra failed/);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      requests: { name: string; jurisdiction: string | null; endpoint: string | null; state: string; reason: string | null }[];
      audit: { verified: boolean; entries: number };
      apiCalls: number;
    };
    expect(out.requests.map((q) => [q.name, q.state, q.jurisdiction, q.endpoint])).toEqual([
      ['EU opportunity summary', 'Completed', 'EU', 'eu-embedded'],
      ['US case reply draft', 'Completed', 'US', 'us-embedded'],
      ['record with no known jurisdiction', 'Quarantined', null, null],
      ['user without the right', 'Blocked', null, null],
      ['EU record while the EU endpoint is down', 'Failed', 'EU', null],
    ]);
    for (const q of out.requests.filter((x) => x.state !== 'Completed')) expect(q.reason).toBeTruthy();
    expect(out.audit.verified).toBe(true);
    expect(out.audit.entries).toBeGreaterThan(10);
    expect(out.apiCalls).toBeGreaterThan(0);
  }, 240_000);
});
