/**
 * The `local` provider: one keyring file per jurisdiction, for a sidecar on one machine.
 *
 * The file (JSON) holds the jurisdiction it serves, versioned AES-256 KEKs, the Ed25519
 * signing keys, the data keys wrapped by a KEK (AES-256-GCM, scope-bound AAD) and the
 * destroy tombstones. It is created on first start with mode 0600 and refused when its mode
 * lets anyone but the owner read it. Every change happens under a lock file, on a freshly
 * read copy, and is written atomically (temp file, fsync, rename, fsync of the folder), so
 * two sidecars on one machine never corrupt it and each sees the other's changes (the file's
 * identity is checked before every use). With `masterKey`, everything but the header is
 * sealed with AES-256-GCM under a key derived from it (scrypt), header bound as AAD.
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, scryptSync, sign as edSign, type KeyObject } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  type BigIntStats,
} from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
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
import { gcmUnwrap, gcmWrap } from './envelope.js';
import { Mutex, withFileLock } from './lock.js';
import { KEY_PURPOSES } from './types.js';

const FORMAT = 'sovra-keyring';
const SCRYPT = { N: 16384, r: 8, p: 1 } as const;

const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const bodySchema = z.strictObject({
  keks: z.array(z.strictObject({ version: z.number().int().positive(), key: b64, createdAt: z.string() })).min(1),
  signingKeys: z
    .array(
      z.strictObject({
        keyId: z.string().min(1),
        version: z.number().int().positive(),
        privateKeyPem: z.string().min(1),
        publicKeyPem: z.string().min(1),
        createdAt: z.string(),
      }),
    )
    .min(1),
  dataKeys: z.array(
    z.strictObject({
      id: z.string().regex(/^[a-f0-9]{32}$/),
      tenant: z.string().min(1),
      purpose: z.enum(KEY_PURPOSES),
      generation: z.number().int().positive(),
      kekVersion: z.number().int().positive(),
      wrapped: b64,
      createdAt: z.string(),
    }),
  ),
  tombstones: z.array(
    z.strictObject({
      tenant: z.string().min(1),
      active: z.boolean(),
      destroyedAt: z.string(),
      destroyedKeyIds: z.array(z.string()),
      reenabledAt: z.string().optional(),
    }),
  ),
});
type Body = z.infer<typeof bodySchema>;

const fileSchema = z.strictObject({
  format: z.literal(FORMAT),
  formatVersion: z.literal(1),
  jurisdiction: z.string(),
  createdAt: z.string(),
  revision: z.number().int().min(0),
  protection: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('none') }),
    z.strictObject({ kind: z.literal('masterKey'), kdf: z.literal('scrypt'), salt: b64, N: z.number(), r: z.number(), p: z.number() }),
  ]),
  body: bodySchema.optional(),
  sealed: b64.optional(),
});
type KeyringFile = z.infer<typeof fileSchema>;

export interface LocalKeyringOptions {
  path: string;
  jurisdiction: string;
  /** The secret named by `keys.masterKey`, already read; undefined when the file relies on its mode. */
  masterKey?: string;
  clock: () => Date;
}

interface Loaded {
  stamp: string;
  file: KeyringFile;
  body: Body;
  state: KeyState;
}

function keyringError(path: string, what: string, fix: string, code = 'KEYRING_INVALID', cause?: unknown): SovraError {
  return new SovraError('validation', `The keyring ${path} ${what}.`, { code, fix, details: { path }, cause });
}

function stampOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

function toState(body: Body): KeyState {
  return {
    kekVersions: body.keks.map((k) => k.version),
    dataKeys: body.dataKeys.map((d) => ({ ...d, wrapped: Buffer.from(d.wrapped, 'base64') })),
    tombstones: body.tombstones.map((t) => ({ ...t, destroyedKeyIds: [...t.destroyedKeyIds] })),
    signingKeys: body.signingKeys.map((s) => ({
      keyId: s.keyId,
      version: s.version,
      publicKeyPem: s.publicKeyPem,
      createdAt: s.createdAt,
    })),
  };
}

function newSigningKey(jurisdiction: string, version: number, createdAt: string): Body['signingKeys'][number] {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return {
    keyId: signingKeyId(jurisdiction, version, createHash('sha256').update(raw).digest('hex')),
    version,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    createdAt,
  };
}

export class LocalKeyring implements KeyBackend {
  readonly provider = 'local' as const;
  readonly jurisdiction: string;
  private readonly path: string;
  private readonly lockPath: string;
  private readonly masterKey?: string;
  private readonly clock: () => Date;
  private readonly mutex = new Mutex();
  private derived?: { salt: string; key: Buffer };
  private loaded?: Loaded;
  /** The body being changed by the running transaction (its new KEKs wrap before they are written). */
  private pending?: Body;
  private readonly privateKeys = new Map<string, KeyObject>();

