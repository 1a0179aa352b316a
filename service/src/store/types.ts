/**
 * The store contract: one async interface, implemented over SQLite (one machine) and
 * PostgreSQL (replicas). Every row carries its tenant and every query of a `TenantStore`
 * filters by it, so no stage can read another tenant's rows. The store knows no stage: it
 * keeps requests and their leases, an outbox of opaque (possibly encrypted) payloads,
 * replay checkpoints, incidents, token-map ciphertexts, gateway key hashes and append-only
 * hash chains whose content it never interprets.
 */
import type { RequestStatus } from '../shared/schema.js';

export const OUTBOX_OPERATIONS = ['upsert', 'create', 'update', 'publish'] as const;
export type OutboxOperation = (typeof OUTBOX_OPERATIONS)[number];

/** Composite sObject collections take at most 200 records a call. */
export const OUTBOX_MAX_BATCH = 200;

export type RequestSource = 'event' | 'sweep' | 'gateway' | 'other';

export interface RequestRecord {
  tenant: string;
  requestId: string;
  jurisdiction: string;
  status: RequestStatus;
  reason: string | null;
  reasonCode: string | null;
  /** Replica holding the lease while Processing, else null. */
  owner: string | null;
  /** Incremented by every claim: a fencing token so a replica whose lease expired cannot finish. */
  generation: number;
  /** Epoch ms; null unless Processing. */
  leaseExpiresAt: number | null;
  /** How many times the request was claimed. */
  attempts: number;
  source: RequestSource;
  /** Value-free identifiers only (record id, external id, replay id …). */
  meta: Record<string, string | number | boolean | null>;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

/** Proof of a claim; pass it back to change the request's state or renew the lease. */
export interface Lease {
  tenant: string;
  requestId: string;
  owner: string;
  generation: number;
  expiresAt: number;
}

export type ClaimResult =
  | { status: 'claimed'; lease: Lease; request: RequestRecord }
  /** Another replica (or this one) holds a live lease: do nothing. */
  | { status: 'held'; request: RequestRecord }
  /** Already in a final state: do nothing (replays, the sweep finding done work). */
  | { status: 'final'; request: RequestRecord };

export interface ClaimOptions {
  jurisdiction: string;
  owner: string;
  leaseMs: number;
  source?: RequestSource;
  meta?: Record<string, string | number | boolean | null>;
}

export interface EnqueueRequestOptions {
  jurisdiction: string;
  source?: RequestSource;
  meta?: Record<string, string | number | boolean | null>;
}

export interface StatusChange {
  status: RequestStatus;
  /** Human-readable and value-free (written to `Reason__c`). */
  reason?: string | null;
  reasonCode?: string | null;
}

export interface OutboxInput {
  jurisdiction: string;
  sobject: string;
  /** Required for upsert (e.g. `EntryKey__c`); null for create/publish. */
  externalIdField?: string | null;
  externalId?: string | null;
  operation: OutboxOperation;
  /** The record or event body: already encrypted by the caller when it carries CRM-derived text. */
  payload: Uint8Array;
  /** Whether `payload` is a KeyService envelope (purpose 'outbox') the flusher must decrypt. */
  encrypted: boolean;
}

export interface OutboxRow {
  id: number;
  tenant: string;
  jurisdiction: string;
  sobject: string;
  externalIdField: string | null;
  externalId: string | null;
  operation: OutboxOperation;
  payload: Buffer;
  encrypted: boolean;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  status: 'pending' | 'sent' | 'dead';
  createdAt: number;
  sentAt: number | null;
}

export interface LeaseOutboxOptions {
  owner: string;
  /** At most OUTBOX_MAX_BATCH. */
  limit: number;
  leaseMs: number;
  /** Only rows of this sObject; otherwise the sObject of the oldest due row. */
  sobject?: string;
}

export interface OutboxFailure {
  id: number;
  /** Value-free error (status code, Salesforce error code). */
  error: string;
}

export interface OutboxStats {
  pending: number;
  /** Pending rows currently leased by a flusher. */
  leased: number;
  /** Pending rows whose next attempt is due now. */
  due: number;
  dead: number;
  sent: number;
  /** Epoch ms of the oldest pending row, or null. */
  oldestPendingAt: number | null;
  bySObject: Record<string, number>;
}

export interface ReplayCheckpoint {
  channel: string;
  replayId: string;
  updatedAt: number;
}

export type IncidentSeverity = 'info' | 'warning' | 'critical';
export interface IncidentInput {
  kind: string;
  severity: IncidentSeverity;
  /** Value-free details (ids, counts, channel names). */
  details?: Record<string, string | number | boolean | null>;
  occurredAt?: number;
}
export interface Incident extends Required<IncidentInput> {
  id: number;
  tenant: string;
}

export interface TokenMapInput {
  jurisdiction: string;
  requestId: string;
  /** KeyService envelope (purpose 'token-map'); the store never sees the plain map. */
  ciphertext: Uint8Array;
  expiresAt: number;
}
export interface TokenMapRow extends TokenMapInput {
  tenant: string;
  ciphertext: Buffer;
  createdAt: number;
}

export interface ApiKeyRow {
  tenant: string;
  keyId: string;
  sha256: string;
  createdAt: number;
  revokedAt: number | null;
}

/** The head of one append-only hash chain. */
export interface ChainHead {
  tenant: string;
  chainId: string;
  /** 0 when empty. */
  lastSeq: number;
  /** The last entry's hash, or null when empty. */
  lastHash: string | null;
  /** Sequence number covered by the last checkpoint (0 if none). */
  lastCheckpointSeq: number;
  /** Epoch ms of the last checkpoint (or of the chain's creation). */
  lastCheckpointAt: number;
}

export interface ChainEntryInput {
  seq: number;
  prevHash: string;
  entryHash: string;
  /** The entry as the chain's owner serialises it (the store does not interpret it). */
  body: string;
  occurredAt: number;
}
export interface ChainEntryRow extends ChainEntryInput {
  tenant: string;
  chainId: string;
}

export interface ChainCheckpointInput {
  fromSeq: number;
  toSeq: number;
  body: string;
  createdAt: number;
}
export interface ChainCheckpointRow extends ChainCheckpointInput {
  tenant: string;
  chainId: string;
}

export interface RangeOptions {
  fromSeq?: number;
  toSeq?: number;
  limit?: number;
}

/** Every query a stage may run, all filtered by the handle's tenant. */
export interface TenantOps {
  readonly tenant: string;

