/**
 * RFC 6962 Merkle trees (§2.1): leaves hashed as SHA-256(0x00 || leaf), interior nodes as
 * SHA-256(0x01 || left || right), split at the largest power of two below n. Inclusion
 * proofs are RFC 6962 audit paths, verified with the algorithm of RFC 9162 §2.1.3.2.
 */
import { createHash } from 'node:crypto';

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);

export const leafHash = (leaf: Uint8Array): Buffer => sha256(LEAF, leaf);
export const nodeHash = (left: Uint8Array, right: Uint8Array): Buffer => sha256(NODE, left, right);

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function mth(leaves: readonly Uint8Array[], lo: number, hi: number): Buffer {
  const n = hi - lo;
  if (n === 1) return leafHash(leaves[lo]!);
  const k = largestPowerOfTwoBelow(n);
  return nodeHash(mth(leaves, lo, lo + k), mth(leaves, lo + k, hi));
}

/** Merkle tree hash of the leaves (hex). Throws on an empty list (a checkpoint covers ≥ 1 entry). */
export function merkleRoot(leaves: readonly Uint8Array[]): string {
  if (leaves.length === 0) throw new Error('A Merkle tree needs at least one leaf.');
  return mth(leaves, 0, leaves.length).toString('hex');
}

function path(m: number, leaves: readonly Uint8Array[], lo: number, hi: number, out: Buffer[]): void {
  const n = hi - lo;
  if (n <= 1) return;
  const k = largestPowerOfTwoBelow(n);
  if (m < k) {
    path(m, leaves, lo, lo + k, out);
    out.push(mth(leaves, lo + k, hi));
  } else {
    path(m - k, leaves, lo + k, hi, out);
    out.push(mth(leaves, lo, lo + k));
  }
}

/** The audit path of leaf `index` (hex node hashes, leaf to root). */
export function auditPath(leaves: readonly Uint8Array[], index: number): string[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) throw new RangeError('leaf index outside the tree');
  const out: Buffer[] = [];
  path(index, leaves, 0, leaves.length, out);
  return out.map((b) => b.toString('hex'));
}

/** RFC 9162 §2.1.3.2: does `leaf` sit at `index` of a tree of `size` leaves with this root? */
export function verifyAuditPath(leaf: Uint8Array, index: number, size: number, proof: readonly string[], rootHex: string): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash(leaf);
  for (const hex of proof) {
    if (!/^[0-9a-f]{64}$/.test(hex)) return false;
    const p = Buffer.from(hex, 'hex');
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.toString('hex') === rootHex;
}
