/**
 * The audit writer for one (tenant, jurisdiction) chain. `append` runs inside the caller's
 * store transaction, so an entry commits together with the state change it records and
 * with the outbox rows that carry both to Salesforce (`AiAuditEntry__c`, upserted by
 * `EntryKey__c`). Appends serialise on the chain head's row lock, so replicas sharing a
 * PostgreSQL store keep one gap-free chain. Every `checkpointEvery` entries (inside the
 * same transaction) or after `checkpointIntervalSeconds` (`checkpointIfDue`) a signed
 * Merkle checkpoint over the new range is stored and enqueued as `AiAuditCheckpoint__c`.
 */
import type { KeyService } from '../keys/types.js';
import { validationError } from '../shared/errors.js';
import { log } from '../shared/log.js';
import { apiNames, type ApiNames } from '../shared/schema.js';
import type { ChainCheckpointRow, ChainEntryRow, Store, TenantOps, TenantStore } from '../store/index.js';
import { checkpointSigningBytes } from './checkpoint.js';
import {
  AUDIT_DECISIONS,
  AUDIT_EVENT_TYPES,
  canonicalJson,
  chainIdFor,
  checkpointKeyFor,
  entryKeyFor,
  FIELD_LIMITS,
  GENESIS_HASH,
  hashEntry,
  isoSeconds,
  longText,
  sfId,
  shortText,
  type AuditDecision,
  type AuditEntry,
  type AuditEntryRecord,
  type AuditEventType,
  type DetailValue,
} from './entry.js';
import { auditPath, merkleRoot, verifyAuditPath } from './merkle.js';
import { checkpointToRecord, entryToRecord, type AuditCheckpoint, type ParsedEntry } from './record.js';
import { verifyCheckpointSignature } from './checkpoint.js';
import { verifyChain, type VerifyResult } from './verify.js';
import type { PublicKeyInfo } from '../keys/types.js';

/** What a stage tells the audit about one decision point. Raw text is HMAC'd, never stored. */
export interface AuditEventInput {
  eventType: AuditEventType;
  decision: AuditDecision;
  requestId?: string | null;
  recordId?: string | null;
  actorId?: string | null;
  action?: string | null;
  reason?: string | null;
  endpoint?: string | null;
  model?: string | null;
  fieldClasses?: Record<string, string>;
  /** Already sanitized (tokens only). */
  sanitizedPrompt?: string | null;
  sanitizedAnswer?: string | null;
  /** The raw prompt / answer: only their keyed hashes are kept. */
  rawPrompt?: string | null;
  rawAnswer?: string | null;
  timings?: Record<string, number>;
  details?: Record<string, DetailValue>;
  /** Epoch ms; defaults to now. */
  occurredAt?: number;
}

export interface AuditLogOptions {
  store: Store;
  keys: KeyService;
  tenant: string;
  /** Defaults to the key service's jurisdiction (they must agree). */
  jurisdiction?: string;
  /** This sidecar's processing region (deployment.region). */
  region: string;
  /** Salesforce namespace of the org ('sovra' in the managed package, '' in a dev org). */
  namespace?: string;
  checkpointEvery?: number;
  checkpointIntervalSeconds?: number;
  /** Encrypt outbox payloads of entries (they carry sanitized CRM-derived text). Default true. */
  encryptOutbox?: boolean;
  now?: () => number;
}

export interface InclusionProof {
  chainId: string;
  sequence: number;
  entryHash: string;
  leafIndex: number;
  treeSize: number;
  path: string[];
  checkpoint: AuditCheckpoint;
}

export function checkpointFromRow(row: ChainCheckpointRow): AuditCheckpoint {
  return JSON.parse(row.body) as AuditCheckpoint;
}

/** A stored chain entry as the verifier reads it: the row's sequence is the claimed position. */
export function parsedEntryFromRow(row: ChainEntryRow): ParsedEntry {
  try {
    const body = JSON.parse(row.body) as AuditEntry;
    return { ok: true, record: { ...body, seq: row.seq, entryHash: row.entryHash }, claimedSeq: row.seq, entryKey: null };
  } catch {
    return { ok: false, claimedSeq: row.seq, problem: 'stored entry is not JSON' };
  }
}

export async function* entriesFromStore(
  t: TenantOps,
  chainId: string,
  range: { fromSeq?: number; toSeq?: number } = {},
): AsyncIterable<ParsedEntry> {
  for await (const row of t.iterateChainEntries(chainId, range)) yield parsedEntryFromRow(row);
}

function check(cond: boolean, message: string, fix: string): void {
  if (!cond) throw validationError(message, { code: 'AUDIT_INPUT_INVALID', fix });
}

