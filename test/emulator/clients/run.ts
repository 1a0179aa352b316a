/** Runs clients/sfCoreClient.ts in a child Node process (see there why) and returns its RESULT. */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../..');

export function runSfCoreClient(env: Record<string, string>, timeoutMs = 45_000): Promise<Record<string, unknown>> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(HERE, 'sfCoreClient.ts')], {
      cwd: ROOT,
      env: { ...process.env, SF_DISABLE_DNS_CHECK: 'true', SF_USE_GENERIC_UNIX_KEYCHAIN: 'true', SF_DISABLE_TELEMETRY: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sfCoreClient timed out after ${timeoutMs} ms\n${err}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) return reject(new Error(`sfCoreClient exited ${String(code)}\n${out}\n${err}`));
      resolvePromise(JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>);
    });
  });
}
