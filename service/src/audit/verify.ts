/**
 * Verifies one audit chain from any source: the local store, the org's `AiAuditEntry__c`
 * records, or an exported file. Entries come as an array or async iterable of parsed
 * records, in any order; what they *claim* (their sequence numbers and hashes) is checked
 * against what they *are* (their recomputed hashes and the prevHash links, which commit to
 * every earlier entry) and against signed checkpoints.
 *
 * How tampering is named, by sequence number:
 *  - edited     the entry at seq n no longer hashes to its EntryHash (any field changed), or
 *               it was replaced by a self-consistent forgery that entry n+1 does not commit to
 *  - deleted    no entry holds seq n (up to the last checkpoint or the known head)
 *  - reordered  an intact entry that belongs at seq n (by its hash and its link) sits at
 *               another sequence number
 *  - inserted   an extra record at seq n besides the entry that belongs there
 * and for checkpoints: bad-signature, checkpoint-mismatch (Merkle root or last hash do not
 * match the entries), checkpoint-missing (a gap between checkpoints).
 */
import type { PublicKeyInfo } from '../keys/types.js';
import { verifyCheckpointSignature } from './checkpoint.js';
import { entryKeyFor, GENESIS_HASH, hashEntry, type AuditEntryRecord } from './entry.js';
import { merkleRoot } from './merkle.js';
import type { AuditCheckpoint, ParsedCheckpoint, ParsedEntry } from './record.js';

export const VERIFY_ISSUE_KINDS = [
  'edited',
  'deleted',
  'reordered',
  'inserted',
  'bad-signature',
  'checkpoint-mismatch',
  'checkpoint-missing',
] as const;
export type VerifyIssueKind = (typeof VERIFY_ISSUE_KINDS)[number];

export interface VerifyIssue {
  kind: VerifyIssueKind;
  /** The sequence number concerned (for checkpoints: the range's first). */
  sequence: number | null;
  /** For checkpoints: the range's last sequence number. */
  toSequence?: number;
  /** For reordered entries: where the record claims to be. */
  claimedSequence?: number;
  detail: string;
}

export interface VerifyResult {
  ok: boolean;
  chainId: string;
  /** Entry records examined. */
  entries: number;
  checkpoints: number;
  /** Range examined. */
  fromSeq: number;
  toSeq: number;
  /** Highest sequence number covered by a valid checkpoint, with every entry up to it intact. */
  verifiedThrough: number;
  issues: VerifyIssue[];
  counts: Record<VerifyIssueKind, number>;
}

export interface VerifyOptions {
  chainId: string;
  /** Checkpoints of the chain (parsed records, or checkpoints from the store). */
  checkpoints?: readonly (AuditCheckpoint | ParsedCheckpoint)[];
  /** Public keys the auditor trusts (from the key service or the evidence pack's trust anchor). */
  trustedKeys?: readonly PublicKeyInfo[];
  /** The head the writer knows (local store): entries up to it must all be present. */
  expectedHead?: { seq: number; hash: string | null };
  /** Verify only [fromSeq, toSeq] (e.g. an export period); links into the range are not checked at fromSeq > 1. */
  fromSeq?: number;
  toSeq?: number;
}

interface Rec {
  claimedSeq: number | null;
  entry?: AuditEntryRecord;
  intact: boolean;
  /** Not intact where it claims to be, but may be intact elsewhere (its sequence number moved). */
  movable: boolean;
  problem?: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

function withSeq(e: AuditEntryRecord, seq: number): string {
  return hashEntry({ ...e, seq });
}

async function collect<T>(src: Iterable<T> | AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of src) out.push(x);
  return out;
}

