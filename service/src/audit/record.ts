/**
 * Entry ⇄ `AiAuditEntry__c` and checkpoint ⇄ `AiAuditCheckpoint__c`. The mapping is total and
 * strict: every hashed field has its own Salesforce field, JSON-valued fields hold canonical
 * JSON (so a cosmetic edit is still an edit), and a record that cannot be read back into an
 * entry is reported, never skipped. Verification from the org's records alone rebuilds each
 * entry here and recomputes its hash.
 */
import { apiNames, type ApiNames } from '../shared/schema.js';
import {
  canonicalJson,
  checkpointKeyFor,
  entryKeyFor,
  type AuditDecision,
  type AuditEntryRecord,
  type AuditEventType,
  type DetailValue,
} from './entry.js';

/** A signed checkpoint: a Merkle root over entries fromSeq..toSeq of one chain. */
export interface AuditCheckpoint {
  tenant: string;
  chainId: string;
  jurisdiction: string;
  fromSeq: number;
  toSeq: number;
  merkleRoot: string;
  lastEntryHash: string;
  signedAt: string;
  keyId: string;
  algorithm: 'Ed25519';
  /** Base64 Ed25519 signature over `checkpointSigningBytes`. */
  signature: string;
  /** The signer's public key as a convenience for readers; never trusted by the verifier. */
  publicKeyPem: string | null;
}

export type SObjectRecord = Record<string, unknown>;

export type ParsedEntry =
  | { ok: true; record: AuditEntryRecord; claimedSeq: number; entryKey: string | null }
  | { ok: false; claimedSeq: number | null; problem: string };

const ENTRY_FIELDS = {
  EntryKey__c: 'entryKey',
  TenantId__c: 'tenant',
  ChainId__c: 'chainId',
  Sequence__c: 'seq',
  PrevHash__c: 'prevHash',
  EntryHash__c: 'entryHash',
  EventType__c: 'eventType',
  Jurisdiction__c: 'jurisdiction',
  ProcessingRegion__c: 'region',
  RequestId__c: 'requestId',
  RecordId__c: 'recordId',
  ActorId__c: 'actorId',
  Action__c: 'action',
  Decision__c: 'decision',
  Reason__c: 'reason',
  Endpoint__c: 'endpoint',
  Model__c: 'model',
  FieldClasses__c: 'fieldClasses',
  SanitizedPrompt__c: 'sanitizedPrompt',
  SanitizedAnswer__c: 'sanitizedAnswer',
  PromptHmac__c: 'promptHmac',
  AnswerHmac__c: 'answerHmac',
  Timings__c: 'timings',
  OccurredAt__c: 'occurredAt',
  Details__c: 'details',
} as const;

const JSON_FIELDS = new Set(['FieldClasses__c', 'Timings__c', 'Details__c']);

/** The `AiAuditEntry__c` record (API names with the org's namespace) that carries an entry. */
export function entryToRecord(e: AuditEntryRecord, names: ApiNames = apiNames('')): SObjectRecord {
  const out: SObjectRecord = {};
  for (const [field, prop] of Object.entries(ENTRY_FIELDS)) {
    let v: unknown;
    if (prop === 'entryKey') v = entryKeyFor(e.chainId, e.seq);
    else v = (e as unknown as Record<string, unknown>)[prop];
    if (JSON_FIELDS.has(field)) v = canonicalJson(v);
    out[names.name(field)] = v ?? null;
  }
  return out;
}

class Malformed extends Error {}

function text(rec: SObjectRecord, names: ApiNames, field: string): string | null {
  const v = rec[names.name(field)];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new Malformed(`${field} is not text`);
  return v === '' ? null : v;
}

function requiredText(rec: SObjectRecord, names: ApiNames, field: string): string {
  const v = text(rec, names, field);
  if (v === null) throw new Malformed(`${field} is empty`);
  return v;
}

function integer(rec: SObjectRecord, names: ApiNames, field: string): number {
  const raw = rec[names.name(field)];
  const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new Malformed(`${field} is not a positive whole number`);
  return v;
}

