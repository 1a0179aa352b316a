/**
 * The gateway benchmark: what Sovra's gateway adds over calling the same local upstream
 * directly, with sanitization and audit on. Both paths use the official `openai` client:
 *   direct  : client → upstream
 *   gateway : client → gateway (key check, sanitize, route + egress guard, detokenize, audit) → upstream
 * Upstream: the loopback OpenAI-compatible server (default; isolates Sovra's own overhead) or
 * llama-server with the tiny real model.
 */
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import express from 'express';
import OpenAI from 'openai';
import { createGatewayRouter, hashGatewayKey, sanitizePort, type GatewayAuditEvent } from '../../service/src/http/gateway/index.js';
import { createMetrics, routerMetricHooks } from '../../service/src/http/metrics.js';
import { createRouter } from '../../service/src/route/index.js';
import { createSanitizer } from '../../service/src/sanitize/index.js';
import { pieces, startLoopbackUpstream, type RecordedRequest } from '../e2e/models-upstream.js';
import { startLlamaServer } from '../e2e/models-real.js';

export interface BenchOptions {
  requests: number;
  concurrency: number;
  upstream: 'loopback' | 'llama';
  stream: boolean;
}

export interface Stats {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  rps: number;
}

export interface BenchResult {
  options: BenchOptions;
  direct: Stats;
  gateway: Stats;
  overheadP50Ms: number;
  overheadP99Ms: number;
  audited: number;
  /** Whether every gateway answer came back with the PII restored and the upstream never saw it. */
  correct: boolean;
  problems: string[];
}

const KEY = 'sovra_bench-key-000000000000000000000';
const EMAIL = 'erika.musterfrau@example.de';
const IBAN = 'DE89 3704 0044 0532 0130 00';
const PROMPT = `Draft a short reply to ${EMAIL} confirming the refund to ${IBAN}.`;
const TOKEN = /⟦[A-Z]+_[0-9A-Z]+⟧/g;

function stats(samples: number[], wallMs: number): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    n: s.length,
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    mean: round(s.reduce((a, b) => a + b, 0) / s.length),
    rps: round((s.length / wallMs) * 1000),
  };
}

async function run(n: number, concurrency: number, call: () => Promise<void>): Promise<Stats> {
  const samples: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next += 1;
        const t = performance.now();
        await call();
        samples.push(performance.now() - t);
      }
    }),
  );
  return stats(samples, performance.now() - t0);
}

/** An audit sink doing what an audit write costs in-process: canonical JSON, SHA-256, a hash chain. */
function chainAudit(): { audit: (e: GatewayAuditEvent) => void; events: GatewayAuditEvent[] } {
  let prev = '0'.repeat(64);
  const events: GatewayAuditEvent[] = [];
  return {
    events,
    audit(e) {
      prev = createHash('sha256').update(prev).update(JSON.stringify(e)).digest('hex');
      events.push(e);
    },
  };
}

