/**
 * What an audit entry is, and how it is hashed. An entry holds only sanitized text (tokens,
 * never raw values) and keyed hashes of the raw prompt and answer. Every field maps 1:1 to a
 * field of `AiAuditEntry__c`, and values are normalised at construction to what Salesforce
 * will store (trimmed short text, lengths within the field, whole-second timestamps, empty
 * as null), so an entry rebuilt from the org's record hashes to the same value:
 * entryHash = SHA-256 over the RFC 8785 canonical JSON of the entry without entryHash.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export const AUDIT_EVENT_TYPES = [
  'request.received',
  'request.rejected',
  'request.quarantined',
  'quarantine.released',
  'quarantine.purged',
  'request.blocked',
  'egress.refused',
  'model.called',
  'model.answered',
  'model.failed',
  'request.written_back',
  'config.loaded',
  'key.rotated',
  'key.destroyed',
  'key.reenabled',
  'checkpoint.signed',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export const AUDIT_DECISIONS = ['allow', 'deny', 'reject', 'quarantine', 'error', 'info'] as const;
export type AuditDecision = (typeof AUDIT_DECISIONS)[number];

/** prevHash of the first entry of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

export type DetailValue = string | number | boolean | null;

/** The hashed entry. Field order is irrelevant (canonical JSON sorts keys). */
export interface AuditEntry {
  tenant: string;
  chainId: string;
  seq: number;
  prevHash: string;
  eventType: AuditEventType;
  jurisdiction: string;
  region: string;
  requestId: string | null;
  recordId: string | null;
  actorId: string | null;
  action: string | null;
  decision: AuditDecision;
  reason: string | null;
  endpoint: string | null;
  model: string | null;
  /** `Object.Field` → classification of each field the action used. */
  fieldClasses: Record<string, string>;
  sanitizedPrompt: string | null;
  sanitizedAnswer: string | null;
  /** HMAC-SHA256 (hex) of the raw prompt / answer with the tenant's audit-hmac key. */
  promptHmac: string | null;
  answerHmac: string | null;
  /** Durations in ms (e.g. total, model, fetch). */
  timings: Record<string, number>;
  /** ISO 8601, whole seconds (Salesforce DateTime precision). */
  occurredAt: string;
  details: Record<string, DetailValue>;
}

export interface AuditEntryRecord extends AuditEntry {
  entryHash: string;
}

/** Field lengths of AiAuditEntry__c (force-app/main/audit/objects/AiAuditEntry__c). */
export const FIELD_LIMITS = {
  tenant: 64,
  chainId: 128,
  eventType: 64,
  jurisdiction: 16,
  region: 64,
  requestId: 64,
  recordId: 18,
  actorId: 18,
  action: 80,
  decision: 32,
  reason: 255,
  endpoint: 255,
  model: 255,
  longText: 131_072,
  json: 32_768,
} as const;

const SF_ID = /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/;

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function canonicalJson(value: unknown): string {
  const s = canonicalize(value);
  if (s === undefined) throw new TypeError('value cannot be canonicalised');
  return s;
}

/** entryHash of an entry (any entryHash property on it is ignored). */
export function hashEntry(entry: AuditEntry): string {
  const { ...copy } = entry as AuditEntry & { entryHash?: string };
  delete copy.entryHash;
  return sha256Hex(canonicalJson(copy));
}

export const chainIdFor = (tenant: string, jurisdiction: string): string => `${tenant}:${jurisdiction}`;

/** Short stable prefix for external ids (EntryKey__c and CheckpointKey__c hold 64 characters). */
export function chainKey(chainId: string): string {
  return chainId.length <= 40 ? chainId : sha256Hex(chainId).slice(0, 40);
}
export const entryKeyFor = (chainId: string, seq: number): string => `${chainKey(chainId)}:${seq}`;
export const checkpointKeyFor = (chainId: string, toSeq: number): string => `${chainKey(chainId)}:cp:${toSeq}`;

/** Short text as Salesforce stores it: trimmed, within the field, empty as null. */
export function shortText(v: string | null | undefined, max: number): string | null {
  if (v === null || v === undefined) return null;
  const t = v.trim().slice(0, max).trim();
  return t === '' ? null : t;
}

/** Long text as stored: line endings normalised, within the field, empty as null. */
export function longText(v: string | null | undefined, max: number = FIELD_LIMITS.longText): string | null {
  if (v === null || v === undefined) return null;
  const t = v.replace(/\r\n?/g, '\n').slice(0, max);
  return t === '' ? null : t;
}

/** A Salesforce id, or null (with a note in details) when it is not one. */
export function sfId(v: string | null | undefined): string | null {
  if (v === null || v === undefined || v === '') return null;
  return SF_ID.test(v) ? v : null;
}

/** Whole-second ISO timestamp. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString();
}
