/**
 * The intake stage: how requests reach the pipeline, each exactly once.
 *
 * Guarantees:
 *  - three sources feed one path: the jurisdiction channel's events (subscription.ts), the
 *    sweep of `AiRequest__c` still Queued after `sweepMinAgeSeconds` (sweep.ts), and
 *    recovery of requests whose lease ran out (a replica or this process died mid-work);
 *  - every request is claimed in the store by its record id before any work; replays, the
 *    sweep finding what the subscription already has, and other replicas all meet the same
 *    claim, so a request is processed once (a `final` or `held` claim is skipped);
 *  - the replayId is checkpointed only after the claims of every event up to it committed,
 *    and the subscription resumes from that checkpoint on restart; anything claimed but not
 *    finished when the process dies comes back through recovery when its lease expires;
 *  - a replayId outside the retention window is recorded as an incident and followed by an
 *    immediate sweep;
 *  - events are never trusted beyond routing: an event for another jurisdiction or with a
 *    malformed id is dropped (and checkpointed past); the pipeline re-reads the request.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Lease, RequestRecord, RequestSource, TenantStore } from '../store/types.js';
import type { SalesforceConnection } from '../salesforce/index.js';
import { isSovraError } from '../shared/errors.js';
import { log } from '../shared/log.js';
import { ChannelSubscription, type ChannelEvent, type SubscriptionState } from './subscription.js';
import { sweepQueued, type SweptRequest } from './sweep.js';

export type IntakeSource = 'event' | 'sweep' | 'recovery';

/** One claimed request handed to the pipeline. The pipeline must end it with `setStatus(lease, …)`. */
export interface IntakeWork {
  requestId: string;
  /** `ExternalId__c` when known (events, sweep), else null. */
  externalId: string | null;
  source: IntakeSource;
  /** The claim; renewed by intake while the batch is in flight (the object is updated in place). */
  lease: Lease;
  request: RequestRecord;
  replayId: number | null;
}

export type ProcessBatch = (batch: IntakeWork[]) => Promise<void>;

export interface IntakeOptions {
  sf: SalesforceConnection;
  store: TenantStore;
  /** This deployment's jurisdiction (e.g. 'EU'). */
  jurisdiction: string;
  process: ProcessBatch;
  /** Replica id written on leases; a fresh one per process by default. */
  owner?: string;
  leaseMs?: number;
  batchSize?: number;
  /** Batches handed to `process` at the same time. */
  concurrency?: number;
  sweepIntervalMs?: number;
  sweepMinAgeMs?: number;
  /** How often expired leases are looked for; leaseMs / 2 by default. */
  recoveryIntervalMs?: number;
  /** How long to gather events into one batch. */
  batchWindowMs?: number;
  /** Subscription tuning (tests shorten these). */
  retrySeconds?: number;
  staleMs?: number;
  now?: () => number;
}

export interface IntakeMetrics {
  subscription: SubscriptionState;
  checkpoint: number | null;
  queued: number;
  inFlight: number;
  claimed: Record<IntakeSource, number>;
  skipped: { held: number; final: number; foreign: number; malformed: number };
  sweeps: number;
  replayGaps: number;
  processFailures: number;
  streaming: ChannelSubscription['counters'];
}

interface Pending {
  requestId: string;
  externalId: string | null;
  source: IntakeSource;
  replayId: number | null;
  meta: Record<string, string | number | boolean | null>;
}

const SF_ID = /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/;

export class Intake {
  readonly owner: string;
  readonly channel: string;
  private readonly o: Required<Omit<IntakeOptions, 'owner'>>;
  private subscription: ChannelSubscription | undefined;
  private queue: Pending[] = [];
  private checkpoint: number | null = null;
  private draining = false;
  private drainTimer: NodeJS.Timeout | undefined;
  private timers: NodeJS.Timeout[] = [];
  private inFlight = new Set<Promise<void>>();
  private inFlightWork = new Set<IntakeWork>();
  private running = false;
  private sweeping: Promise<number> | undefined;
  private readonly stats = {
    claimed: { event: 0, sweep: 0, recovery: 0 } as Record<IntakeSource, number>,
    skipped: { held: 0, final: 0, foreign: 0, malformed: 0 },
    sweeps: 0,
    replayGaps: 0,
    processFailures: 0,
  };

  constructor(options: IntakeOptions) {
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    const leaseMs = options.leaseMs ?? 60_000;
    this.o = {
      sf: options.sf,
      store: options.store,
      jurisdiction: options.jurisdiction,
      process: options.process,
      leaseMs,
      batchSize: Math.min(Math.max(options.batchSize ?? 50, 1), 200),
      concurrency: Math.max(options.concurrency ?? 4, 1),
      sweepIntervalMs: options.sweepIntervalMs ?? 30_000,
      sweepMinAgeMs: options.sweepMinAgeMs ?? 60_000,
      recoveryIntervalMs: options.recoveryIntervalMs ?? Math.max(250, Math.floor(leaseMs / 2)),
      batchWindowMs: options.batchWindowMs ?? 50,
      retrySeconds: options.retrySeconds ?? 1,
      staleMs: options.staleMs ?? 15_000,
      now: options.now ?? Date.now,
    };
    this.channel = options.sf.names.channelPath(options.jurisdiction);
  }