  private constructor(opts: LocalKeyringOptions) {
    this.path = opts.path;
    this.lockPath = `${opts.path}.lock`;
    this.jurisdiction = opts.jurisdiction;
    this.masterKey = opts.masterKey;
    this.clock = opts.clock;
  }

  /** Opens the keyring, creating it on first start. */
  static async open(opts: LocalKeyringOptions): Promise<LocalKeyring> {
    const ring = new LocalKeyring(opts);
    if (!ring.exists()) {
      mkdirSync(dirname(opts.path), { recursive: true, mode: 0o700 });
      await withFileLock(ring.lockPath, async () => {
        if (!ring.exists()) ring.create();
      });
    }
    ring.read();
    return ring;
  }

  async state(): Promise<KeyState> {
    return this.read().state;
  }

  async transaction<T>(fn: (txn: KeyTxn) => Promise<T>): Promise<T> {
    return this.mutex.run(() =>
      withFileLock(this.lockPath, async () => {
        const cur = this.read();
        const body: Body = structuredClone(cur.body);
        const state = toState(body);
        let dirty = false;
        const txn: KeyTxn = {
          state,
          putDataKey: async (rec: DataKeyRecord) => {
            const row = { ...rec, wrapped: rec.wrapped.toString('base64') };
            const i = body.dataKeys.findIndex((d) => d.id === rec.id);
            if (i >= 0) body.dataKeys[i] = row;
            else body.dataKeys.push(row);
            dirty = true;
          },
          deleteDataKey: async (id: string) => {
            body.dataKeys = body.dataKeys.filter((d) => d.id !== id);
            dirty = true;
          },
          putTombstone: async (t: Tombstone) => {
            body.tombstones = [...body.tombstones.filter((x) => x.tenant !== t.tenant), { ...t }];
            dirty = true;
          },
          createKek: async (version: number) => {
            if (body.keks.some((k) => k.version === version)) throw new Error(`KEK version ${version} exists`);
            body.keks.push({ version, key: randomBytes(32).toString('base64'), createdAt: this.clock().toISOString() });
            dirty = true;
          },
          createSigningKey: async (version: number): Promise<SigningKeyRecord> => {
            const k = newSigningKey(this.jurisdiction, version, this.clock().toISOString());
            body.signingKeys.push(k);
            dirty = true;
            return { keyId: k.keyId, version: k.version, publicKeyPem: k.publicKeyPem, createdAt: k.createdAt };
          },
        };
        this.pending = body;
        try {
          const result = await fn(txn);
          if (dirty) this.write({ ...cur.file, revision: cur.file.revision + 1 }, body);
          return result;
        } finally {
          this.pending = undefined;
        }
      }),
    );
  }

  async wrap(kekVersion: number, dataKey: Buffer, aad: Buffer): Promise<Buffer> {
    return gcmWrap(this.kek(kekVersion), dataKey, aad);
  }

  async unwrap(kekVersion: number, wrapped: Buffer, aad: Buffer): Promise<Buffer | undefined> {
    return gcmUnwrap(this.kek(kekVersion), wrapped, aad);
  }

  async sign(keyId: string, data: Buffer): Promise<Buffer> {
    let key = this.privateKeys.get(keyId);
    if (!key) {
      const rec = this.read().body.signingKeys.find((k) => k.keyId === keyId);
      if (!rec) throw keyringError(this.path, `has no signing key ${keyId}`, 'Restore the keyring from backup.', 'SIGNING_KEY_MISSING');
      key = createPrivateKey(rec.privateKeyPem);
      this.privateKeys.set(keyId, key);
    }
    return edSign(null, data, key);
  }

  async close(): Promise<void> {
    this.privateKeys.clear();
    this.derived?.key.fill(0);
    this.derived = undefined;
    this.loaded = undefined;
  }

  private kek(version: number): Buffer {
    const k = (this.pending ?? this.read().body).keks.find((x) => x.version === version);
    if (!k) {
      throw keyringError(
        this.path,
        `has no KEK version ${version}`,
        'Restore the keyring from its latest backup; a KEK is never deleted by Sovra.',
        'KEK_MISSING',
      );
    }
    return Buffer.from(k.key, 'base64');
  }

