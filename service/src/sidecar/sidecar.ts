/**
 * The composition root: one sidecar for one jurisdiction, assembled from a validated config.
 * It opens the store and the jurisdiction's keys, builds the router (only this
 * jurisdiction's endpoints), and for every tenant entitled to the jurisdiction a Salesforce
 * connection, the pipeline, the intake (subscription + sweep + recovery), the outbox flusher
 * and the audit log; then the HTTP face (health, readiness, metrics, gateway). Nothing here
 * decides anything: each stage keeps its own guarantees.
 */
import { AuditLog } from '../audit/index.js';
import type { SovraConfig, TenantConfig } from '../config/index.js';
import { startHttpFace, type HttpFace, type ReadinessCheck } from '../http/index.js';
import { Router } from 'express';
import { isPrivateAddress } from '../config/index.js';
import { auditLogPort, createGatewayRouter, sanitizePort } from '../http/gateway/index.js';
import { createMetrics, routerMetricHooks, type SovraMetrics } from '../http/metrics.js';
import { Intake } from '../intake/index.js';
import { createKeyService, type ManagedKeyService } from '../keys/index.js';
import type { EgressRefusalEvent } from '../llm/index.js';
import { createOrgContext, createPipeline, type Pipeline, type RequestOutcome } from '../pipeline/index.js';
import { createPolicyEngine } from '../policy/index.js';
import { createJurisdictionRouter, type ModelRouter } from '../route/index.js';
import { SalesforceConnection } from '../salesforce/index.js';
import { createSanitizer } from '../sanitize/index.js';
import { SovraError, toSovraError } from '../shared/errors.js';
import { log } from '../shared/log.js';
import { leaseMsFor, openStore, type Store, type TenantStore } from '../store/index.js';
import { OutboxFlusher, outboxDecryptor } from '../writeback/index.js';
import { StoreTokenVault } from './tokenVault.js';

export interface TenantRuntime {
  tenant: TenantConfig;
  store: TenantStore;
  sf?: SalesforceConnection;
  audit: AuditLog;
  pipeline?: Pipeline;
  intake?: Intake;
  flusher?: OutboxFlusher;
  /** Why the tenant is not connected, when it is not (value-free). */
  error?: string;
}

export interface SidecarOptions {
  config: SovraConfig;
  env?: NodeJS.ProcessEnv;
  /** HTTP port override (0 = a free one). */
  port?: number;
  /** Each request's end (the demo prints them; metrics count them). */
  onOutcome?: (tenant: string, outcome: RequestOutcome) => void;
  /** Intake tuning (tests and the demo shorten the sweep). */
  intake?: { sweepIntervalMs?: number; sweepMinAgeMs?: number; batchWindowMs?: number };
  /** Flusher poll interval when idle. */
  flushIdleMs?: number;
  /** Pin the Salesforce REST API version. */
  apiVersion?: string;
}

export interface SidecarStatus {
  jurisdiction: string;
  region: string;
  endpoints: ReturnType<ModelRouter['health']>;
  tenants: {
    id: string;
    connected: boolean;
    error?: string;
    intake?: ReturnType<Intake['metrics']>;
    outbox?: Awaited<ReturnType<TenantStore['outboxStats']>>;
    apiUsage?: ReturnType<SalesforceConnection['metrics']>;
  }[];
}

