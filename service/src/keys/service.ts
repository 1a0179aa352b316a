/**
 * The envelope key service over one provider. Guarantees:
 *  - a scope of another jurisdiction is refused before any key is touched;
 *  - a data key is used only for the (tenant, purpose) it was created for, and the envelope's
 *    AAD binds tenant, jurisdiction, purpose and key, so moved ciphertexts fail;
 *  - after `destroyTenant`, the tenant's data keys are gone from the store and from memory,
 *    and no new key is created for the tenant until it is explicitly re-enabled;
 *  - rotation never makes existing data unreadable (old KEK versions stay to unwrap).
 */
import { createHmac, createPublicKey, hkdfSync, randomBytes, verify as edVerify, type KeyObject } from 'node:crypto';
import { SovraError } from '../shared/errors.js';
import { log } from '../shared/log.js';
import { newest, type DataKeyRecord, type KeyBackend, type KeyRotationReport, type KeyState, type Tombstone } from './backend.js';
import { emitKeyEvent, type KeyEventDelivery } from './events.js';
import { checkScope, checkTenant, decryptFailed, KEY_ID_BYTES, open, parseHeader, seal, wrapAad } from './envelope.js';
import type { DataKeyScope, DestroyResult, KeyService, PublicKeyInfo, Signature } from './types.js';

/** The key service with the administrative operations the `sovra keys` commands use. */
export interface ManagedKeyService extends KeyService {
  rotate(): Promise<KeyRotationReport & { audit: KeyEventDelivery }>;
  destroyTenant(tenant: string): Promise<KeyDestroyReport>;
  /** Lifts a tenant's destroy tombstone so new data may be encrypted again (old data stays unreadable). */
  reenableTenant(tenant: string): Promise<{ tenant: string; jurisdiction: string; reenabledAt: string; audit: KeyEventDelivery }>;
  /** Counts only: KEK versions, data keys, signing keys, destroyed tenants. */
  status(): Promise<KeyStoreStatus>;
}

/** `destroyTenant`'s result with how many key-event listeners (the audit) recorded it. */
export interface KeyDestroyReport extends DestroyResult {
  audit: KeyEventDelivery;
}

export interface KeyStoreStatus {
  provider: 'local' | 'pkcs11';
  jurisdiction: string;
  kekVersion: number;
  kekVersions: number;
  dataKeys: number;
  tenants: number;
  signingKeyId: string;
  destroyedTenants: string[];
}

interface Index {
  byId: Map<string, DataKeyRecord>;
  byScope: Map<string, DataKeyRecord[]>;
  tombstones: Map<string, Tombstone>;
  destroyedIds: Map<string, string>;
}

const scopeKey = (tenant: string, purpose: string): string => JSON.stringify([tenant, purpose]);

export class EnvelopeKeyService implements ManagedKeyService {
  readonly jurisdiction: string;
  readonly provider: 'local' | 'pkcs11';
  private readonly indexes = new WeakMap<KeyState, Index>();
  private readonly dataKeys = new Map<string, Buffer>();
  private readonly publicKeyObjects = new Map<string, KeyObject>();
  private closed = false;

  constructor(
    private readonly backend: KeyBackend,
    private readonly clock: () => Date,
  ) {
    this.jurisdiction = backend.jurisdiction;
    this.provider = backend.provider;
  }

  async encrypt(scope: DataKeyScope, plaintext: Uint8Array | string): Promise<Buffer> {
    this.checkOpen();
    this.checkJurisdiction(scope);
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : Buffer.from(plaintext);
    const state = await this.backend.state();
    const generation = newest(state.kekVersions);
    const rec = await this.keyFor(scope, state, (list) => list.find((r) => r.generation === generation), generation);
    return seal(await this.unwrapped(rec), scope, { generation: rec.generation, keyId: rec.id }, data);
  }

  async decrypt(scope: DataKeyScope, envelope: Uint8Array): Promise<Buffer> {
    this.checkOpen();
    this.checkJurisdiction(scope);
    const header = parseHeader(envelope);
    const idx = this.index(await this.backend.state());
    const rec = idx.byId.get(header.keyId);
    if (!rec) {
      const owner = idx.destroyedIds.get(header.keyId);
      if (owner === scope.tenant) throw destroyed(scope.tenant, this.jurisdiction);
      if (owner !== undefined) throw scopeMismatch();
      throw decryptFailed(`its data key is not in the ${this.jurisdiction} key store (written in another jurisdiction or key store)`);
    }
    if (rec.tenant !== scope.tenant || rec.purpose !== scope.purpose) throw scopeMismatch();
    if (rec.generation !== header.generation) throw decryptFailed('the key generation in its header was altered');
    return open(await this.unwrapped(rec), scope, envelope);
  }

