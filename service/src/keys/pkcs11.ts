/**
 * The `pkcs11` provider: one HSM token per jurisdiction (found by its label). Everything lives
 * in the token, as private token objects:
 *  - `sovra:jurisdiction` (data object): the jurisdiction the token serves, written on first
 *    start; a token marked for another jurisdiction is refused;
 *  - `sovra:kek:v<N>` (AES-256 secret key, CKA_SENSITIVE, not CKA_EXTRACTABLE): KEK versions.
 *    Data keys are wrapped and unwrapped inside the HSM with CKM_AES_GCM, the scope bound as AAD;
 *  - `sovra:sign:v<N>` (Ed25519 key pair, CKM_EC_EDWARDS_KEY_PAIR_GEN; private half sensitive,
 *    not extractable): checkpoints are signed inside the HSM with CKM_EDDSA;
 *  - `sovra:dek:<id>` (data objects, application `sovra:datakey`): wrapped data keys — only
 *    ciphertext of key material, kept in the token so that destroying a tenant deletes its
 *    keys where the KEKs live, and backups of the sidecar's disk never hold them;
 *  - `sovra:tomb:<tenant>` (data objects): destroy tombstones;
 *  - a data object of application `sovra:epoch`: a counter (in its label) bumped by every
 *    change, which every process checks before using what it cached.
 * Changes are serialised across processes on this host with a lock file in the OS temp
 * folder (named after the token's serial). pkcs11js calls are synchronous.
 */
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { SovraError } from '../shared/errors.js';
import { log } from '../shared/log.js';
import {
  signingKeyId,
  type DataKeyRecord,
  type KeyBackend,
  type KeyState,
  type KeyTxn,
  type SigningKeyRecord,
  type Tombstone,
} from './backend.js';
import { Mutex, withFileLock } from './lock.js';
import { KEY_PURPOSES, type KeyPurpose } from './types.js';