export class AuditLog {
  readonly tenant: string;
  readonly jurisdiction: string;
  readonly chainId: string;
  readonly names: ApiNames;
  private readonly t: TenantStore;
  private readonly now: () => number;
  private readonly every: number;
  private readonly intervalMs: number;

  constructor(private readonly o: AuditLogOptions) {
    this.tenant = o.tenant;
    this.jurisdiction = o.jurisdiction ?? o.keys.jurisdiction;
    check(
      this.jurisdiction === o.keys.jurisdiction,
      `The audit chain of ${this.jurisdiction} cannot be signed with ${o.keys.jurisdiction}'s keys.`,
      'Give each jurisdiction its own key service.',
    );
    check(
      (shortText(o.tenant, FIELD_LIMITS.tenant) ?? '') === o.tenant,
      'The tenant id is empty or too long for TenantId__c.',
      'Use the configured tenant id.',
    );
    this.chainId = chainIdFor(o.tenant, this.jurisdiction);
    this.names = apiNames(o.namespace ?? 'sovra');
    this.t = o.store.forTenant(o.tenant);
    this.now = o.now ?? Date.now;
    this.every = o.checkpointEvery ?? 500;
    this.intervalMs = (o.checkpointIntervalSeconds ?? 300) * 1000;
  }

  private scope(purpose: 'audit-hmac' | 'outbox'): { tenant: string; jurisdiction: string; purpose: 'audit-hmac' | 'outbox' } {
    return { tenant: this.tenant, jurisdiction: this.jurisdiction, purpose };
  }

  /** Builds the entry content (everything but seq and prevHash), normalised to what Salesforce stores. */
  private async content(input: AuditEventInput): Promise<Omit<AuditEntry, 'seq' | 'prevHash'>> {
    check(
      AUDIT_EVENT_TYPES.includes(input.eventType),
      `'${String(input.eventType)}' is not an audit event type.`,
      `Use one of ${AUDIT_EVENT_TYPES.join(', ')}.`,
    );
    check(
      AUDIT_DECISIONS.includes(input.decision),
      `'${String(input.decision)}' is not an audit decision.`,
      `Use one of ${AUDIT_DECISIONS.join(', ')}.`,
    );
    const details: Record<string, DetailValue> = { ...(input.details ?? {}) };
    const id = (v: string | null | undefined, name: string): string | null => {
      const out = sfId(v);
      if (v && out === null) details[`${name}Invalid`] = true;
      return out;
    };
    const prompt = longText(input.sanitizedPrompt);
    const answer = longText(input.sanitizedAnswer);
    if (input.sanitizedPrompt && prompt !== null && prompt.length < input.sanitizedPrompt.replace(/\r\n?/g, '\n').length)
      details.promptTruncated = true;
    if (input.sanitizedAnswer && answer !== null && answer.length < input.sanitizedAnswer.replace(/\r\n?/g, '\n').length)
      details.answerTruncated = true;
    const timings: Record<string, number> = {};
    for (const [k, v] of Object.entries(input.timings ?? {})) {
      check(
        typeof v === 'number' && Number.isFinite(v) && v >= 0,
        `Timing '${k}' must be a non-negative number of ms.`,
        'Pass durations in milliseconds.',
      );
      timings[k] = Math.round(v);
    }
    for (const [k, v] of Object.entries(details)) {
      check(
        v === null || ['string', 'number', 'boolean'].includes(typeof v),
        `Detail '${k}' must be a string, number, boolean or null.`,
        'Pass value-free details only.',
      );
      if (typeof v === 'number') check(Number.isFinite(v), `Detail '${k}' must be finite.`, 'Pass a finite number.');
    }
    const fieldClasses = { ...(input.fieldClasses ?? {}) };
    check(
      canonicalJson(fieldClasses).length <= FIELD_LIMITS.json && canonicalJson(details).length <= FIELD_LIMITS.longText,
      'Field classes or details are too large for the audit record.',
      'Keep details to ids, counts and classes.',
    );
    const promptHmac = input.rawPrompt ? await this.o.keys.hmac(this.scope('audit-hmac'), input.rawPrompt) : null;
    const answerHmac = input.rawAnswer ? await this.o.keys.hmac(this.scope('audit-hmac'), input.rawAnswer) : null;
    return {
      tenant: this.tenant,
      chainId: this.chainId,
      eventType: input.eventType,
      jurisdiction: this.jurisdiction,
      region: shortText(this.o.region, FIELD_LIMITS.region) ?? 'unknown',
      requestId: shortText(input.requestId, FIELD_LIMITS.requestId),
      recordId: id(input.recordId, 'recordId'),
      actorId: id(input.actorId, 'actorId'),
      action: shortText(input.action, FIELD_LIMITS.action),
      decision: input.decision,
      reason: shortText(input.reason, FIELD_LIMITS.reason),
      endpoint: shortText(input.endpoint, FIELD_LIMITS.endpoint),
      model: shortText(input.model, FIELD_LIMITS.model),
      fieldClasses,
      sanitizedPrompt: prompt,
      sanitizedAnswer: answer,
      promptHmac,
      answerHmac,
      timings,
      occurredAt: isoSeconds(input.occurredAt ?? this.now()),
      details,
    };
  }

