/**
 * A durable CometD subscription to one platform-event channel, through jsforce's streaming
 * `createClient` (a Faye client, long-polling, `Authorization: OAuth <token>`).
 *
 * Guarantees:
 *  - replay: every `/meta/subscribe` carries `ext.replay = {channel: from}` where `from` is
 *    the last replayId whose work is durable (set by the owner through `setReplayFrom`),
 *    or -1 on a first start. jsforce's own `StreamingExtension.Replay` is not used for this:
 *    it moves to the last *received* id, so a re-subscribe after a re-handshake could skip
 *    events received but not yet claimed (and it is not re-primed after a 400, jsforce#1709).
 *    Events between the durable id and the tip are simply redelivered; claims dedupe them.
 *  - `403::Unknown client` (advice `reconnect: handshake`): Faye re-handshakes and
 *    re-subscribes by itself, through the same replay extension.
 *  - 401 / `403::Handshake denied` (advice `reconnect: none`, caught by jsforce's
 *    `StreamingExtension.AuthFailure`): the session is renewed (JWT) and the client rebuilt.
 *  - dropped connections: Faye retries every `retrySeconds`; if the transport stays down
 *    longer than `staleMs`, the client is rebuilt with exponential backoff and jitter.
 *  - `400::The replayId {N} you provided was invalid…` (outside the retention window):
 *    reported through `onReplayGap`, then re-subscribed from -1.
 * Wire facts: salesforce-wire.md §1.2–1.6.
 */
import { StreamingExtension } from 'jsforce/lib/api/streaming.js';
import { log } from '../shared/log.js';
import type { SalesforceConnection } from '../salesforce/index.js';

/** The part of a Faye client this module uses (faye ships no typings). */
interface FayeSubscription {
  callback(fn: () => void): void;
  errback(fn: (err: { code?: number | null; message?: string }) => void): void;
  cancel(): void;
}
interface FayeClient {
  subscribe(channel: string, onMessage: (data: unknown) => void): FayeSubscription;
  disconnect(): void;
  setHeader(name: string, value: string): void;
  on(event: 'transport:down' | 'transport:up', fn: () => void): void;
  _dispatcher?: { retry: number; _envelopes?: Map<string, { timer?: NodeJS.Timeout | null }> };
  _advice?: { reconnect: string };
}
interface FayeMessage {
  channel?: string;
  subscription?: string;
  successful?: boolean;
  error?: string;
  ext?: Record<string, unknown>;
}

/** A delivered platform event (Faye hands listeners `message.data`, wire §1.6). */
export interface ChannelEvent {
  replayId: number;
  uuid: string | null;
  payload: Record<string, unknown>;
}

export interface SubscriptionOptions {
  sf: SalesforceConnection;
  channel: string;
  /** Where to resume: a durable replayId, or -1 (new events only) / -2 (all retained). */
  replayFrom: number;
  onEvent: (event: ChannelEvent) => void;
  /** The replayId was outside the retention window: events may have been missed. */
  onReplayGap: (replayId: number) => void;
  /** Faye's reconnect interval (seconds). */
  retrySeconds?: number;
  /** Rebuild the client when the transport has been down this long. */
  staleMs?: number;
  /** Backoff bounds for rebuilds. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

const INVALID_REPLAY = /replayId \{?(-?\d+)\}? you provided was invalid/i;

export type SubscriptionState = 'stopped' | 'connecting' | 'subscribed' | 'down';

export class ChannelSubscription {
  private client: FayeClient | undefined;
  private replayFrom: number;
  private stopped = true;
  private rebuildTimer: NodeJS.Timeout | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private unlisten: (() => void) | undefined;
  private generation = 0;
  state: SubscriptionState = 'stopped';
  readonly counters = { handshakes: 0, rebuilds: 0, authFailures: 0, replayGaps: 0, events: 0 };

  constructor(private readonly o: SubscriptionOptions) {
    this.replayFrom = o.replayFrom;
  }

  /** The replayId the next (re-)subscribe resumes after. Only ever moves forward, except to -1 after a gap. */
  setReplayFrom(replayId: number): void {
    if (replayId > this.replayFrom) this.replayFrom = replayId;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unlisten = this.o.sf.onSessionRenewed((token) => this.client?.setHeader('Authorization', `OAuth ${token}`));
    this.build();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state = 'stopped';
    clearTimeout(this.rebuildTimer);
    clearTimeout(this.staleTimer);
    this.unlisten?.();
    this.teardown();
    await Promise.resolve();
  }

  private teardown(): void {
    const c = this.client;
    this.client = undefined;
    this.generation += 1;
    if (c) closeFaye(c);
  }

