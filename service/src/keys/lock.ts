/**
 * A cross-process lock file (O_EXCL create), so two sidecars on one machine never interleave
 * their read-modify-write of a key store. A lock left by a dead process (same host, pid gone)
 * or older than STALE_MS is broken; waiting longer than the timeout fails closed.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { SovraError } from '../shared/errors.js';

const STALE_MS = 60_000;

function holderIsGone(lockPath: string): boolean {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch {
    return false; // released meanwhile: just retry
  }
  const [pid, host, at] = text.split('\n');
  const since = Date.now() - Number(at);
  if (!Number.isFinite(since) || since > STALE_MS) return true;
  if (host !== hostname()) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Runs fn while holding lockPath. */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let fd: number | undefined;
  for (let attempt = 0; fd === undefined; attempt++) {
    try {
      fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n${hostname()}\n${Date.now()}\n`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        throw new SovraError('unavailable', `The key store lock ${lockPath} cannot be created (${code ?? 'error'}).`, {
          code: 'KEYSTORE_LOCK_FAILED',
          fix: 'The sidecar user needs write access to the folder of the keyring (or of the lock).',
          details: { lockPath },
          cause: err,
        });
      }
      if (holderIsGone(lockPath)) {
        try {
          unlinkSync(lockPath);
        } catch {
          // another waiter broke it first
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new SovraError('unavailable', `The key store is locked by another process (${lockPath}).`, {
          code: 'KEYSTORE_LOCKED',
          fix: 'Another sidecar or `sovra keys` command is changing keys; retry. If no such process runs, remove the lock file.',
          details: { lockPath },
        });
      }
      await sleep(Math.min(5 + attempt * 5, 50));
    }
  }
  try {
    return await fn();
  } finally {
    closeSync(fd);
    try {
      unlinkSync(lockPath);
    } catch {
      // already gone (broken as stale): nothing to release
    }
  }
}

/** Serialises async sections inside one process (the file lock is not re-entrant). */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
