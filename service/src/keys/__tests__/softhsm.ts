/**
 * A throw-away SoftHSM2 for tests: its own config and token folder in a temp dir (pointed to by
 * SOFTHSM2_CONF, which libsofthsm2 reads when the module is initialised), tokens created with
 * softhsm2-util. Nothing outside the temp dir is touched. Fails with the fix when SoftHSM2 is
 * not installed (scripts/ci/keys.sh installs it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';

export const SOFTHSM_MODULE = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
].find((p) => existsSync(p));
export const HSM_PIN = '5678';
const SO_PIN = '12345678';

export interface SoftHsm {
  module: string;
  conf: string;
  /** Creates a token with this label (unique per call is the caller's job). */
  initToken(label: string): void;
  /** Puts SOFTHSM2_CONF back as it was (call after every key service is closed). */
  dispose(): void;
}

export function softHsm(dir: string): SoftHsm {
  if (!SOFTHSM_MODULE) {
    throw new Error('SoftHSM2 is not installed: run scripts/ci/keys.sh (apt-get install -y softhsm2) before the pkcs11 key tests.');
  }
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { recursive: true, mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, {
    mode: 0o600,
  });
  // libsofthsm2 reads SOFTHSM2_CONF with getenv() when the module is initialised. Jest hands
  // each test file a copy of process.env, so set it on the real process (the outer context).
  const realProcess = runInThisContext('process') as NodeJS.Process;
  const previous = realProcess.env.SOFTHSM2_CONF;
  realProcess.env.SOFTHSM2_CONF = conf;
  process.env.SOFTHSM2_CONF = conf;
  const module = SOFTHSM_MODULE;
  return {
    module,
    conf,
    initToken(label: string) {
      execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', SO_PIN, '--pin', HSM_PIN], {
        env: { ...process.env, SOFTHSM2_CONF: conf },
        stdio: 'pipe',
      });
    },
    dispose() {
      if (previous === undefined) delete realProcess.env.SOFTHSM2_CONF;
      else realProcess.env.SOFTHSM2_CONF = previous;
    },
  };
}
