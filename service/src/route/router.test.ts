import { afterEach, describe, expect, it } from '@jest/globals';
import type { EndpointConfig } from '../config/schema.js';
import { SovraError } from '../shared/errors.js';
import { startLoopbackUpstream, type LoopbackUpstream, type UpstreamReply } from '../../../test/e2e/models-upstream.js';
import type { EgressRefusalEvent } from '../llm/index.js';
import { createRouter, type AttemptEvent, type ModelRouter } from './index.js';

const started: LoopbackUpstream[] = [];
const routers: ModelRouter[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
  await Promise.all(started.splice(0).map((u) => u.close()));
});

async function upstream(reply: (n: number) => UpstreamReply): Promise<LoopbackUpstream> {
  let n = 0;
  const u = await startLoopbackUpstream(() => reply(n++));
  started.push(u);
  return u;
}

function ep(id: string, u: LoopbackUpstream | string, priority: number, maxRetries = 1): EndpointConfig {
  return {
    id,
    provider: 'openai-compatible',
    region: 'eu-central-1',
    model: `model-${id}`,
    priority,
    timeoutMs: 1_000,
    maxRetries,
    baseUrl: typeof u === 'string' ? u : u.baseUrl,
  };
}

function router(endpoints: EndpointConfig[], extra: Partial<Parameters<typeof createRouter>[0]> = {}): ModelRouter {
  const r = createRouter({
    jurisdiction: 'EU',
    config: { endpoints, egress: { networks: ['127.0.0.0/8'], hosts: ['llm.eu.test'] } },
    random: () => 0,
    ...extra,
  });
  routers.push(r);
  return r;
}

const ask = { messages: [{ role: 'user' as const, content: 'hi' }] };
const down: UpstreamReply = { kind: 'json', status: 503, body: { error: { message: 'down' } } };

