/**
 * Reliability: a sidecar process is SIGKILLed at random points while requests flow through
 * the emulator, restarted, again and again. Afterwards every request has exactly one final
 * state (in the store and in the org), no audit record is duplicated, none is lost.
 * `npm test` runs a short variant; `npm run test:reliability` the full one
 * (1,000 requests, ten kills).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../service/src/store/index.js';
import { DEMO } from '../emulator/index.js';
import { queueRequest, startTestOrg, waitFor, type TestOrg } from './harness.js';

const LONG = process.env.SOVRA_RELIABILITY === 'long';
const REQUESTS = LONG ? 1_000 : 150;
const KILLS = LONG ? 10 : 3;

describe(`intake under SIGKILL (${REQUESTS} requests, ${KILLS} kills)`, () => {
  let org: TestOrg;
  let dir: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    org = await startTestOrg({ cometdTimeoutMs: 300 });
    dir = mkdtempSync(join(tmpdir(), 'sovra-rel-'));
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await org.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function startWorker(): Promise<ChildProcess> {
    const p = spawn(process.execPath, ['--import', 'tsx', join('test', 'reliability', 'worker.ts')], {
      env: { ...process.env, ...org.env, SOVRA_REL_TENANT: JSON.stringify(org.tenant), SOVRA_REL_DB: join(dir, 'store.db') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    p.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (process.env.SOVRA_REL_DEBUG) process.stdout.write(d);
    });
    return new Promise((resolve, reject) => {
      p.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) resolve(p);
      });
      p.once('exit', (code) => reject(new Error(`worker exited (${String(code)}) before it was ready: ${err.slice(0, 2000)}`)));
    });
  }
  const kill = async (p: ChildProcess): Promise<void> => {
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  };

  it(
    'reaches exactly one final state per request, with no duplicate and nothing lost',
    async () => {
      const ids: string[] = [];
      let queued = 0;
      const producer = setInterval(() => {
        for (let i = 0; i < Math.ceil(REQUESTS / 40) && queued < REQUESTS; i += 1) ids.push(queueRequest(org, 'EU', queued++));
      }, 50);
      try {
        for (let round = 0; round < KILLS; round += 1) {
          child = await startWorker();
          await new Promise((r) => setTimeout(r, 300 + Math.random() * 1_200));
          await kill(child);
          child = undefined;
        }
        await waitFor(() => queued >= REQUESTS, 60_000, 'all requests queued');
      } finally {
        clearInterval(producer);
      }
      child = await startWorker();
      const n = org.emu.admin.names(DEMO.orgKey);
      const status = (id: string): unknown => org.emu.admin.record('AiRequest__c', id, DEMO.orgKey)?.[n.name('Status__c')];
      try {
        await waitFor(() => ids.every((id) => status(id) === 'Completed'), LONG ? 240_000 : 40_000, 'every request Completed in the org');
      } catch (e) {
        const byStatus: Record<string, number> = {};
        for (const id of ids) byStatus[String(status(id))] = (byStatus[String(status(id))] ?? 0) + 1;
        const diag = new SqliteStore({ path: join(dir, 'store.db') });
        const dt = diag.forTenant('demo');
        const missing = ids.filter((id) => status(id) !== 'Completed').slice(0, 3);
        const rows = await Promise.all(missing.map((id) => dt.getRequest(id)));
        process.stdout.write(
          `DIAG org=${JSON.stringify(byStatus)} store=${JSON.stringify(await dt.countRequests())} outbox=${JSON.stringify(await dt.outboxStats())} missing=${JSON.stringify(rows)} dead=${JSON.stringify((await dt.listOutbox({ status: 'dead', limit: 3 })).map((r) => r.lastError))}\n`,
        );
        await diag.close();
        throw e;
      }
      await new Promise((r) => setTimeout(r, 500));
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      child = undefined;

      const store = new SqliteStore({ path: join(dir, 'store.db') });
      try {
        const t = store.forTenant('demo');
        for (const id of ids) expect((await t.getRequest(id))?.status).toBe('Completed');
        const counts = await t.countRequests();
        expect(counts.Completed).toBe(REQUESTS);
        expect(counts.Processing + counts.Queued).toBe(0);
        expect((await t.outboxStats()).dead).toBe(0);
      } finally {
        await store.close();
      }
      const entries = org.emu.admin
        .records('AiAuditEntry__c', DEMO.orgKey)
        .filter((r) => String(r[n.name('EntryKey__c')]).startsWith('rel-'));
      const keys = entries.map((r) => String(r[n.name('EntryKey__c')]));
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys.length).toBe(REQUESTS);
      const requests = org.emu.admin.records('AiRequest__c', DEMO.orgKey);
      expect(requests.filter((r) => ids.includes(String(r.Id)))).toHaveLength(REQUESTS);
      process.stdout.write(
        `reliability: ${REQUESTS} requests, ${KILLS} SIGKILLs, all Completed once, ${keys.length} audit entries, API calls ${org.emu.admin.apiUsage()[org.tenant.orgId]}\n`,
      );
    },
    LONG ? 600_000 : 180_000,
  );
});