export interface Sidecar {
  readonly url: string;
  readonly jurisdiction: string;
  readonly metrics: SovraMetrics;
  readonly tenants: ReadonlyMap<string, TenantRuntime>;
  readonly router: ModelRouter;
  readonly store: Store;
  readonly keys: ManagedKeyService;
  status(): Promise<SidecarStatus>;
  /** Waits until every tenant's outbox is empty (or the timeout passes); returns rows left. */
  drain(timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

const METADATA_TTL_MS = 5 * 60_000;

/**
 * `GET /status`: the operator's view (subscriptions and replayIds, outbox depth, endpoint
 * health, API usage). Ids and counts only — and only for callers on this host or its private
 * network, never through the public face.
 */
function statusRouter(status: () => Promise<SidecarStatus>): Router {
  const r = Router();
  r.get('/', async (req, res, next) => {
    try {
      const addr = req.socket.remoteAddress ?? '';
      if (!isPrivateAddress(addr)) {
        throw new SovraError('forbidden', 'The status route answers only callers on the sidecar host or its private network.', {
          code: 'STATUS_FORBIDDEN',
          fix: 'Run `sovra status` on the sidecar host (or inside its private network).',
        });
      }
      res.set('Cache-Control', 'no-store').json(await status());
    } catch (err) {
      next(err);
    }
  });
  return r;
}

export async function startSidecar(options: SidecarOptions): Promise<Sidecar> {
  const cfg = options.config;
  const env = options.env ?? process.env;
  const J = cfg.deployment.jurisdiction;
  const region = cfg.deployment.region;
  const section = cfg.jurisdictions[J]!;
  const metrics = createMetrics();
  const store = await openStore(cfg.store, { baseDir: cfg.baseDir, env });
  const keys = await createKeyService(J, section.keys, { baseDir: cfg.baseDir, env });
  const hooks = routerMetricHooks(metrics);
  const runtimes = new Map<string, TenantRuntime>();
  const pipelines: Pipeline[] = [];
  const router = createJurisdictionRouter(cfg, {
    env,
    onAttempt: (e) => hooks.onAttempt(e),
    onEgressRefusal: (e: EgressRefusalEvent) => {
      hooks.onEgressRefusal(e);
      // The pipeline that made the call audits it against its request (async context).
      for (const p of pipelines) p.onEgressRefusal(e);
    },
  });
  const sanitizer = createSanitizer({ countries: section.countries });
  const policy = createPolicyEngine();
  const tokenTtlSeconds = cfg.classification.tokenTtlSeconds;
  const timers: NodeJS.Timeout[] = [];

  const entitled = cfg.tenants.filter((t) => t.jurisdictions.includes(J));
  for (const tenant of cfg.tenants.filter((t) => !t.jurisdictions.includes(J))) {
    log().warn('tenant not entitled to this jurisdiction is not served', { tenant: tenant.id, jurisdiction: J });
  }

  for (const tenant of entitled) {
    const ts = store.forTenant(tenant.id);
    const audit = new AuditLog({
      store,
      keys,
      tenant: tenant.id,
      jurisdiction: J,
      region,
      namespace: tenant.namespace,
      checkpointEvery: cfg.audit.checkpointEvery,
      checkpointIntervalSeconds: cfg.audit.checkpointIntervalSeconds,
    });
    const rt: TenantRuntime = { tenant, store: ts, audit };
    runtimes.set(tenant.id, rt);
    await audit.record({
      eventType: 'config.loaded',
      decision: 'info',
      details: {
        deployment: cfg.deployment.name,
        endpoints: section.endpoints.map((e) => e.id).join(','),
        keys: section.keys.provider,
        store: cfg.store.kind,
      },
    });
    try {
      const sf = await SalesforceConnection.connect({ tenant, baseDir: cfg.baseDir, env, apiVersion: options.apiVersion });
      rt.sf = sf;
      const orgContext = createOrgContext(sf, {
        deploymentJurisdiction: J,
        configJurisdictions: Object.entries(cfg.jurisdictions).map(([id, j]) => ({ id, countries: j.countries })),
        overrides: cfg.classification.fields,
        unclassifiedHandling: cfg.classification.unclassifiedHandling,
        metadataTtlMs: METADATA_TTL_MS,
      });
      await orgContext.resolver();
      const flusher = new OutboxFlusher({ sf, store: ts, decrypt: outboxDecryptor(keys), idleMs: options.flushIdleMs });
      const pipeline = createPipeline({
        tenant,
        deployment: { jurisdiction: J, region },
        sf,
        store: ts,
        keys,
        audit,
        router,
        sanitizer,
        classifier: orgContext.classifier,
        policy,
        resolver: orgContext.resolver,
        vault: new StoreTokenVault(ts, keys),
        fieldType: orgContext.fieldType,
        tokenTtlSeconds,
        onOutcome: (o) => {
          const outcome =
            o.status === 'Completed'
              ? 'success'
              : o.status === 'Blocked'
                ? 'blocked'
                : o.status === 'Quarantined'
                  ? 'quarantined'
                  : 'error';
          metrics.requests.inc({ surface: 'pipeline', jurisdiction: J, outcome });
          metrics.requestSeconds.observe({ surface: 'pipeline', jurisdiction: J, outcome }, (o.timings.totalMs ?? 0) / 1000);
          if (o.status === 'Blocked') metrics.blocked.inc({ jurisdiction: J, reason: o.reasonCode ?? 'unknown' });
          if (o.status === 'Quarantined') metrics.quarantined.inc({ jurisdiction: J, reason: o.reasonCode ?? 'unknown' });
          options.onOutcome?.(tenant.id, o);
        },
      });
      pipelines.push(pipeline);
      const intake = new Intake({
        sf,
        store: ts,
        jurisdiction: J,
        leaseMs: leaseMsFor(cfg.store),
        batchSize: cfg.intake.batchSize,
        concurrency: cfg.intake.concurrency,
        sweepIntervalMs: options.intake?.sweepIntervalMs ?? cfg.intake.sweepIntervalSeconds * 1000,
        sweepMinAgeMs: options.intake?.sweepMinAgeMs ?? cfg.intake.sweepMinAgeSeconds * 1000,
        ...(options.intake?.batchWindowMs !== undefined ? { batchWindowMs: options.intake.batchWindowMs } : {}),
        process: async (batch) => {
          await pipeline.process(batch);
          flusher.notify();
        },
      });
      Object.assign(rt, { pipeline, intake, flusher });
      flusher.start();
      await intake.start();
      timers.push(
        setInterval(
          () => {
            void audit
              .checkpointIfDue()
              .then(() => flusher.notify())
              .catch((err: unknown) => log().error('audit checkpoint failed', { tenant: tenant.id, error: err }));
          },
          Math.min(cfg.audit.checkpointIntervalSeconds * 1000, 60_000),
        ).unref(),
      );
    } catch (err) {
      const e = toSovraError(err);
      rt.error = e.reason;
      log().error('tenant could not be started', { tenant: tenant.id, code: e.code, error: err });
    }
  }

  const readiness: ReadinessCheck[] = [
    {
      name: 'store',
      check: async () => {
        await store.schemaVersion();
        return { ready: true };
      },
    },
    {
      name: 'keys',
      check: async () => {
        const s = await keys.status();
        return { ready: s.jurisdiction === J, detail: s.jurisdiction === J ? undefined : 'key store of another jurisdiction' };
      },
    },
    {
      name: 'org-connections',
      check: async () => {
        const down = [...runtimes.values()].filter((r) => !r.sf);
        if (runtimes.size === 0) return { ready: false, detail: `no tenant of this config is entitled to ${J}` };
        return down.length === 0
          ? { ready: true }
          : { ready: false, detail: down.map((r) => `${r.tenant.id}: ${r.error ?? 'not connected'}`).join('; ') };
      },
    },
    {
      name: 'model-endpoints',
      check: async () =>
        router.ready()
          ? { ready: true }
          : {
              ready: false,
              detail: `no ${J} endpoint is healthy (${router
                .health()
                .map((h) => `${h.endpointId}: ${h.state}`)
                .join(', ')})`,
            },
    },
  ];

  const gatewayTenants = entitled.filter((t) => t.gatewayKeys.length > 0);
  const gateway = createGatewayRouter({
    jurisdiction: J,
    tenants: cfg.tenants,
    router,
    sanitizer: sanitizePort(sanitizer),
    metrics,
    geofence: { config: cfg.http.geofence, jurisdictionCountries: section.countries },
    // Calls refused before a tenant is known (no or bad key, geo-fence) have no tenant chain:
    // they are counted in metrics and logged by the gateway, never attributed to a tenant.
    audit: auditLogPort((tenantId) => (tenantId ? runtimes.get(tenantId)?.audit : undefined)),
  });

  async function status(): Promise<SidecarStatus> {
    const tenants = await Promise.all(
      [...runtimes.values()].map(async (r) => ({
        id: r.tenant.id,
        connected: r.sf !== undefined,
        ...(r.error ? { error: r.error } : {}),
        ...(r.intake ? { intake: r.intake.metrics() } : {}),
        outbox: await r.store.outboxStats(),
        ...(r.sf ? { apiUsage: r.sf.metrics() } : {}),
      })),
    );
    return { jurisdiction: J, region, endpoints: router.health(), tenants };
  }

  let face: HttpFace;
  try {
    face = await startHttpFace({
      host: cfg.http.host,
      port: options.port ?? cfg.http.port,
      service: { name: cfg.deployment.name, jurisdiction: J, region, version: '0.1.0' },
      readiness,
      metrics: () => metrics.exposition(),
      mounts: [
        { path: '/v1', router: gateway },
        { path: '/status', router: statusRouter(() => status()) },
      ],
    });
  } catch (err) {
    await Promise.allSettled([...runtimes.values()].map(async (r) => (await r.intake?.stop(), await r.flusher?.stop())));
    await router.close();
    await keys.close();
    await store.close();
    throw new SovraError('unavailable', `The HTTP face could not listen on ${cfg.http.host}:${options.port ?? cfg.http.port}.`, {
      code: 'HTTP_LISTEN_FAILED',
      fix: 'Choose a free port (http.port, SOVRA_HTTP_PORT or --port; 0 picks one).',
      cause: err,
    });
  }
  log().info('sidecar started', { jurisdiction: J, region, tenants: runtimes.size, gatewayTenants: gatewayTenants.length });

  return {
    url: face.url,
    jurisdiction: J,
    metrics,
    tenants: runtimes,
    router,
    store,
    keys,
    status,
    async drain(timeoutMs = 30_000) {
      let left = 0;
      for (const r of runtimes.values()) if (r.flusher) left += await r.flusher.drain(timeoutMs);
      return left;
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      await Promise.allSettled([...runtimes.values()].map((r) => r.intake?.stop()));
      await Promise.allSettled([...runtimes.values()].map((r) => r.flusher?.stop()));
      await face.close();
      await router.close();
      await keys.close();
      await store.close();
    },
  };
}
