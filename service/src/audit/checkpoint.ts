/**
 * Checkpoint signatures. The signed bytes are the canonical JSON of the checkpoint's content
 * (chain, jurisdiction, range, Merkle root, last entry hash, time). A signature counts only
 * if it verifies under a trusted public key *of the checkpoint's own jurisdiction*: a
 * checkpoint signed with another jurisdiction's key is a bad signature.
 */
import { createPublicKey, verify as edVerify } from 'node:crypto';
import type { PublicKeyInfo } from '../keys/types.js';
import { canonicalJson } from './entry.js';
import type { AuditCheckpoint } from './record.js';

export type CheckpointContent = Pick<
  AuditCheckpoint,
  'tenant' | 'chainId' | 'jurisdiction' | 'fromSeq' | 'toSeq' | 'merkleRoot' | 'lastEntryHash' | 'signedAt'
>;

export function checkpointSigningBytes(c: CheckpointContent): Buffer {
  return Buffer.from(
    canonicalJson({
      type: 'sovra.audit.checkpoint.v1',
      tenant: c.tenant,
      chainId: c.chainId,
      jurisdiction: c.jurisdiction,
      fromSeq: c.fromSeq,
      toSeq: c.toSeq,
      merkleRoot: c.merkleRoot,
      lastEntryHash: c.lastEntryHash,
      signedAt: c.signedAt,
    }),
    'utf8',
  );
}

export interface SignatureCheck {
  ok: boolean;
  /** The trusted key that verified it. */
  keyId?: string;
  problem?: string;
}

export function verifyCheckpointSignature(c: AuditCheckpoint, trusted: readonly PublicKeyInfo[]): SignatureCheck {
  if (c.algorithm !== 'Ed25519') return { ok: false, problem: `algorithm ${String(c.algorithm)} is not Ed25519` };
  const candidates = trusted.filter((k) => k.jurisdiction === c.jurisdiction && k.algorithm === 'Ed25519');
  if (candidates.length === 0) return { ok: false, problem: `no trusted public key of jurisdiction ${c.jurisdiction}` };
  // The named key first, then the jurisdiction's other keys (rotation keeps old keys trusted).
  candidates.sort((a, b) => Number(b.keyId === c.keyId) - Number(a.keyId === c.keyId));
  const data = checkpointSigningBytes(c);
  let sig: Buffer;
  try {
    sig = Buffer.from(c.signature, 'base64');
  } catch {
    return { ok: false, problem: 'signature is not base64' };
  }
  for (const k of candidates) {
    try {
      if (edVerify(null, data, createPublicKey(k.publicKeyPem), sig)) return { ok: true, keyId: k.keyId };
    } catch {
      // an unusable key or signature shape: try the next key
    }
  }
  return { ok: false, problem: `signature does not verify under any trusted ${c.jurisdiction} key` };
}
