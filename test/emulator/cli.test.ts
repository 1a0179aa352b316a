// `npm run emulator` entry (scripts/emulator.ts): first stdout line is SOVRA_EMULATOR_URL=<url>,
// it serves the demo org or a --seed file, validates its arguments, and stops on SIGTERM.
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const running: ChildProcessWithoutNullStreams[] = [];

function start(args: string[]): {
  child: ChildProcessWithoutNullStreams;
  firstLine: Promise<string>;
  exit: Promise<{ code: number | null; stderr: string }>;
} {
  const child = spawn(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'scripts/emulator.ts'), ...args], {
    cwd: ROOT,
  });
  running.push(child);
  let out = '';
  let err = '';
  const firstLine = new Promise<string>((res, rej) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) res(out.slice(0, nl));
    });
    child.on('close', () => rej(new Error(`exited before printing a line: ${err}`)));
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; stderr: string }>((res) => child.on('close', (code) => res({ code, stderr: err })));
  firstLine.catch(() => undefined);
  return { child, firstLine, exit };
}

afterEach(() => {
  for (const c of running.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('npm run emulator', () => {
  it('prints SOVRA_EMULATOR_URL first, serves the demo orgs, and exits 0 on SIGTERM', async () => {
    const { child, firstLine, exit } = start(['--port', '0']);
    const line = await firstLine;
    expect(line).toMatch(/^SOVRA_EMULATOR_URL=http:\/\/127\.0\.0\.1:\d+$/);
    const url = line.split('=')[1];
    const versions = await fetch(`${url}/services/data`);
    expect(versions.status).toBe(200);
    const s = (await (await fetch(`${url}/__admin/session`, { method: 'POST', body: '{}' })).json()) as { access_token: string };
    const q = await fetch(`${url}/services/data/v62.0/query?q=${encodeURIComponent('SELECT COUNT() FROM Account')}`, {
      headers: { Authorization: `Bearer ${s.access_token}` },
    });
    expect(await q.json()).toEqual({ totalSize: 9, done: true, records: [] });
    child.kill('SIGTERM');
    expect((await exit).code).toBe(0);
  }, 60_000);

  it('loads a --seed file and rejects bad arguments with a clear message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sovra-seed-'));
    try {
      const seedFile = join(dir, 'seed.json');
      writeFileSync(
        seedFile,
        JSON.stringify({
          orgs: [
            {
              key: 'tiny',
              name: 'Tiny Org',
              users: [{ username: 'a@tiny.example.com', lastName: 'A', email: 'a@tiny.example.com' }],
              records: { Account: [{ Name: 'Only One', BillingCountry: 'DE' }] },
            },
          ],
        }),
      );
      const { child, firstLine, exit } = start(['--port', '0', '--seed', seedFile]);
      const url = (await firstLine).split('=')[1];
      const orgs = (await (await fetch(`${url}/__admin/orgs`)).json()) as { key: string }[];
      expect(orgs.map((o) => o.key)).toEqual(['tiny']);
      child.kill('SIGTERM');
      await exit;
      const bad = start(['--port', 'abc']);
      const r = await bad.exit;
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("--port must be an integer 0..65535, got 'abc'");
      writeFileSync(seedFile, JSON.stringify({ orgs: [{ key: 'x', name: 'X', users: [] }] }));
      const badSeed = await start(['--seed', seedFile]).exit;
      expect(badSeed.code).toBe(2);
      expect(badSeed.stderr).toContain('orgs[0].users must list at least one user');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