describe('router of one jurisdiction', () => {
  it('serves from the highest-priority endpoint', async () => {
    const a = await upstream(() => ({ kind: 'completion', content: 'from a' }));
    const b = await upstream(() => ({ kind: 'completion', content: 'from b' }));
    const r = router([ep('eu-b', b, 20), ep('eu-a', a, 10)]);
    const res = await r.chat(ask);
    expect(res).toMatchObject({ content: 'from a', endpointId: 'eu-a', routing: { jurisdiction: 'EU', attempts: 1, failures: [] } });
    expect(b.requests).toHaveLength(0);
  });

  it('retries a failing endpoint with backoff, then fails over inside the jurisdiction', async () => {
    const a = await upstream(() => down);
    const b = await upstream(() => ({ kind: 'completion', content: 'from b' }));
    const attempts: AttemptEvent[] = [];
    const r = router([ep('eu-a', a, 10, 2), ep('eu-b', b, 20)], { onAttempt: (e) => attempts.push(e) });
    const res = await r.chat(ask);
    expect(res.content).toBe('from b');
    expect(a.requests).toHaveLength(3);
    expect(res.routing).toMatchObject({ attempts: 4, failures: [{ endpointId: 'eu-a', code: 'UPSTREAM_ERROR', attempts: 3 }] });
    expect(attempts.map((e) => `${e.endpointId}:${e.outcome}`)).toEqual(['eu-a:retry', 'eu-a:retry', 'eu-a:failover', 'eu-b:ok']);
  });

  it('fails with a reason naming every endpoint when none can answer', async () => {
    const a = await upstream(() => down);
    const r = router([ep('eu-a', a, 10, 0), ep('eu-b', 'http://127.0.0.1:1/v1', 20, 0)]);
    const err = (await r.chat(ask).catch((e: unknown) => e)) as SovraError;
    expect(err).toBeInstanceOf(SovraError);
    expect(err.kind).toBe('unavailable');
    expect(err.code).toBe('NO_HEALTHY_ENDPOINT');
    expect(err.message).toContain('jurisdiction EU');
    expect(err.message).toContain('eu-a: UPSTREAM_ERROR');
    expect(err.message).toContain('eu-b: UPSTREAM_UNREACHABLE');
    expect(err.reason).toContain('never sent to another jurisdiction');
  });

  it('opens the circuit after repeated failures and skips the endpoint until the cooldown ends', async () => {
    let clock = 1_000_000;
    let healthy = false;
    const a = await upstream(() => (healthy ? { kind: 'completion', content: 'a is back' } : down));
    const b = await upstream(() => ({ kind: 'completion', content: 'from b' }));
    const r = router([ep('eu-a', a, 10, 0), ep('eu-b', b, 20, 0)], {
      now: () => clock,
      breaker: { failureThreshold: 2, cooldownMs: 10_000 },
    });
    await r.chat(ask);
    await r.chat(ask);
    expect(a.requests).toHaveLength(2);
    expect(r.health().find((h) => h.endpointId === 'eu-a')!.state).toBe('open');
    const res = await r.chat(ask);
    expect(res.endpointId).toBe('eu-b');
    expect(a.requests).toHaveLength(2);
    clock += 10_000;
    healthy = true;
    expect(r.health().find((h) => h.endpointId === 'eu-a')!.state).toBe('half_open');
    expect((await r.chat(ask)).content).toBe('a is back');
    expect(r.health().find((h) => h.endpointId === 'eu-a')!.state).toBe('closed');
  });

  it('orders endpoints of equal priority by measured latency', async () => {
    const slow = await upstream(() => ({ kind: 'completion', content: 'slow', delayMs: 60 }));
    const fast = await upstream(() => ({ kind: 'completion', content: 'fast' }));
    const r = router([ep('eu-slow', slow, 10), ep('eu-fast', fast, 10)]);
    await r.chat(ask); // measures eu-slow (first in order)
    expect(slow.requests).toHaveLength(1);
    expect((await r.chat(ask)).content).toBe('fast'); // eu-fast has no measurement yet: tried before the slow one
    expect((await r.chat(ask)).content).toBe('fast');
    const h = r.health();
    expect(h.find((x) => x.endpointId === 'eu-slow')!.latencyMs).toBeGreaterThan(h.find((x) => x.endpointId === 'eu-fast')!.latencyMs!);
  });

  it('ends the call on an egress refusal: no retry, no failover, reported', async () => {
    const b = await upstream(() => ({ kind: 'completion', content: 'from b' }));
    const refusals: EgressRefusalEvent[] = [];
    const r = router([ep('eu-a', 'http://llm.eu.test:9/v1', 10), ep('eu-b', b, 20)], {
      resolve: async () => ['18.200.0.1'],
      onEgressRefusal: (e) => refusals.push(e),
    });
    const err = (await r.chat(ask).catch((e: unknown) => e)) as SovraError;
    expect(err.kind).toBe('egress_refused');
    expect(refusals).toHaveLength(1);
    expect(b.connections).toBe(0);
  });

  it('does not retry or fail over a request the model server rejected as invalid', async () => {
    const a = await upstream(() => ({ kind: 'json', status: 400, body: { error: { message: 'bad' } } }));
    const b = await upstream(() => ({ kind: 'completion', content: 'from b' }));
    const r = router([ep('eu-a', a, 10), ep('eu-b', b, 20)]);
    const err = (await r.chat(ask).catch((e: unknown) => e)) as SovraError;
    expect(err.kind).toBe('validation');
    expect(a.requests).toHaveLength(1);
    expect(b.requests).toHaveLength(0);
  });

  it('fails a stream over before its first chunk and counts a cut stream against the endpoint', async () => {
    const a = await upstream(() => down);
    const b = await upstream((n) =>
      n === 0 ? { kind: 'stream', pieces: ['str', 'eam'] } : { kind: 'stream', pieces: ['x', 'y', 'z'], cutAfter: 2, delayMs: 10 },
    );
    const r = router([ep('eu-a', a, 10, 0), ep('eu-b', b, 20, 0)]);
    const s = await r.chat({ ...ask, stream: true });
    let text = '';
    for await (const c of s) text += c.contentDelta ?? '';
    expect(text).toBe('stream');
    expect(s.endpointId).toBe('eu-b');
    const cut = await r.chat({ ...ask, stream: true });
    const err = await (async () => {
      for await (const c of cut) void c;
    })().catch((e: unknown) => e);
    expect((err as SovraError).code).toBe('UPSTREAM_STREAM_CUT');
    expect(r.health().find((h) => h.endpointId === 'eu-b')!.lastErrorCode).toBe('UPSTREAM_STREAM_CUT');
  });

  it('probes endpoints without sending a prompt', async () => {
    const a = await upstream(() => down);
    const r = router([ep('eu-a', a, 10), ep('eu-b', 'http://127.0.0.1:1/v1', 20)]);
    const h = await r.probe();
    expect(h.find((x) => x.endpointId === 'eu-a')!.consecutiveFailures).toBe(0);
    expect(h.find((x) => x.endpointId === 'eu-b')!.lastErrorCode).toBe('UPSTREAM_UNREACHABLE');
    expect(a.requests.map((q) => q.url)).toEqual(['/v1/models']);
    expect(r.ready()).toBe(true);
  });
});