  private exists(): boolean {
    try {
      statSync(this.path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw keyringError(
        this.path,
        `cannot be read (${(err as NodeJS.ErrnoException).code})`,
        'Check the path and its permissions.',
        'KEYRING_UNREADABLE',
        err,
      );
    }
  }

  private create(): void {
    const now = this.clock().toISOString();
    const protection: KeyringFile['protection'] = this.masterKey
      ? { kind: 'masterKey', kdf: 'scrypt', salt: randomBytes(16).toString('base64'), ...SCRYPT }
      : { kind: 'none' };
    const file: KeyringFile = {
      format: FORMAT,
      formatVersion: 1,
      jurisdiction: this.jurisdiction,
      createdAt: now,
      revision: 0,
      protection,
    };
    const body: Body = {
      keks: [{ version: 1, key: randomBytes(32).toString('base64'), createdAt: now }],
      signingKeys: [newSigningKey(this.jurisdiction, 1, now)],
      dataKeys: [],
      tombstones: [],
    };
    this.write(file, body);
    log().info('keyring created', { jurisdiction: this.jurisdiction, protection: protection.kind });
  }

  /** Re-reads the file when it changed since the last read (another process wrote it). */
  private read(): Loaded {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (err) {
      throw keyringError(
        this.path,
        `cannot be opened (${(err as NodeJS.ErrnoException).code})`,
        'Check the path in keys.path and that the sidecar user owns the file.',
        'KEYRING_UNREADABLE',
        err,
      );
    }
    try {
      const st = statSync(this.path, { bigint: true });
      const stamp = stampOf(st);
      if (this.loaded && this.loaded.stamp === stamp) return this.loaded;
      if ((Number(st.mode) & 0o077) !== 0) {
        throw keyringError(
          this.path,
          `is readable by others (mode ${(Number(st.mode) & 0o777).toString(8).padStart(4, '0')})`,
          `Restrict it to its owner: chmod 600 ${this.path}`,
          'KEYRING_MODE_TOO_OPEN',
        );
      }
      const raw = readFileSync(fd, 'utf8');
      this.loaded = this.parse(raw, stamp);
      return this.loaded;
    } finally {
      closeSync(fd);
    }
  }

  private parse(raw: string, stamp: string): Loaded {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      throw keyringError(this.path, 'is not valid JSON', 'Restore the keyring from its latest backup.', 'KEYRING_INVALID', err);
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success)
      throw keyringError(this.path, 'is not a Sovra keyring (format check failed)', 'Point keys.path at a Sovra keyring or at a new path.');
    const file = parsed.data;
    if (file.jurisdiction !== this.jurisdiction) {
      throw new SovraError(
        'forbidden',
        `The keyring ${this.path} belongs to ${file.jurisdiction}; this provider serves ${this.jurisdiction}.`,
        {
          code: 'KEY_JURISDICTION_MISMATCH',
          fix: `Give the ${this.jurisdiction} jurisdiction its own keyring (keys.path); a keyring never serves two jurisdictions.`,
          details: { path: this.path, keyring: file.jurisdiction, provider: this.jurisdiction },
        },
      );
    }
    let bodyJson: unknown = file.body;
    if (file.protection.kind === 'masterKey') {
      if (!this.masterKey) {
        throw keyringError(
          this.path,
          'is sealed with a master key but none is configured',
          'Set keys.masterKey to the secret the keyring was created with.',
          'KEYRING_MASTER_KEY_REQUIRED',
        );
      }
      const plain = file.sealed ? gcmUnwrap(this.sealKey(file.protection), Buffer.from(file.sealed, 'base64'), headerAad(file)) : undefined;
      if (!plain) {
        throw keyringError(
          this.path,
          'does not open with the configured master key (wrong key or altered file)',
          'Check keys.masterKey; restore the keyring from backup if it was altered.',
          'KEYRING_MASTER_KEY_WRONG',
        );
      }
      bodyJson = JSON.parse(plain.toString('utf8'));
      plain.fill(0);
    } else if (this.masterKey) {
      throw keyringError(
        this.path,
        'is not sealed, but keys.masterKey is set',
        'Remove keys.masterKey, or create a new keyring with it (a keyring is sealed when it is created).',
        'KEYRING_NOT_SEALED',
      );
    }
    const body = bodySchema.safeParse(bodyJson);
    if (!body.success) throw keyringError(this.path, 'has an invalid key section', 'Restore the keyring from its latest backup.');
    return { stamp, file, body: body.data, state: toState(body.data) };
  }

  private sealKey(p: Extract<KeyringFile['protection'], { kind: 'masterKey' }>): Buffer {
    if (this.derived?.salt !== p.salt) {
      this.derived = {
        salt: p.salt,
        key: scryptSync(this.masterKey ?? '', Buffer.from(p.salt, 'base64'), 32, { N: p.N, r: p.r, p: p.p, maxmem: 64 * 1024 * 1024 }),
      };
    }
    return this.derived.key;
  }

  private write(file: KeyringFile, body: Body): void {
    const out: KeyringFile = { ...file, body: undefined, sealed: undefined };
    if (file.protection.kind === 'masterKey') {
      out.sealed = gcmWrap(this.sealKey(file.protection), Buffer.from(JSON.stringify(body), 'utf8'), headerAad(out)).toString('base64');
    } else {
      out.body = body;
    }
    const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(out, null, 1)}\n`);
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      unlinkSync(tmp);
      throw err;
    }
    closeSync(fd);
    renameSync(tmp, this.path);
    const dfd = openSync(dirname(this.path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }
}

function headerAad(file: KeyringFile): Buffer {
  return Buffer.from(JSON.stringify([FORMAT, file.formatVersion, file.jurisdiction, file.createdAt, file.revision]), 'utf8');
}
