/**
 * The writeback stage: flushes the store's outbox to Salesforce in Composite sObject
 * collections batches, by external id, with backoff through outages.
 */
export {
  IMMUTABLE_SOBJECTS,
  OutboxFlusher,
  encodeOutboxPayload,
  outboxDecryptor,
  outboxRow,
  type DecryptOutbox,
  type FlushResult,
  type FlusherMetrics,
  type FlusherOptions,
} from './flusher.js';
