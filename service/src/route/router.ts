/**
 * The router of ONE jurisdiction. It is built from that jurisdiction's endpoints and egress
 * policy only, so it holds no other jurisdiction's endpoint: there is nothing to fall back to,
 * by construction. Among its endpoints, priority, health (a circuit breaker each) and measured
 * latency decide; failures are retried with jittered backoff (bounded by the endpoint's
 * `maxRetries`) and then failed over to the next endpoint of the SAME jurisdiction. When none
 * can answer, the call fails with a reason naming each endpoint. An egress refusal is never
 * retried anywhere: it ends the call. The router is given a jurisdiction; it never decides one.
 */
import type { JurisdictionConfig, SecretRef } from '../config/schema.js';
import { SovraError, toSovraError, validationError } from '../shared/errors.js';
import {
  createEgressGuard,
  createProvider,
  type ChatChunk,
  type ChatProvider,
  type ChatRequest,
  type ChatResult,
  type ChatStream,
  type EgressGuard,
  type EgressRefusalEvent,
  type EmbeddingRequest,
  type EmbeddingResult,
  type ProviderKind,
  type Resolver,
} from '../llm/index.js';
import { CircuitBreaker, type BreakerState } from './breaker.js';

export interface RouterOptions {
  jurisdiction: string;
  /** This jurisdiction's section of the config (endpoints and egress), and nothing else. */
  config: Pick<JurisdictionConfig, 'endpoints' | 'egress'>;
  /** Reads endpoint API keys (config's readSecret bound to the config folder). */
  secret?: (ref: SecretRef) => string;
  /** DNS resolver for the egress guard (tests inject one). */
  resolve?: Resolver;
  /** Every egress refusal, for the audit trail and metrics. */
  onEgressRefusal?: (event: EgressRefusalEvent) => void;
  /** Every attempt on an endpoint, for metrics (ids and codes only). */
  onAttempt?: (event: AttemptEvent) => void;
  breaker?: { failureThreshold?: number; cooldownMs?: number };
  backoff?: { baseMs?: number; maxMs?: number };
  now?: () => number;
  random?: () => number;
}

export interface AttemptEvent {
  jurisdiction: string;
  endpointId: string;
  /** `ok`; `retry` (will try the same endpoint again); `failover` (moves on); `error` (ends the call). */
  outcome: 'ok' | 'retry' | 'failover' | 'error';
  code?: string;
  durationMs: number;
}

export interface EndpointFailure {
  endpointId: string;
  code: string;
  attempts: number;
}

/** Extra facts about how a routed call was served. */
export interface Routing {
  jurisdiction: string;
  /** Attempts across all endpoints, including the successful one. */
  attempts: number;
  /** Endpoints that failed before the one that answered. */
  failures: EndpointFailure[];
}

export type RoutedResult = ChatResult & { routing: Routing };
export type RoutedStream = ChatStream & { routing: Routing };

export interface EndpointHealth {
  endpointId: string;
  provider: ProviderKind;
  model: string;
  region: string;
  priority: number;
  state: BreakerState;
  consecutiveFailures: number;
  /** Smoothed latency of successful calls (ms), once measured. */
  latencyMs?: number;
  lastErrorCode?: string;
  lastSuccessAt?: string;
  lastFailureAt?: string;
}

export interface ModelRouter {
  readonly jurisdiction: string;
  readonly endpointIds: readonly string[];
  chat(request: ChatRequest & { stream: true }): Promise<RoutedStream>;
  chat(request: ChatRequest & { stream?: false }): Promise<RoutedResult>;
  chat(request: ChatRequest): Promise<RoutedResult | RoutedStream>;
  embed(request: EmbeddingRequest): Promise<EmbeddingResult & { routing: Routing }>;
  health(): EndpointHealth[];
  /** Whether at least one endpoint would be tried now. */
  ready(): boolean;
  /** Probes every endpoint (no prompt is sent) and returns the resulting health. */
  probe(signal?: AbortSignal): Promise<EndpointHealth[]>;
  close(): Promise<void>;
}

interface Slot {
  provider: ChatProvider;
  priority: number;
  region: string;
  maxRetries: number;
  breaker: CircuitBreaker;
  latencyMs?: number;
  lastErrorCode?: string;
  lastSuccessAt?: number;
  lastFailureAt?: number;
}

const EWMA = 0.3;

type Disposition = 'retry' | 'failover' | 'stop';

/** What a failure means for routing: retry here, try the next endpoint, or end the call. */
function disposition(err: SovraError): Disposition {
  if (err.kind === 'egress_refused') return 'stop';
  if (err.code === 'UPSTREAM_CANCELLED') return 'stop';
  if (err.kind === 'validation' || err.kind === 'policy_denied' || err.kind === 'forbidden') return 'stop';
  if (err.retryable) return 'retry';
  return 'failover';
}

