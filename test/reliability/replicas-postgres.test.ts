/**
 * Two sidecar replicas of one jurisdiction on one PostgreSQL store, both subscribed to the same
 * channel and sweeping the same org, process a burst together: every request is done exactly
 * once (one model call, one end state, one answer written back), both replicas take part, and
 * the tenant's audit chain stays one gap-free, verifying chain.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { RequestOutcome } from '../../service/src/pipeline/index.js';
import { startSidecar, type Sidecar } from '../../service/src/sidecar/index.js';
import { DEMO, type RunningEmulator } from '../emulator/index.js';
import { startLoopbackUpstream, type LoopbackUpstream } from '../e2e/models-upstream.js';
import { demoConfig, startDemoOrg } from '../support/demoConfig.js';

const ADMIN_URL = process.env.SOVRA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PG_ENV = 'SOVRA_TEST_REPLICA_PG_URL';
const BURST = 120;

let emu: RunningEmulator;
let upstream: LoopbackUpstream;
let replicas: Sidecar[] = [];
let dir: string;
let database: string;
const outcomes: { replica: number; outcome: RequestOutcome }[] = [];

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${ADMIN_URL} (${(err as Error).message}). Start it (scripts/ci/postgres.sh) or set SOVRA_TEST_PG_URL.`,
      { cause: err },
    );
  }
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  database = `sovra_replicas_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${database}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  process.env[PG_ENV] = url.toString();
  dir = mkdtempSync(join(tmpdir(), 'sovra-replicas-'));
  emu = await startDemoOrg({ cometdTimeoutMs: 5_000 });
  upstream = await startLoopbackUpstream(() => ({ kind: 'completion', content: 'Renew in Q3; call the buyer.' }));
  const config = demoConfig({
    jurisdiction: 'EU',
    dir,
    emu,
    modelPath: resolve('..', 'shared/models/stories260K.gguf'),
    endpoint: { kind: 'loopback', port: upstream.port, id: 'eu-fast', model: 'loopback-model' },
    postgresUrlEnv: PG_ENV,
    intake: { batchSize: 20, concurrency: 2, sweepIntervalSeconds: 1, sweepMinAgeSeconds: 2 },
    auditCheckpointEvery: 50,
  });
  // Replicas start one after the other: the first one migrates the shared database.
  for (const replica of [0, 1]) {
    replicas.push(
      await startSidecar({
        config,
        onOutcome: (_t, outcome) => outcomes.push({ replica, outcome }),
        intake: { sweepIntervalMs: 1_000, sweepMinAgeMs: 2_000, batchWindowMs: 30 },
        flushIdleMs: 100,
      }),
    );
  }
}, 120_000);

afterAll(async () => {
  for (const r of replicas) await r.stop().catch(() => undefined);
  replicas = [];
  await upstream?.close();
  await emu?.close();
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)).catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('two replicas on one PostgreSQL', () => {
  it('do every request of a burst exactly once, and keep one gap-free chain', async () => {
    // Both replicas must be listening before the burst, or one of them simply has nothing to race for.
    const until = Date.now() + 30_000;
    for (const r of replicas) {
      while ((await r.status()).tenants[0]?.intake?.subscription !== 'subscribed') {
        if (Date.now() > until) throw new Error('a replica did not subscribe to its channel within 30 s');
        await new Promise((res) => setTimeout(res, 50));
      }
    }
    const accounts = emu.admin
      .records('Account', DEMO.orgKey)
      .filter((a) => ['Germany', 'DE', 'France', 'Netherlands', 'Ireland'].includes(String(a.BillingCountry)));
    const ids = Array.from({ length: BURST }, (_, i) => {
      const r = emu.admin.submitAiRequest(
        { recordId: String(accounts[i % accounts.length]!.Id), action: 'AccountSummary' },
        { org: DEMO.orgKey, username: DEMO.users.euSales },
      );
      if (!r.accepted || !r.requestId) throw new Error(String(r.message));
      return r.requestId;
    });
    const deadline = Date.now() + 90_000;
    while (new Set(outcomes.map((o) => o.outcome.requestId)).size < BURST && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    for (const r of replicas) await r.drain(30_000);

    // Exactly one end state per request, across both replicas; both took part.
    const byRequest = new Map<string, number>();
    for (const o of outcomes) byRequest.set(o.outcome.requestId, (byRequest.get(o.outcome.requestId) ?? 0) + 1);
    expect([...byRequest.keys()].sort()).toEqual([...ids].sort());
    expect([...byRequest.values()].every((n) => n === 1)).toBe(true);
    expect(outcomes.every((o) => o.outcome.status === 'Completed')).toBe(true);
    const perReplica = [0, 1].map((r) => outcomes.filter((o) => o.replica === r).length);
    expect(perReplica.every((n) => n > 0)).toBe(true);

    // One model call per request, and every row Completed once in the org.
    expect(upstream.requests.length).toBe(BURST);
    const rows = emu.admin.records('AiRequest__c', DEMO.orgKey).filter((r) => ids.includes(String(r.Id)));
    expect(rows.every((r) => r.Status__c === 'Completed')).toBe(true);

    // One chain for the tenant, written by both replicas, gap-free and verifying.
    const audit = replicas[0]!.tenants.get('demo')!.audit;
    await audit.checkpointIfDue({ force: true });
    const result = await audit.verify();
    expect(result.issues).toEqual([]);
    expect(result.ok).toBe(true);
    const answered = (await replicas[0]!.store.forTenant('demo').readChainEntries(audit.chainId, { limit: 10_000 }))
      .map((e) => JSON.parse(e.body) as { eventType: string; requestId: string | null })
      .filter((e) => e.eventType === 'model.answered');
    expect(answered.length).toBe(BURST);
    expect(new Set(answered.map((e) => e.requestId)).size).toBe(BURST);
    process.stdout.write(`replicas: ${BURST} requests, replica shares ${perReplica.join('/')}, ${result.entries} chain entries\n`);
  }, 150_000);
});
