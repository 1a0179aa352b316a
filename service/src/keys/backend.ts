/**
 * What a key provider (keyring file, PKCS#11 token) must offer the envelope service: durable
 * key records, exclusive transactions across processes, and the operations that need the
 * secret key material (wrapping with a KEK, signing), which stay inside the provider.
 */
import type { KeyPurpose, RotationResult } from './types.js';

export interface DataKeyRecord {
  /** 32 hex characters, random. */
  id: string;
  tenant: string;
  purpose: KeyPurpose;
  /** The KEK version current when the key was created; new data uses the newest generation. */
  generation: number;
  /** The KEK version that wraps it now (changes when `rotate` re-wraps). */
  kekVersion: number;
  /** nonce ‖ AES-256-GCM(KEK, data key) ‖ tag, AAD = wrapAad(scope, id, kekVersion). */
  wrapped: Buffer;
  createdAt: string;
}

export interface Tombstone {
  tenant: string;
  /** While true, no key of the tenant is created or used: the tenant was shredded. */
  active: boolean;
  destroyedAt: string;
  /** Ids of every data key destroyed for this tenant (ids only; the keys are gone). */
  destroyedKeyIds: string[];
  reenabledAt?: string;
}

export interface SigningKeyRecord {
  keyId: string;
  version: number;
  publicKeyPem: string;
  createdAt: string;
}

export interface KeyState {
  kekVersions: number[];
  dataKeys: DataKeyRecord[];
  tombstones: Tombstone[];
  signingKeys: SigningKeyRecord[];
}

export interface KeyTxn {
  /** Freshly read inside the lock. */
  readonly state: KeyState;
  putDataKey(rec: DataKeyRecord): Promise<void>;
  deleteDataKey(id: string): Promise<void>;
  putTombstone(t: Tombstone): Promise<void>;
  createKek(version: number): Promise<void>;
  createSigningKey(version: number): Promise<SigningKeyRecord>;
}

export interface KeyBackend {
  readonly provider: 'local' | 'pkcs11';
  readonly jurisdiction: string;
  /** The current state; re-read when another process changed the store. */
  state(): Promise<KeyState>;
  /** Runs fn exclusively (this process and others), then persists what it changed. */
  transaction<T>(fn: (txn: KeyTxn) => Promise<T>): Promise<T>;
  wrap(kekVersion: number, dataKey: Buffer, aad: Buffer): Promise<Buffer>;
  /** undefined when the wrapped key does not authenticate under that KEK and AAD. */
  unwrap(kekVersion: number, wrapped: Buffer, aad: Buffer): Promise<Buffer | undefined>;
  sign(keyId: string, data: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

/** What `rotate()` reports beyond the interface: the signing key that is now current. */
export interface KeyRotationReport extends RotationResult {
  previousKekVersion: number;
  signingKeyId: string;
}

export const newest = (versions: readonly number[]): number => versions.reduce((a, b) => Math.max(a, b), 0);

/** `EU-ed25519-v2-1f2e3d4c`: jurisdiction, algorithm, version and a public-key fingerprint. */
export function signingKeyId(jurisdiction: string, version: number, fingerprintHex: string): string {
  return `${jurisdiction}-ed25519-v${version}-${fingerprintHex.slice(0, 8)}`;
}
