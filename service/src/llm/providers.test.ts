import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EndpointConfig } from '../config/schema.js';
import { SovraError } from '../shared/errors.js';
import { startLoopbackUpstream, type LoopbackUpstream, type UpstreamReply } from '../../../test/e2e/models-upstream.js';
import { createEgressGuard } from './egress.js';
import { createProvider } from './providers/index.js';
import type { ChatChunk, ChatProvider, ChatStream } from './types.js';

const MODEL = new URL('../../../../shared/models/stories260K.gguf', import.meta.url).pathname;

async function collect(stream: ChatStream): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

describe('provider openai-compatible', () => {
  let upstream: LoopbackUpstream;
  let provider: ChatProvider;
  const guard = createEgressGuard({ jurisdiction: 'EU', networks: ['127.0.0.0/8'], hosts: [] });
  let next: UpstreamReply = { kind: 'completion', content: 'hi' };
  beforeAll(async () => {
    upstream = await startLoopbackUpstream(() => next);
    const ep: EndpointConfig = {
      id: 'eu-a',
      provider: 'openai-compatible',
      region: 'eu-central-1',
      model: 'm-1',
      priority: 1,
      timeoutMs: 2_000,
      maxRetries: 0,
      baseUrl: upstream.baseUrl,
      apiKey: { env: 'TEST_KEY' },
    };
    provider = createProvider(ep, { jurisdiction: 'EU', egress: guard, secret: () => 'sk-test' });
  });
  afterAll(async () => {
    guard.close();
    await upstream.close();
  });

  it('sends the OpenAI wire format and maps the answer, tool calls included', async () => {
    next = { kind: 'completion', content: '', toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' }] };
    const r = await provider.chat({
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'assistant', content: null, toolCalls: [{ id: 'c0', type: 'function', function: { name: 'lookup', arguments: '{}' } }] },
        { role: 'tool', content: 'result', toolCallId: 'c0' },
        { role: 'user', content: 'hello' },
      ],
      tools: [{ name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } }],
      maxTokens: 20,
      temperature: 0,
    });
    expect(r).toMatchObject({ endpointId: 'eu-a', provider: 'openai-compatible', finishReason: 'tool_calls', content: '' });
    expect(r.toolCalls).toEqual([{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }]);
    const sent = upstream.requests.at(-1)!;
    expect(sent.url).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe('Bearer sk-test');
    expect(sent.body).toMatchObject({
      model: 'm-1',
      stream: false,
      max_tokens: 20,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c0', type: 'function', function: { name: 'lookup', arguments: '{}' } }] },
        { role: 'tool', content: 'result', tool_call_id: 'c0' },
        { role: 'user', content: 'hello' },
      ],
      tools: [{ type: 'function', function: { name: 'lookup' } }],
    });
  });

  it('streams content and tool-call argument deltas as they arrive', async () => {
    next = { kind: 'stream', pieces: ['Hel', 'lo'], toolCalls: [{ id: 'call_9', name: 'f', arguments: '{"a":"long argument"}' }] };
    const s = await provider.chat({ messages: [{ role: 'user', content: 'x' }], stream: true });
    const chunks = await collect(s);
    expect(chunks.map((c) => c.contentDelta ?? '').join('')).toBe('Hello');
    const args = chunks
      .flatMap((c) => c.toolCallDeltas ?? [])
      .map((d) => d.argumentsDelta ?? '')
      .join('');
    expect(args).toBe('{"a":"long argument"}');
    expect(chunks.flatMap((c) => c.toolCallDeltas ?? [])[0]).toMatchObject({ index: 0, id: 'call_9', name: 'f' });
    expect(chunks.at(-1)!.finishReason).toBe('tool_calls');
  });

  it('reports a stream cut off before it finished as an error, not as an answer', async () => {
    next = { kind: 'stream', pieces: ['a', 'b', 'c'], cutAfter: 2, delayMs: 20 };
    const s = await provider.chat({ messages: [{ role: 'user', content: 'x' }], stream: true });
    const err = await collect(s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SovraError);
    expect((err as SovraError).code).toBe('UPSTREAM_STREAM_CUT');
  });

  const statuses: [number, string, boolean][] = [
    [503, 'upstream', true],
    [429, 'upstream', true],
    [400, 'validation', false],
    [401, 'upstream', false],
    [504, 'timeout', true],
  ];
  it.each(statuses)('normalises HTTP %i into the taxonomy naming the provider', async (status, kind, retryable) => {
    next = { kind: 'json', status, body: { error: { message: 'secret prompt echoed', code: 'x_code' } } };
    const err = (await provider.chat({ messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as SovraError;
    expect(err.kind).toBe(kind);
    expect(err.retryable).toBe(retryable);
    expect(err.message).toContain("'eu-a' (openai-compatible)");
    expect(err.message).not.toContain('secret prompt');
    expect(err.details).toMatchObject({ status, provider: 'openai-compatible', upstreamCode: 'x_code' });
  });

  it('calls /embeddings', async () => {
    next = {
      kind: 'json',
      body: {
        data: [
          { index: 1, embedding: [0, 1] },
          { index: 0, embedding: [1, 0] },
        ],
        usage: { prompt_tokens: 4, total_tokens: 4 },
      },
    };
    const r = await provider.embed({ input: ['a', 'b'] });
    expect(r.vectors).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(upstream.requests.at(-1)!.url).toBe('/v1/embeddings');
  });
});

describe('provider embedded (real inference with stories260K.gguf)', () => {
  const guard = createEgressGuard({ jurisdiction: 'EU', networks: [], hosts: [] });
  const ep = (modelPath: string): EndpointConfig => ({
    id: 'eu-local',
    provider: 'embedded',
    region: 'eu-central-1',
    model: 'stories260K',
    priority: 1,
    timeoutMs: 20_000,
    maxRetries: 0,
    modelPath,
    contextSize: 256,
    maxTokens: 24,
    threads: 1,
  });
  const provider = createProvider(ep(MODEL), { jurisdiction: 'EU', egress: guard });
  afterAll(async () => {
    await provider.close();
    guard.close();
  });

  it('generates text deterministically and counts tokens', async () => {
    const req = { messages: [{ role: 'user' as const, content: 'Tell me a story about Lily.' }], maxTokens: 16, temperature: 0 };
    const a = await provider.chat(req);
    const b = await provider.chat(req);
    expect(a.content.length).toBeGreaterThan(0);
    expect(b.content).toBe(a.content);
    expect(a.finishReason).toBe('length');
    expect(a.usage!.completionTokens).toBeGreaterThan(0);
    expect(a.usage!.promptTokens).toBeGreaterThan(0);
    expect(a).toMatchObject({ endpointId: 'eu-local', provider: 'embedded', model: 'stories260K' });
  });

  it('streams the same text in chunks', async () => {
    const req = { messages: [{ role: 'user' as const, content: 'Tell me a story about Lily.' }], maxTokens: 16, temperature: 0 };
    const whole = await provider.chat(req);
    const chunks = await collect(await provider.chat({ ...req, stream: true }));
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.map((c) => c.contentDelta ?? '').join('')).toBe(whole.content);
    expect(chunks.at(-1)!.finishReason).toBe('length');
  });

  it('serves concurrent calls one at a time', async () => {
    const req = { messages: [{ role: 'user' as const, content: 'Once upon a time' }], maxTokens: 8, temperature: 0 };
    const rs = await Promise.all([provider.chat(req), provider.chat(req), provider.chat(req)]);
    expect(new Set(rs.map((r) => r.content)).size).toBe(1);
  });

  it('embeds text', async () => {
    const r = await provider.embed({ input: ['hello', 'world'] });
    expect(r.vectors).toHaveLength(2);
    expect(r.vectors[0]!.length).toBe(64);
  });

  it('names modelPath and SOVRA_MODEL_PATH when the model file is missing', async () => {
    const p = createProvider(ep('/nonexistent/model.gguf'), { jurisdiction: 'EU', egress: guard });
    const err = (await p.chat({ messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as SovraError;
    expect(err.code).toBe('MODEL_FILE_MISSING');
    expect(err.reason).toContain('modelPath');
    expect(err.reason).toContain('SOVRA_MODEL_PATH');
    await p.close();
  });
});