/** Whether a failure says something about the endpoint's health. */
function countsAgainstEndpoint(err: SovraError): boolean {
  return disposition(err) !== 'stop' || err.kind === 'internal';
}

export function createRouter(options: RouterOptions): ModelRouter {
  const { jurisdiction } = options;
  const endpoints = options.config.endpoints;
  if (endpoints.length === 0) {
    throw validationError(`Jurisdiction ${jurisdiction} has no model endpoint.`, {
      code: 'NO_ENDPOINTS',
      fix: `Add an endpoint under jurisdictions.${jurisdiction}.endpoints.`,
    });
  }
  const ids = new Set<string>();
  for (const ep of endpoints) {
    if (ids.has(ep.id)) {
      throw validationError(`Endpoint id '${ep.id}' appears twice in jurisdiction ${jurisdiction}.`, {
        code: 'ENDPOINT_ID_DUPLICATE',
        fix: 'Give every endpoint its own id.',
      });
    }
    ids.add(ep.id);
  }
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const baseMs = options.backoff?.baseMs ?? 100;
  const maxMs = options.backoff?.maxMs ?? 2_000;
  const egress: EgressGuard = createEgressGuard({
    jurisdiction,
    networks: options.config.egress.networks,
    hosts: options.config.egress.hosts,
    proxy: options.config.egress.proxy,
    resolve: options.resolve,
    onRefusal: options.onEgressRefusal,
  });
  const slots: Slot[] = endpoints.map((ep) => ({
    provider: createProvider(ep, { jurisdiction, egress, secret: options.secret }),
    priority: ep.priority,
    region: ep.region,
    maxRetries: ep.maxRetries,
    breaker: new CircuitBreaker({
      failureThreshold: options.breaker?.failureThreshold ?? 3,
      cooldownMs: options.breaker?.cooldownMs ?? 30_000,
      now,
    }),
  }));

  const emit = (slot: Slot, outcome: AttemptEvent['outcome'], started: number, code?: string): void => {
    try {
      options.onAttempt?.({ jurisdiction, endpointId: slot.provider.endpointId, outcome, code, durationMs: now() - started });
    } catch {
      // metrics must never change a routing decision
    }
  };

  const succeeded = (slot: Slot, started: number): void => {
    slot.breaker.success();
    const ms = now() - started;
    slot.latencyMs = slot.latencyMs === undefined ? ms : slot.latencyMs * (1 - EWMA) + ms * EWMA;
    slot.lastSuccessAt = now();
  };
  const failed = (slot: Slot, err: SovraError): void => {
    slot.lastErrorCode = err.code;
    slot.lastFailureAt = now();
    if (countsAgainstEndpoint(err)) slot.breaker.failure();
    else slot.breaker.release();
  };

  /** Endpoints in the order they are tried: priority, then measured latency. */
  const ordered = (): Slot[] => [...slots].sort((a, b) => a.priority - b.priority || (a.latencyMs ?? 0) - (b.latencyMs ?? 0));

  const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise<void>((resolve) => {
      if (ms <= 0) return resolve();
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(t);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  const backoff = (attempt: number): number => Math.floor(random() * Math.min(maxMs, baseMs * 2 ** attempt));

  const noEndpoint = (failures: EndpointFailure[], skipped: string[]): SovraError => {
    const parts = [
      ...failures.map((f) => `${f.endpointId}: ${f.code} after ${f.attempts} attempt${f.attempts === 1 ? '' : 's'}`),
      ...skipped.map((id) => `${id}: circuit open`),
    ];
    return new SovraError('unavailable', `No model endpoint of jurisdiction ${jurisdiction} could answer (${parts.join('; ')}).`, {
      code: 'NO_HEALTHY_ENDPOINT',
      fix: `Start or repair a model server of ${jurisdiction}; requests of ${jurisdiction} are never sent to another jurisdiction's endpoint.`,
      details: { jurisdiction, failures, circuitOpen: skipped },
      retryable: true,
    });
  };

  /** Runs `call` on the endpoints in order, with retries and failover inside the jurisdiction. */
  async function route<T>(
    signal: AbortSignal | undefined,
    call: (slot: Slot) => Promise<T>,
    settle: (slot: Slot, value: T, started: number) => T,
  ): Promise<{ value: T; routing: Routing }> {
    const failures: EndpointFailure[] = [];
    const skipped: string[] = [];
    let attempts = 0;
    for (const slot of ordered()) {
      if (!slot.breaker.tryAcquire()) {
        skipped.push(slot.provider.endpointId);
        continue;
      }
      let tries = 0;
      for (;;) {
        tries += 1;
        attempts += 1;
        const started = now();
        try {
          const value = await call(slot);
          const settled = settle(slot, value, started);
          emit(slot, 'ok', started);
          return { value: settled, routing: { jurisdiction, attempts, failures } };
        } catch (caught) {
          const err = toSovraError(caught, 'UPSTREAM_INTERNAL');
          failed(slot, err);
          const d = signal?.aborted ? 'stop' : disposition(err);
          if (d === 'stop') {
            emit(slot, 'error', started, err.code);
            throw err;
          }
          if (d === 'retry' && tries <= slot.maxRetries && slot.breaker.tryAcquire()) {
            emit(slot, 'retry', started, err.code);
            await sleep(backoff(tries - 1), signal);
            continue;
          }
          emit(slot, 'failover', started, err.code);
          failures.push({ endpointId: slot.provider.endpointId, code: err.code, attempts: tries });
          break;
        }
      }
    }
    throw noEndpoint(failures, skipped);
  }

  /** Keeps the endpoint's breaker honest about a stream: only a stream that finished is a success. */
  function watchStream(slot: Slot, stream: ChatStream, started: number, routing: Routing): RoutedStream {
    // The half-open trial (if any) stays claimed until the stream ends.
    async function* chunks(): AsyncGenerator<ChatChunk> {
      let ended = false;
      try {
        for await (const c of stream) yield c;
        succeeded(slot, started);
        ended = true;
      } catch (caught) {
        failed(slot, toSovraError(caught, 'UPSTREAM_INTERNAL'));
        throw caught;
      } finally {
        // A consumer that stopped early says nothing about the endpoint; free a half-open trial.
        if (!ended) slot.breaker.release();
      }
    }
    return {
      id: stream.id,
      endpointId: stream.endpointId,
      provider: stream.provider,
      model: stream.model,
      routing,
      [Symbol.asyncIterator]: () => chunks(),
    };
  }

  function chat(request: ChatRequest & { stream: true }): Promise<RoutedStream>;
  function chat(request: ChatRequest & { stream?: false }): Promise<RoutedResult>;
  function chat(request: ChatRequest): Promise<RoutedResult | RoutedStream>;
  async function chat(request: ChatRequest): Promise<RoutedResult | RoutedStream> {
    if (request.stream) {
      let openedAt = 0;
      const { value, routing } = await route<ChatStream>(
        request.signal,
        (slot) => slot.provider.chat({ ...request, stream: true }),
        (_slot, s, started) => {
          openedAt = started;
          return s;
        },
      );
      const slot = slots.find((s) => s.provider.endpointId === value.endpointId)!;
      return watchStream(slot, value, openedAt, routing);
    }
    const { value, routing } = await route<ChatResult>(
      request.signal,
      (slot) => slot.provider.chat({ ...request, stream: false }),
      (slot, r, started) => {
        succeeded(slot, started);
        return r;
      },
    );
    return { ...value, routing };
  }

  return {
    jurisdiction,
    endpointIds: slots.map((s) => s.provider.endpointId),
    chat,
    async embed(request: EmbeddingRequest) {
      const { value, routing } = await route<EmbeddingResult>(
        request.signal,
        (slot) => slot.provider.embed(request),
        (slot, r, started) => {
          succeeded(slot, started);
          return r;
        },
      );
      return { ...value, routing };
    },
    health(): EndpointHealth[] {
      return slots.map((s) => {
        const h: EndpointHealth = {
          endpointId: s.provider.endpointId,
          provider: s.provider.kind,
          model: s.provider.model,
          region: s.region,
          priority: s.priority,
          state: s.breaker.state,
          consecutiveFailures: s.breaker.consecutiveFailures,
        };
        if (s.latencyMs !== undefined) h.latencyMs = Math.round(s.latencyMs * 10) / 10;
        if (s.lastErrorCode) h.lastErrorCode = s.lastErrorCode;
        if (s.lastSuccessAt) h.lastSuccessAt = new Date(s.lastSuccessAt).toISOString();
        if (s.lastFailureAt) h.lastFailureAt = new Date(s.lastFailureAt).toISOString();
        return h;
      });
    },
    ready(): boolean {
      return slots.some((s) => s.breaker.available());
    },
    async probe(signal?: AbortSignal): Promise<EndpointHealth[]> {
      await Promise.all(
        slots.map(async (s) => {
          try {
            await s.provider.probe(signal);
            s.breaker.success();
            s.lastSuccessAt = now();
          } catch (caught) {
            const err = toSovraError(caught, 'UPSTREAM_INTERNAL');
            s.lastErrorCode = err.code;
            s.lastFailureAt = now();
            s.breaker.failure();
          }
        }),
      );
      return this.health();
    },
    async close(): Promise<void> {
      await Promise.all(slots.map((s) => s.provider.close()));
      egress.close();
    },
  };
}
