/**
 * The key-service contract, run on both providers: the local keyring and a SoftHSM2 token.
 */
import { createPublicKey, verify as edVerify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { SovraError } from '../shared/errors.js';
import { HSM_PIN, softHsm, type SoftHsm } from './__tests__/softhsm.js';
import { createKeyService, ENVELOPE_MAGIC, type DataKeyScope, type KeysConfig, type ManagedKeyService } from './index.js';

type Provider = 'local' | 'pkcs11';

let root: string;
let hsm: SoftHsm | undefined;
let seq = 0;
const open: ManagedKeyService[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'sovra-keys-'));
});
afterAll(() => {
  hsm?.dispose();
  rmSync(root, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** A fresh store name per test, so tests never see each other's keys. */
function newStore(provider: Provider): string {
  const name = `s${++seq}`;
  if (provider === 'pkcs11') {
    hsm ??= softHsm(join(root, 'hsm'));
    hsm.initToken(name);
  }
  return name;
}

function config(provider: Provider, store: string): KeysConfig {
  return provider === 'local'
    ? { provider: 'local', region: 'eu-central-1', path: join(root, `${store}.keyring`) }
    : { provider: 'pkcs11', region: 'eu-central-1', module: hsm!.module, tokenLabel: store, pin: { env: 'TEST_HSM_PIN' } };
}

async function service(provider: Provider, store: string, jurisdiction = 'EU', clock?: () => Date): Promise<ManagedKeyService> {
  const s = await createKeyService(jurisdiction, config(provider, store), { baseDir: root, env: { TEST_HSM_PIN: HSM_PIN }, clock });
  open.push(s);
  return s;
}

async function rejection(p: Promise<unknown>): Promise<SovraError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SovraError);
  return err as SovraError;
}

const eu = (tenant: string, purpose: DataKeyScope['purpose'] = 'token-map'): DataKeyScope => ({ tenant, jurisdiction: 'EU', purpose });

describe.each<[Provider]>([['local'], ['pkcs11']])('keys on the %s provider', (provider) => {
  it('round-trips text and bytes in a versioned envelope, with a fresh nonce each time', async () => {
    const keys = await service(provider, newStore(provider));
    expect(keys.provider).toBe(provider);
    expect(keys.jurisdiction).toBe('EU');
    const a = await keys.encrypt(eu('acme'), 'Jane Doe, DE89370400440532013000');
    const b = await keys.encrypt(eu('acme'), 'Jane Doe, DE89370400440532013000');
    expect(a.subarray(0, 4).equals(ENVELOPE_MAGIC)).toBe(true);
    expect(a.equals(b)).toBe(false);
    expect(a.includes(Buffer.from('Jane Doe'))).toBe(false);
    expect((await keys.decrypt(eu('acme'), a)).toString('utf8')).toBe('Jane Doe, DE89370400440532013000');
    const bytes = Uint8Array.from([0, 1, 2, 255]);
    expect([...(await keys.decrypt(eu('acme', 'outbox'), await keys.encrypt(eu('acme', 'outbox'), bytes)))]).toEqual([0, 1, 2, 255]);
    expect((await keys.decrypt(eu('acme'), await keys.encrypt(eu('acme'), ''))).length).toBe(0);
  });

  it('refuses tampered ciphertexts: body, tag, nonce, key generation, key id, truncation, magic', async () => {
    const keys = await service(provider, newStore(provider));
    const env = await keys.encrypt(eu('acme'), 'a secret worth keeping');
    const flip = (i: number): Buffer => {
      const c = Buffer.from(env);
      c[i] ^= 0x01;
      return c;
    };
    for (const [name, bad] of [
      ['body', flip(env.length - 1)],
      ['tag', flip(40)],
      ['nonce', flip(30)],
      ['generation', flip(7)],
      ['magic', flip(0)],
      ['truncated', env.subarray(0, env.length - 3)],
      ['header only', env.subarray(0, 30)],
    ] as const) {
      const err = await rejection(keys.decrypt(eu('acme'), bad));
      expect([name, err.code]).toEqual([name, 'DECRYPT_FAILED']);
      expect(err.kind).toBe('validation');
    }
    // A key id that names no key of this store.
    const err = await rejection(keys.decrypt(eu('acme'), flip(10)));
    expect(err.code).toBe('DECRYPT_FAILED');
  });

  it('refuses a ciphertext moved to another tenant or purpose', async () => {
    const keys = await service(provider, newStore(provider));
    const env = await keys.encrypt(eu('acme'), 'acme only');
    await keys.encrypt(eu('globex'), 'so globex has keys too');
    const wrongTenant = await rejection(keys.decrypt(eu('globex'), env));
    expect(wrongTenant.code).toBe('KEY_SCOPE_MISMATCH');
    expect(wrongTenant.kind).toBe('forbidden');
    const wrongPurpose = await rejection(keys.decrypt(eu('acme', 'outbox'), env));
    expect(wrongPurpose.code).toBe('KEY_SCOPE_MISMATCH');
    expect((await keys.decrypt(eu('acme'), env)).toString()).toBe('acme only');
  });

  it('refuses other jurisdictions: scopes, stores and ciphertexts', async () => {
    const euStore = newStore(provider);
    const usStore = newStore(provider);
    const euKeys = await service(provider, euStore, 'EU');
    const usKeys = await service(provider, usStore, 'US');
    const env = await euKeys.encrypt(eu('acme'), 'stays in the EU');

    const asUs = { tenant: 'acme', jurisdiction: 'US', purpose: 'token-map' } as const;
    expect((await rejection(euKeys.encrypt(asUs, 'x'))).code).toBe('KEY_JURISDICTION_MISMATCH');
    expect((await rejection(euKeys.decrypt(asUs, env))).code).toBe('KEY_JURISDICTION_MISMATCH');
    expect((await rejection(euKeys.hmac(asUs, 'x'))).kind).toBe('forbidden');
    // The US provider cannot open EU data, whatever scope it is asked with.
    expect((await rejection(usKeys.decrypt(asUs, env))).code).toBe('DECRYPT_FAILED');
    expect((await rejection(usKeys.decrypt(eu('acme'), env))).code).toBe('KEY_JURISDICTION_MISMATCH');
    // An EU store opened as US is refused at start.
    await euKeys.close();
    const err = await rejection(service(provider, euStore, 'US'));
    expect(err.code).toBe('KEY_JURISDICTION_MISMATCH');
    expect(err.kind).toBe('forbidden');
  });

  it('validates scopes', async () => {
    const keys = await service(provider, newStore(provider));
    expect((await rejection(keys.encrypt({ tenant: '', jurisdiction: 'EU', purpose: 'outbox' }, 'x'))).code).toBe('KEY_SCOPE_INVALID');
    expect((await rejection(keys.encrypt({ tenant: 'a', jurisdiction: 'EU', purpose: 'nope' as never }, 'x'))).code).toBe(
      'KEY_SCOPE_INVALID',
    );
    expect((await rejection(keys.encrypt({ tenant: 'a\nb', jurisdiction: 'EU', purpose: 'outbox' }, 'x'))).code).toBe('KEY_SCOPE_INVALID');
    expect((await rejection(createKeyService('eu', config(provider, 'x'), { baseDir: root }))).code).toBe('KEY_SCOPE_INVALID');
  });

  it('computes keyed hashes that are stable per scope and differ across tenants and purposes', async () => {
    const store = newStore(provider);
    const keys = await service(provider, store);
    const h1 = await keys.hmac(eu('acme', 'audit-hmac'), 'prompt text');
    expect(h1).toMatch(/^[a-f0-9]{64}$/);
    expect(await keys.hmac(eu('acme', 'audit-hmac'), Buffer.from('prompt text'))).toBe(h1);
    expect(await keys.hmac(eu('globex', 'audit-hmac'), 'prompt text')).not.toBe(h1);
    expect(await keys.hmac(eu('acme', 'token-hmac'), 'prompt text')).not.toBe(h1);
    await keys.rotate();
    expect(await keys.hmac(eu('acme', 'audit-hmac'), 'prompt text')).toBe(h1);
    await keys.close();
    const again = await service(provider, store);
    expect(await again.hmac(eu('acme', 'audit-hmac'), 'prompt text')).toBe(h1);
  });

  it('rotates without downtime: new KEK version for new data, old data readable, keys re-wrapped', async () => {
    const store = newStore(provider);
    const keys = await service(provider, store);
    const other = await service(provider, store); // a second sidecar on the same store
    const before = await keys.encrypt(eu('acme'), 'written before');
    const beforeOutbox = await keys.encrypt(eu('acme', 'outbox'), 'queued before');
    expect((await keys.status()).kekVersion).toBe(1);

    const report = await keys.rotate();
    expect(report).toMatchObject({ jurisdiction: 'EU', kekVersion: 2, previousKekVersion: 1, rewrapped: 2 });
    expect((await keys.decrypt(eu('acme'), before)).toString()).toBe('written before');
    expect((await other.decrypt(eu('acme', 'outbox'), beforeOutbox)).toString()).toBe('queued before');

    const after = await keys.encrypt(eu('acme'), 'written after');
    expect(after.readUInt32BE(4)).toBe(2); // new key generation
    expect(after.subarray(8, 24).equals(before.subarray(8, 24))).toBe(false); // a new data key
    expect((await other.decrypt(eu('acme'), after)).toString()).toBe('written after');

    const again = await other.rotate();
    expect(again.kekVersion).toBe(3);
    expect(again.rewrapped).toBe(3);
    await keys.close();
    await other.close();
    const reopened = await service(provider, store);
    expect((await reopened.status()).kekVersion).toBe(3);
    expect((await reopened.decrypt(eu('acme'), before)).toString()).toBe('written before');
    expect((await reopened.decrypt(eu('acme'), after)).toString()).toBe('written after');
  });

  it('crypto-shreds one tenant: nothing of it decrypts anywhere, other tenants untouched, no silent re-creation', async () => {
    const store = newStore(provider);
    const keys = await service(provider, store, 'EU', () => new Date('2026-01-02T03:04:05.000Z'));
    const sidecar2 = await service(provider, store); // already holds acme's keys in memory
    const acme = await keys.encrypt(eu('acme'), 'acme data');
    const acmeOutbox = await keys.encrypt(eu('acme', 'outbox'), 'acme outbox');
    await keys.hmac(eu('acme', 'audit-hmac'), 'x');
    const globex = await keys.encrypt(eu('globex'), 'globex data');
    expect((await sidecar2.decrypt(eu('acme'), acme)).toString()).toBe('acme data');

    const result = await keys.destroyTenant('acme');
    expect(result).toEqual({
      tenant: 'acme',
      jurisdiction: 'EU',
      destroyedKeys: 3,
      destroyedAt: '2026-01-02T03:04:05.000Z',
      audit: { recorded: 0, failed: 0 },
    });

    for (const svc of [keys, sidecar2]) {
      for (const [scope, env] of [
        [eu('acme'), acme],
        [eu('acme', 'outbox'), acmeOutbox],
      ] as const) {
        const err = await rejection(svc.decrypt(scope, env));
        expect(err.code).toBe('TENANT_KEYS_DESTROYED');
        expect(err.kind).toBe('forbidden');
      }
      expect((await svc.decrypt(eu('globex'), globex)).toString()).toBe('globex data');
      expect((await rejection(svc.encrypt(eu('acme'), 'new'))).code).toBe('TENANT_KEYS_DESTROYED');
      expect((await rejection(svc.hmac(eu('acme', 'audit-hmac'), 'x'))).code).toBe('TENANT_KEYS_DESTROYED');
    }
    // Another tenant cannot be used to reach the destroyed tenant's data either.
    expect((await rejection(keys.decrypt(eu('globex'), acme))).code).toBe('KEY_SCOPE_MISMATCH');
    expect((await keys.status()).destroyedTenants).toEqual(['acme']);
    expect(await keys.destroyTenant('acme')).toMatchObject({ destroyedKeys: 0 });

    // Rotation after a destroy does not bring anything back.
    await keys.rotate();
    expect((await rejection(keys.decrypt(eu('acme'), acme))).code).toBe('TENANT_KEYS_DESTROYED');

    // Explicit re-enable: new data works, old data stays gone.
    await keys.reenableTenant('acme');
    const fresh = await sidecar2.encrypt(eu('acme'), 'after re-enable');
    expect((await keys.decrypt(eu('acme'), fresh)).toString()).toBe('after re-enable');
    expect((await rejection(keys.decrypt(eu('acme'), acme))).code).toBe('TENANT_KEYS_DESTROYED');
    expect((await rejection(keys.reenableTenant('globex'))).code).toBe('TENANT_NOT_DESTROYED');
  });

  it('signs with the jurisdiction key; signatures verify here and nowhere else', async () => {
    const [euStore, usStore] = [newStore(provider), newStore(provider)];
    const euKeys = await service(provider, euStore, 'EU');
    const usKeys = await service(provider, usStore, 'US');
    const data = Buffer.from('{"from":1,"to":500,"root":"ab12"}');
    const sig = await euKeys.sign(data);
    expect(sig.algorithm).toBe('Ed25519');
    expect(sig.keyId).toMatch(/^EU-ed25519-v1-[a-f0-9]{8}$/);
    expect(await euKeys.verify(data, sig)).toBe(true);
    expect(await euKeys.verify(Buffer.from('{"from":1,"to":501,"root":"ab12"}'), sig)).toBe(false);
    expect(await usKeys.verify(data, sig)).toBe(false);
    // Claiming the US key id does not help either.
    const usKeyId = (await usKeys.publicKeys())[0].keyId;
    expect(await usKeys.verify(data, { ...sig, keyId: usKeyId })).toBe(false);
    expect(await euKeys.verify(data, { ...sig, signature: 'AAAA' })).toBe(false);

    // Auditors verify with the published key alone.
    const [pub] = await euKeys.publicKeys();
    expect(pub).toMatchObject({ keyId: sig.keyId, algorithm: 'Ed25519', jurisdiction: 'EU' });
    expect(edVerify(null, data, createPublicKey(pub.publicKeyPem), Buffer.from(sig.signature, 'base64'))).toBe(true);

    // After rotation old checkpoints still verify; new ones use the new key.
    const rotated = await euKeys.rotate();
    const sig2 = await euKeys.sign(data);
    expect(sig2.keyId).toBe(rotated.signingKeyId);
    expect(sig2.keyId).not.toBe(sig.keyId);
    expect(await euKeys.verify(data, sig)).toBe(true);
    expect(await euKeys.verify(data, sig2)).toBe(true);
    expect((await euKeys.publicKeys()).map((k) => k.keyId)).toEqual([sig.keyId, sig2.keyId]);
  });

  it('refuses use after close', async () => {
    const keys = await service(provider, newStore(provider));
    await keys.close();
    expect((await rejection(keys.encrypt(eu('acme'), 'x'))).code).toBe('KEYS_CLOSED');
  });
});
