// Streaming conformance: platform events published over REST and by the emulated Apex,
// delivered over CometD to the real clients — jsforce with StreamingExtension.Replay, a bare
// faye client with the replay extension on a filtered custom channel, @salesforce/core's
// StreamingClient — and the Salesforce-specific protocol replies (handshake ext, first connect
// advice, 403::Unknown client, 401, invalid replayId text, retention window, dropped connections).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsforce from 'jsforce';
import { runSfCoreClient } from './clients/run.js';
import { DEMO, generateJwtKeyPair, startEmulator, type RunningEmulator } from './index.js';

type Msg = Record<string, unknown>;
interface FayeSubscription {
  then(ok: () => void, fail: (e: { message: string; code: number | null }) => void): void;
  cancel(): void;
}
interface FayeClient {
  setHeader(name: string, value: string): void;
  disable(feature: string): void;
  addExtension(ext: { incoming?: (m: Msg, cb: (m: Msg) => void) => void; outgoing?: (m: Msg, cb: (m: Msg) => void) => void }): void;
  subscribe(channel: string, cb: (data: Msg) => void): FayeSubscription;
  disconnect(): void;
}
const require = createRequire(import.meta.url);
const faye = require('faye') as { Client: new (url: string, opts?: Record<string, unknown>) => FayeClient };
const { StreamingExtension } = require('jsforce/lib/api/streaming') as {
  StreamingExtension: { Replay: new (channel: string, replayId: number) => object };
};

let emu: RunningEmulator;
const clients: FayeClient[] = [];

function fayeClient(token: string, opts: { replay?: Record<string, number | string>; log?: Msg[] } = {}): FayeClient {
  const c = new faye.Client(`${emu.url}/cometd/62.0`, { timeout: 5, retry: 0.1 });
  c.setHeader('Authorization', `OAuth ${token}`);
  c.disable('websocket');
  c.addExtension({
    outgoing: (m, cb) => {
      if (m.channel === '/meta/subscribe' && opts.replay) m.ext = { ...(m.ext as Msg | undefined), replay: opts.replay };
      cb(m);
    },
    incoming: (m, cb) => {
      opts.log?.push(m);
      cb(m);
    },
  });
  clients.push(c);
  return c;
}

function subscribed(sub: FayeSubscription): Promise<void> {
  return new Promise((resolve, reject) => sub.then(resolve, (e) => reject(new Error(e.message))));
}

async function until<T>(f: () => T | undefined | false, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function bayeux(token: string | null, messages: Msg[], path = '/cometd/62.0'): Promise<{ status: number; body: Msg[] }> {
  const r = await fetch(emu.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(messages),
  });
  return { status: r.status, body: (await r.json()) as Msg[] };
}

const requestEvent = (jurisdiction: string, extra: Msg = {}): Msg => ({
  RequestId__c: 'a00000000000001AAA',
  ExternalId__c: `ext-${Math.random().toString(36).slice(2)}`,
  RecordId__c: '001000000000001AAA',
  ObjectApiName__c: 'Account',
  Action__c: 'AccountSummary',
  Jurisdiction__c: jurisdiction,
  RequestedBy__c: '005000000000001AAA',
  ...extra,
});

beforeAll(async () => {
  emu = await startEmulator({ cometdTimeoutMs: 400, cometdClientExpiryMs: 3000 });
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  // Let the /meta/disconnect requests complete before the server goes away (no faye retries left behind).
  await new Promise((r) => setTimeout(r, 300));
  await emu.close();
});

