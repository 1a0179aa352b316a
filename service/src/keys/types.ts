/**
 * The keys interface every stage uses. Data at rest that came from a CRM is encrypted with a
 * data key of its (tenant, jurisdiction, purpose), wrapped by a key-encryption key held in
 * that jurisdiction's key store; audit checkpoints are signed with the jurisdiction's
 * Ed25519 key. A provider serves exactly one jurisdiction and refuses any other.
 */

export const KEY_PURPOSES = ['token-map', 'outbox', 'prompt', 'field-cache', 'audit-hmac', 'token-hmac'] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

export interface DataKeyScope {
  tenant: string;
  jurisdiction: string;
  purpose: KeyPurpose;
}

export interface Signature {
  /** Base64 Ed25519 signature. */
  signature: string;
  keyId: string;
  algorithm: 'Ed25519';
}

export interface PublicKeyInfo {
  keyId: string;
  algorithm: 'Ed25519';
  jurisdiction: string;
  /** SPKI PEM, for auditors and `sovra audit export`. */
  publicKeyPem: string;
}

export interface RotationResult {
  jurisdiction: string;
  /** Key-encryption key version now used for new data. */
  kekVersion: number;
  /** Data keys re-wrapped under the new KEK version. */
  rewrapped: number;
}

export interface DestroyResult {
  tenant: string;
  jurisdiction: string;
  /** Data keys destroyed (their wrapped copies are gone and unrecoverable). */
  destroyedKeys: number;
  destroyedAt: string;
}

export interface KeyService {
  /** The one jurisdiction this provider serves. */
  readonly jurisdiction: string;
  readonly provider: 'local' | 'pkcs11';
  /** AES-256-GCM envelope; key id/version recorded inside; tenant, jurisdiction and purpose bound as AAD. */
  encrypt(scope: DataKeyScope, plaintext: Uint8Array | string): Promise<Buffer>;
  decrypt(scope: DataKeyScope, envelope: Uint8Array): Promise<Buffer>;
  /** Keyed hash (HMAC-SHA256, hex) with the scope's key: audit hashes of raw text, deterministic tokens. */
  hmac(scope: DataKeyScope, data: Uint8Array | string): Promise<string>;
  sign(data: Uint8Array): Promise<Signature>;
  verify(data: Uint8Array, signature: Signature): Promise<boolean>;
  publicKeys(): Promise<PublicKeyInfo[]>;
  /** New KEK version for new data; existing data keys re-wrapped; old data stays readable. */
  rotate(): Promise<RotationResult>;
  /** Crypto-shredding: every data key of the tenant destroyed; its data at rest becomes unreadable. */
  destroyTenant(tenant: string): Promise<DestroyResult>;
  close(): Promise<void>;
}
