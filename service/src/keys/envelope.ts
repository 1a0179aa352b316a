/**
 * The envelope: how a ciphertext at rest looks, and what it is bound to. Every envelope names
 * the data key that sealed it, and tenant, jurisdiction, purpose and that key are bound as
 * AES-GCM associated data, so an envelope copied to another tenant, jurisdiction or purpose
 * fails to open even if someone also copied the key record.
 *
 * Binary layout (all integers big-endian):
 *   0  4  magic 'SVK' + 0x01 (format version 1)
 *   4  4  key generation: the KEK version that was current when the data key was created
 *   8 16  data key id (random)
 *  24 12  AES-GCM nonce (random per envelope)
 *  36 16  AES-GCM tag
 *  52  …  ciphertext
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SovraError } from '../shared/errors.js';
import { KEY_PURPOSES, type DataKeyScope, type KeyPurpose } from './types.js';

export const ENVELOPE_MAGIC = Buffer.from([0x53, 0x56, 0x4b, 0x01]);
const HEADER = 52;
export const KEY_ID_BYTES = 16;
const NONCE = 12;
const TAG = 16;

export interface EnvelopeHeader {
  generation: number;
  keyId: string;
}

const TENANT = /^[\w.:@-]{1,128}$/u;
const JURISDICTION = /^[A-Z]{2,8}$/;

/** Throws a validation error unless the scope names a tenant, a jurisdiction id and a known purpose. */
export function checkScope(scope: DataKeyScope): void {
  if (typeof scope !== 'object' || scope === null) throw scopeInvalid('a scope { tenant, jurisdiction, purpose } is required');
  checkTenant(scope.tenant);
  if (typeof scope.jurisdiction !== 'string' || !JURISDICTION.test(scope.jurisdiction)) {
    throw scopeInvalid('scope.jurisdiction must be a jurisdiction id (2–8 upper-case letters, e.g. EU)');
  }
  if (!(KEY_PURPOSES as readonly string[]).includes(scope.purpose)) {
    throw scopeInvalid(`scope.purpose must be one of ${KEY_PURPOSES.join(', ')}`);
  }
}

export function checkTenant(tenant: unknown): asserts tenant is string {
  if (typeof tenant !== 'string' || !TENANT.test(tenant)) {
    throw scopeInvalid('the tenant must be 1–128 characters of letters, digits, and . _ : @ -');
  }
}

export function checkJurisdictionId(jurisdiction: unknown): asserts jurisdiction is string {
  if (typeof jurisdiction !== 'string' || !JURISDICTION.test(jurisdiction)) {
    throw new SovraError('validation', 'A key provider needs a jurisdiction id (2–8 upper-case letters, e.g. EU).', {
      code: 'KEY_SCOPE_INVALID',
      fix: "Pass the deployment's jurisdiction (deployment.jurisdiction in the config).",
    });
  }
}

function scopeInvalid(what: string): SovraError {
  return new SovraError('validation', `Invalid key scope: ${what}.`, {
    code: 'KEY_SCOPE_INVALID',
    fix: 'Call the key service with the record’s tenant id, its jurisdiction and one of the declared key purposes.',
  });
}

/** Associated data for an envelope: an unambiguous encoding (a JSON array of strings). */
export function envelopeAad(scope: DataKeyScope, header: EnvelopeHeader): Buffer {
  return Buffer.from(
    JSON.stringify(['sovra.envelope.v1', scope.tenant, scope.jurisdiction, scope.purpose, header.keyId, header.generation]),
    'utf8',
  );
}

/** Associated data for a wrapped data key: the key cannot be moved to another scope or KEK version. */
export function wrapAad(jurisdiction: string, tenant: string, purpose: KeyPurpose, keyId: string, kekVersion: number): Buffer {
  return Buffer.from(JSON.stringify(['sovra.datakey.v1', jurisdiction, tenant, purpose, keyId, kekVersion]), 'utf8');
}

export function decryptFailed(reason: string): SovraError {
  return new SovraError('validation', `The ciphertext cannot be decrypted: ${reason}.`, {
    code: 'DECRYPT_FAILED',
    fix: 'It was altered, truncated, or belongs to another tenant, jurisdiction or purpose; decrypt it with the scope it was written for.',
  });
}

/** Reads the header without trusting it: the header is authenticated when the envelope is opened. */
export function parseHeader(envelope: Uint8Array): EnvelopeHeader {
  if (!(envelope instanceof Uint8Array)) throw decryptFailed('it is not binary data');
  const buf = Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength);
  if (buf.length < HEADER) throw decryptFailed('it is too short to be a Sovra envelope');
  if (!buf.subarray(0, 4).equals(ENVELOPE_MAGIC)) throw decryptFailed('it is not a Sovra envelope (unknown magic or format version)');
  return { generation: buf.readUInt32BE(4), keyId: buf.subarray(8, 8 + KEY_ID_BYTES).toString('hex') };
}

export function seal(dataKey: Buffer, scope: DataKeyScope, header: EnvelopeHeader, plaintext: Buffer): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', dataKey, nonce);
  cipher.setAAD(envelopeAad(scope, header));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const head = Buffer.alloc(HEADER);
  ENVELOPE_MAGIC.copy(head, 0);
  head.writeUInt32BE(header.generation, 4);
  Buffer.from(header.keyId, 'hex').copy(head, 8);
  nonce.copy(head, 24);
  cipher.getAuthTag().copy(head, 36);
  return Buffer.concat([head, ct]);
}

export function open(dataKey: Buffer, scope: DataKeyScope, envelope: Uint8Array): Buffer {
  const header = parseHeader(envelope);
  const buf = Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength);
  const decipher = createDecipheriv('aes-256-gcm', dataKey, buf.subarray(24, 24 + NONCE));
  decipher.setAAD(envelopeAad(scope, header));
  decipher.setAuthTag(buf.subarray(36, 36 + TAG));
  try {
    return Buffer.concat([decipher.update(buf.subarray(HEADER)), decipher.final()]);
  } catch {
    throw decryptFailed('authentication failed');
  }
}

/** AES-256-GCM for wrapping a data key in software (local provider): nonce ‖ ciphertext ‖ tag. */
export function gcmWrap(kek: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce);
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, ct, cipher.getAuthTag()]);
}

/** Inverse of gcmWrap; returns undefined when authentication fails. */
export function gcmUnwrap(kek: Buffer, wrapped: Buffer, aad: Buffer): Buffer | undefined {
  if (wrapped.length < NONCE + TAG) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, NONCE));
  decipher.setAAD(aad);
  decipher.setAuthTag(wrapped.subarray(wrapped.length - TAG));
  try {
    return Buffer.concat([decipher.update(wrapped.subarray(NONCE, wrapped.length - TAG)), decipher.final()]);
  } catch {
    return undefined;
  }
}
