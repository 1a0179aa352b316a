/**
 * The audit stage: a tamper-evident, hash-chained record of every decision point, one chain
 * per (tenant, jurisdiction), with signed Merkle checkpoints, inclusion proofs, a verifier
 * that works from the local store or from the org's records alone, and evidence-pack export.
 * Only this module writes audit entries.
 */
export {
  AUDIT_DECISIONS,
  AUDIT_EVENT_TYPES,
  FIELD_LIMITS,
  GENESIS_HASH,
  canonicalJson,
  chainIdFor,
  checkpointKeyFor,
  entryKeyFor,
  hashEntry,
  type AuditDecision,
  type AuditEntry,
  type AuditEntryRecord,
  type AuditEventType,
  type DetailValue,
} from './entry.js';
export { merkleRoot, auditPath, verifyAuditPath, leafHash } from './merkle.js';
export {
  checkpointToRecord,
  entryToRecord,
  recordToCheckpoint,
  recordToEntry,
  type AuditCheckpoint,
  type ParsedCheckpoint,
  type ParsedEntry,
  type SObjectRecord,
} from './record.js';
export { checkpointSigningBytes, verifyCheckpointSignature, type SignatureCheck } from './checkpoint.js';
export {
  verifyChain,
  VERIFY_ISSUE_KINDS,
  type VerifyIssue,
  type VerifyIssueKind,
  type VerifyOptions,
  type VerifyResult,
} from './verify.js';
export {
  AuditLog,
  checkpointFromRow,
  entriesFromStore,
  parsedEntryFromRow,
  verifyInclusion,
  verifyLocalChain,
  type AuditEventInput,
  type AuditLogOptions,
  type InclusionProof,
} from './auditLog.js';
export {
  art30Record,
  buildEvidencePack,
  evidencePackCsv,
  toCsv,
  type Art30Record,
  type EvidencePack,
  type ExportOptions,
} from './export.js';
export { auditKeyEvents, type KeyEventAuditOptions } from './keyEvents.js';