  /**
   * Appends one entry inside `tx` (a transaction of this tenant) and enqueues its
   * `AiAuditEntry__c` upsert; signs a checkpoint in the same transaction when N entries are due.
   */
  async append(tx: TenantOps, input: AuditEventInput): Promise<AuditEntryRecord> {
    check(tx.tenant === this.tenant, 'The transaction belongs to another tenant.', 'Open the transaction on this audit log’s tenant.');
    const content = await this.content(input);
    const head = await tx.lockChainHead(this.chainId);
    const record = await this.appendLocked(tx, head.lastSeq, head.lastHash, content);
    if (record.seq - head.lastCheckpointSeq >= this.every) {
      await this.checkpointLocked(tx, head.lastCheckpointSeq + 1, record.seq, record.entryHash);
    }
    return record;
  }

  private async appendLocked(
    tx: TenantOps,
    lastSeq: number,
    lastHash: string | null,
    content: Omit<AuditEntry, 'seq' | 'prevHash'>,
  ): Promise<AuditEntryRecord> {
    const entry: AuditEntry = { ...content, seq: lastSeq + 1, prevHash: lastHash ?? GENESIS_HASH };
    const entryHash = hashEntry(entry);
    const record: AuditEntryRecord = { ...entry, entryHash };
    await tx.appendChainEntry(this.chainId, {
      seq: entry.seq,
      prevHash: entry.prevHash,
      entryHash,
      body: canonicalJson(entry),
      occurredAt: Date.parse(entry.occurredAt),
    });
    const json = Buffer.from(JSON.stringify(entryToRecord(record, this.names)), 'utf8');
    const encrypt = this.o.encryptOutbox ?? true;
    await tx.enqueueOutbox({
      jurisdiction: this.jurisdiction,
      sobject: this.names.name('AiAuditEntry__c'),
      externalIdField: this.names.name('EntryKey__c'),
      externalId: entryKeyFor(this.chainId, entry.seq),
      operation: 'upsert',
      payload: encrypt ? await this.o.keys.encrypt(this.scope('outbox'), json) : json,
      encrypted: encrypt,
    });
    return record;
  }

  private async checkpointLocked(tx: TenantOps, fromSeq: number, toSeq: number, lastEntryHash: string): Promise<AuditCheckpoint> {
    const rows = await tx.readChainEntries(this.chainId, { fromSeq, toSeq });
    if (rows.length !== toSeq - fromSeq + 1 || rows[rows.length - 1]!.entryHash !== lastEntryHash) {
      throw validationError(`Chain ${this.chainId} has a gap between ${fromSeq} and ${toSeq}; refusing to sign it.`, {
        code: 'AUDIT_CHAIN_BROKEN',
        fix: 'Run `sovra audit verify` and investigate the store: entries were removed outside Sovra.',
      });
    }
    const signedAt = isoSeconds(this.now());
    const content = {
      tenant: this.tenant,
      chainId: this.chainId,
      jurisdiction: this.jurisdiction,
      fromSeq,
      toSeq,
      merkleRoot: merkleRoot(rows.map((r) => Buffer.from(r.entryHash, 'hex'))),
      lastEntryHash,
      signedAt,
    };
    const sig = await this.o.keys.sign(checkpointSigningBytes(content));
    const publicKeyPem = (await this.o.keys.publicKeys()).find((k) => k.keyId === sig.keyId)?.publicKeyPem ?? null;
    const cp: AuditCheckpoint = { ...content, keyId: sig.keyId, algorithm: sig.algorithm, signature: sig.signature, publicKeyPem };
    await tx.putChainCheckpoint(this.chainId, { fromSeq, toSeq, body: canonicalJson(cp), createdAt: this.now() });
    await tx.enqueueOutbox({
      jurisdiction: this.jurisdiction,
      sobject: this.names.name('AiAuditCheckpoint__c'),
      externalIdField: this.names.name('CheckpointKey__c'),
      externalId: checkpointKeyFor(this.chainId, toSeq),
      operation: 'upsert',
      payload: Buffer.from(JSON.stringify(checkpointToRecord(cp, this.names)), 'utf8'),
      encrypted: false,
    });
    // The signing is itself a decision point: recorded as the next entry.
    const head = await tx.getChainHead(this.chainId);
    await this.appendLocked(
      tx,
      head!.lastSeq,
      head!.lastHash,
      await this.content({
        eventType: 'checkpoint.signed',
        decision: 'info',
        details: { fromSeq, toSeq, merkleRoot: cp.merkleRoot, keyId: cp.keyId },
      }),
    );
    log().info('audit checkpoint signed', { chainId: this.chainId, fromSeq, toSeq, keyId: cp.keyId });
    return cp;
  }