  async hmac(scope: DataKeyScope, data: Uint8Array | string): Promise<string> {
    this.checkOpen();
    this.checkJurisdiction(scope);
    const state = await this.backend.state();
    // Keyed hashes must stay stable across rotations: always the scope's first data key.
    const rec = await this.keyFor(scope, state, (list) => list[0], newest(state.kekVersions));
    const key = Buffer.from(hkdfSync('sha256', await this.unwrapped(rec), Buffer.alloc(0), 'sovra.hmac.v1', 32));
    const mac = createHmac('sha256', key)
      .update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
      .digest('hex');
    key.fill(0);
    return mac;
  }

  async sign(data: Uint8Array): Promise<Signature> {
    this.checkOpen();
    const state = await this.backend.state();
    const current = state.signingKeys.reduce((a, b) => (b.version > a.version ? b : a));
    const signature = await this.backend.sign(current.keyId, Buffer.from(data));
    return { signature: signature.toString('base64'), keyId: current.keyId, algorithm: 'Ed25519' };
  }

  async verify(data: Uint8Array, signature: Signature): Promise<boolean> {
    this.checkOpen();
    if (!signature || signature.algorithm !== 'Ed25519' || typeof signature.signature !== 'string') return false;
    const state = await this.backend.state();
    const rec = state.signingKeys.find((k) => k.keyId === signature.keyId);
    if (!rec) return false; // another jurisdiction's key, or none of ours
    let key = this.publicKeyObjects.get(rec.keyId);
    if (!key) {
      key = createPublicKey(rec.publicKeyPem);
      this.publicKeyObjects.set(rec.keyId, key);
    }
    const sig = Buffer.from(signature.signature, 'base64');
    if (sig.length !== 64) return false;
    return edVerify(null, Buffer.from(data), key, sig);
  }

  async publicKeys(): Promise<PublicKeyInfo[]> {
    this.checkOpen();
    const state = await this.backend.state();
    return [...state.signingKeys]
      .sort((a, b) => a.version - b.version)
      .map((k) => ({ keyId: k.keyId, algorithm: 'Ed25519' as const, jurisdiction: this.jurisdiction, publicKeyPem: k.publicKeyPem }));
  }

  async rotate(): Promise<KeyRotationReport & { audit: KeyEventDelivery }> {
    this.checkOpen();
    const report = await this.backend.transaction(async (txn) => {
      const previous = newest(txn.state.kekVersions);
      const next = previous + 1;
      await txn.createKek(next);
      let rewrapped = 0;
      for (const rec of txn.state.dataKeys) {
        const key = await this.unwrapRecord(rec);
        const wrapped = await this.backend.wrap(next, key, wrapAad(this.jurisdiction, rec.tenant, rec.purpose, rec.id, next));
        key.fill(0);
        await txn.putDataKey({ ...rec, kekVersion: next, wrapped });
        rewrapped++;
      }
      const signing = await txn.createSigningKey(newest(txn.state.signingKeys.map((k) => k.version)) + 1);
      return { jurisdiction: this.jurisdiction, kekVersion: next, previousKekVersion: previous, rewrapped, signingKeyId: signing.keyId };
    });
    log().info('keys rotated', {
      jurisdiction: report.jurisdiction,
      kekVersion: report.kekVersion,
      rewrapped: report.rewrapped,
      signingKeyId: report.signingKeyId,
    });
    const audit = await emitKeyEvent({ type: 'keys.rotated', report, at: this.clock().toISOString() });
    return { ...report, audit };
  }

