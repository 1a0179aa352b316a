/**
 * Residency against real model servers: llama.cpp's llama-server (built from the source
 * node-llama-cpp ships; see scripts/ci/llama-server.sh) and the embedded node-llama-cpp model,
 * both running the tiny real stories260K model. Counting proxies in front of each server prove
 * where bytes went — and where none went.
 */
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import OpenAI from 'openai';
import { validateConfig, type SovraConfig } from '../../service/src/config/index.js';
import { createGatewayRouter, hashGatewayKey, sanitizePort, type GatewayAuditEvent } from '../../service/src/http/gateway/index.js';
import type { EgressRefusalEvent } from '../../service/src/llm/index.js';
import { createJurisdictionRouter, createRouter, type ModelRouter } from '../../service/src/route/index.js';
import { createSanitizer } from '../../service/src/sanitize/index.js';
import { SovraError } from '../../service/src/shared/errors.js';
import { MODEL_PATH, freePort, startCountingProxy, startLlamaServer, type CountingProxy, type LlamaServer } from './models-real.js';

const EU_COUNTRIES = ['AT', 'BE', 'DE', 'FR', 'IE', 'IT', 'NL', 'ES'];
const ask = { messages: [{ role: 'user' as const, content: 'Once upon a time' }], maxTokens: 12, temperature: 0 };

function config(euBase: string, usBase: string, extraEu: Record<string, unknown>[] = []): SovraConfig {
  return validateConfig(
    {
      deployment: { jurisdiction: 'EU', region: 'eu-central-1' },
      jurisdictions: {
        EU: {
          countries: EU_COUNTRIES,
          endpoints: [
            {
              id: 'eu-llama',
              provider: 'openai-compatible',
              region: 'eu-central-1',
              model: 'stories260K',
              baseUrl: euBase,
              priority: 10,
              maxRetries: 1,
              timeoutMs: 5_000,
            },
            ...extraEu,
          ],
          egress: { networks: ['127.0.0.0/8'] },
          keys: { provider: 'local', region: 'eu-central-1', path: 'eu-keys.json' },
        },
        US: {
          countries: ['US'],
          endpoints: [
            {
              id: 'us-llama',
              provider: 'openai-compatible',
              region: 'us-east-1',
              model: 'stories260K',
              baseUrl: usBase,
              priority: 10,
              timeoutMs: 5_000,
            },
          ],
          egress: { networks: ['127.0.0.0/8'] },
          keys: { provider: 'local', region: 'us-east-1', path: 'us-keys.json' },
        },
      },
      tenants: [
        {
          id: 'acme',
          orgId: '00D5g000004XYZaEAO',
          auth: { clientId: 'x', username: 'int@acme.example', privateKey: { file: 'k.pem' } },
          jurisdictions: ['EU'],
          gatewayKeys: [{ id: 'ci', sha256: hashGatewayKey('sovra_real-upstream-test-key-000000') }],
        },
      ],
      store: { kind: 'sqlite', path: ':memory:', region: 'eu-central-1' },
    },
    'models-real-upstreams.test',
    '/tmp',
    {},
  );
}

