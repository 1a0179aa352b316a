/**
 * The sovereign gateway driven by the official `openai` npm client against a loopback
 * OpenAI-compatible upstream that records everything it received: PII in every kind of message
 * never reaches the model, answers (content and tool-call arguments, whole and streamed) come
 * back restored, every call is audited with what actually happened, keys decide tenant and
 * jurisdiction, and geo-fencing refuses callers outside the jurisdiction.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import express from 'express';
import OpenAI from 'openai';
import { createGatewayRouter, hashGatewayKey, sanitizePort, type GatewayAuditEvent } from '../../service/src/http/gateway/index.js';
import { createMetrics } from '../../service/src/http/metrics.js';
import { createRouter, type ModelRouter } from '../../service/src/route/index.js';
import { createSanitizer } from '../../service/src/sanitize/index.js';
import { pieces, startLoopbackUpstream, type LoopbackUpstream, type RecordedRequest, type UpstreamReply } from './models-upstream.js';

const EMAIL = 'jane.doe@example.com';
const IBAN = 'DE89 3704 0044 0532 0130 00';
const PHONE = '+49 30 901820';
const KEY_EU = 'sovra_test-key-for-acme-eu-000000000000';
const KEY_US_ONLY = 'sovra_test-key-for-globex-us-00000000000';

const TOKEN = /⟦[A-Z]+_[0-9A-Z]+⟧/g;

function tokensIn(req: RecordedRequest): string[] {
  return [...new Set(req.raw.match(TOKEN) ?? [])];
}

describe('gateway with the openai client', () => {
  let upstream: LoopbackUpstream;
  let modelRouter: ModelRouter;
  let server: Server;
  let base: string;
  const audits: GatewayAuditEvent[] = [];
  const metrics = createMetrics({ processMetrics: false });
  let reply: (req: RecordedRequest) => UpstreamReply;

  beforeAll(async () => {
    upstream = await startLoopbackUpstream((req) => reply(req));
    modelRouter = createRouter({
      jurisdiction: 'EU',
      config: {
        endpoints: [
          {
            id: 'eu-loop',
            provider: 'openai-compatible',
            region: 'eu-central-1',
            model: 'loop-1',
            priority: 10,
            timeoutMs: 5_000,
            maxRetries: 0,
            baseUrl: upstream.baseUrl,
          },
        ],
        egress: { networks: ['127.0.0.0/8'], hosts: [] },
      },
    });
    const app = express();
    app.get('/metrics', async (_req, res) => {
      res.type(metrics.contentType).send(await metrics.metrics());
    });
    app.use(
      '/v1',
      createGatewayRouter({
        jurisdiction: 'EU',
        tenants: [
          { id: 'acme-eu', jurisdictions: ['EU'], gatewayKeys: [{ id: 'ci', sha256: hashGatewayKey(KEY_EU) }] },
          { id: 'globex-us', jurisdictions: ['US'], gatewayKeys: [{ id: 'ci', sha256: hashGatewayKey(KEY_US_ONLY) }] },
        ],
        router: modelRouter,
        sanitizer: sanitizePort(createSanitizer({ countries: ['DE', 'FR'] })),
        audit: (e) => {
          audits.push(e);
        },
        metrics,
        geofence: {
          config: { enabled: true, allowCidrs: [], denyCidrs: ['203.0.113.0/24'], allowPrivate: true, trustedProxies: ['127.0.0.1/32'] },
          jurisdictionCountries: ['DE', 'FR', 'NL', 'IE'],
        },
      }),
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise((ok) => server.once('listening', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
    await modelRouter.close();
    await upstream.close();
  });
  beforeEach(() => {
    audits.length = 0;
    upstream.requests.length = 0;
  });

  const client = (apiKey = KEY_EU, headers: Record<string, string> = {}): OpenAI =>
    new OpenAI({ apiKey, baseURL: base, maxRetries: 0, defaultHeaders: headers });

  const prompt = `Write to ${EMAIL} (phone ${PHONE}) about the refund to IBAN ${IBAN}.`;

  function expectNoPii(raw: string): void {
    expect(raw).not.toContain(EMAIL);
    expect(raw).not.toContain(IBAN);
    expect(raw).not.toContain(IBAN.replace(/ /g, ''));
    expect(raw).not.toContain('901820');
  }

  it('answers a non-streamed call; the model never saw the PII and the answer comes back restored', async () => {
    reply = (req) => ({ kind: 'completion', content: `Sure, I will write to ${tokensIn(req).join(' and ')}.` });
    const { data, response } = await client()
      .chat.completions.create({ model: 'anything', messages: [{ role: 'user', content: prompt }] })
      .withResponse();
    expect(response.headers.get('cache-control')).toBe('no-store');
    const sent = upstream.requests.find((r) => r.url === '/v1/chat/completions')!;
    expectNoPii(sent.raw);
    expect(tokensIn(sent).length).toBeGreaterThanOrEqual(3);
    const text = data.choices[0]!.message.content!;
    expect(text).toContain(EMAIL);
    expect(text).toContain(IBAN);
    expect(text).not.toMatch(TOKEN);
    expect(data.model).toBe('loopback-model'); // as the serving model reported it
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      outcome: 'success',
      tenantId: 'acme-eu',
      keyId: 'ci',
      jurisdiction: 'EU',
      endpointId: 'eu-loop',
      stream: false,
    });
    // Raw texts reach the audit port only for its keyed hashes; everything else is sanitized.
    expectNoPii(JSON.stringify({ ...audits[0], raw: undefined }));
    expect(audits[0]!.raw!.prompt).toContain(EMAIL);
    expect(audits[0]!.raw!.answer).toContain(EMAIL);
    expect(audits[0]!.sanitized!.tokenized).toBeGreaterThanOrEqual(3);
  });

  it('sanitizes system, assistant history, tool-call JSON arguments and tool results', async () => {
    reply = () => ({ kind: 'completion', content: 'done' });
    await client().chat.completions.create({
      model: 'x',
      messages: [
        { role: 'system', content: `The customer is reachable at ${EMAIL}.` },
        { role: 'user', content: 'Find the account' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'find', arguments: JSON.stringify({ email: EMAIL, iban: IBAN }) } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: JSON.stringify({ phone: PHONE, iban: IBAN }) },
        { role: 'user', content: 'Summarise.' },
      ],
      tools: [{ type: 'function', function: { name: 'find', parameters: { type: 'object', properties: { email: { type: 'string' } } } } }],
    });
    const sent = upstream.requests.find((r) => r.url === '/v1/chat/completions')!;
    expectNoPii(sent.raw);
    const body = sent.body as { messages: { role: string; tool_calls?: { function: { arguments: string } }[] }[] };
    const args = JSON.parse(body.messages[2]!.tool_calls![0]!.function.arguments) as { email: string };
    expect(args.email).toMatch(/^⟦EMAIL_[0-9A-Z]+⟧$/);
  });

  it('streams content and tool calls, restoring tokens split across chunks, as chunks arrive', async () => {
    reply = (req) => {
      const [email] = tokensIn(req).filter((t) => t.startsWith('⟦EMAIL'));
      return {
        kind: 'stream',
        pieces: pieces(`Sending the note to ${email} now.`, 3),
        toolCalls: [{ id: 'call_1', name: 'send_mail', arguments: JSON.stringify({ to: email, subject: 'Refund' }) }],
      };
    };
    const stream = await client().chat.completions.create({
      model: 'x',
      stream: true,
      messages: [{ role: 'user', content: prompt }],
      tools: [
        { type: 'function', function: { name: 'send_mail', parameters: { type: 'object', properties: { to: { type: 'string' } } } } },
      ],
    });
    let text = '';
    let contentChunks = 0;
    const args: Record<number, string> = {};
    let name = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      if (choice.delta.content) {
        contentChunks += 1;
        text += choice.delta.content;
        expect(choice.delta.content).not.toMatch(/⟦|⟧/);
      }
      for (const t of choice.delta.tool_calls ?? []) {
        if (t.function?.name) name = t.function.name;
        args[t.index] = (args[t.index] ?? '') + (t.function?.arguments ?? '');
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    expect(text).toBe(`Sending the note to ${EMAIL} now.`);
    expect(contentChunks).toBeGreaterThan(5);
    expect(name).toBe('send_mail');
    expect(JSON.parse(args[0]!)).toEqual({ to: EMAIL, subject: 'Refund' });
    expect(finish).toBe('tool_calls');
    expectNoPii(upstream.requests.find((r) => r.url === '/v1/chat/completions')!.raw);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ outcome: 'success', stream: true });
    expectNoPii(JSON.stringify({ ...audits[0], raw: undefined }));
    expect(JSON.parse(audits[0]!.raw!.answer!)).toEqual({ content: text, toolArguments: [args[0]] });
  });

  it('reports a stream cut off upstream as an error to the caller and as `cut` in the audit', async () => {
    reply = () => ({ kind: 'stream', pieces: ['one ', 'two ', 'three ', 'four'], cutAfter: 3, delayMs: 15 });
    const stream = await client().chat.completions.create({ model: 'x', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const err = await (async () => {
      for await (const c of stream) void c;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    await new Promise((ok) => setTimeout(ok, 20));
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ outcome: 'cut', errorCode: 'UPSTREAM_STREAM_CUT' });
  });

  it('fails with a reason when the jurisdiction has no healthy endpoint, and audits it', async () => {
    reply = () => ({ kind: 'json', status: 503, body: { error: { message: 'down' } } });
    const err = (await client()
      .chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(503);
    expect((err.error as { code: string }).code).toBe('NO_HEALTHY_ENDPOINT');
    expect(audits[0]).toMatchObject({ outcome: 'upstream_error', errorCode: 'NO_HEALTHY_ENDPOINT' });
  });

  it('takes tenant and jurisdiction from the key only', async () => {
    reply = () => ({ kind: 'completion', content: 'ok' });
    await expect(
      client('sovra_not-a-valid-key-0000000000000').chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const denied = await client(KEY_US_ONLY)
      .chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(((denied as InstanceType<typeof OpenAI.APIError>).error as { code: string }).code).toBe('TENANT_NOT_ENTITLED');
    // A header claiming another jurisdiction or tenant changes nothing.
    await client(KEY_EU, { 'x-sovra-jurisdiction': 'US', 'x-sovra-tenant': 'globex-us' }).chat.completions.create({
      model: 'x',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(upstream.requests.filter((r) => r.url === '/v1/chat/completions')).toHaveLength(1);
    expect(audits.map((a) => [a.outcome, a.tenantId ?? null])).toEqual([
      ['refused', null],
      ['refused', 'globex-us'],
      ['success', 'acme-eu'],
    ]);
    expect(audits.every((a) => a.jurisdiction === 'EU')).toBe(true);
  });

  it('rejects an invalid body with the one error format', async () => {
    const res = await fetch(`${base}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY_EU}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [] }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { error: { type: string; code: string } };
    expect(body.error).toMatchObject({ type: 'validation', code: 'GATEWAY_REQUEST_INVALID' });
    const bad = await fetch(`${base}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY_EU}` },
      body: '{not json',
    });
    expect(bad.status).toBe(400);
  });

  it('geo-fences callers through a trusted proxy by their forwarded address', async () => {
    reply = () => ({ kind: 'completion', content: 'ok' });
    const fromDe = await client(KEY_EU, { 'x-forwarded-for': '85.214.132.117' }).chat.completions.create({
      model: 'x',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(fromDe.choices[0]!.message.content).toBe('ok');
    const fromUs = await client(KEY_EU, { 'x-forwarded-for': '8.8.8.8' })
      .chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(fromUs).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(((fromUs as InstanceType<typeof OpenAI.APIError>).error as { code: string }).code).toBe('GEOFENCE_COUNTRY_NOT_ALLOWED');
    const denied = await client(KEY_EU, { 'x-forwarded-for': '203.0.113.9' })
      .chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(((denied as InstanceType<typeof OpenAI.APIError>).error as { code: string }).code).toBe('GEOFENCE_DENY_CIDR');
    await new Promise((ok) => setTimeout(ok, 10));
    expect(audits.filter((a) => a.outcome === 'refused').map((a) => [a.errorCode, a.clientCountry ?? null])).toEqual([
      ['GEOFENCE_COUNTRY_NOT_ALLOWED', 'US'],
      ['GEOFENCE_DENY_CIDR', null],
    ]);
    expect(upstream.requests.filter((r) => r.url === '/v1/chat/completions')).toHaveLength(1);
  });

  it('exposes metrics by jurisdiction and outcome, never a value', async () => {
    reply = () => ({ kind: 'completion', content: 'ok' });
    await client().chat.completions.create({ model: 'x', messages: [{ role: 'user', content: prompt }] });
    const text = await (await fetch(base.replace(/\/v1$/, '/metrics'))).text();
    expect(text).toMatch(/sovra_requests_total\{surface="gateway",jurisdiction="EU",outcome="success"\} \d+/);
    expect(text).toMatch(/sovra_geofence_refusals_total\{jurisdiction="EU",reason="country_not_allowed"\} 1/);
    expect(text).toContain('sovra_request_duration_seconds_bucket');
    expectNoPii(text);
    expect(text).not.toContain('8.8.8.8');
  });
});
