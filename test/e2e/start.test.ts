/**
 * `npm start -- --once --json` on the embedded model: the demo's requests reach the end
 * states the issue names, the audit chains verify, and the output is the documented JSON.
 */
import { spawn, spawnSync } from 'node:child_process';
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

  it('serves on after the demo: the printed gateway URL and key answer, and Ctrl-C stops it', async () => {
    const child = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/start.ts'], {
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 180_000;
      while (!out.includes('Serving.') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      const lines = out.split('\n');
      expect(lines[0]).toMatch(/^SOVRA_EMULATOR_URL=http:\/\/127\.0\.0\.1:\d+$/);
      expect(lines[1]).toMatch(/^SOVRA_GATEWAY_URL=http:\/\/127\.0\.0\.1:\d+\/v1$/);
      expect(lines[2]).toMatch(/^SOVRA_GATEWAY_KEY=\S+$/);
      const url = lines[1]!.split('=')[1]!;
      const key = lines[2]!.slice('SOVRA_GATEWAY_KEY='.length);
      // The EU sidecar was restarted during the demo; the URL printed first must still answer.
      const res = await fetch(`${url}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'any', messages: [{ role: 'user', content: 'Mail hans.mueller@example.de' }] }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const ready = await fetch(`${url.replace(/\/v1$/, '')}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  }, 240_000);
});