export async function verifyChain(
  entries: Iterable<ParsedEntry> | AsyncIterable<ParsedEntry>,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const { chainId } = options;
  const issues: VerifyIssue[] = [];
  const recs: Rec[] = [];
  for (const p of await collect(entries)) {
    if (!p.ok) {
      recs.push({ claimedSeq: p.claimedSeq, intact: false, movable: false, problem: p.problem });
      continue;
    }
    const e = p.record;
    let problem: string | undefined;
    let movable = true;
    if (e.chainId !== chainId) [problem, movable] = [`belongs to chain ${e.chainId}`, false];
    else if (!HEX64.test(e.entryHash) || !HEX64.test(e.prevHash)) [problem, movable] = ['hash fields are not SHA-256 hex', false];
    else if (p.entryKey !== null && p.entryKey !== entryKeyFor(chainId, p.claimedSeq))
      problem = 'its sequence number does not match its EntryKey';
    const intact = problem === undefined && withSeq(e, p.claimedSeq) === e.entryHash;
    recs.push({
      claimedSeq: p.claimedSeq,
      entry: e,
      intact,
      movable: !intact && movable,
      problem: problem ?? (intact ? undefined : 'content does not match EntryHash'),
    });
  }

  const inRange = (s: number | null): boolean =>
    s !== null && s >= (options.fromSeq ?? 1) && s <= (options.toSeq ?? Number.MAX_SAFE_INTEGER);

  // Where does each record belong? Intact: where it claims. Otherwise: where its link says, if its content hashes there.
  const byHash = new Map<string, Rec[]>();
  for (const r of recs) if (r.entry) byHash.set(r.entry.entryHash, [...(byHash.get(r.entry.entryHash) ?? []), r]);
  const memo = new Map<Rec, number | undefined>();
  const resolve = (start: Rec): number | undefined => {
    const stack: Rec[] = [start];
    const visiting = new Set<Rec>();
    while (stack.length > 0) {
      const r = stack[stack.length - 1]!;
      if (memo.has(r)) {
        stack.pop();
        continue;
      }
      if (r.intact) {
        memo.set(r, r.claimedSeq!);
        stack.pop();
        continue;
      }
      const e = r.entry;
      if (!e || !r.movable) {
        memo.set(r, undefined);
        stack.pop();
        continue;
      }
      let target: number | undefined;
      if (e.prevHash === GENESIS_HASH) target = 1;
      else {
        const parents = byHash.get(e.prevHash);
        if (parents && parents.length === 1) {
          const parent = parents[0]!;
          if (!memo.has(parent)) {
            if (visiting.has(parent)) {
              memo.set(r, undefined);
              stack.pop();
            } else {
              visiting.add(parent);
              stack.push(parent);
            }
            continue;
          }
          const ps = memo.get(parent);
          if (ps !== undefined) target = ps + 1;
        }
      }
      memo.set(r, target !== undefined && target !== r.claimedSeq && withSeq(e, target) === e.entryHash ? target : undefined);
      stack.pop();
    }
    return memo.get(start);
  };

  const authentic = new Map<number, Rec[]>();
  const edited = new Map<number, Rec[]>();
  let maxSeq = 0;
  for (const r of recs) {
    const a = resolve(r);
    if (a !== undefined) {
      authentic.set(a, [...(authentic.get(a) ?? []), r]);
      maxSeq = Math.max(maxSeq, a);
      if (a !== r.claimedSeq && inRange(a)) {
        issues.push({
          kind: 'reordered',
          sequence: a,
          claimedSequence: r.claimedSeq ?? undefined,
          detail: `the entry that belongs at ${a} sits at ${r.claimedSeq}`,
        });
      }
    } else if (r.claimedSeq !== null) {
      edited.set(r.claimedSeq, [...(edited.get(r.claimedSeq) ?? []), r]);
      maxSeq = Math.max(maxSeq, r.claimedSeq);
    } else {
      issues.push({ kind: 'inserted', sequence: null, detail: `a record without a usable sequence number (${r.problem ?? 'malformed'})` });
    }
  }

  const cps: AuditCheckpoint[] = [];
  for (const c of options.checkpoints ?? []) {
    if ('ok' in c) {
      if (c.ok) cps.push(c.checkpoint);
      else issues.push({ kind: 'bad-signature', sequence: c.toSeq, detail: `checkpoint record unreadable: ${c.problem}` });
    } else cps.push(c);
  }
  cps.sort((a, b) => a.fromSeq - b.fromSeq || a.toSeq - b.toSeq);
  for (const c of cps) maxSeq = Math.max(maxSeq, c.toSeq);
  if (options.expectedHead) maxSeq = Math.max(maxSeq, options.expectedHead.seq);

  const fromSeq = options.fromSeq ?? 1;
  const toSeq = Math.min(options.toSeq ?? maxSeq, maxSeq);
  const chosen = new Map<number, Rec>();
  const flagged = new Set<number>();
  const flag = (i: VerifyIssue): void => {
    issues.push(i);
    if (i.sequence !== null) flagged.add(i.sequence);
  };

  for (let s = fromSeq; s <= toSeq; s++) {
    const auth = authentic.get(s) ?? [];
    const ed = edited.get(s) ?? [];
    if (auth.length === 0 && ed.length === 0) {
      flag({ kind: 'deleted', sequence: s, detail: `no entry holds sequence ${s}` });
      continue;
    }
    if (auth.length > 0) {
      const prev = chosen.get(s - 1);
      const pick =
        auth.find((r) => prev?.entry && r.entry!.prevHash === prev.entry.entryHash) ?? auth.find((r) => r.claimedSeq === s) ?? auth[0]!;
      chosen.set(s, pick);
      for (const r of auth) if (r !== pick) flag({ kind: 'inserted', sequence: s, detail: `an extra record claims sequence ${s}` });
      for (const _r of ed) flag({ kind: 'inserted', sequence: s, detail: `an extra record claims sequence ${s}` });
    } else {
      chosen.set(s, ed[0]!);
      flag({ kind: 'edited', sequence: s, detail: `entry ${s}: ${ed[0]!.problem ?? 'content does not match EntryHash'}` });
      for (const _r of ed.slice(1)) flag({ kind: 'inserted', sequence: s, detail: `an extra record claims sequence ${s}` });
    }
  }

  // Links: entry s commits to entry s-1's hash; a break means s-1 was replaced (hash recomputed).
  for (let s = fromSeq; s <= toSeq; s++) {
    const cur = chosen.get(s);
    if (!cur?.entry || resolve(cur) === undefined) continue;
    if (s === 1) {
      if (cur.entry.prevHash !== GENESIS_HASH)
        flag({ kind: 'edited', sequence: 1, detail: 'the first entry does not start from the genesis hash' });
      continue;
    }
    const prev = chosen.get(s - 1);
    if (!prev?.entry || s - 1 < fromSeq) continue;
    if (cur.entry.prevHash !== prev.entry.entryHash && !flagged.has(s - 1)) {
      flag({
        kind: 'edited',
        sequence: s - 1,
        detail: `entry ${s - 1} is not the entry that ${s} commits to (replaced with a recomputed hash)`,
      });
    }
  }
  if (options.expectedHead && options.expectedHead.hash !== null && options.expectedHead.seq <= toSeq) {
    const h = chosen.get(options.expectedHead.seq);
    if (h?.entry && h.entry.entryHash !== options.expectedHead.hash && !flagged.has(options.expectedHead.seq)) {
      flag({ kind: 'edited', sequence: options.expectedHead.seq, detail: 'the last entry is not the one the chain head records' });
    }
  }

  // Checkpoints: signature, Merkle root over the entries as they are, and no gaps between ranges.
  let verifiedThrough = 0;
  let nextFrom = 1;
  let prefixClean = true;
  for (const c of cps) {
    if (c.toSeq < fromSeq || c.fromSeq > toSeq) {
      nextFrom = c.toSeq + 1;
      continue;
    }
    if (c.fromSeq > nextFrom && nextFrom >= fromSeq) {
      issues.push({
        kind: 'checkpoint-missing',
        sequence: nextFrom,
        toSequence: c.fromSeq - 1,
        detail: `no checkpoint covers ${nextFrom}..${c.fromSeq - 1}`,
      });
    }
    nextFrom = Math.max(nextFrom, c.toSeq + 1);
    let good = true;
    if (c.chainId !== chainId) {
      issues.push({
        kind: 'checkpoint-mismatch',
        sequence: c.fromSeq,
        toSequence: c.toSeq,
        detail: `checkpoint belongs to chain ${c.chainId}`,
      });
      good = false;
    }
    const sig = verifyCheckpointSignature(c, options.trustedKeys ?? []);
    if (!sig.ok) {
      issues.push({ kind: 'bad-signature', sequence: c.fromSeq, toSequence: c.toSeq, detail: sig.problem ?? 'signature does not verify' });
      good = false;
    }
    const leaves: Buffer[] = [];
    let complete = true;
    for (let s = c.fromSeq; s <= c.toSeq; s++) {
      const r = chosen.get(s);
      if (!r?.entry || !HEX64.test(r.entry.entryHash)) complete = false;
      else leaves.push(Buffer.from(r.entry.entryHash, 'hex'));
    }
    const root = leaves.length > 0 ? merkleRoot(leaves) : '';
    const last = chosen.get(c.toSeq)?.entry?.entryHash;
    if (!complete || root !== c.merkleRoot || last !== c.lastEntryHash) {
      issues.push({
        kind: 'checkpoint-mismatch',
        sequence: c.fromSeq,
        toSequence: c.toSeq,
        detail: 'the entries no longer produce the signed Merkle root',
      });
      good = false;
    }
    for (let s = c.fromSeq; s <= c.toSeq; s++) if (flagged.has(s)) good = false;
    if (good && prefixClean && c.fromSeq <= verifiedThrough + 1) verifiedThrough = c.toSeq;
    else prefixClean = false;
  }

  issues.sort((a, b) => (a.sequence ?? -1) - (b.sequence ?? -1) || a.kind.localeCompare(b.kind));
  const counts = Object.fromEntries(VERIFY_ISSUE_KINDS.map((k) => [k, issues.filter((i) => i.kind === k).length])) as Record<
    VerifyIssueKind,
    number
  >;
  return {
    ok: issues.length === 0,
    chainId,
    entries: recs.length,
    checkpoints: cps.length,
    fromSeq,
    toSeq,
    verifiedThrough,
    issues,
    counts,
  };
}