  // Requests, claims and leases
  enqueueRequest(requestId: string, options: EnqueueRequestOptions): Promise<{ created: boolean; request: RequestRecord }>;
  claim(requestId: string, options: ClaimOptions): Promise<ClaimResult>;
  claimBatch(options: {
    owner: string;
    leaseMs: number;
    limit: number;
    jurisdiction?: string;
  }): Promise<{ lease: Lease; request: RequestRecord }[]>;
  renewLease(lease: Lease, leaseMs: number): Promise<Lease>;
  /** Gives the request back (Queued) without finishing it, e.g. on graceful shutdown. */
  releaseLease(lease: Lease, reason?: string): Promise<void>;
  /** Changes the state of a request this lease holds; a final state ends the lease. Throws LEASE_LOST. */
  setStatus(lease: Lease, change: StatusChange): Promise<RequestRecord>;
  getRequest(requestId: string): Promise<RequestRecord | undefined>;
  /** Requests still Processing whose lease ran out (their replica died): work to resume. */
  listExpiredLeases(options?: { limit?: number }): Promise<RequestRecord[]>;
  countRequests(): Promise<Record<RequestStatus, number>>;

  // Outbox
  enqueueOutbox(row: OutboxInput): Promise<number>;
  leaseOutboxBatch(options: LeaseOutboxOptions): Promise<OutboxRow[]>;
  markSent(ids: readonly number[]): Promise<number>;
  /** Records the failure and schedules the next attempt; `permanent` parks the row as dead. */
  markFailed(failures: readonly OutboxFailure[], retry: { backoffMs: number; permanent?: boolean }): Promise<number>;
  getOutbox(id: number): Promise<OutboxRow | undefined>;
  listOutbox(options?: { status?: OutboxRow['status']; limit?: number }): Promise<OutboxRow[]>;
  outboxStats(): Promise<OutboxStats>;
  purgeSentOutbox(olderThanMs: number): Promise<number>;

