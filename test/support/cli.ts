/** Runs the built `sovra` binary (bin/run.js → dist/commands), building dist first if missing. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function ensureBuilt(): void {
  if (!existsSync('dist/commands') || !existsSync('dist/main.js')) {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  }
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runSovra(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, ['bin/run.js', ...args], {
    input: opts.input,
    env: { ...process.env, SF_DISABLE_TELEMETRY: 'true', SF_AUTOUPDATE_DISABLE: 'true', NODE_OPTIONS: '', ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
