/**
 * The Streaming API's CometD endpoint (`POST /cometd/<version>`), hand-rolled so that every
 * message is exactly what Salesforce sends (salesforce-wire.md §1, checklist §6):
 * handshake with `ext {replay:true,"payload.format":true}` and no advice; the first
 * `/meta/connect` answered at once with `advice {interval:0,timeout,reconnect:"retry"}`,
 * later ones held until events arrive or the timeout passes; `403::Unknown client` with
 * `reconnect:"handshake"` for unknown/expired clients; `401::Authentication invalid`
 * (connect) and `403::Handshake denied` (handshake) for a bad token; the replay extension
 * (-1 / -2 / N, the exact invalid-replayId text); custom channels `/event/<Name>__chn` with
 * channel-member filter expressions; Bayeux errors always inside an HTTP 200 body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { FieldDef, ObjectDef } from './metadata.js';
import type { Org, StoredEvent } from './org.js';
import { matches } from './query.js';
import type { Cond } from './soql.js';
import type { Session } from './oauth.js';

type Msg = Record<string, unknown>;

export interface CometdOptions {
  /** How long a `/meta/connect` is held (advice.timeout); Salesforce: 110000 ms. */
  timeoutMs: number;
  /** A client that does not reconnect within this long after a response is dropped; Salesforce: 40 s. */
  clientExpiryMs: number;
  /** Concurrent CometD clients per org (Platform Events allocations: 2,000 in Performance/Unlimited). */
  clientLimit: number;
}

interface Subscription {
  channel: string;
  /** Event type → filter (null = all). */
  types: Map<string, Cond | null>;
}

interface Client {
  id: string;
  org: Org;
  session: Session;
  subs: Map<string, Subscription>;
  queue: Msg[];
  connected: boolean;
  pending: { res: ServerResponse; replies: Msg[]; connectMsg: Msg; timer: NodeJS.Timeout } | null;
  lastResponseAt: number;
}

const newClientId = (): string => {
  // ~27 chars [0-9a-z] as in real handshakes.
  let s = '';
  while (s.length < 27)
    s += randomBytes(16)
      .toString('hex')
      .replace(/[^0-9a-z]/g, '');
  return s.slice(0, 27);
};

export class CometdServer {
  private readonly clients = new Map<string, Client>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly listeners = new Map<Org, (e: StoredEvent) => void>();