describe('real upstreams: llama-server and the embedded model', () => {
  let llama: LlamaServer;
  let usProxy: CountingProxy;
  let euProxy: CountingProxy;
  let euDirect: CountingProxy;
  const routers: ModelRouter[] = [];

  beforeAll(async () => {
    llama = await startLlamaServer();
    usProxy = await startCountingProxy(llama.port);
    euDirect = await startCountingProxy(llama.port);
    // The EU model server is down: its proxy accepts and counts connections, but nothing is behind it.
    euProxy = await startCountingProxy(await freePort());
  }, 60_000);
  afterAll(async () => {
    await Promise.all(routers.map((r) => r.close()));
    await Promise.all([usProxy?.close(), euProxy?.close(), euDirect?.close()]);
    await llama?.stop();
  });
  const keep = (r: ModelRouter): ModelRouter => {
    routers.push(r);
    return r;
  };

  it('llama-server answers through the US router (the US endpoint is alive)', async () => {
    usProxy.reset();
    const us = keep(createJurisdictionRouter(config(euProxy.baseUrl, usProxy.baseUrl), { jurisdiction: 'US' }));
    const r = await us.chat(ask);
    expect(r.content.length).toBeGreaterThan(0);
    expect(r.endpointId).toBe('us-llama');
    expect(usProxy.connections).toBeGreaterThan(0);
  });

  it('an EU request with the EU endpoint down fails with a reason and sends no byte to the US endpoint', async () => {
    usProxy.reset();
    euProxy.reset();
    const eu = keep(createJurisdictionRouter(config(euProxy.baseUrl, usProxy.baseUrl), { backoff: { baseMs: 5 } }));
    expect(eu.endpointIds).toEqual(['eu-llama']);
    const err = (await eu.chat(ask).catch((e: unknown) => e)) as SovraError;
    expect(err).toBeInstanceOf(SovraError);
    expect(err.code).toBe('NO_HEALTHY_ENDPOINT');
    expect(err.message).toContain('No model endpoint of jurisdiction EU');
    expect(err.message).toContain('eu-llama');
    const streamErr = (await eu.chat({ ...ask, stream: true }).catch((e: unknown) => e)) as SovraError;
    expect(streamErr.code).toBe('NO_HEALTHY_ENDPOINT');
    expect(euProxy.connections).toBeGreaterThanOrEqual(2);
    expect(usProxy.connections).toBe(0);
    expect(usProxy.received).toBe('');
  });

  it('fails over to the embedded EU model (real inference), still with nothing sent to the US', async () => {
    usProxy.reset();
    const eu = keep(
      createJurisdictionRouter(
        config(euProxy.baseUrl, usProxy.baseUrl, [
          {
            id: 'eu-embedded',
            provider: 'embedded',
            region: 'eu-central-1',
            model: 'stories260K',
            modelPath: MODEL_PATH,
            priority: 20,
            contextSize: 256,
            maxTokens: 16,
          },
        ]),
        { backoff: { baseMs: 5 } },
      ),
    );
    const r = await eu.chat(ask);
    expect(r.endpointId).toBe('eu-embedded');
    expect(r.content.length).toBeGreaterThan(0);
    expect(r.routing.failures.map((f) => f.endpointId)).toEqual(['eu-llama']);
    let streamed = '';
    const s = await eu.chat({ ...ask, stream: true });
    for await (const c of s) streamed += c.contentDelta ?? '';
    expect(s.endpointId).toBe('eu-embedded');
    expect(streamed).toBe(r.content);
    expect(usProxy.connections).toBe(0);
  });

  it('refuses a host whose DNS answer leaves the allowed networks, and connects once it does not', async () => {
    euDirect.reset();
    let answer = ['127.0.0.1', '198.51.100.7'];
    const refusals: EgressRefusalEvent[] = [];
    const eu = keep(
      createRouter({
        jurisdiction: 'EU',
        config: {
          endpoints: [
            {
              id: 'eu-named',
              provider: 'openai-compatible',
              region: 'eu-central-1',
              model: 'stories260K',
              baseUrl: `http://llm.eu.test:${euDirect.port}/v1`,
              priority: 10,
              maxRetries: 2,
              timeoutMs: 5_000,
            },
          ],
          egress: { networks: ['127.0.0.0/8'], hosts: ['llm.eu.test'] },
        },
        resolve: async () => answer,
        onEgressRefusal: (e) => refusals.push(e),
      }),
    );
    const err = (await eu.chat(ask).catch((e: unknown) => e)) as SovraError;
    expect(err.kind).toBe('egress_refused');
    expect(err.code).toBe('EGRESS_ADDRESS_OUTSIDE_NETWORKS');
    expect(refusals).toEqual([expect.objectContaining({ endpointId: 'eu-named', outside: ['198.51.100.7'] })]);
    expect(euDirect.connections).toBe(0);
    answer = ['127.0.0.1'];
    const ok = await eu.chat(ask);
    expect(ok.content.length).toBeGreaterThan(0);
    expect(euDirect.connections).toBe(1);
  });

  it('refuses a redirect, even one pointing at a live model server', async () => {
    usProxy.reset();
    const redirector = http.createServer((req, res) => {
      res.writeHead(307, { location: `${usProxy.baseUrl}/chat/completions` });
      res.end();
    });
    await new Promise<void>((ok) => redirector.listen(0, '127.0.0.1', ok));
    const port = (redirector.address() as AddressInfo).port;
    try {
      const eu = keep(
        createRouter({
          jurisdiction: 'EU',
          config: {
            endpoints: [
              {
                id: 'eu-redirect',
                provider: 'openai-compatible',
                region: 'eu-central-1',
                model: 'm',
                baseUrl: `http://127.0.0.1:${port}/v1`,
                priority: 1,
                maxRetries: 2,
                timeoutMs: 5_000,
              },
            ],
            egress: { networks: ['127.0.0.0/8'], hosts: [] },
          },
        }),
      );
      const err = (await eu.chat(ask).catch((e: unknown) => e)) as SovraError;
      expect(err.code).toBe('EGRESS_REDIRECT');
      expect(usProxy.connections).toBe(0);
    } finally {
      redirector.closeAllConnections();
      await new Promise((ok) => redirector.close(ok));
    }
  });

  describe('the gateway with the openai client', () => {
    let server: Server;
    let client: OpenAI;
    const audits: GatewayAuditEvent[] = [];
    const EMAIL = 'max.mustermann@example.de';

    const startGateway = async (router: ModelRouter): Promise<void> => {
      const app = express();
      app.use(
        '/v1',
        createGatewayRouter({
          jurisdiction: 'EU',
          tenants: [
            {
              id: 'acme',
              jurisdictions: ['EU'],
              gatewayKeys: [{ id: 'ci', sha256: hashGatewayKey('sovra_real-upstream-test-key-000000') }],
            },
          ],
          router,
          sanitizer: sanitizePort(createSanitizer({ countries: ['DE'] })),
          audit: (e) => {
            audits.push(e);
          },
        }),
      );
      server = app.listen(0, '127.0.0.1');
      await new Promise((ok) => server.once('listening', ok));
      client = new OpenAI({
        apiKey: 'sovra_real-upstream-test-key-000000',
        baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
        maxRetries: 0,
      });
    };
    const stopGateway = async (): Promise<void> => {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    };

    it('serves llama-server answers, streamed and not, and the server never received the PII', async () => {
      euDirect.reset();
      audits.length = 0;
      const eu = keep(createJurisdictionRouter(config(euDirect.baseUrl, usProxy.baseUrl)));
      await startGateway(eu);
      try {
        const content = `Tell a story for ${EMAIL}.`;
        const whole = await client.chat.completions.create({
          model: 'stories260K',
          messages: [{ role: 'user', content }],
          max_tokens: 12,
          temperature: 0,
        });
        expect(whole.choices[0]!.message.content!.length).toBeGreaterThan(0);
        const stream = await client.chat.completions.create({
          model: 'stories260K',
          messages: [{ role: 'user', content }],
          max_tokens: 12,
          temperature: 0,
          stream: true,
        });
        let text = '';
        let chunks = 0;
        for await (const c of stream) {
          chunks += 1;
          text += c.choices[0]?.delta.content ?? '';
        }
        expect(chunks).toBeGreaterThan(3);
        expect(text.length).toBeGreaterThan(0);
        expect(euDirect.received).toContain('⟦EMAIL_');
        expect(euDirect.received).not.toContain(EMAIL);
        expect(audits.map((a) => [a.outcome, a.endpointId])).toEqual([
          ['success', 'eu-llama'],
          ['success', 'eu-llama'],
        ]);
      } finally {
        await stopGateway();
      }
    });

    it('serves the embedded model through the gateway', async () => {
      audits.length = 0;
      const eu = keep(
        createRouter({
          jurisdiction: 'EU',
          config: {
            endpoints: [
              {
                id: 'eu-embedded',
                provider: 'embedded',
                region: 'eu-central-1',
                model: 'stories260K',
                modelPath: MODEL_PATH,
                priority: 1,
                timeoutMs: 20_000,
                maxRetries: 0,
                contextSize: 256,
                maxTokens: 16,
                threads: 1,
              },
            ],
            egress: { networks: [], hosts: [] },
          },
        }),
      );
      await startGateway(eu);
      try {
        const whole = await client.chat.completions.create({
          model: 'stories260K',
          messages: [{ role: 'user', content: `A story for ${EMAIL}` }],
          max_tokens: 10,
        });
        expect(whole.choices[0]!.message.content!.length).toBeGreaterThan(0);
        expect(whole.usage!.completion_tokens).toBeGreaterThan(0);
        const stream = await client.chat.completions.create({
          model: 'stories260K',
          messages: [{ role: 'user', content: 'Once upon a time' }],
          max_tokens: 10,
          stream: true,
        });
        let text = '';
        for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
        expect(text.length).toBeGreaterThan(0);
        expect(audits.map((a) => a.outcome)).toEqual(['success', 'success']);
        expect(JSON.stringify(audits.map((a) => ({ ...a, raw: undefined })))).not.toContain(EMAIL);
      } finally {
        await stopGateway();
      }
    });
  });
});