  /** Resumes from the stored checkpoint, subscribes, sweeps once, and starts the timers. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const cp = await this.o.store.getReplayCheckpoint(this.channel);
    const from = cp ? Number(cp.replayId) : -1;
    this.checkpoint = cp && Number.isSafeInteger(from) ? from : null;
    this.subscription = new ChannelSubscription({
      sf: this.o.sf,
      channel: this.channel,
      replayFrom: this.checkpoint ?? -1,
      onEvent: (e) => this.onEvent(e),
      onReplayGap: (id) => void this.onReplayGap(id),
      retrySeconds: this.o.retrySeconds,
      staleMs: this.o.staleMs,
    });
    this.subscription.start();
    log().info('intake started', { channel: this.channel, owner: this.owner, checkpoint: this.checkpoint });
    this.every(this.o.sweepIntervalMs, () => this.sweep());
    this.every(this.o.recoveryIntervalMs, () => this.recover());
    this.every(Math.max(250, Math.floor(this.o.leaseMs / 3)), () => this.renewLeases());
    void this.guard(() => this.sweep());
    void this.guard(() => this.recover());
  }

  /** Stops taking work, waits for batches in flight, and gives nothing back (leases expire or finish). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    clearTimeout(this.drainTimer);
    await this.subscription?.stop();
    this.queue = [];
    await Promise.allSettled([...this.inFlight]);
    if (this.sweeping) await this.sweeping.catch(() => 0);
  }

  metrics(): IntakeMetrics {
    return {
      subscription: this.subscription?.state ?? 'stopped',
      checkpoint: this.checkpoint,
      queued: this.queue.length,
      inFlight: this.inFlightWork.size,
      claimed: { ...this.stats.claimed },
      skipped: { ...this.stats.skipped },
      sweeps: this.stats.sweeps,
      replayGaps: this.stats.replayGaps,
      processFailures: this.stats.processFailures,
      streaming: { ...(this.subscription?.counters ?? { handshakes: 0, rebuilds: 0, authFailures: 0, replayGaps: 0, events: 0 }) },
    };
  }

  /** Runs one sweep now (also used after a replay gap); returns how many requests it found. */
  sweep(): Promise<number> {
    this.sweeping ??= (async () => {
      try {
        const found = await sweepQueued(this.o.sf, {
          jurisdiction: this.o.jurisdiction,
          olderThan: new Date(this.o.now() - this.o.sweepMinAgeMs),
        });
        this.stats.sweeps += 1;
        for (const r of found) this.enqueue(fromSweep(r));
        return found.length;
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  // ------------------------------------------------------------------ events

  private onEvent(e: ChannelEvent): void {
    if (!this.running) return;
    const names = this.o.sf.names;
    const field = (f: string): unknown => e.payload[names.name(f)];
    const requestId = field('RequestId__c');
    const jurisdiction = field('Jurisdiction__c');
    const externalId = field('ExternalId__c');
    if (typeof requestId !== 'string' || !SF_ID.test(requestId)) {
      this.stats.skipped.malformed += 1;
      log().warn('intake dropped an event without a valid request id', { channel: this.channel, replayId: e.replayId });
      this.enqueue({ requestId: '', externalId: null, source: 'event', replayId: e.replayId, meta: {} });
      return;
    }
    if (typeof jurisdiction !== 'string' || jurisdiction.toUpperCase() !== this.o.jurisdiction.toUpperCase()) {
      // The channel filter should never deliver these; fail closed and move past it.
      this.stats.skipped.foreign += 1;
      log().warn('intake dropped an event for another jurisdiction', { channel: this.channel, replayId: e.replayId, requestId });
      this.enqueue({ requestId: '', externalId: null, source: 'event', replayId: e.replayId, meta: {} });
      return;
    }
    this.enqueue({
      requestId,
      externalId: typeof externalId === 'string' ? externalId : null,
      source: 'event',
      replayId: e.replayId,
      meta: { replayId: e.replayId, ...(e.uuid ? { eventUuid: e.uuid } : {}) },
    });
  }

  private async onReplayGap(replayId: number): Promise<void> {
    this.stats.replayGaps += 1;
    await this.guard(() =>
      this.o.store.recordIncident({
        kind: 'replay_gap',
        severity: 'warning',
        details: { channel: this.channel, replayId, jurisdiction: this.o.jurisdiction, action: 'resubscribed from -1 and swept' },
      }),
    );
    await this.guard(() => this.sweep());
  }

  // ------------------------------------------------------------------ claiming

  private enqueue(p: Pending): void {
    if (!this.running) return;
    this.queue.push(p);
    if (this.queue.length >= this.o.batchSize) this.scheduleDrain(0);
    else this.scheduleDrain(this.o.batchWindowMs);
  }

  private scheduleDrain(delay: number): void {
    if (this.drainTimer && delay > 0) return;
    clearTimeout(this.drainTimer);
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined;
      void this.drain();
    }, delay);
  }

  /** Claims queued items in order, advances the checkpoint over what committed, hands batches on. */
  private async drain(): Promise<void> {
    if (this.draining || !this.running) return;
    this.draining = true;
    try {
      while (this.running && this.queue.length > 0) {
        if (this.inFlight.size >= this.o.concurrency) {
          await Promise.race([...this.inFlight]);
          continue;
        }
        const items = this.queue.splice(0, this.o.batchSize);
        const batch: IntakeWork[] = [];
        let lastReplay: number | null = null;
        let failedAt = -1;
        for (let i = 0; i < items.length; i += 1) {
          const p = items[i];
          if (p.requestId !== '') {
            try {
              const w = await this.claim(p);
              if (w) batch.push(w);
            } catch (err) {
              // The store is unavailable: put the rest back and try again shortly.
              log().warn('intake claim failed', { requestId: p.requestId, err });
              failedAt = i;
              break;
            }
          }
          if (p.replayId !== null) lastReplay = p.replayId;
        }
        if (failedAt >= 0) this.queue.unshift(...items.slice(failedAt));
        if (lastReplay !== null) await this.advanceCheckpoint(lastReplay);
        if (batch.length > 0) this.dispatch(batch);
        if (failedAt >= 0) {
          this.scheduleDrain(1_000);
          return;
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async claim(p: Pending): Promise<IntakeWork | undefined> {
    const source: RequestSource = p.source === 'event' ? 'event' : p.source === 'sweep' ? 'sweep' : 'other';
    const meta = { ...p.meta, ...(p.externalId ? { externalId: p.externalId } : {}) };
    const r = await this.o.store.claim(p.requestId, {
      jurisdiction: this.o.jurisdiction,
      owner: this.owner,
      leaseMs: this.o.leaseMs,
      source,
      meta,
    });
    if (r.status === 'claimed') {
      this.stats.claimed[p.source] += 1;
      return {
        requestId: p.requestId,
        externalId: p.externalId,
        source: p.source,
        lease: r.lease,
        request: r.request,
        replayId: p.replayId,
      };
    }
    this.stats.skipped[r.status] += 1;
    return undefined;
  }

  /**
   * Checkpoints `upTo`: the queue is drained in arrival order, so every event up to it was
   * claimed (committed) or deliberately skipped.
   */
  private async advanceCheckpoint(upTo: number): Promise<void> {
    if (this.checkpoint !== null && upTo <= this.checkpoint) return;
    try {
      await this.o.store.setReplayCheckpoint(this.channel, String(upTo));
      this.checkpoint = upTo;
      this.subscription?.setReplayFrom(upTo);
    } catch (err) {
      // Not fatal: a stale checkpoint only means replays, which the claims absorb.
      log().warn('intake could not store the replay checkpoint', { channel: this.channel, err });
    }
  }

  // ------------------------------------------------------------------ handing work on

  private dispatch(batch: IntakeWork[]): void {
    for (const w of batch) this.inFlightWork.add(w);
    const run = (async () => {
      try {
        await this.o.process(batch);
      } catch (err) {
        this.stats.processFailures += 1;
        log().warn('intake process callback failed; leases released', { count: batch.length, err });
        for (const w of batch) {
          await this.o.store.releaseLease(w.lease, 'process failed').catch(() => undefined);
        }
      } finally {
        for (const w of batch) this.inFlightWork.delete(w);
      }
    })();
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  private async renewLeases(): Promise<void> {
    for (const w of [...this.inFlightWork]) {
      try {
        w.lease = await this.o.store.renewLease(w.lease, this.o.leaseMs);
      } catch (err) {
        // LEASE_LOST: the pipeline finished it (final states end the lease) or it was taken over.
        if (!isSovraError(err)) log().warn('intake lease renewal failed', { requestId: w.requestId, err });
        this.inFlightWork.delete(w);
      }
    }
  }

  /** Requests whose lease ran out (a dead replica, a crash) or that were given back: claim them again. */
  private async recover(): Promise<void> {
    if (!this.running || this.inFlight.size >= this.o.concurrency) return;
    const claimed = await this.o.store.claimBatch({
      owner: this.owner,
      leaseMs: this.o.leaseMs,
      limit: this.o.batchSize,
      jurisdiction: this.o.jurisdiction,
    });
    if (claimed.length === 0) return;
    this.stats.claimed.recovery += claimed.length;
    this.dispatch(
      claimed.map(({ lease, request }) => ({
        requestId: request.requestId,
        externalId: typeof request.meta.externalId === 'string' ? request.meta.externalId : null,
        source: 'recovery' as const,
        lease,
        request,
        replayId: null,
      })),
    );
  }

  private every(ms: number, fn: () => Promise<unknown>): void {
    this.timers.push(setInterval(() => void this.guard(fn), ms));
  }

  private async guard(fn: () => Promise<unknown>): Promise<void> {
    if (!this.running) return;
    try {
      await fn();
    } catch (err) {
      log().warn('intake background task failed', { err });
    }
  }
}

function fromSweep(r: SweptRequest): Pending {
  return { requestId: r.id, externalId: r.externalId, source: 'sweep', replayId: null, meta: {} };
}
