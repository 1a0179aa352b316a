/**
 * What only the local keyring promises: the file's mode, its sealing with a master key,
 * scope-bound wrapping of data keys inside it, and safe sharing by two processes.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { SovraError } from '../shared/errors.js';
import { createKeyService, onKeyEvent, type KeyEvent, type KeysConfig, type ManagedKeyService } from './index.js';

const run = promisify(execFile);
let dir: string;
let n = 0;
const open: ManagedKeyService[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sovra-keyring-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const scope = (tenant: string) => ({ tenant, jurisdiction: 'EU', purpose: 'token-map' }) as const;

async function keyring(path: string, extra: Partial<KeysConfig> = {}, env: NodeJS.ProcessEnv = {}): Promise<ManagedKeyService> {
  const cfg = { provider: 'local', region: 'eu-central-1', path, ...extra } as KeysConfig;
  const s = await createKeyService('EU', cfg, { baseDir: dir, env });
  open.push(s);
  return s;
}

async function failure(p: Promise<unknown>): Promise<SovraError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SovraError);
  return err as SovraError;
}

const fresh = (): string => join(dir, `ring${++n}`, 'eu.keyring');

describe('local keyring file', () => {
  it('is created on first start with mode 0600, relative to the config folder', async () => {
    const keys = await keyring(`ring${++n}/eu.keyring`);
    await keys.encrypt(scope('acme'), 'x');
    const path = join(dir, `ring${n}`, 'eu.keyring');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(path, 'utf8'));
    expect(file).toMatchObject({ format: 'sovra-keyring', formatVersion: 1, jurisdiction: 'EU', protection: { kind: 'none' } });
    expect(file.body.keks).toHaveLength(1);
    expect(file.body.dataKeys).toHaveLength(1);
    expect(file.body.signingKeys[0].keyId).toMatch(/^EU-ed25519-v1-/);
  });

  it('refuses a keyring that others may read, naming the fix', async () => {
    const path = fresh();
    await (await keyring(path)).close();
    chmodSync(path, 0o644);
    const err = await failure(keyring(path));
    expect(err.code).toBe('KEYRING_MODE_TOO_OPEN');
    expect(err.fix).toContain(`chmod 600 ${path}`);
    chmodSync(path, 0o600);
    await keyring(path);
  });

  it('refuses a file that is not a keyring', async () => {
    const path = join(dir, 'not-a-keyring.json');
    writeFileSync(path, '{"hello":1}', { mode: 0o600 });
    expect((await failure(keyring(path))).code).toBe('KEYRING_INVALID');
    writeFileSync(path, 'not json', { mode: 0o600 });
    expect((await failure(keyring(path))).code).toBe('KEYRING_INVALID');
  });

  it('seals its secrets with the master key when one is configured', async () => {
    const path = fresh();
    const withKey = { masterKey: { env: 'RING_KEY' } } as const;
    const keys = await keyring(path, withKey, { RING_KEY: 'correct horse battery staple' });
    const env = await keys.encrypt(scope('acme'), 'sealed data');
    await keys.close();
    const text = readFileSync(path, 'utf8');
    const file = JSON.parse(text);
    expect(file.protection).toMatchObject({ kind: 'masterKey', kdf: 'scrypt' });
    expect(file.body).toBeUndefined();
    expect(text).not.toContain('acme');
    expect(text).not.toContain('PRIVATE KEY');

    const again = await keyring(path, withKey, { RING_KEY: 'correct horse battery staple' });
    expect((await again.decrypt(scope('acme'), env)).toString()).toBe('sealed data');
    expect((await failure(keyring(path, withKey, { RING_KEY: 'wrong' }))).code).toBe('KEYRING_MASTER_KEY_WRONG');
    expect((await failure(keyring(path))).code).toBe('KEYRING_MASTER_KEY_REQUIRED');
    expect((await failure(keyring(path, withKey, {}))).code).toBe('SECRET_MISSING');

    const plain = fresh();
    await (await keyring(plain)).close();
    expect((await failure(keyring(plain, withKey, { RING_KEY: 'k' }))).code).toBe('KEYRING_NOT_SEALED');
  });

  it('binds wrapped data keys to their tenant: a key record moved to another tenant does not unwrap', async () => {
    const path = fresh();
    const keys = await keyring(path);
    const env = await keys.encrypt(scope('acme'), 'acme only');
    await keys.close();
    const file = JSON.parse(readFileSync(path, 'utf8'));
    file.body.dataKeys[0].tenant = 'mallory';
    writeFileSync(path, JSON.stringify(file), { mode: 0o600 });
    const tampered = await keyring(path);
    const err = await failure(tampered.decrypt(scope('mallory'), env));
    expect(err.code).toBe('DATA_KEY_CORRUPT');
    expect((await failure(tampered.decrypt(scope('acme'), env))).code).toBe('KEY_SCOPE_MISMATCH');
  });

  it('is shared safely by two processes creating keys at the same time', async () => {
    const path = fresh();
    await (await keyring(path)).close();
    const worker = resolve('service/src/keys/__tests__/keyringWorker.ts');
    const tsx = resolve('node_modules/.bin/tsx');
    const [a, b] = await Promise.all([run(tsx, [worker, path, 'a', '15']), run(tsx, [worker, path, 'b', '15'])]);
    const envelopes = { ...JSON.parse(a.stdout), ...JSON.parse(b.stdout) } as Record<string, string>;
    expect(Object.keys(envelopes)).toHaveLength(30);
    const keys = await keyring(path);
    expect((await keys.status()).dataKeys).toBe(30);
    for (const [tenant, env] of Object.entries(envelopes)) {
      const pt = await keys.decrypt({ tenant, jurisdiction: 'EU', purpose: 'outbox' }, Buffer.from(env, 'base64'));
      expect(pt.toString()).toBe(tenant);
    }
    expect(statSync(path).mode & 0o777).toBe(0o600);
  }, 60_000);

  it('tells key-event listeners (the audit) about destroys and rotations; an unrecordable destroy does not start', async () => {
    const keys = await keyring(fresh());
    const env = await keys.encrypt(scope('acme'), 'acme data');
    const seen: KeyEvent[] = [];
    const offFailing = onKeyEvent((e) => {
      if (e.type === 'tenant.destroying') throw new Error('audit store down');
    });
    const err = await failure(keys.destroyTenant('acme'));
    expect(err.code).toBe('KEY_AUDIT_FAILED');
    expect((await keys.decrypt(scope('acme'), env)).toString()).toBe('acme data'); // nothing was destroyed
    offFailing();

    const off = onKeyEvent(async (e) => {
      if (e.type === 'tenant.destroying') {
        // The tenant's keys still exist here, so its own audit chain can still seal an entry.
        await keys.hmac({ tenant: e.tenant, jurisdiction: 'EU', purpose: 'audit-hmac' }, 'destroy requested');
      }
      seen.push(e);
    });
    try {
      const result = await keys.destroyTenant('acme');
      expect(result.audit).toEqual({ recorded: 1, failed: 0 });
      const rotated = await keys.rotate();
      expect(rotated.audit.recorded).toBe(1);
    } finally {
      off();
    }
    expect(seen.map((e) => e.type)).toEqual(['tenant.destroying', 'tenant.destroyed', 'keys.rotated']);
    expect(seen[1]).toMatchObject({ type: 'tenant.destroyed', result: { tenant: 'acme', jurisdiction: 'EU', destroyedKeys: 2 } });
  });
});