function dateTime(rec: SObjectRecord, names: ApiNames, field: string): string {
  const v = requiredText(rec, names, field);
  // Salesforce returns e.g. 2024-05-01T10:00:00.000+0000; normalise to ISO with Z.
  const ms = Date.parse(v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  if (Number.isNaN(ms)) throw new Malformed(`${field} is not a date-time`);
  return new Date(ms).toISOString();
}

function canonicalObject<T>(rec: SObjectRecord, names: ApiNames, field: string, check: (v: unknown) => boolean): T {
  const raw = requiredText(rec, names, field);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Malformed(`${field} is not JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !check(parsed))
    throw new Malformed(`${field} has the wrong shape`);
  if (canonicalJson(parsed) !== raw) throw new Malformed(`${field} is not in canonical form (it was re-written)`);
  return parsed as T;
}

const isStringMap = (v: unknown): boolean => Object.values(v as object).every((x) => typeof x === 'string');
const isNumberMap = (v: unknown): boolean => Object.values(v as object).every((x) => typeof x === 'number' && Number.isFinite(x));
const isDetailMap = (v: unknown): boolean =>
  Object.values(v as object).every((x) => x === null || ['string', 'number', 'boolean'].includes(typeof x));

/** Rebuilds the entry an `AiAuditEntry__c` record carries (namespaced or not). */
export function recordToEntry(rec: SObjectRecord, names: ApiNames = apiNames('')): ParsedEntry {
  let claimedSeq: number | null;
  try {
    claimedSeq = integer(rec, names, 'Sequence__c');
  } catch {
    claimedSeq = null;
  }
  try {
    const seq = integer(rec, names, 'Sequence__c');
    const record: AuditEntryRecord = {
      tenant: requiredText(rec, names, 'TenantId__c'),
      chainId: requiredText(rec, names, 'ChainId__c'),
      seq,
      prevHash: requiredText(rec, names, 'PrevHash__c'),
      entryHash: requiredText(rec, names, 'EntryHash__c'),
      eventType: requiredText(rec, names, 'EventType__c') as AuditEventType,
      jurisdiction: requiredText(rec, names, 'Jurisdiction__c'),
      region: requiredText(rec, names, 'ProcessingRegion__c'),
      requestId: text(rec, names, 'RequestId__c'),
      recordId: text(rec, names, 'RecordId__c'),
      actorId: text(rec, names, 'ActorId__c'),
      action: text(rec, names, 'Action__c'),
      decision: requiredText(rec, names, 'Decision__c') as AuditDecision,
      reason: text(rec, names, 'Reason__c'),
      endpoint: text(rec, names, 'Endpoint__c'),
      model: text(rec, names, 'Model__c'),
      fieldClasses: canonicalObject<Record<string, string>>(rec, names, 'FieldClasses__c', isStringMap),
      sanitizedPrompt: text(rec, names, 'SanitizedPrompt__c'),
      sanitizedAnswer: text(rec, names, 'SanitizedAnswer__c'),
      promptHmac: text(rec, names, 'PromptHmac__c'),
      answerHmac: text(rec, names, 'AnswerHmac__c'),
      timings: canonicalObject<Record<string, number>>(rec, names, 'Timings__c', isNumberMap),
      occurredAt: dateTime(rec, names, 'OccurredAt__c'),
      details: canonicalObject<Record<string, DetailValue>>(rec, names, 'Details__c', isDetailMap),
    };
    const key = text(rec, names, 'EntryKey__c');
    return { ok: true, record, claimedSeq: seq, entryKey: key };
  } catch (err) {
    if (err instanceof Malformed) return { ok: false, claimedSeq, problem: err.message };
    throw err;
  }
}

/** The `AiAuditCheckpoint__c` record that carries a checkpoint. */
export function checkpointToRecord(c: AuditCheckpoint, names: ApiNames = apiNames('')): SObjectRecord {
  const n = (f: string): string => names.name(f);
  return {
    [n('CheckpointKey__c')]: checkpointKeyFor(c.chainId, c.toSeq),
    [n('TenantId__c')]: c.tenant,
    [n('ChainId__c')]: c.chainId,
    [n('Jurisdiction__c')]: c.jurisdiction,
    [n('FromSequence__c')]: c.fromSeq,
    [n('ToSequence__c')]: c.toSeq,
    [n('MerkleRoot__c')]: c.merkleRoot,
    [n('LastEntryHash__c')]: c.lastEntryHash,
    [n('Signature__c')]: c.signature,
    [n('KeyId__c')]: c.keyId,
    [n('Algorithm__c')]: c.algorithm,
    [n('PublicKey__c')]: c.publicKeyPem,
    [n('SignedAt__c')]: c.signedAt,
  };
}

export type ParsedCheckpoint = { ok: true; checkpoint: AuditCheckpoint } | { ok: false; problem: string; toSeq: number | null };

export function recordToCheckpoint(rec: SObjectRecord, names: ApiNames = apiNames('')): ParsedCheckpoint {
  let toSeq: number | null;
  try {
    toSeq = integer(rec, names, 'ToSequence__c');
  } catch {
    toSeq = null;
  }
  try {
    const algorithm = requiredText(rec, names, 'Algorithm__c');
    if (algorithm !== 'Ed25519') throw new Malformed('Algorithm__c is not Ed25519');
    return {
      ok: true,
      checkpoint: {
        tenant: requiredText(rec, names, 'TenantId__c'),
        chainId: requiredText(rec, names, 'ChainId__c'),
        jurisdiction: requiredText(rec, names, 'Jurisdiction__c'),
        fromSeq: integer(rec, names, 'FromSequence__c'),
        toSeq: integer(rec, names, 'ToSequence__c'),
        merkleRoot: requiredText(rec, names, 'MerkleRoot__c'),
        lastEntryHash: requiredText(rec, names, 'LastEntryHash__c'),
        signedAt: dateTime(rec, names, 'SignedAt__c'),
        keyId: requiredText(rec, names, 'KeyId__c'),
        algorithm,
        signature: requiredText(rec, names, 'Signature__c'),
        publicKeyPem: text(rec, names, 'PublicKey__c'),
      },
    };
  } catch (err) {
    if (err instanceof Malformed) return { ok: false, problem: err.message, toSeq };
    throw err;
  }
}