  private build(): void {
    if (this.stopped) return;
    this.teardown();
    const gen = this.generation;
    const channel = this.o.channel;
    const replay = {
      outgoing: (message: FayeMessage, callback: (m: FayeMessage) => void): void => {
        if (message.channel === '/meta/subscribe' && message.subscription === channel) {
          message.ext = { ...(message.ext ?? {}), replay: { [channel]: this.replayFrom } };
        }
        if (message.channel === '/meta/handshake') this.counters.handshakes += 1;
        callback(message);
      },
    };
    const authFailure = new StreamingExtension.AuthFailure(() => {
      if (gen === this.generation) void this.onAuthFailure();
    });
    const client = this.o.sf.jsforce.streaming.createClient([replay, authFailure]) as unknown as FayeClient;
    if (client._dispatcher) client._dispatcher.retry = this.o.retrySeconds ?? 1;
    client.on('transport:down', () => {
      if (gen !== this.generation) return;
      this.state = 'down';
      clearTimeout(this.staleTimer);
      this.staleTimer = setTimeout(() => {
        if (gen === this.generation && this.state === 'down') this.scheduleRebuild('transport down');
      }, this.o.staleMs ?? 15_000);
    });
    client.on('transport:up', () => {
      if (gen !== this.generation) return;
      clearTimeout(this.staleTimer);
      if (this.state === 'down') this.state = 'subscribed';
    });
    this.client = client;
    this.state = 'connecting';
    this.subscribe(client, gen);
  }

  private subscribe(client: FayeClient, gen: number): void {
    const sub = client.subscribe(this.o.channel, (data) => {
      if (gen !== this.generation) return;
      const e = toEvent(data);
      if (!e) {
        log().warn('intake dropped a malformed event', { channel: this.o.channel });
        return;
      }
      this.counters.events += 1;
      this.o.onEvent(e);
    });
    sub.callback(() => {
      if (gen !== this.generation) return;
      this.state = 'subscribed';
      this.failures = 0;
      log().info('intake subscribed', { channel: this.o.channel, replayFrom: this.replayFrom });
    });
    sub.errback((err) => {
      if (gen !== this.generation) return;
      const m = INVALID_REPLAY.exec(err?.message ?? '');
      if (m) {
        this.counters.replayGaps += 1;
        const gapFrom = Number(m[1]);
        log().warn('intake replayId outside the retention window', { channel: this.o.channel, replayId: gapFrom });
        this.replayFrom = -1;
        this.o.onReplayGap(gapFrom);
        this.subscribe(client, gen);
        return;
      }
      log().warn('intake subscribe failed', { channel: this.o.channel, code: err?.code ?? null });
      this.scheduleRebuild('subscribe failed');
    });
  }

  private async onAuthFailure(): Promise<void> {
    this.counters.authFailures += 1;
    this.state = 'down';
    try {
      await this.o.sf.renewSession(this.o.sf.accessToken);
    } catch (err) {
      log().warn('intake could not renew the session', { channel: this.o.channel, err });
    }
    this.scheduleRebuild('authentication invalid');
  }

  private scheduleRebuild(reason: string): void {
    if (this.stopped) return;
    clearTimeout(this.rebuildTimer);
    this.failures += 1;
    const min = this.o.minBackoffMs ?? 250;
    const max = this.o.maxBackoffMs ?? 30_000;
    const base = Math.min(max, min * 2 ** Math.min(this.failures - 1, 16));
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.counters.rebuilds += 1;
    log().info('intake rebuilding the streaming client', { channel: this.o.channel, reason, delayMs: delay });
    this.teardown();
    this.rebuildTimer = setTimeout(() => this.build(), delay);
  }
}

/**
 * Stops a Faye client for good. `disconnect()` alone is a no-op unless the client is fully
 * connected, and Faye retries in-flight messages (a handshake, a connect) on timers: advice
 * `reconnect: none` makes handshake/connect return early (faye client.js), and the pending
 * envelopes' retry timers are cleared so nothing is resent.
 */
function closeFaye(c: FayeClient): void {
  if (c._advice) c._advice.reconnect = 'none';
  try {
    c.disconnect();
  } catch {
    // nothing to release
  }
  const envelopes = c._dispatcher?._envelopes;
  if (envelopes instanceof Map) {
    for (const e of envelopes.values()) if (e.timer) clearTimeout(e.timer);
    envelopes.clear();
  }
}

function toEvent(data: unknown): ChannelEvent | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const d = data as { payload?: unknown; event?: { replayId?: unknown; EventUuid?: unknown } };
  const replayId = typeof d.event?.replayId === 'number' ? d.event.replayId : Number(d.event?.replayId);
  if (!Number.isSafeInteger(replayId) || typeof d.payload !== 'object' || d.payload === null) return undefined;
  return {
    replayId,
    uuid: typeof d.event?.EventUuid === 'string' ? d.event.EventUuid : null,
    payload: d.payload as Record<string, unknown>,
  };
}