  async destroyTenant(tenant: string): Promise<KeyDestroyReport> {
    this.checkOpen();
    checkTenant(tenant);
    try {
      await emitKeyEvent({ type: 'tenant.destroying', tenant, jurisdiction: this.jurisdiction, at: this.clock().toISOString() }, true);
    } catch (err) {
      throw new SovraError('unavailable', `The destroy of tenant ${tenant}'s keys was not started: the audit trail could not record it.`, {
        code: 'KEY_AUDIT_FAILED',
        fix: 'Nothing was destroyed. Fix the audit store (see the log) and run the destroy again.',
        details: { tenant, jurisdiction: this.jurisdiction },
        cause: err,
      });
    }
    const destroyedAt = this.clock().toISOString();
    const ids = await this.backend.transaction(async (txn) => {
      const mine = txn.state.dataKeys.filter((r) => r.tenant === tenant).map((r) => r.id);
      for (const id of mine) await txn.deleteDataKey(id);
      const prior = txn.state.tombstones.find((t) => t.tenant === tenant);
      await txn.putTombstone({
        tenant,
        active: true,
        destroyedAt,
        destroyedKeyIds: [...(prior?.destroyedKeyIds ?? []), ...mine],
      });
      return mine;
    });
    for (const id of ids) {
      this.dataKeys.get(id)?.fill(0);
      this.dataKeys.delete(id);
    }
    log().info('tenant keys destroyed', { jurisdiction: this.jurisdiction, tenant, destroyedKeys: ids.length });
    const result: DestroyResult = { tenant, jurisdiction: this.jurisdiction, destroyedKeys: ids.length, destroyedAt };
    const audit = await emitKeyEvent({ type: 'tenant.destroyed', result: { ...result } });
    return { ...result, audit };
  }

  async reenableTenant(tenant: string): Promise<{ tenant: string; jurisdiction: string; reenabledAt: string; audit: KeyEventDelivery }> {
    this.checkOpen();
    checkTenant(tenant);
    const reenabledAt = this.clock().toISOString();
    await this.backend.transaction(async (txn) => {
      const t = txn.state.tombstones.find((x) => x.tenant === tenant);
      if (!t || !t.active) {
        throw new SovraError('conflict', `Tenant ${tenant} has no destroyed keys in ${this.jurisdiction}; nothing to re-enable.`, {
          code: 'TENANT_NOT_DESTROYED',
          details: { tenant, jurisdiction: this.jurisdiction },
        });
      }
      await txn.putTombstone({ ...t, active: false, reenabledAt });
    });
    log().info('tenant keys re-enabled', { jurisdiction: this.jurisdiction, tenant });
    const audit = await emitKeyEvent({ type: 'tenant.reenabled', tenant, jurisdiction: this.jurisdiction, at: reenabledAt });
    return { tenant, jurisdiction: this.jurisdiction, reenabledAt, audit };
  }

  async status(): Promise<KeyStoreStatus> {
    this.checkOpen();
    const state = await this.backend.state();
    const current = state.signingKeys.reduce((a, b) => (b.version > a.version ? b : a));
    return {
      provider: this.provider,
      jurisdiction: this.jurisdiction,
      kekVersion: newest(state.kekVersions),
      kekVersions: state.kekVersions.length,
      dataKeys: state.dataKeys.length,
      tenants: new Set(state.dataKeys.map((r) => r.tenant)).size,
      signingKeyId: current.keyId,
      destroyedTenants: state.tombstones
        .filter((t) => t.active)
        .map((t) => t.tenant)
        .sort(),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const k of this.dataKeys.values()) k.fill(0);
    this.dataKeys.clear();
    await this.backend.close();
  }

  private checkOpen(): void {
    if (this.closed) {
      throw new SovraError('unavailable', 'The key service is closed.', {
        code: 'KEYS_CLOSED',
        fix: 'Create a new key service (createKeyService) after close().',
        retryable: false,
      });
    }
  }

  private checkJurisdiction(scope: DataKeyScope): void {
    checkScope(scope);
    if (scope.jurisdiction !== this.jurisdiction) {
      throw new SovraError('forbidden', `This key provider serves ${this.jurisdiction} only; it refuses keys for ${scope.jurisdiction}.`, {
        code: 'KEY_JURISDICTION_MISMATCH',
        fix: `Use the key provider of ${scope.jurisdiction} (the sidecar deployed in that jurisdiction).`,
        details: { provider: this.jurisdiction, requested: scope.jurisdiction },
      });
    }
  }

