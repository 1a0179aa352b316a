/**
 * What only the PKCS#11 provider promises, checked in a SoftHSM2 token: KEKs and signing keys
 * are generated in the token and cannot leave it; wrapped data keys live in the token and a
 * destroy deletes them there; a bad module, label or PIN is refused with the fix.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pkcs11js from 'pkcs11js';
import { SovraError } from '../shared/errors.js';
import { HSM_PIN, softHsm, type SoftHsm } from './__tests__/softhsm.js';
import { createKeyService, type KeysConfig } from './index.js';

let dir: string;
let hsm: SoftHsm;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sovra-hsm-'));
  hsm = softHsm(dir);
  for (const label of ['eu-main', 'eu-other']) hsm.initToken(label);
});
afterAll(() => {
  hsm.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const cfg = (tokenLabel: string, module = hsm.module): KeysConfig => ({
  provider: 'pkcs11',
  region: 'eu-central-1',
  module,
  tokenLabel,
  pin: { env: 'PIN' },
});

async function failure(p: Promise<unknown>): Promise<SovraError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SovraError);
  return err as SovraError;
}

interface TokenObject {
  class: number;
  label: string;
  application?: string;
  sensitive?: boolean;
  extractable?: boolean;
}

/** Lists the token's objects with a session of our own (after every service is closed). */
function inspect(label: string): TokenObject[] {
  const lib = new pkcs11js.PKCS11();
  lib.load(hsm.module);
  lib.C_Initialize();
  try {
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === label)!;
    const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
    lib.C_Login(session, pkcs11js.CKU_USER, HSM_PIN);
    lib.C_FindObjectsInit(session, []);
    const handles = lib.C_FindObjects(session, 1000);
    lib.C_FindObjectsFinal(session);
    return handles.map((h) => {
      const [cls, lbl] = lib.C_GetAttributeValue(session, h, [{ type: pkcs11js.CKA_CLASS }, { type: pkcs11js.CKA_LABEL }]);
      const o: TokenObject = { class: (cls.value as Buffer).readUInt32LE(0), label: (lbl.value as Buffer).toString() };
      if (o.class === pkcs11js.CKO_DATA) {
        o.application = (lib.C_GetAttributeValue(session, h, [{ type: pkcs11js.CKA_APPLICATION }])[0].value as Buffer).toString();
      }
      if (o.class === pkcs11js.CKO_SECRET_KEY || o.class === pkcs11js.CKO_PRIVATE_KEY) {
        const [s, x] = lib.C_GetAttributeValue(session, h, [{ type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }]);
        o.sensitive = (s.value as Buffer)[0] === 1;
        o.extractable = (x.value as Buffer)[0] === 1;
      }
      return o;
    });
  } finally {
    lib.C_Finalize();
    lib.close();
  }
}

describe('pkcs11 provider (SoftHSM2)', () => {
  it('keeps KEKs, signing keys and wrapped data keys in the token; destroy deletes them there', async () => {
    const keys = await createKeyService('EU', cfg('eu-main'), { baseDir: dir, env: { PIN: HSM_PIN } });
    await keys.encrypt({ tenant: 'acme', jurisdiction: 'EU', purpose: 'token-map' }, 'a');
    await keys.encrypt({ tenant: 'acme', jurisdiction: 'EU', purpose: 'outbox' }, 'b');
    await keys.encrypt({ tenant: 'globex', jurisdiction: 'EU', purpose: 'outbox' }, 'c');
    await keys.rotate();
    await keys.close();

    let objects = inspect('eu-main');
    const keks = objects.filter((o) => o.class === pkcs11js.CKO_SECRET_KEY);
    expect(keks.map((k) => k.label).sort()).toEqual(['sovra:kek:v1', 'sovra:kek:v2']);
    for (const k of keks) expect(k).toMatchObject({ sensitive: true, extractable: false });
    const signers = objects.filter((o) => o.class === pkcs11js.CKO_PRIVATE_KEY);
    expect(signers.map((k) => k.label).sort()).toEqual(['sovra:sign:v1', 'sovra:sign:v2']);
    for (const k of signers) expect(k).toMatchObject({ sensitive: true, extractable: false });
    expect(objects.filter((o) => o.application === 'sovra:datakey')).toHaveLength(3);
    expect(objects.find((o) => o.application === 'sovra' && o.label === 'sovra:jurisdiction')).toBeDefined();

    const again = await createKeyService('EU', cfg('eu-main'), { baseDir: dir, env: { PIN: HSM_PIN } });
    expect(await again.destroyTenant('acme')).toMatchObject({ destroyedKeys: 2 });
    await again.close();
    objects = inspect('eu-main');
    expect(objects.filter((o) => o.application === 'sovra:datakey')).toHaveLength(1);
    expect(objects.filter((o) => o.application === 'sovra:tombstone').map((o) => o.label)).toEqual(['sovra:tomb:acme']);
  });

  it('refuses a wrong PIN, an unknown token and a missing module, with the fix', async () => {
    const wrongPin = await failure(createKeyService('EU', cfg('eu-other'), { baseDir: dir, env: { PIN: '0000' } }));
    expect(wrongPin.code).toBe('HSM_LOGIN_FAILED');
    expect(wrongPin.fix).toContain('PIN');
    const noToken = await failure(createKeyService('EU', cfg('nope'), { baseDir: dir, env: { PIN: HSM_PIN } }));
    expect(noToken.code).toBe('HSM_TOKEN_NOT_FOUND');
    expect(noToken.fix).toContain('softhsm2-util --init-token');
    const noModule = await failure(
      createKeyService('EU', cfg('eu-other', join(dir, 'missing.so')), { baseDir: dir, env: { PIN: HSM_PIN } }),
    );
    expect(noModule.code).toBe('HSM_MODULE_UNAVAILABLE');
    const noPin = await failure(createKeyService('EU', cfg('eu-other'), { baseDir: dir, env: {} }));
    expect(noPin.code).toBe('SECRET_MISSING');
    // None of the failures left the token half-initialised: it still opens and works.
    const keys = await createKeyService('EU', cfg('eu-other'), { baseDir: dir, env: { PIN: HSM_PIN } });
    const scope = { tenant: 'acme', jurisdiction: 'EU', purpose: 'prompt' } as const;
    expect((await keys.decrypt(scope, await keys.encrypt(scope, 'ok'))).toString()).toBe('ok');
    await keys.close();
  });
});