export async function runGatewayBench(options: BenchOptions): Promise<BenchResult> {
  const problems: string[] = [];
  const loop = await startLoopbackUpstream((req: RecordedRequest) => {
    const tokens = [...new Set(req.raw.match(TOKEN) ?? [])];
    const text = tokens.length > 0 ? `Dear ${tokens.join(', ')}: your refund is on its way.` : 'Dear customer: your refund is on its way.';
    return options.stream ? { kind: 'stream', pieces: pieces(text, 4) } : { kind: 'completion', content: text };
  });
  const llama = options.upstream === 'llama' ? await startLlamaServer({ parallel: Math.min(4, options.concurrency) }) : undefined;
  const upstreamBase = llama ? llama.baseUrl : loop.baseUrl;
  const metrics = createMetrics({ processMetrics: false });
  const router = createRouter({
    jurisdiction: 'EU',
    config: {
      endpoints: [
        {
          id: 'eu-bench',
          provider: 'openai-compatible',
          region: 'eu-central-1',
          model: 'bench',
          priority: 1,
          timeoutMs: 30_000,
          maxRetries: 0,
          baseUrl: upstreamBase,
        },
      ],
      egress: { networks: ['127.0.0.0/8'], hosts: [] },
    },
    ...routerMetricHooks(metrics),
  });
  const sink = chainAudit();
  const app = express();
  app.use(
    '/v1',
    createGatewayRouter({
      jurisdiction: 'EU',
      tenants: [{ id: 'bench', jurisdictions: ['EU'], gatewayKeys: [{ id: 'bench', sha256: hashGatewayKey(KEY) }] }],
      router,
      sanitizer: sanitizePort(createSanitizer({ countries: ['DE', 'FR'] })),
      audit: sink.audit,
      metrics,
    }),
  );
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((ok) => server.once('listening', ok));
  const gatewayBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;

  // llama-server closes keep-alive connections in a way undici's fetch can race with; the SDK's own
  // retry absorbs that on the direct path (the gateway resends on a fresh socket by itself).
  const direct = new OpenAI({ apiKey: 'none', baseURL: upstreamBase, maxRetries: 2 });
  const viaGateway = new OpenAI({ apiKey: KEY, baseURL: gatewayBase, maxRetries: 0 });
  const body = { model: 'bench', messages: [{ role: 'user' as const, content: PROMPT }], max_tokens: 16, temperature: 0 };

  const call = (client: OpenAI, check: boolean) => async (): Promise<void> => {
    let text = '';
    if (options.stream) {
      const s = await client.chat.completions.create({ ...body, stream: true });
      for await (const c of s) text += c.choices[0]?.delta.content ?? '';
    } else {
      const r = await client.chat.completions.create(body);
      text = r.choices[0]?.message.content ?? '';
    }
    if (check && !llama && (!text.includes(EMAIL) || !text.includes(IBAN) || (text.match(TOKEN) ?? []).length > 0))
      problems.push('an answer was not restored');
    if (check && llama && text.length === 0) problems.push('an empty answer');
  };

  try {
    // Warm both paths (connections, JIT, model cache) before measuring.
    await run(Math.min(20, options.requests), 1, call(direct, false));
    await run(Math.min(20, options.requests), 1, call(viaGateway, true));
    sink.events.length = 0;
    loop.requests.length = 0;
    const d = await run(options.requests, options.concurrency, call(direct, false));
    const g = await run(options.requests, options.concurrency, call(viaGateway, true));
    if (!llama) {
      const leaked = loop.requests.filter((r) => r.raw.includes(EMAIL) || r.raw.includes(IBAN.replace(/ /g, '')) || r.raw.includes(IBAN));
      // The direct path sends the raw prompt on purpose; only gateway requests must be clean.
      const gatewaySent = loop.requests.filter((r) => (r.raw.match(TOKEN) ?? []).length > 0);
      if (gatewaySent.length !== options.requests)
        problems.push(`expected ${options.requests} sanitized upstream requests, saw ${gatewaySent.length}`);
      if (leaked.length !== options.requests)
        problems.push(`expected only the ${options.requests} direct requests to carry PII, saw ${leaked.length}`);
    }
    if (sink.events.length !== options.requests || sink.events.some((e) => e.outcome !== 'success'))
      problems.push('not every call was audited as success');
    return {
      options,
      direct: d,
      gateway: g,
      overheadP50Ms: Math.round((g.p50 - d.p50) * 100) / 100,
      overheadP99Ms: Math.round((g.p99 - d.p99) * 100) / 100,
      audited: sink.events.length,
      correct: problems.length === 0,
      problems,
    };
  } finally {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
    await router.close();
    await loop.close();
    await llama?.stop();
  }
}

export function formatResult(r: BenchResult): string {
  const o = r.options;
  const row = (name: string, s: Stats): string =>
    `  ${name.padEnd(8)} p50 ${s.p50.toFixed(2).padStart(8)} ms   p99 ${s.p99.toFixed(2).padStart(8)} ms   mean ${s.mean.toFixed(2).padStart(8)} ms   ${s.rps.toFixed(1).padStart(8)} req/s`;
  return [
    `gateway bench: upstream=${o.upstream} ${o.stream ? 'streamed' : 'non-streamed'} requests=${o.requests} concurrency=${o.concurrency} (sanitize + audit on)`,
    row('direct', r.direct),
    row('gateway', r.gateway),
    `  overhead p50 ${r.overheadP50Ms.toFixed(2)} ms, p99 ${r.overheadP99Ms.toFixed(2)} ms; audited ${r.audited}; ${r.correct ? 'all answers restored, upstream saw no PII' : `PROBLEMS: ${r.problems.join('; ')}`}`,
  ].join('\n');
}
