/**
 * A minimal sidecar for the reliability suite, run as its own process (and SIGKILLed at
 * random points): the real intake, store and outbox flusher, and a stand-in pipeline that
 * finishes each request in ONE store transaction — final status + the outbox rows that
 * reflect it (request update, an audit entry keyed by request id, a result event).
 * Configuration comes from the environment (this is a test tool, not service code).
 */
import { Intake } from '../../service/src/intake/index.js';
import { SalesforceConnection } from '../../service/src/salesforce/index.js';
import { SqliteStore } from '../../service/src/store/index.js';
import { OutboxFlusher, encodeOutboxPayload } from '../../service/src/writeback/index.js';
import { tenantSchema } from '../../service/src/config/schema.js';
import { configureLogging } from '../../service/src/shared/log.js';

configureLogging({ silent: true });
const env = process.env;
const tenant = tenantSchema.parse(JSON.parse(env.SOVRA_REL_TENANT ?? ''));
const sf = await SalesforceConnection.connect({ tenant, baseDir: process.cwd(), env });
const store = new SqliteStore({ path: env.SOVRA_REL_DB ?? '' });
const t = store.forTenant(tenant.id);
const flusher = new OutboxFlusher({ sf, store: t, minBackoffMs: 50, maxBackoffMs: 500, idleMs: 50, leaseMs: 2_000 });
const intake = new Intake({
  sf,
  store: t,
  jurisdiction: 'EU',
  leaseMs: 1_500,
  sweepIntervalMs: 1_000,
  sweepMinAgeMs: 2_000,
  batchWindowMs: 20,
  staleMs: 2_000,
  process: async (batch) => {
    for (const w of batch) {
      await t.transaction(async (tx) => {
        await tx.setStatus(w.lease, { status: 'Completed', reasonCode: 'OK' });
        await tx.enqueueOutbox({
          jurisdiction: 'EU',
          sobject: 'AiRequest__c',
          operation: 'update',
          externalIdField: 'Id',
          externalId: w.requestId,
          payload: encodeOutboxPayload({ Status__c: 'Completed' }),
          encrypted: false,
        });
        await tx.enqueueOutbox({
          jurisdiction: 'EU',
          sobject: 'AiAuditEntry__c',
          operation: 'upsert',
          externalIdField: 'EntryKey__c',
          externalId: `rel-${w.requestId}`,
          payload: encodeOutboxPayload({ ChainId__c: 'EU', EventType__c: 'request', Jurisdiction__c: 'EU', RequestId__c: w.requestId }),
          encrypted: false,
        });
        await tx.enqueueOutbox({
          jurisdiction: 'EU',
          sobject: 'AiResult__e',
          operation: 'publish',
          payload: encodeOutboxPayload({ RequestId__c: w.requestId, Status__c: 'Completed', Jurisdiction__c: 'EU' }),
          encrypted: false,
        });
      });
    }
    flusher.notify();
  },
});
await intake.start();
flusher.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void Promise.all([intake.stop(), flusher.stop()])
    .then(() => store.close())
    .then(() => process.exit(0));
});