  /** Appends in a transaction of its own (for events with no other state change). */
  async record(input: AuditEventInput): Promise<AuditEntryRecord> {
    return this.t.transaction((tx) => this.append(tx, input));
  }

  /** Signs a checkpoint over the entries since the last one, if T seconds have passed (or `force`). */
  async checkpointIfDue(options: { force?: boolean } = {}): Promise<AuditCheckpoint | undefined> {
    const head = await this.t.getChainHead(this.chainId);
    if (!head || head.lastSeq <= head.lastCheckpointSeq) return undefined;
    if (!options.force && this.now() - head.lastCheckpointAt < this.intervalMs) return undefined;
    return this.t.transaction(async (tx) => {
      const h = await tx.lockChainHead(this.chainId);
      if (h.lastSeq <= h.lastCheckpointSeq) return undefined;
      return this.checkpointLocked(tx, h.lastCheckpointSeq + 1, h.lastSeq, h.lastHash!);
    });
  }

  async checkpoints(): Promise<AuditCheckpoint[]> {
    return (await this.t.listChainCheckpoints(this.chainId)).map(checkpointFromRow);
  }

  /** An RFC 6962 audit path from the entry to the signed root of the checkpoint that covers it. */
  async proveInclusion(seq: number): Promise<InclusionProof> {
    const cps = await this.t.listChainCheckpoints(this.chainId, { fromSeq: seq, toSeq: seq });
    const row = cps[0];
    if (!row) {
      throw validationError(`Entry ${seq} of chain ${this.chainId} is not covered by a checkpoint yet.`, {
        code: 'AUDIT_NOT_CHECKPOINTED',
        fix: 'Wait for the next checkpoint (or sign one now with checkpointIfDue({ force: true })).',
      });
    }
    const cp = checkpointFromRow(row);
    const entries = await this.t.readChainEntries(this.chainId, { fromSeq: cp.fromSeq, toSeq: cp.toSeq });
    const leaves = entries.map((e) => Buffer.from(e.entryHash, 'hex'));
    const index = seq - cp.fromSeq;
    return {
      chainId: this.chainId,
      sequence: seq,
      entryHash: entries[index]!.entryHash,
      leafIndex: index,
      treeSize: leaves.length,
      path: auditPath(leaves, index),
      checkpoint: cp,
    };
  }

  /** Verifies this chain as the local store holds it. */
  async verify(trustedKeys?: readonly PublicKeyInfo[]): Promise<VerifyResult> {
    return verifyLocalChain(this.t, this.chainId, trustedKeys ?? (await this.o.keys.publicKeys()));
  }
}

/** Checks a proof: the entry hash sits in the signed root (and, given keys, the signature holds). */
export function verifyInclusion(proof: InclusionProof, trustedKeys?: readonly PublicKeyInfo[]): boolean {
  const cp = proof.checkpoint;
  if (proof.sequence !== cp.fromSeq + proof.leafIndex || proof.treeSize !== cp.toSeq - cp.fromSeq + 1) return false;
  if (!/^[0-9a-f]{64}$/.test(proof.entryHash)) return false;
  if (!verifyAuditPath(Buffer.from(proof.entryHash, 'hex'), proof.leafIndex, proof.treeSize, proof.path, cp.merkleRoot)) return false;
  return trustedKeys === undefined || verifyCheckpointSignature(cp, trustedKeys).ok;
}

/** Verifies a chain held in the local store, against its head and checkpoints. */
export async function verifyLocalChain(
  t: TenantOps,
  chainId: string,
  trustedKeys: readonly PublicKeyInfo[],
  range: { fromSeq?: number; toSeq?: number } = {},
): Promise<VerifyResult> {
  const head = await t.getChainHead(chainId);
  const checkpoints = (await t.listChainCheckpoints(chainId, range)).map(checkpointFromRow);
  return verifyChain(entriesFromStore(t, chainId, range), {
    chainId,
    checkpoints,
    trustedKeys,
    expectedHead: head && range.toSeq === undefined ? { seq: head.lastSeq, hash: head.lastHash } : undefined,
    fromSeq: range.fromSeq,
    toSeq: range.toSeq,
  });
}