  constructor(
    private readonly opts: CometdOptions,
    private readonly authenticate: (token: string | null) => Session | null,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(5000, Math.max(250, opts.clientExpiryMs / 4)));
    this.sweeper.unref();
  }

  /** Starts delivering an org's events to its subscribers. */
  attach(org: Org): void {
    const l = (e: StoredEvent): void => this.deliver(org, e);
    org.eventListeners.add(l);
    this.listeners.set(org, l);
  }

  clientCount(org?: Org): number {
    return [...this.clients.values()].filter((c) => !org || c.org === org).length;
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const c of this.clients.values()) this.finishPending(c, false);
    this.clients.clear();
    for (const [org, l] of this.listeners) org.eventListeners.delete(l);
  }

  /** Forgets every client of an org (as a server restart would): next connect → 403::Unknown client. */
  expireClients(org?: Org): void {
    for (const c of [...this.clients.values()]) {
      if (org && c.org !== org) continue;
      this.clients.delete(c.id);
      if (c.pending) {
        const p = c.pending;
        c.pending = null;
        clearTimeout(p.timer);
        this.send(p.res, [...p.replies, unknownClient(p.connectMsg)]);
      }
    }
  }

  /** Applies DROP_COMETD faults to connects already held. */
  dropPending(org: Org): void {
    for (const c of [...this.clients.values()]) {
      if (c.org !== org || !c.pending) continue;
      if (!org.takeFault(['DROP_COMETD'])) return;
      this.drop(c);
    }
  }

  private drop(c: Client): void {
    this.clients.delete(c.id);
    if (c.pending) {
      clearTimeout(c.pending.timer);
      c.pending.res.socket?.destroy();
      c.pending = null;
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const c of [...this.clients.values()]) {
      if (!c.pending && now - c.lastResponseAt > this.opts.clientExpiryMs) this.clients.delete(c.id);
    }
  }

  async handle(req: IncomingMessage, res: ServerResponse, version: string | null, body: string, token: string | null): Promise<void> {
    if (Buffer.byteLength(body) > 32_768) {
      // Streaming API Guide, "Clients and Timeouts": request bodies are limited to 32,768 bytes.
      res.writeHead(413, { 'content-type': 'text/plain;charset=UTF-8' });
      res.end('Maximum Request Size Exceeded');
      return;
    }
    let messages: Msg[];
    try {
      const parsed: unknown = JSON.parse(body);
      messages = (Array.isArray(parsed) ? parsed : [parsed]).filter((m): m is Msg => !!m && typeof m === 'object');
    } catch {
      res.writeHead(400, { 'content-type': 'application/json;charset=UTF-8' });
      res.end(JSON.stringify([{ error: '400::Invalid JSON', successful: false }]));
      return;
    }
    const replies: Msg[] = [];
    let held: Msg | null = null;
    let heldClient: Client | null = null;
    for (const m of messages) {
      const channel = String(m.channel ?? '');
      if (!version) {
        // sfdx-core matches this text (handshakeApiVersionError).
        replies.push({
          channel,
          id: m.id,
          successful: false,
          error: "400::API version in the URI is mandatory. URI format: '/cometd/43.0'",
        });
        continue;
      }
      if (Number(version) < 37) {
        replies.push({
          channel,
          id: m.id,
          successful: false,
          error: `400::Unsupported API version. Only API versions '37.0' and later are supported.`,
        });
        continue;
      }
      const session = this.authenticate(token);
      if (channel === '/meta/handshake') {
        replies.push(this.handshake(m, session, token));
        continue;
      }
      const client = this.clients.get(String(m.clientId ?? ''));
      if (!client) {
        replies.push(
          channel === '/meta/connect'
            ? unknownClient(m)
            : { channel, id: m.id, successful: false, error: '403::Unknown client', advice: { reconnect: 'handshake', interval: 0 } },
        );
        continue;
      }
      if (!session || session.org !== client.org) {
        replies.push({
          clientId: client.id,
          advice: { reconnect: 'none', interval: 0 },
          channel,
          id: m.id,
          error: '401::Authentication invalid',
          successful: false,
        });
        this.clients.delete(client.id);
        continue;
      }
      switch (channel) {
        case '/meta/connect': {
          if (client.org.takeFault(['DROP_COMETD'])) {
            this.drop(client);
            res.socket?.destroy();
            return;
          }
          if (!client.connected) {
            client.connected = true;
            replies.push(...client.queue.splice(0));
            replies.push({
              clientId: client.id,
              advice: { interval: 0, timeout: this.opts.timeoutMs, reconnect: 'retry' },
              channel,
              id: m.id,
              successful: true,
            });
          } else if (client.queue.length || messages.length > 1) {
            replies.push(...client.queue.splice(0));
            replies.push({ clientId: client.id, channel, id: m.id, successful: true });
          } else {
            held = m;
            heldClient = client;
          }
          break;
        }
        case '/meta/subscribe':
          replies.push(this.subscribe(client, m));
          // Replayed events go out on the connect already held, if any.
          if (client.queue.length && client.pending) this.finishPending(client, true);
          break;
        case '/meta/unsubscribe': {
          const sub = String(m.subscription ?? '');
          client.subs.delete(sub);
          replies.push({ clientId: client.id, channel, id: m.id, subscription: sub, successful: true });
          break;
        }
        case '/meta/disconnect':
          this.clients.delete(client.id);
          this.finishPending(client, true);
          replies.push({ clientId: client.id, channel, id: m.id, successful: true });
          break;
        default:
          replies.push({
            channel,
            id: m.id,
            clientId: client.id,
            successful: false,
            error: '403::Publishing is not supported on this channel',
          });
      }
    }
    if (held && heldClient) {
      this.finishPending(heldClient, true);
      const c = heldClient;
      const connectMsg = held;
      const timer = setTimeout(() => this.finishPending(c, true), this.opts.timeoutMs);
      c.pending = { res, replies, connectMsg, timer };
      // The long-poll's connection went away (client gone or timed out): forget the hold.
      res.on('close', () => {
        if (c.pending?.res === res) {
          clearTimeout(c.pending.timer);
          c.pending = null;
          c.lastResponseAt = Date.now();
        }
      });
      return;
    }
    for (const r of replies) {
      const c = this.clients.get(String(r.clientId ?? ''));
      if (c) c.lastResponseAt = Date.now();
    }
    this.send(res, replies);
  }

  private send(res: ServerResponse, body: Msg[]): void {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' });
    res.end(JSON.stringify(body));
  }

  private finishPending(c: Client, respond: boolean): void {
    const p = c.pending;
    if (!p) return;
    c.pending = null;
    clearTimeout(p.timer);
    c.lastResponseAt = Date.now();
    if (!respond) {
      p.res.socket?.destroy();
      return;
    }
    const events = c.queue.splice(0);
    this.send(p.res, [...p.replies, ...events, { clientId: c.id, channel: '/meta/connect', id: p.connectMsg.id, successful: true }]);
  }

  private handshake(m: Msg, session: Session | null, token: string | null): Msg {
    if (!session) {
      return {
        ext: {
          sfdc: { failureReason: token ? '401::Authentication invalid' : '401::Request requires authentication' },
          replay: true,
          'payload.format': true,
        },
        advice: { reconnect: 'none' },
        channel: '/meta/handshake',
        id: m.id,
        error: '403::Handshake denied',
        successful: false,
      };
    }
    if (this.clientCount(session.org) >= this.opts.clientLimit) {
      // Seen after ~2000 handshakes (robertmrk/aiocometd#1).
      return {
        channel: '/meta/handshake',
        id: m.id,
        successful: false,
        error: '403::Organization concurrent user limit exceeded',
        advice: { reconnect: 'none' },
      };
    }
    const types = Array.isArray(m.supportedConnectionTypes) ? m.supportedConnectionTypes : [];
    if (!types.includes('long-polling')) {
      return { channel: '/meta/handshake', id: m.id, successful: false, error: `400::Invalid connection type ${types.join(',')}` };
    }
    const client: Client = {
      id: newClientId(),
      org: session.org,
      session,
      subs: new Map(),
      queue: [],
      connected: false,
      pending: null,
      lastResponseAt: Date.now(),
    };
    this.clients.set(client.id, client);
    return {
      ext: { replay: true, 'payload.format': true },
      minimumVersion: '1.0',
      clientId: client.id,
      supportedConnectionTypes: ['long-polling'],
      channel: '/meta/handshake',
      id: m.id,
      version: '1.0',
      successful: true,
    };
  }

  private resolveChannel(org: Org, channel: string): Subscription | null {
    const m = /^\/event\/(.+)$/.exec(channel);
    if (!m) return null;
    const name = m[1];
    if (name.endsWith('__chn')) {
      const ch = org.channels.find((c) => c.name === name); // case-sensitive, like the real API
      if (!ch) return null;
      const types = new Map<string, Cond | null>();
      for (const mem of ch.members) types.set(mem.selectedEntity, org.channelFilters.get(`${ch.name}|${mem.selectedEntity}`) ?? null);
      return { channel, types };
    }
    const obj = org.findObject(name);
    if (!obj || obj.kind !== 'event' || obj.name !== name) return null;
    return { channel, types: new Map([[obj.name, null]]) };
  }

  private subscribe(client: Client, m: Msg): Msg {
    const base = { clientId: client.id, channel: '/meta/subscribe', id: m.id };
    const channel = m.subscription;
    if (typeof channel !== 'string' || !channel) return { ...base, successful: false, error: '400::Channel name not specified' };
    if (!channel.startsWith('/'))
      return { ...base, subscription: channel, successful: false, error: "400::Channel subscriptions must start with a leading '/'" };
    const sub = this.resolveChannel(client.org, channel);
    if (!sub) {
      return {
        ...base,
        subscription: channel,
        successful: false,
        error: `400::The channel you requested to subscribe to doesn't exist {${channel}}`,
      };
    }
    const ext = m.ext as Msg | undefined;
    const replayMap = ext?.replay as Msg | undefined;
    const raw = replayMap && typeof replayMap === 'object' ? replayMap[channel] : undefined;
    let replayFrom = -1;
    if (raw !== undefined && raw !== null) {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isInteger(n) || !this.validReplayId(client.org, sub, n)) {
        return {
          ...base,
          subscription: channel,
          // Exact text, two spaces after "invalid." (EMP-Connector#14, skitlabs/bayeux-client).
          error: `400::The replayId {${String(raw)}} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.`,
          successful: false,
        };
      }
      replayFrom = n;
    }
    client.subs.set(channel, sub);
    if (replayFrom !== -1) {
      client.org.pruneEvents();
      for (const e of client.org.events) {
        if (replayFrom >= 0 && e.replayId <= replayFrom) continue;
        const msg = this.messageFor(client.org, sub, e);
        if (msg) client.queue.push(msg);
      }
    }
    return { ...base, subscription: channel, successful: true };
  }

  private validReplayId(org: Org, sub: Subscription, n: number): boolean {
    if (n === -1 || n === -2) return true;
    if (n < 0 || n > org.lastReplayId) return false;
    org.pruneEvents();
    for (const t of sub.types.keys()) {
      if (n < (org.prunedUpTo.get(t) ?? 0)) return false;
    }
    return true;
  }

  private messageFor(org: Org, sub: Subscription, e: StoredEvent): Msg | null {
    if (!sub.types.has(e.eventName)) return null;
    const filter = sub.types.get(e.eventName) ?? null;
    if (filter) {
      const obj = org.findObject(e.eventName);
      if (!obj || !evalFilter(org, obj, filter, e.payload)) return null;
    }
    return {
      data: { schema: e.schema, payload: e.payload, event: { EventUuid: e.uuid, replayId: e.replayId } },
      channel: sub.channel,
    };
  }

  private deliver(org: Org, e: StoredEvent): void {
    for (const c of this.clients.values()) {
      if (c.org !== org) continue;
      let queued = false;
      for (const sub of c.subs.values()) {
        const msg = this.messageFor(org, sub, e);
        if (msg) {
          c.queue.push(msg);
          queued = true;
        }
      }
      if (queued && c.pending) this.finishPending(c, true);
    }
  }
}