  // Replay checkpoints and incidents
  getReplayCheckpoint(channel: string): Promise<ReplayCheckpoint | undefined>;
  setReplayCheckpoint(channel: string, replayId: string): Promise<void>;
  recordIncident(incident: IncidentInput): Promise<number>;
  listIncidents(options?: { since?: number; kind?: string; limit?: number }): Promise<Incident[]>;

  // Token maps (ciphertext only)
  putTokenMap(row: TokenMapInput): Promise<void>;
  /** Undefined when absent or expired. */
  getTokenMap(jurisdiction: string, requestId: string): Promise<TokenMapRow | undefined>;
  deleteTokenMap(jurisdiction: string, requestId: string): Promise<boolean>;

  // Gateway API keys (SHA-256 digests only)
  putApiKey(keyId: string, sha256: string): Promise<void>;
  revokeApiKey(keyId: string): Promise<boolean>;
  listApiKeys(): Promise<ApiKeyRow[]>;

  // Append-only hash chains
  /** Locks the chain's head until the transaction ends (creating it if absent). Transaction only. */
  lockChainHead(chainId: string): Promise<ChainHead>;
  /** Appends at head+1 and moves the head; requires the head lock. Throws CHAIN_CONFLICT otherwise. */
  appendChainEntry(chainId: string, entry: ChainEntryInput): Promise<void>;
  getChainHead(chainId: string): Promise<ChainHead | undefined>;
  listChains(): Promise<ChainHead[]>;
  readChainEntries(chainId: string, range?: RangeOptions): Promise<ChainEntryRow[]>;
  iterateChainEntries(chainId: string, range?: { fromSeq?: number; toSeq?: number; pageSize?: number }): AsyncIterable<ChainEntryRow>;
  countChainEntries(chainId: string, range?: { fromSeq?: number; toSeq?: number }): Promise<number>;
  /** Stores a checkpoint over (fromSeq..toSeq] and records it on the head. Transaction only. */
  putChainCheckpoint(chainId: string, checkpoint: ChainCheckpointInput): Promise<void>;
  listChainCheckpoints(chainId: string, range?: { fromSeq?: number; toSeq?: number }): Promise<ChainCheckpointRow[]>;
}

export interface TenantStore extends TenantOps {
  /** Runs `fn` in one transaction: everything it does commits together or not at all. */
  transaction<T>(fn: (tx: TenantOps) => Promise<T>): Promise<T>;
}

export interface StoreMetrics {
  outbox: Record<string, OutboxStats>;
  requests: Record<string, Record<RequestStatus, number>>;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  forTenant(tenant: string): TenantStore;
  /** Tenants that have any row (for workers that serve every tenant). */
  tenants(): Promise<string[]>;
  /** The applied migration version. */
  schemaVersion(): Promise<number>;
  /** Gateway key lookup before the tenant is known (by digest only). */
  findApiKey(sha256: string): Promise<{ tenant: string; keyId: string } | undefined>;
  /** Deletes every expired token map of every tenant; returns how many. */
  purgeExpiredTokenMaps(): Promise<number>;
  metrics(): Promise<StoreMetrics>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** Clock (epoch ms); tests move it to expire leases. */
  now?: () => number;
}
