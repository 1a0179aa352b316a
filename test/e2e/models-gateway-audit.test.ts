/**
 * The gateway wired to the real audit stage (AuditLog on SQLite): each call becomes one chained
 * entry with sanitized texts and keyed hashes of the raw ones, and the chain verifies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import OpenAI from 'openai';
import { AuditLog, type AuditEntryRecord } from '../../service/src/audit/index.js';
import { TestKeyService } from '../../service/src/audit/__tests__/testKeys.js';
import { auditLogPort, createGatewayRouter, hashGatewayKey, sanitizePort } from '../../service/src/http/gateway/index.js';
import { createRouter, type ModelRouter } from '../../service/src/route/index.js';
import { createSanitizer } from '../../service/src/sanitize/index.js';
import { SqliteStore } from '../../service/src/store/index.js';
import { startLoopbackUpstream, type LoopbackUpstream } from './models-upstream.js';

const KEY = 'sovra_gateway-audit-test-key-000000000';
const EMAIL = 'lena.schmidt@example.de';

describe('gateway → audit stage', () => {
  let dir: string;
  let store: SqliteStore;
  let audit: AuditLog;
  let upstream: LoopbackUpstream;
  let router: ModelRouter;
  let server: Server;
  let client: OpenAI;
  const records: AuditEntryRecord[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sovra-gw-audit-'));
    store = new SqliteStore({ path: join(dir, 'store.db') });
    audit = new AuditLog({
      store,
      keys: new TestKeyService('EU'),
      tenant: 'acme',
      region: 'eu-central-1',
      checkpointEvery: 100,
      checkpointIntervalSeconds: 60,
    });
    upstream = await startLoopbackUpstream((req) => ({
      kind: 'completion',
      content: `Reply sent to ${(req.raw.match(/⟦EMAIL_[0-9A-Z]+⟧/) ?? [''])[0]}.`,
    }));
    router = createRouter({
      jurisdiction: 'EU',
      config: {
        endpoints: [
          {
            id: 'eu-loop',
            provider: 'openai-compatible',
            region: 'eu-central-1',
            model: 'm',
            priority: 1,
            timeoutMs: 5_000,
            maxRetries: 0,
            baseUrl: upstream.baseUrl,
          },
        ],
        egress: { networks: ['127.0.0.0/8'], hosts: [] },
      },
    });
    const app = express();
    app.use(
      '/v1',
      createGatewayRouter({
        jurisdiction: 'EU',
        tenants: [{ id: 'acme', jurisdictions: ['EU'], gatewayKeys: [{ id: 'apex', sha256: hashGatewayKey(KEY) }] }],
        router,
        sanitizer: sanitizePort(createSanitizer({ countries: ['DE'] })),
        audit: auditLogPort((tenant) =>
          tenant === 'acme'
            ? {
                record: async (input) => {
                  const r = await audit.record(input);
                  records.push(r);
                  return r;
                },
              }
            : undefined,
        ),
      }),
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise((ok) => server.once('listening', ok));
    client = new OpenAI({ apiKey: KEY, baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
    await router.close();
    await upstream.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one chained entry per call with sanitized texts and keyed hashes of the raw ones', async () => {
    const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `Please email ${EMAIL}` }] });
    expect(r.choices[0]!.message.content).toBe(`Reply sent to ${EMAIL}.`);
    upstream.reply = () => ({ kind: 'json', status: 503, body: {} });
    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'again' }] })).rejects.toBeInstanceOf(
      OpenAI.APIError,
    );
    await new Promise((ok) => setTimeout(ok, 50));
    expect(records.map((e) => [e.eventType, e.decision])).toEqual([
      ['model.answered', 'allow'],
      ['model.failed', 'error'],
    ]);
    const [ok] = records;
    expect(ok!.sanitizedPrompt).toContain('⟦EMAIL_');
    expect(JSON.stringify(records)).not.toContain(EMAIL);
    expect(ok!.promptHmac).toMatch(/^[0-9a-f]{64}$/);
    expect(ok!.answerHmac).toMatch(/^[0-9a-f]{64}$/);
    expect(ok!.endpoint).toBe('eu-loop');
    expect(ok!.details).toMatchObject({ gatewayKeyId: 'apex', outcome: 'success', surface: 'gateway' });
    expect(records[1]!.reason).toContain('NO_HEALTHY_ENDPOINT');
    const v = await audit.verify();
    expect(v.ok).toBe(true);
    expect(v.entries).toBe(2);
  });
});