// PKCS#11 v3.0 constants that pkcs11js (a 2.30 binding) does not name.
const CKK_EC_EDWARDS = 0x40;
const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
const CKM_EDDSA = 0x1057;
/** DER of the Ed25519 OID 1.3.101.112 (RFC 8410), the CKA_EC_PARAMS of an Ed25519 key. */
const ED25519_PARAMS = Buffer.from('06032b6570', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const APP = 'sovra';
const APP_DATAKEY = 'sovra:datakey';
const APP_TOMBSTONE = 'sovra:tombstone';
const LABEL_JURISDICTION = 'sovra:jurisdiction';
const APP_EPOCH = 'sovra:epoch';

type Handle = Buffer;
type Template = pkcs11js.Template;

export interface Pkcs11Options {
  module: string;
  tokenLabel: string;
  pin: string;
  jurisdiction: string;
  clock: () => Date;
}

/** One loaded module per path per process: C_Initialize / C_Finalize are process-wide. */
const modules = new Map<string, { lib: pkcs11js.PKCS11; refs: number }>();

function acquireModule(path: string): pkcs11js.PKCS11 {
  const held = modules.get(path);
  if (held) {
    held.refs++;
    return held.lib;
  }
  const lib = new pkcs11js.PKCS11();
  try {
    lib.load(path);
  } catch (err) {
    throw new SovraError('validation', `The PKCS#11 module ${path} cannot be loaded.`, {
      code: 'HSM_MODULE_UNAVAILABLE',
      fix: 'Set keys.module to the HSM vendor’s PKCS#11 library (for SoftHSM2: apt-get install softhsm2; /usr/lib/softhsm/libsofthsm2.so).',
      details: { module: path },
      cause: err,
    });
  }
  try {
    lib.C_Initialize();
  } catch (err) {
    if (ckr(err) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      lib.close();
      throw hsmError('The PKCS#11 module cannot be initialised', err);
    }
  }
  modules.set(path, { lib, refs: 1 });
  return lib;
}

function releaseModule(path: string): void {
  const held = modules.get(path);
  if (!held) return;
  if (--held.refs > 0) return;
  modules.delete(path);
  try {
    held.lib.C_Finalize();
  } finally {
    held.lib.close();
  }
}

function ckr(err: unknown): string | undefined {
  const m = /CKR_[A-Z_]+/.exec(err instanceof Error ? err.message : '');
  return m?.[0];
}

function hsmError(what: string, err: unknown): SovraError {
  const code = ckr(err) ?? 'error';
  return new SovraError('unavailable', `${what} (${code}).`, {
    code: 'HSM_ERROR',
    fix: 'Check the HSM (token present, session limits, logs); the operation can be retried.',
    details: { ckr: code },
    cause: err,
  });
}

const text = (b: Buffer | undefined): string => (b ? b.toString('utf8') : '');

export class Pkcs11Token implements KeyBackend {
  readonly provider = 'pkcs11' as const;
  readonly jurisdiction: string;
  private readonly lib: pkcs11js.PKCS11;
  private readonly session: Handle;
  private readonly modulePath: string;
  private readonly lockPath: string;
  private readonly clock: () => Date;
  private readonly mutex = new Mutex();
  private epochHandle: Handle = Buffer.alloc(0);
  private cached?: { epoch: string; state: KeyState; keks: Map<number, Handle>; signers: Map<string, Handle> };
  private closed = false;

  private constructor(opts: Pkcs11Options, lib: pkcs11js.PKCS11, session: Handle, serial: string) {
    this.jurisdiction = opts.jurisdiction;
    this.lib = lib;
    this.session = session;
    this.modulePath = opts.module;
    this.clock = opts.clock;
    const id = createHash('sha256').update(`${opts.module}\n${serial}\n${opts.tokenLabel}`).digest('hex').slice(0, 16);
    this.lockPath = join(tmpdir(), `sovra-keys-${id}.lock`);
  }

  static async open(opts: Pkcs11Options): Promise<Pkcs11Token> {
    const lib = acquireModule(opts.module);
    let session: Handle | undefined;
    try {
      const slots = lib.C_GetSlotList(true);
      const slot = slots.find((s) => lib.C_GetTokenInfo(s).label.trim() === opts.tokenLabel);
      if (!slot) {
        throw new SovraError('validation', `No PKCS#11 token labelled '${opts.tokenLabel}' is present in ${opts.module}.`, {
          code: 'HSM_TOKEN_NOT_FOUND',
          fix: `Initialise one token per jurisdiction, e.g. softhsm2-util --init-token --free --label ${opts.tokenLabel} --so-pin … --pin …, and set keys.tokenLabel.`,
          details: { tokenLabel: opts.tokenLabel },
        });
      }
      const serial = lib.C_GetTokenInfo(slot).serialNumber.trim();
      session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      try {
        lib.C_Login(session, pkcs11js.CKU_USER, opts.pin);
      } catch (err) {
        const code = ckr(err);
        if (code !== 'CKR_USER_ALREADY_LOGGED_IN') {
          throw new SovraError('validation', `The HSM refused the login to token '${opts.tokenLabel}' (${code ?? 'error'}).`, {
            code: 'HSM_LOGIN_FAILED',
            fix: 'Check the user PIN that keys.pin names (and that the PIN is not locked).',
            details: { tokenLabel: opts.tokenLabel, ckr: code },
          });
        }
      }
      const token = new Pkcs11Token(opts, lib, session, serial);
      await withFileLock(token.lockPath, async () => {
        token.epochHandle = token.initialise();
      });
      log().info('hsm token opened', { jurisdiction: opts.jurisdiction, tokenLabel: opts.tokenLabel });
      return token;
    } catch (err) {
      if (session) {
        try {
          lib.C_CloseSession(session);
        } catch {
          // closing after a failure: nothing more to do
        }
      }
      releaseModule(opts.module);
      throw err;
    }
  }

  async state(): Promise<KeyState> {
    this.checkOpen();
    return this.load().state;
  }

  async transaction<T>(fn: (txn: KeyTxn) => Promise<T>): Promise<T> {
    return this.mutex.run(() =>
      withFileLock(this.lockPath, async () => {
        this.checkOpen();
        const state = this.load().state; // fresh: the epoch is checked under the lock
        const s = this.session;
        const txn: KeyTxn = {
          state,
          putDataKey: async (rec: DataKeyRecord) => {
            for (const h of this.find([{ type: pkcs11js.CKA_LABEL, value: `sovra:dek:${rec.id}` }, ...dataClass(APP_DATAKEY)])) {
              this.lib.C_DestroyObject(s, h);
            }
            this.lib.C_CreateObject(s, [
              ...dataClass(APP_DATAKEY),
              ...privateTokenObject(),
              { type: pkcs11js.CKA_LABEL, value: `sovra:dek:${rec.id}` },
              { type: pkcs11js.CKA_VALUE, value: Buffer.from(JSON.stringify({ ...rec, wrapped: rec.wrapped.toString('base64') })) },
            ]);
          },
          deleteDataKey: async (id: string) => {
            for (const h of this.find([{ type: pkcs11js.CKA_LABEL, value: `sovra:dek:${id}` }, ...dataClass(APP_DATAKEY)])) {
              this.lib.C_DestroyObject(s, h);
            }
          },
          putTombstone: async (t: Tombstone) => {
            for (const h of this.find([{ type: pkcs11js.CKA_LABEL, value: `sovra:tomb:${t.tenant}` }, ...dataClass(APP_TOMBSTONE)])) {
              this.lib.C_DestroyObject(s, h);
            }
            this.lib.C_CreateObject(s, [
              ...dataClass(APP_TOMBSTONE),
              ...privateTokenObject(),
              { type: pkcs11js.CKA_LABEL, value: `sovra:tomb:${t.tenant}` },
              { type: pkcs11js.CKA_VALUE, value: Buffer.from(JSON.stringify(t)) },
            ]);
          },
          createKek: async (version: number) => {
            const handle = this.generateKek(version);
            this.cached?.keks.set(version, handle); // usable for re-wrapping inside this transaction
          },
          createSigningKey: async (version: number) => this.generateSigningKey(version),
        };
        try {
          return await fn(txn);
        } catch (err) {
          throw err instanceof SovraError ? err : hsmError('A key change in the HSM failed', err);
        } finally {
          this.bumpEpoch();
          this.cached = undefined;
        }
      }),
    );
  }

  async wrap(kekVersion: number, dataKey: Buffer, aad: Buffer): Promise<Buffer> {
    const iv = randomBytes(12);
    try {
      this.lib.C_EncryptInit(this.session, gcm(iv, aad), this.kek(kekVersion));
      const out = this.lib.C_Encrypt(this.session, dataKey, Buffer.alloc(dataKey.length + 16));
      return Buffer.concat([iv, out]);
    } catch (err) {
      throw err instanceof SovraError ? err : hsmError('The HSM could not wrap a data key', err);
    }
  }

  async unwrap(kekVersion: number, wrapped: Buffer, aad: Buffer): Promise<Buffer | undefined> {
    if (wrapped.length < 12 + 16) return undefined;
    const kek = this.kek(kekVersion);
    try {
      this.lib.C_DecryptInit(this.session, gcm(wrapped.subarray(0, 12), aad), kek);
      return Buffer.from(this.lib.C_Decrypt(this.session, wrapped.subarray(12), Buffer.alloc(wrapped.length)));
    } catch {
      return undefined; // SoftHSM reports a failed GCM tag as CKR_GENERAL_ERROR; others as CKR_ENCRYPTED_DATA_INVALID
    }
  }

  async sign(keyId: string, data: Buffer): Promise<Buffer> {
    const handle = this.load().signers.get(keyId);
    if (!handle) {
      throw new SovraError('internal', `The HSM token has no signing key ${keyId}.`, { code: 'SIGNING_KEY_MISSING', retryable: false });
    }
    try {
      this.lib.C_SignInit(this.session, { mechanism: CKM_EDDSA }, handle);
      return Buffer.from(this.lib.C_Sign(this.session, data, Buffer.alloc(64)));
    } catch (err) {
      throw hsmError('The HSM could not sign', err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cached = undefined;
    try {
      this.lib.C_CloseSession(this.session);
    } finally {
      releaseModule(this.modulePath);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new SovraError('unavailable', 'The HSM session is closed.', { code: 'KEYS_CLOSED', retryable: false });
  }

  /** Marks an empty token for this jurisdiction (KEK v1, signing key v1) or checks its mark. */
  private initialise(): Handle {
    const marks = this.find([...dataClass(APP), { type: pkcs11js.CKA_LABEL, value: LABEL_JURISDICTION }]);
    if (marks.length === 0) {
      this.lib.C_CreateObject(this.session, [
        ...dataClass(APP),
        ...privateTokenObject(),
        { type: pkcs11js.CKA_LABEL, value: LABEL_JURISDICTION },
        { type: pkcs11js.CKA_VALUE, value: Buffer.from(this.jurisdiction) },
      ]);
      log().info('hsm token marked for jurisdiction', { jurisdiction: this.jurisdiction });
    } else {
      const marked = text(this.attr(marks[0], pkcs11js.CKA_VALUE));
      if (marked !== this.jurisdiction) {
        throw new SovraError('forbidden', `The HSM token belongs to ${marked}; this provider serves ${this.jurisdiction}.`, {
          code: 'KEY_JURISDICTION_MISMATCH',
          fix: `Give ${this.jurisdiction} its own token (keys.tokenLabel); a token never serves two jurisdictions.`,
          details: { token: marked, provider: this.jurisdiction },
        });
      }
    }
    // The counter sits in the label: CKA_VALUE of a data object is read-only once created (SoftHSM2).
    let epoch = this.find(dataClass(APP_EPOCH))[0];
    if (!epoch) {
      epoch = this.lib.C_CreateObject(this.session, [
        ...dataClass(APP_EPOCH),
        ...privateTokenObject(),
        { type: pkcs11js.CKA_LABEL, value: '0' },
      ]);
    }
    if (this.find(kekTemplate()).length === 0) this.generateKek(1);
    if (
      this.find([
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
      ]).length === 0
    ) {
      this.generateSigningKey(1);
    }
    return epoch;
  }

  private generateKek(version: number): Handle {
    const label = `sovra:kek:v${version}`;
    if (this.find([...kekTemplate(), { type: pkcs11js.CKA_LABEL, value: label }]).length > 0) {
      throw new SovraError('conflict', `KEK version ${version} already exists in the token.`, { code: 'KEK_EXISTS', retryable: true });
    }
    const handle = this.lib.C_GenerateKey(this.session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
      ...kekTemplate(),
      ...privateTokenObject(),
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(`kek-v${version}`) },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_ENCRYPT, value: true },
      { type: pkcs11js.CKA_DECRYPT, value: true },
      { type: pkcs11js.CKA_WRAP, value: false },
      { type: pkcs11js.CKA_UNWRAP, value: false },
      { type: pkcs11js.CKA_SIGN, value: false },
      { type: pkcs11js.CKA_VERIFY, value: false },
    ]);
    log().info('hsm kek generated', { jurisdiction: this.jurisdiction, kekVersion: version });
    return handle;
  }

  private generateSigningKey(version: number): SigningKeyRecord {
    const label = `sovra:sign:v${version}`;
    const pair = this.lib.C_GenerateKeyPair(
      this.session,
      { mechanism: CKM_EC_EDWARDS_KEY_PAIR_GEN },
      [
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: false },
        { type: pkcs11js.CKA_VERIFY, value: true },
        { type: pkcs11js.CKA_EC_PARAMS, value: ED25519_PARAMS },
        { type: pkcs11js.CKA_LABEL, value: label },
      ],
      [
        ...privateTokenObject(),
        { type: pkcs11js.CKA_SIGN, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_LABEL, value: label },
      ],
    );
    const rec = this.signingRecord(pair.publicKey, version);
    const id = Buffer.from(rec.keyId);
    this.lib.C_SetAttributeValue(this.session, pair.publicKey, [{ type: pkcs11js.CKA_ID, value: id }]);
    this.lib.C_SetAttributeValue(this.session, pair.privateKey, [{ type: pkcs11js.CKA_ID, value: id }]);
    log().info('hsm signing key generated', { jurisdiction: this.jurisdiction, keyId: rec.keyId });
    return rec;
  }

  private signingRecord(publicKey: Handle, version: number): SigningKeyRecord {
    const point = this.attr(publicKey, pkcs11js.CKA_EC_POINT) ?? Buffer.alloc(0);
    // CKA_EC_POINT is the DER OCTET STRING of the 32-byte public key (some modules give it raw).
    const raw = point.length === 34 && point[0] === 0x04 && point[1] === 0x20 ? point.subarray(2) : point;
    if (raw.length !== 32)
      throw new SovraError('internal', 'The HSM returned an Ed25519 public key of unexpected size.', { code: 'HSM_KEY_FORMAT' });
    const pem = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' })
      .export({ format: 'pem', type: 'spki' })
      .toString();
    const createdAt = this.clock().toISOString();
    return {
      keyId: signingKeyId(this.jurisdiction, version, createHash('sha256').update(raw).digest('hex')),
      version,
      publicKeyPem: pem,
      createdAt,
    };
  }

  private bumpEpoch(): void {
    const next = BigInt(text(this.attr(this.epochHandle, pkcs11js.CKA_LABEL)) || '0') + 1n;
    this.lib.C_SetAttributeValue(this.session, this.epochHandle, [{ type: pkcs11js.CKA_LABEL, value: next.toString() }]);
  }

  private kek(version: number): Handle {
    const h = this.load().keks.get(version);
    if (!h) {
      throw new SovraError('internal', `The HSM token has no KEK version ${version}.`, {
        code: 'KEK_MISSING',
        fix: 'A KEK was deleted from the token outside Sovra; restore the token from the HSM backup.',
        retryable: false,
      });
    }
    return h;
  }

  private load(): NonNullable<Pkcs11Token['cached']> {
    const epoch = text(this.attr(this.epochHandle, pkcs11js.CKA_LABEL));
    if (this.cached && this.cached.epoch === epoch) return this.cached;
    const keks = new Map<number, Handle>();
    for (const h of this.find(kekTemplate())) {
      const m = /^sovra:kek:v(\d+)$/.exec(text(this.attr(h, pkcs11js.CKA_LABEL)));
      if (m) keks.set(Number(m[1]), h);
    }
    const signers = new Map<string, Handle>();
    const signingKeys: SigningKeyRecord[] = [];
    for (const h of this.find([
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
    ])) {
      const label = text(this.attr(h, pkcs11js.CKA_LABEL));
      const m = /^sovra:sign:v(\d+)$/.exec(label);
      if (!m) continue;
      const rec = this.signingRecord(h, Number(m[1]));
      const priv = this.find([
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
        { type: pkcs11js.CKA_LABEL, value: label },
      ])[0];
      if (!priv) continue;
      signers.set(rec.keyId, priv);
      signingKeys.push(rec);
    }
    const dataKeys: DataKeyRecord[] = [];
    for (const h of this.find(dataClass(APP_DATAKEY))) {
      const v = JSON.parse(text(this.attr(h, pkcs11js.CKA_VALUE))) as Omit<DataKeyRecord, 'wrapped'> & { wrapped: string };
      if (!(KEY_PURPOSES as readonly string[]).includes(v.purpose)) continue;
      dataKeys.push({ ...v, purpose: v.purpose as KeyPurpose, wrapped: Buffer.from(v.wrapped, 'base64') });
    }
    const tombstones: Tombstone[] = this.find(dataClass(APP_TOMBSTONE)).map(
      (h) => JSON.parse(text(this.attr(h, pkcs11js.CKA_VALUE))) as Tombstone,
    );
    if (keks.size === 0 || signingKeys.length === 0) {
      throw new SovraError('internal', 'The HSM token lost its Sovra KEKs or signing keys.', {
        code: 'HSM_KEYS_MISSING',
        fix: 'Restore the token from the HSM backup; Sovra never deletes KEKs or signing keys.',
        retryable: false,
      });
    }
    this.cached = {
      epoch,
      keks,
      signers,
      state: { kekVersions: [...keks.keys()].sort((a, b) => a - b), dataKeys, tombstones, signingKeys },
    };
    return this.cached;
  }

  private find(template: Template): Handle[] {
    this.lib.C_FindObjectsInit(this.session, template);
    try {
      const out: Handle[] = [];
      for (;;) {
        const batch = this.lib.C_FindObjects(this.session, 100);
        out.push(...batch);
        if (batch.length < 100) return out;
      }
    } finally {
      this.lib.C_FindObjectsFinal(this.session);
    }
  }

  private attr(h: Handle, type: number): Buffer | undefined {
    const [a] = this.lib.C_GetAttributeValue(this.session, h, [{ type }]);
    return a?.value as Buffer | undefined;
  }
}

function dataClass(application: string): Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA },
    { type: pkcs11js.CKA_APPLICATION, value: application },
  ];
}

function privateTokenObject(): Template {
  return [
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
  ];
}

function kekTemplate(): Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
  ];
}

function gcm(iv: Buffer, aad: Buffer): pkcs11js.Mechanism {
  return {
    mechanism: pkcs11js.CKM_AES_GCM,
    parameter: { type: pkcs11js.CK_PARAMS_AES_GCM, iv, aad, ivBits: 96, tagBits: 128 } as pkcs11js.AesGCM,
  };
}
