/**
 * Prometheus metrics (prom-client), one registry per sidecar. Labels are ids and outcomes
 * (jurisdiction, endpoint id, outcome, reason code) — never a prompt, an answer, a field value,
 * a client address or a tenant's key.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type RequestOutcome =
  'success' | 'blocked' | 'quarantined' | 'refused' | 'egress_refused' | 'upstream_error' | 'cut' | 'client_aborted' | 'invalid' | 'error';

export interface SovraMetrics {
  readonly registry: Registry;
  /** Requests by surface (`pipeline`, `gateway`), jurisdiction and outcome. */
  readonly requests: Counter<'surface' | 'jurisdiction' | 'outcome'>;
  /** End-to-end latency of requests, by surface, jurisdiction and outcome. */
  readonly requestSeconds: Histogram<'surface' | 'jurisdiction' | 'outcome'>;
  /** Time to the first streamed chunk sent to the caller. */
  readonly firstChunkSeconds: Histogram<'surface' | 'jurisdiction'>;
  /** Attempts on model endpoints and their latency. */
  readonly upstreamAttempts: Counter<'jurisdiction' | 'endpoint' | 'outcome'>;
  readonly upstreamSeconds: Histogram<'jurisdiction' | 'endpoint'>;
  /** Requests blocked by policy, and records quarantined, by jurisdiction and reason code. */
  readonly blocked: Counter<'jurisdiction' | 'reason'>;
  readonly quarantined: Counter<'jurisdiction' | 'reason'>;
  /** Outbound model connections refused by the egress guard. */
  readonly egressRefusals: Counter<'jurisdiction' | 'endpoint' | 'reason'>;
  /** Gateway calls refused by geo-fencing, by reason. */
  readonly geofenceRefusals: Counter<'jurisdiction' | 'reason'>;
  /** Values replaced by tokens or dropped before a model saw them, by surface. */
  readonly sanitizedValues: Counter<'surface' | 'action'>;
  /** The text exposition for `GET /metrics`. */
  metrics(): Promise<string>;
  readonly contentType: string;
  /** `{ contentType, body }` for the HTTP face's `metrics` option. */
  exposition(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsOptions {
  /** Prefix of every metric name. Default `sovra_`. */
  prefix?: string;
  /** Also collect Node.js process metrics (event loop, memory, GC). Default true. */
  processMetrics?: boolean;
  registry?: Registry;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export function createMetrics(options: MetricsOptions = {}): SovraMetrics {
  const prefix = options.prefix ?? 'sovra_';
  const registry = options.registry ?? new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: `${prefix}requests_total`,
      help: 'AI requests by surface, jurisdiction and outcome.',
      labelNames: ['surface', 'jurisdiction', 'outcome'],
      registers,
    }),
    requestSeconds: new Histogram({
      name: `${prefix}request_duration_seconds`,
      help: 'End-to-end latency of AI requests.',
      labelNames: ['surface', 'jurisdiction', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    firstChunkSeconds: new Histogram({
      name: `${prefix}first_chunk_seconds`,
      help: 'Time until the first streamed chunk reached the caller.',
      labelNames: ['surface', 'jurisdiction'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    upstreamAttempts: new Counter({
      name: `${prefix}upstream_attempts_total`,
      help: 'Calls to model endpoints by outcome (ok, retry, failover, error).',
      labelNames: ['jurisdiction', 'endpoint', 'outcome'],
      registers,
    }),
    upstreamSeconds: new Histogram({
      name: `${prefix}upstream_duration_seconds`,
      help: 'Latency of successful model endpoint calls (until the answer or the stream started).',
      labelNames: ['jurisdiction', 'endpoint'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    blocked: new Counter({
      name: `${prefix}blocked_total`,
      help: 'Requests blocked by policy or fencing.',
      labelNames: ['jurisdiction', 'reason'],
      registers,
    }),
    quarantined: new Counter({
      name: `${prefix}quarantined_total`,
      help: 'Records quarantined because their jurisdiction is unknown or not this deployment.',
      labelNames: ['jurisdiction', 'reason'],
      registers,
    }),
    egressRefusals: new Counter({
      name: `${prefix}egress_refusals_total`,
      help: 'Outbound model connections refused by the egress guard.',
      labelNames: ['jurisdiction', 'endpoint', 'reason'],
      registers,
    }),
    geofenceRefusals: new Counter({
      name: `${prefix}geofence_refusals_total`,
      help: 'Gateway calls refused by geo-fencing.',
      labelNames: ['jurisdiction', 'reason'],
      registers,
    }),
    sanitizedValues: new Counter({
      name: `${prefix}sanitized_values_total`,
      help: 'Values tokenized or dropped before a model saw them.',
      labelNames: ['surface', 'action'],
      registers,
    }),
    metrics: () => registry.metrics(),
    contentType: registry.contentType,
    exposition: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}

/** Router hooks that count attempts and egress refusals (wire them into `createRouter`). */
export function routerMetricHooks(m: SovraMetrics): {
  onAttempt: (e: { jurisdiction: string; endpointId: string; outcome: string; durationMs: number }) => void;
  onEgressRefusal: (e: { jurisdiction: string; endpointId: string; reason: string }) => void;
} {
  return {
    onAttempt(e) {
      m.upstreamAttempts.inc({ jurisdiction: e.jurisdiction, endpoint: e.endpointId, outcome: e.outcome });
      if (e.outcome === 'ok') m.upstreamSeconds.observe({ jurisdiction: e.jurisdiction, endpoint: e.endpointId }, e.durationMs / 1000);
    },
    onEgressRefusal(e) {
      m.egressRefusals.inc({ jurisdiction: e.jurisdiction, endpoint: e.endpointId, reason: e.reason });
    },
  };
}