  private index(state: KeyState): Index {
    let idx = this.indexes.get(state);
    if (!idx) {
      idx = { byId: new Map(), byScope: new Map(), tombstones: new Map(), destroyedIds: new Map() };
      for (const r of state.dataKeys) {
        idx.byId.set(r.id, r);
        const k = scopeKey(r.tenant, r.purpose);
        const list = idx.byScope.get(k) ?? [];
        list.push(r);
        idx.byScope.set(k, list);
      }
      for (const list of idx.byScope.values()) {
        list.sort((a, b) => a.generation - b.generation || a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
      }
      for (const t of state.tombstones) {
        idx.tombstones.set(t.tenant, t);
        for (const id of t.destroyedKeyIds) idx.destroyedIds.set(id, t.tenant);
      }
      // Keys another process destroyed must not live on in this one's memory.
      for (const [id, key] of this.dataKeys) {
        if (!idx.byId.has(id)) {
          key.fill(0);
          this.dataKeys.delete(id);
        }
      }
      this.indexes.set(state, idx);
    }
    return idx;
  }

  /** The scope's data key chosen by pick, created (under the store's lock) when there is none. */
  private async keyFor(
    scope: DataKeyScope,
    state: KeyState,
    pick: (list: DataKeyRecord[]) => DataKeyRecord | undefined,
    generation: number,
  ): Promise<DataKeyRecord> {
    const idx = this.index(state);
    if (idx.tombstones.get(scope.tenant)?.active) throw destroyed(scope.tenant, this.jurisdiction);
    const found = pick(idx.byScope.get(scopeKey(scope.tenant, scope.purpose)) ?? []);
    if (found) return found;
    return this.backend.transaction(async (txn) => {
      const fresh = this.index(txn.state);
      if (fresh.tombstones.get(scope.tenant)?.active) throw destroyed(scope.tenant, this.jurisdiction);
      const raced = pick(fresh.byScope.get(scopeKey(scope.tenant, scope.purpose)) ?? []);
      if (raced) return raced;
      const kekVersion = newest(txn.state.kekVersions);
      const id = randomBytes(KEY_ID_BYTES).toString('hex');
      const key = randomBytes(32);
      const wrapped = await this.backend.wrap(kekVersion, key, wrapAad(this.jurisdiction, scope.tenant, scope.purpose, id, kekVersion));
      const rec: DataKeyRecord = {
        id,
        tenant: scope.tenant,
        purpose: scope.purpose,
        generation: Math.max(generation, kekVersion),
        kekVersion,
        wrapped,
        createdAt: this.clock().toISOString(),
      };
      await txn.putDataKey(rec);
      this.dataKeys.set(id, key);
      log().info('data key created', { jurisdiction: this.jurisdiction, tenant: scope.tenant, purpose: scope.purpose, keyId: id });
      return rec;
    });
  }

  private async unwrapped(rec: DataKeyRecord): Promise<Buffer> {
    const cached = this.dataKeys.get(rec.id);
    if (cached) return cached;
    const key = await this.unwrapRecord(rec);
    this.dataKeys.set(rec.id, key);
    return key;
  }

  private async unwrapRecord(rec: DataKeyRecord): Promise<Buffer> {
    const key = await this.backend.unwrap(
      rec.kekVersion,
      rec.wrapped,
      wrapAad(this.jurisdiction, rec.tenant, rec.purpose, rec.id, rec.kekVersion),
    );
    if (!key || key.length !== 32) {
      throw new SovraError('internal', `Data key ${rec.id} does not unwrap under KEK version ${rec.kekVersion}.`, {
        code: 'DATA_KEY_CORRUPT',
        fix: 'The key store was altered or belongs to another jurisdiction; restore it from the jurisdiction’s backup.',
        details: { keyId: rec.id, kekVersion: rec.kekVersion },
        retryable: false,
      });
    }
    return key;
  }
}

function destroyed(tenant: string, jurisdiction: string): SovraError {
  return new SovraError('forbidden', `The keys of tenant ${tenant} in ${jurisdiction} were destroyed (crypto-shredded).`, {
    code: 'TENANT_KEYS_DESTROYED',
    fix: 'Data written before the destroy is unrecoverable by design. To store new data for this tenant, re-enable it explicitly (reenableTenant).',
    details: { tenant, jurisdiction },
  });
}

function scopeMismatch(): SovraError {
  return new SovraError('forbidden', 'The ciphertext belongs to another tenant or purpose than the one asked for.', {
    code: 'KEY_SCOPE_MISMATCH',
    fix: 'Decrypt data only with the tenant and purpose it was written for.',
  });
}
