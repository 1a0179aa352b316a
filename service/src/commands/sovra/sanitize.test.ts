import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const compiled = join(root, 'dist/commands/sovra/sanitize.js');

function run(args: string[], stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin/run.js'), 'sanitize', ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('sovra sanitize (spawned CLI)', () => {
  beforeAll(() => {
    // The CLI runs compiled commands; build once when dist is missing or older than the source.
    const sources = [
      join(root, 'service/src/commands/sovra/sanitize.ts'),
      ...readdirSync(join(root, 'service/src/sanitize')).map((f) => join(root, 'service/src/sanitize', f)),
    ];
    const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
    const built = join(root, 'dist/sanitize/index.js');
    if (!existsSync(compiled) || !existsSync(built) || Math.min(statSync(compiled).mtimeMs, statSync(built).mtimeMs) < newest) {
      try {
        execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
          cwd: root,
          stdio: 'ignore',
        });
      } catch {
        // Other stages' type errors do not stop emit; the existence check below decides.
      }
    }
    expect(existsSync(compiled)).toBe(true);
  }, 180_000);

  it('sanitizes JSONL from stdin to stdout', async () => {
    const r = await run([], '{"id":"1","text":"mail a@b.de"}\n');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      id: '1',
      text: 'mail ⟦EMAIL_1⟧',
      entities: [{ type: 'EMAIL', start: 5, end: 11, token: '⟦EMAIL_1⟧' }],
    });
    expect(r.stderr).toMatch(/1 line\(s\), 1 sanitized, 0 error\(s\)/);
  }, 60_000);

  it('keeps going after malformed lines, honours --jurisdiction and rejects an unknown one', async () => {
    const lines = ['{"id":"a","text":"Tél. 06 12 34 56 78"}', '{oops', '{"id":"c","text":"Call (212) 555-0142"}'].join('\n');
    const eu = await run(['--jurisdiction', 'FR', '--tenant', '00D000000000001'], lines);
    expect(eu.code).toBe(0);
    const out = eu.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: unknown; text?: string; error?: { code: string } });
    expect(out.map((o) => o.text ?? o.error?.code)).toEqual(['Tél. ⟦PHONE_1⟧', 'JSON_INVALID', 'Call (212) 555-0142']);
    const bad = await run(['--jurisdiction', 'XX'], '');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Unknown jurisdiction 'XX'/);
  }, 60_000);
});
