/**
 * The pipeline under load, end to end: the org emulator, a real EU sidecar (CometD intake,
 * store, keys, audit, outbox flusher) and a fast loopback OpenAI-compatible model, so the
 * numbers are Sovra's own cost. Measures requests per second through a burst, the latency
 * Sovra adds (event published → request final in the sidecar, model time excluded), and the
 * Salesforce API calls each request costs, for single requests and for a burst.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RequestOutcome } from '../../service/src/pipeline/index.js';
import { configureLogging } from '../../service/src/shared/log.js';
import { startSidecar } from '../../service/src/sidecar/index.js';
import { DEMO } from '../emulator/index.js';
import { startLoopbackUpstream } from '../e2e/models-upstream.js';
import { demoConfig, startDemoOrg } from '../support/demoConfig.js';

export interface PipelineBenchOptions {
  /** Requests sent one at a time (each waits for the previous to be written back). */
  singles: number;
  /** Requests submitted at once. */
  burst: number;
  /** Most time to wait for the burst. */
  timeoutMs?: number;
}

export interface PipelineBenchResult {
  singles: {
    requests: number;
    completed: number;
    addedP50Ms: number;
    addedP99Ms: number;
    pipelineP50Ms: number;
    apiCallsPerRequest: number;
  };
  burst: {
    requests: number;
    completed: number;
    seconds: number;
    requestsPerSecond: number;
    addedP50Ms: number;
    addedP99Ms: number;
    apiCalls: number;
    apiCallsPerRequest: number;
  };
  correct: boolean;
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export async function runPipelineBench(o: PipelineBenchOptions): Promise<PipelineBenchResult> {
  configureLogging({ level: 'error', silent: true });
  const dir = mkdtempSync(join(tmpdir(), 'sovra-bench-'));
  const emu = await startDemoOrg({ cometdTimeoutMs: 20_000 });
  const upstream = await startLoopbackUpstream(() => ({
    kind: 'completion',
    content: 'Three bullet points: renew, expand, call back next week.',
  }));
  const submittedAt = new Map<string, number>();
  const done = new Map<string, RequestOutcome & { at: number }>();
  let onDone: (() => void) | undefined;
  const sidecar = await startSidecar({
    config: demoConfig({
      jurisdiction: 'EU',
      dir,
      emu,
      modelPath: resolve('..', 'shared/models/stories260K.gguf'),
      endpoint: { kind: 'loopback', port: upstream.port, id: 'eu-fast', model: 'loopback-model' },
      intake: { batchSize: 100, concurrency: 4, sweepIntervalSeconds: 30, sweepMinAgeSeconds: 60 },
      auditCheckpointEvery: 500,
    }),
    onOutcome: (_t, out) => {
      done.set(out.requestId, { ...out, at: Date.now() });
      onDone?.();
    },
    intake: { batchWindowMs: 200 },
    flushIdleMs: 100,
  });
  const orgId = emu.admin.orgs().find((x) => x.key === DEMO.orgKey)!.orgId;
  const usage = (): number => emu.admin.apiUsage()[orgId] ?? 0;
  const accounts = emu.admin
    .records('Account', DEMO.orgKey)
    .filter((a) => ['Germany', 'DE', 'France', 'Netherlands', 'Ireland'].includes(String(a.BillingCountry)));
  let n = 0;
  const submit = (): string => {
    const a = accounts[n++ % accounts.length]!;
    const r = emu.admin.submitAiRequest(
      { recordId: String(a.Id), action: 'AccountSummary' },
      { org: DEMO.orgKey, username: DEMO.users.euSales },
    );
    if (!r.accepted || !r.requestId) throw new Error(`submission refused: ${r.message}`);
    submittedAt.set(r.requestId, Date.now());
    return r.requestId;
  };
  const waitFor = (ids: string[], timeoutMs: number): Promise<void> =>
    new Promise((res, rej) => {
      const check = (): void => {
        if (ids.every((id) => done.has(id))) {
          clearTimeout(timer);
          onDone = undefined;
          res();
        }
      };
      const timer = setTimeout(() => {
        onDone = undefined;
        rej(new Error(`${ids.filter((id) => !done.has(id)).length} of ${ids.length} requests did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      onDone = check;
      check();
    });
  const added = (id: string): number => {
    const d = done.get(id)!;
    return d.at - submittedAt.get(id)! - (d.timings.modelMs ?? 0);
  };

  try {
    // The subscription comes up asynchronously; events before it are the sweep's (minutes here).
    const until = Date.now() + 30_000;
    while ((await sidecar.status()).tenants[0]?.intake?.subscription !== 'subscribed') {
      if (Date.now() > until) throw new Error('the sidecar did not subscribe to its channel within 30 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    // Warm-up: metadata, classification cache, JIT.
    const warm = submit();
    await waitFor([warm], 30_000);
    await sidecar.drain(30_000);

    const singles: string[] = [];
    const before = usage();
    for (let i = 0; i < o.singles; i++) {
      const id = submit();
      singles.push(id);
      await waitFor([id], 30_000);
      await sidecar.drain(30_000);
    }
    const singleCalls = usage() - before;

    const burstBefore = usage();
    const t0 = Date.now();
    const burst = Array.from({ length: o.burst }, () => submit());
    await waitFor(burst, o.timeoutMs ?? 600_000);
    const seconds = (Date.now() - t0) / 1000;
    await sidecar.drain(120_000);
    const burstCalls = usage() - burstBefore;

    const completed = (ids: string[]): number => ids.filter((id) => done.get(id)?.status === 'Completed').length;
    const result: PipelineBenchResult = {
      singles: {
        requests: singles.length,
        completed: completed(singles),
        addedP50Ms: pct(singles.map(added), 50),
        addedP99Ms: pct(singles.map(added), 99),
        pipelineP50Ms: pct(
          singles.map((id) => (done.get(id)!.timings.totalMs ?? 0) - (done.get(id)!.timings.modelMs ?? 0)),
          50,
        ),
        apiCallsPerRequest: singles.length ? singleCalls / singles.length : 0,
      },
      burst: {
        requests: burst.length,
        completed: completed(burst),
        seconds,
        requestsPerSecond: burst.length / seconds,
        addedP50Ms: pct(burst.map(added), 50),
        addedP99Ms: pct(burst.map(added), 99),
        apiCalls: burstCalls,
        apiCallsPerRequest: burst.length ? burstCalls / burst.length : 0,
      },
      correct: false,
    };
    const orgDone = emu.admin
      .records('AiRequest__c', DEMO.orgKey)
      .filter((r) => burst.includes(String(r.Id)) && r.Status__c === 'Completed').length;
    result.correct =
      result.singles.completed === singles.length &&
      result.burst.completed === burst.length &&
      orgDone === burst.length &&
      upstream.requests.every((r) => !JSON.stringify(r.body).includes('@'));
    return result;
  } finally {
    await sidecar.stop();
    await upstream.close();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatPipelineResult(r: PipelineBenchResult): string {
  const f = (x: number): string => x.toFixed(1);
  return [
    `single requests: ${r.singles.completed}/${r.singles.requests} completed; added latency (event → final, model excluded) p50 ${f(r.singles.addedP50Ms)} ms, p99 ${f(r.singles.addedP99Ms)} ms; pipeline p50 ${f(r.singles.pipelineP50Ms)} ms; ${f(r.singles.apiCallsPerRequest)} Salesforce API calls per request`,
    `burst of ${r.burst.requests}: ${r.burst.completed} completed in ${f(r.burst.seconds)} s = ${f(r.burst.requestsPerSecond)} requests/s; added latency p50 ${f(r.burst.addedP50Ms)} ms, p99 ${f(r.burst.addedP99Ms)} ms; ${r.burst.apiCalls} API calls = ${r.burst.apiCallsPerRequest.toFixed(3)} per request`,
    `correct: ${r.correct}`,
  ].join('\n');
}