describe('publishing', () => {
  it('answers REST publish with 201 and OPERATION_ENQUEUED carrying the EventUuid', async () => {
    const s = emu.admin.session();
    const r = await fetch(`${emu.url}/services/data/v62.0/sobjects/AiRequest__e/`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${s.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(requestEvent('EU')),
    });
    expect(r.status).toBe(201);
    const body = (await r.json()) as { id: string; success: boolean; errors: { statusCode: string; message: string; fields: string[] }[] };
    expect(body.id).toMatch(/^e00/);
    expect(body.success).toBe(true);
    expect(body.errors).toEqual([{ statusCode: 'OPERATION_ENQUEUED', message: expect.stringMatching(/^[0-9a-f-]{36}$/), fields: [] }]);
    const e = emu.admin.events().at(-1)!;
    expect(e.uuid).toBe(body.errors[0].message);
    expect(e.payload).toMatchObject({
      CreatedById: s.userId,
      Jurisdiction__c: 'EU',
      CreatedDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    const bad = await fetch(`${emu.url}/services/data/v62.0/sobjects/AiRequest__e/`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${s.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ Nope__c: 1 }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual([{ message: "No such column 'Nope__c' on sobject of type AiRequest__e", errorCode: 'INVALID_FIELD' }]);
  });
});

describe('event schema', () => {
  it('serves the schema a delivered message names, expanded by default and compact on request', async () => {
    const e = emu.admin.publishEvent('AiRequest__e', requestEvent('EU'));
    const token = emu.admin.session().accessToken;
    const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
      const r = await fetch(emu.url + path, { headers: { Authorization: `Bearer ${token}` } });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const expanded = await get(`/services/data/v62.0/event/eventSchema/${e.schema}`);
    expect(expanded.status).toBe(200);
    expect(expanded.body).toMatchObject({ name: 'AiRequest__e', namespace: 'com.sforce.eventbus', type: 'expanded-record' });
    const compact = await get('/services/data/v62.0/sobjects/AiRequest__e/eventSchema?payloadFormat=COMPACT');
    expect(compact.body).toMatchObject({ name: 'AiRequest__e', type: 'record', uuid: e.schema });
    expect((compact.body.fields as { name: string }[]).map((f) => f.name)).toEqual(
      expect.arrayContaining(['CreatedDate', 'CreatedById', 'Jurisdiction__c']),
    );
    expect(e.schema).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect((await get('/services/data/v62.0/event/eventSchema/nope')).status).toBe(404);
  });
});

describe('Bayeux protocol replies', () => {
  it('handshakes like Salesforce, answers the first connect at once with advice, and holds later ones', async () => {
    const token = emu.admin.session().accessToken;
    const usageBefore = emu.admin.apiUsage();
    const hs = await bayeux(token, [
      { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['in-process', 'websocket', 'long-polling'], id: '1' },
    ]);
    expect(hs.status).toBe(200);
    expect(hs.body).toEqual([
      {
        ext: { replay: true, 'payload.format': true },
        minimumVersion: '1.0',
        clientId: expect.stringMatching(/^[0-9a-z]{27}$/),
        supportedConnectionTypes: ['long-polling'],
        channel: '/meta/handshake',
        id: '1',
        version: '1.0',
        successful: true,
      },
    ]);
    const clientId = hs.body[0].clientId as string;
    const c1 = await bayeux(token, [{ channel: '/meta/connect', clientId, connectionType: 'long-polling', id: '2' }]);
    expect(c1.body).toEqual([
      { clientId, advice: { interval: 0, timeout: 400, reconnect: 'retry' }, channel: '/meta/connect', id: '2', successful: true },
    ]);
    const t = Date.now();
    const c2 = await bayeux(token, [{ channel: '/meta/connect', clientId, connectionType: 'long-polling', id: '3' }]);
    expect(Date.now() - t).toBeGreaterThanOrEqual(350);
    expect(c2.body).toEqual([{ clientId, channel: '/meta/connect', id: '3', successful: true }]);
    const sub = await bayeux(token, [{ channel: '/meta/subscribe', clientId, subscription: '/event/AiResult__e', id: '5' }]);
    expect(sub.body).toEqual([{ clientId, channel: '/meta/subscribe', id: '5', subscription: '/event/AiResult__e', successful: true }]);
    const unsub = await bayeux(token, [{ channel: '/meta/unsubscribe', clientId, subscription: '/event/AiResult__e', id: '6' }]);
    expect(unsub.body).toEqual([{ clientId, channel: '/meta/unsubscribe', id: '6', subscription: '/event/AiResult__e', successful: true }]);
    const disc = await bayeux(token, [{ channel: '/meta/disconnect', clientId, id: '7' }]);
    expect(disc.body).toEqual([{ clientId, channel: '/meta/disconnect', id: '7', successful: true }]);
    const unknown = await bayeux(token, [{ channel: '/meta/connect', clientId: 'nope', connectionType: 'long-polling', id: '4' }]);
    expect(unknown).toEqual({
      status: 200,
      body: [
        {
          advice: { interval: 0, reconnect: 'handshake' },
          channel: '/meta/connect',
          id: '4',
          error: '403::Unknown client',
          successful: false,
        },
      ],
    });
    // Streaming traffic has its own allocations: no API calls counted.
    expect(emu.admin.apiUsage()).toEqual(usageBefore);
    const big = await fetch(`${emu.url}/cometd/62.0`, {
      method: 'POST',
      headers: { Authorization: `OAuth ${token}` },
      body: JSON.stringify([{ channel: '/meta/handshake', pad: 'x'.repeat(40_000) }]),
    });
    expect(big.status).toBe(413);
  });

  it('denies a bad token on handshake (403::Handshake denied) and on connect (401::Authentication invalid)', async () => {
    const denied = await bayeux('00Dbogus!x', [
      { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: '1' },
    ]);
    expect(denied.body).toEqual([
      {
        ext: { sfdc: { failureReason: '401::Authentication invalid' }, replay: true, 'payload.format': true },
        advice: { reconnect: 'none' },
        channel: '/meta/handshake',
        id: '1',
        error: '403::Handshake denied',
        successful: false,
      },
    ]);
    const s = emu.admin.session({ username: DEMO.users.admin });
    const hs = await bayeux(s.accessToken, [
      { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: '1' },
    ]);
    const clientId = hs.body[0].clientId as string;
    await bayeux(s.accessToken, [{ channel: '/meta/connect', clientId, connectionType: 'long-polling', id: '2' }]);
    const other = emu.admin.session({ username: DEMO.users.admin });
    // Expire only this user's token: every session of the org is expired, then a fresh one issued.
    emu.admin.expireSessions();
    const c = await bayeux(s.accessToken, [{ channel: '/meta/connect', clientId, connectionType: 'long-polling', id: '3' }]);
    expect(c.body).toEqual([
      {
        clientId,
        advice: { reconnect: 'none', interval: 0 },
        channel: '/meta/connect',
        id: '3',
        error: '401::Authentication invalid',
        successful: false,
      },
    ]);
    expect(other.accessToken).not.toBe(s.accessToken);
    const noVersion = await bayeux(
      emu.admin.session().accessToken,
      [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: '9' }],
      '/cometd',
    );
    expect(noVersion.body[0]).toMatchObject({
      successful: false,
      error: "400::API version in the URI is mandatory. URI format: '/cometd/43.0'",
    });
  });

  it('rejects unknown channels and invalid replayIds with the exact Salesforce texts', async () => {
    const token = emu.admin.session().accessToken;
    const hs = await bayeux(token, [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: '1' }]);
    const clientId = hs.body[0].clientId as string;
    const sub = (subscription: string, replay?: unknown, id = '5'): Promise<{ body: Msg[] }> =>
      bayeux(token, [
        {
          channel: '/meta/subscribe',
          clientId,
          subscription,
          id,
          ...(replay === undefined ? {} : { ext: { replay: { [subscription]: replay } } }),
        },
      ]);
    expect((await sub('/event/Nope__e')).body[0]).toMatchObject({
      successful: false,
      error: "400::The channel you requested to subscribe to doesn't exist {/event/Nope__e}",
    });
    expect((await sub('/event/sovraeu__chn')).body[0]).toMatchObject({ successful: false }); // case-sensitive
    const last = emu.admin.org().lastReplayId;
    expect((await sub('/event/AiRequest__e', last + 1000)).body[0]).toEqual({
      clientId,
      channel: '/meta/subscribe',
      id: '5',
      subscription: '/event/AiRequest__e',
      error: `400::The replayId {${last + 1000}} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.`,
      successful: false,
    });
    expect((await sub('/event/AiRequest__e', String(last))).body[0]).toEqual({
      clientId,
      channel: '/meta/subscribe',
      id: '5',
      subscription: '/event/AiRequest__e',
      successful: true,
    });
  });
});

describe('jsforce streaming with StreamingExtension.Replay', () => {
  it('replays retained events (-2) in order with the real message shape, then delivers new ones', async () => {
    const before = emu.admin.events().filter((e) => e.eventName === 'AiRequest__e').length;
    emu.admin.publishEvent('AiRequest__e', requestEvent('US', { Action__c: 'ReplayMe' }));
    const s = emu.admin.session();
    const conn = new jsforce.Connection({ instanceUrl: s.instanceUrl, accessToken: s.accessToken, version: '62.0' });
    const client = conn.streaming.createClient([new StreamingExtension.Replay('/event/AiRequest__e', -2)]) as unknown as FayeClient;
    clients.push(client);
    const got: Msg[] = [];
    await subscribed(client.subscribe('/event/AiRequest__e', (m) => got.push(m)));
    await until(() => got.length >= before + 1);
    const replayIds = got.map((m) => (m.event as { replayId: number }).replayId);
    expect([...replayIds].sort((a, b) => a - b)).toEqual(replayIds);
    const mine = got.find((m) => (m.payload as Msg).Action__c === 'ReplayMe')!;
    expect(Object.keys(mine).sort()).toEqual(['event', 'payload', 'schema']);
    expect(mine.schema).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(mine.event).toEqual({ EventUuid: expect.stringMatching(/^[0-9a-f-]{36}$/), replayId: expect.any(Number) });
    expect(mine.payload).toMatchObject({
      CreatedDate: expect.any(String),
      CreatedById: expect.stringMatching(/^005/),
      Jurisdiction__c: 'US',
    });
    const n = got.length;
    emu.admin.publishEvent('AiRequest__e', requestEvent('EU', { Action__c: 'Live' }));
    await until(() => got.length === n + 1);
    expect((got[n].payload as Msg).Action__c).toBe('Live');
    client.disconnect();
  });
});

describe('custom channels and the replay extension over a bare faye client', () => {
  it('delivers only the events its channel member filter admits, and replays from a stored replayId', async () => {
    const token = emu.admin.session().accessToken;
    const eu: Msg[] = [];
    const us: Msg[] = [];
    const euClient = fayeClient(token, { replay: { '/event/SovraEU__chn': -1 } });
    const usClient = fayeClient(token, { replay: { '/event/SovraUS__chn': -1 } });
    await subscribed(euClient.subscribe('/event/SovraEU__chn', (m) => eu.push(m)));
    await subscribed(usClient.subscribe('/event/SovraUS__chn', (m) => us.push(m)));
    // A user runs an action on a German and on a US account (emulated AiRequestService).
    const de = emu.admin.query("SELECT Id FROM Account WHERE Name = 'Müller Maschinenbau GmbH'")[0].Id as string;
    const usAcc = emu.admin.query("SELECT Id FROM Account WHERE Name = 'Granite Peak Health Inc.'")[0].Id as string;
    const a = emu.admin.submitAiRequest({ recordId: de, action: 'AccountSummary' }, { username: DEMO.users.admin });
    const b = emu.admin.submitAiRequest({ recordId: usAcc, action: 'AccountSummary' }, { username: DEMO.users.admin });
    expect([a.accepted, b.accepted]).toEqual([true, true]);
    emu.admin.publishEvent('AiRequest__e', requestEvent(' eu ')); // filters: case-insensitive, trimmed
    await until(() => eu.length === 2 && us.length === 1);
    expect((eu[0].payload as Msg).RequestId__c).toBe(a.requestId);
    expect((us[0].payload as Msg).RequestId__c).toBe(b.requestId);
    expect(
      eu.every(
        (m) =>
          String((m.payload as Msg).Jurisdiction__c)
            .trim()
            .toUpperCase() === 'EU',
      ),
    ).toBe(true);
    // A restarted consumer replays from its checkpoint: only events after it, only its channel.
    const checkpoint = (eu[0].event as { replayId: number }).replayId;
    const again: Msg[] = [];
    const resumed = fayeClient(token, { replay: { '/event/SovraEU__chn': checkpoint } });
    await subscribed(resumed.subscribe('/event/SovraEU__chn', (m) => again.push(m)));
    await until(() => again.length === 1);
    expect(again[0]).toEqual(eu[1]);
  });

  it('recovers from 403::Unknown client by re-handshaking and re-subscribing', async () => {
    const token = emu.admin.session().accessToken;
    const log: Msg[] = [];
    const got: Msg[] = [];
    const c = fayeClient(token, { log });
    await subscribed(c.subscribe('/event/AiRequest__e', (m) => got.push(m)));
    emu.admin.expireCometdClients();
    await until(() => log.some((m) => m.error === '403::Unknown client'));
    await until(() => log.filter((m) => m.channel === '/meta/subscribe' && m.successful === true).length >= 2);
    emu.admin.publishEvent('AiRequest__e', requestEvent('UK', { Action__c: 'AfterRehandshake' }));
    await until(() => got.some((m) => (m.payload as Msg).Action__c === 'AfterRehandshake'));
  });

  it('survives DROP_COMETD (connection dropped) and keeps delivering', async () => {
    const token = emu.admin.session().accessToken;
    const got: Msg[] = [];
    const c = fayeClient(token);
    await subscribed(c.subscribe('/event/AiRequest__e', (m) => got.push(m)));
    const r = await fetch(`${emu.url}/__admin/faults`, { method: 'POST', body: JSON.stringify({ kind: 'DROP_COMETD', count: 1 }) });
    expect(r.status).toBe(200);
    await until(() => emu.admin.org().faults.length === 0);
    emu.admin.publishEvent('AiRequest__e', requestEvent('EU', { Action__c: 'AfterDrop' }));
    await until(() => got.some((m) => (m.payload as Msg).Action__c === 'AfterDrop'));
  });
});

describe('retention window', () => {
  it('refuses a replayId older than the retention window and replays only what is retained', async () => {
    const token = emu.admin.session().accessToken;
    const old = emu.admin.publishEvent('AiRequest__e', requestEvent('EU', { Action__c: 'Old' }));
    emu.admin.advanceClock(73 * 3600 * 1000);
    const fresh = emu.admin.publishEvent('AiRequest__e', requestEvent('EU', { Action__c: 'Fresh' }));
    const log: Msg[] = [];
    const stale = fayeClient(token, { replay: { '/event/AiRequest__e': old.replayId - 1 }, log });
    await expect(subscribed(stale.subscribe('/event/AiRequest__e', () => undefined))).rejects.toThrow(
      `400::The replayId {${old.replayId - 1}} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.`,
    );
    const all: Msg[] = [];
    const c = fayeClient(token, { replay: { '/event/AiRequest__e': -2 } });
    await subscribed(c.subscribe('/event/AiRequest__e', (m) => all.push(m)));
    await until(() => all.length >= 1);
    expect(all.map((m) => (m.event as { replayId: number }).replayId)).toEqual([fresh.replayId]);
  });
});

describe('@salesforce/core StreamingClient', () => {
  it('logs in with JWT and receives retained events with replay -2', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sovra-emu-home-'));
    try {
      const keys = generateJwtKeyPair();
      emu.admin.registerCertificate(DEMO.clientId, keys.publicKeyPem);
      const keyFile = join(home, 'server.key');
      writeFileSync(keyFile, keys.privateKeyPem, { mode: 0o600 });
      emu.admin.publishEvent('AiResult__e', { RequestId__c: 'a00000000000009AAA', Status__c: 'Completed', Jurisdiction__c: 'EU' });
      const result = await runSfCoreClient({
        EMU_URL: emu.url,
        CLIENT_ID: DEMO.clientId,
        USERNAME: DEMO.users.integration,
        KEY_FILE: keyFile,
        HOME: home,
        CHANNEL: '/event/AiResult__e',
        EXPECT_EVENTS: '1',
      });
      const events = (result.events as { events: Msg[] }).events;
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        payload: { RequestId__c: 'a00000000000009AAA', Status__c: 'Completed' },
        event: { replayId: expect.any(Number) },
      });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});
