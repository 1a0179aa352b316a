/**
 * Two replicas (two Store instances on one PostgreSQL schema) append to the same chain at
 * once: the chain stays gap-free and verifies clean, checkpoints included.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PostgresStore } from '../../store/index.js';
import { createTestSchema, type TestSchema } from '../../store/__tests__/pg.js';
import { AuditLog, verifyLocalChain } from '../index.js';
import { TestKeyService } from './testKeys.js';

describe('audit chain on PostgreSQL with two replicas', () => {
  let schema: TestSchema;
  let a: PostgresStore;
  let b: PostgresStore;

  beforeAll(async () => {
    schema = await createTestSchema('sovra_audit');
    a = await PostgresStore.open({ connectionString: schema.url, schema: schema.schema, poolSize: 4 });
    b = await PostgresStore.open({ connectionString: schema.url, schema: schema.schema, poolSize: 4 });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await schema?.drop();
  });

  it('keeps one gap-free chain across several thousand concurrent appends', async () => {
    const keys = new TestKeyService('EU');
    const opts = { keys, tenant: 'acme', region: 'eu-central-1', checkpointEvery: 500, encryptOutbox: false };
    const logA = new AuditLog({ ...opts, store: a });
    const logB = new AuditLog({ ...opts, store: b });
    const perWorker = 750;
    const worker = async (log: AuditLog, name: string): Promise<void> => {
      for (let i = 0; i < perWorker; i++) {
        await log.record({
          eventType: 'model.answered',
          decision: 'allow',
          requestId: `${name}-${i}`,
          sanitizedPrompt: `p ${i}`,
          rawPrompt: `raw ${i}`,
        });
      }
    };
    const started = Date.now();
    await Promise.all([worker(logA, 'a1'), worker(logB, 'b1'), worker(logA, 'a2'), worker(logB, 'b2')]);
    const ms = Date.now() - started;
    await logA.checkpointIfDue({ force: true });
    const t = a.forTenant('acme');
    const head = (await t.getChainHead(logA.chainId))!;
    const checkpoints = await logA.checkpoints();
    // 3000 entries + one 'checkpoint.signed' entry per checkpoint.
    expect(head.lastSeq).toBe(4 * perWorker + checkpoints.length);
    const seqs = (await t.readChainEntries(logA.chainId)).map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: head.lastSeq }, (_, i) => i + 1));
    const result = await verifyLocalChain(b.forTenant('acme'), logA.chainId, await keys.publicKeys());
    expect(result).toMatchObject({ ok: true, issues: [], verifiedThrough: head.lastSeq - 1 });
    process.stdout.write(
      `audit: ${4 * perWorker} appends from 2 replicas in ${ms} ms (${Math.round((4 * perWorker * 1000) / ms)}/s), ${checkpoints.length} checkpoints, verified clean\n`,
    );
  }, 120_000);
});