function unknownClient(m: Msg): Msg {
  return {
    advice: { interval: 0, reconnect: 'handshake' },
    channel: String(m.channel ?? '/meta/connect'),
    id: m.id,
    error: '403::Unknown client',
    successful: false,
  };
}

/**
 * Channel-member filter semantics (Platform Events Developer Guide, "Filter Expression
 * Format"): text compared case-insensitively with surrounding whitespace stripped, a null
 * checkbox is false. Field names resolve with or without the org's namespace prefix.
 */
export function evalFilter(org: Org, obj: ObjectDef, c: Cond, payload: Record<string, unknown>): boolean {
  if (c.type === 'and') return c.items.every((i) => evalFilter(org, obj, i, payload));
  if (c.type === 'or') return c.items.some((i) => evalFilter(org, obj, i, payload));
  if (c.type === 'not') return !evalFilter(org, obj, c.item, payload);
  const name = c.path.join('.');
  const f: FieldDef | undefined = obj.fieldIndex.get(name.toLowerCase()) ?? obj.fieldIndex.get(org.ns(name).toLowerCase());
  if (!f) return false;
  let v = payload[f.name];
  if (typeof v === 'string') v = v.trim();
  if (f.type === 'boolean' && (v === null || v === undefined)) v = false;
  return matches(f, v, c.op, c.value, null, org.clock.now());
}
