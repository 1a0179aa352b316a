/**
 * A whole sidecar for one tenant and jurisdiction, assembled from the real stages, against the
 * org emulator (real JWT login, real SOQL over HTTP), a SQLite store, a local keyring and
 * loopback OpenAI-compatible model servers — one per jurisdiction, so tests can count what
 * reached which. Used by the pipeline end-to-end suites.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../service/src/audit/index.js';
import { EU_MEMBER_STATES } from '../../service/src/config/countries.js';
import { createKeyService, type ManagedKeyService } from '../../service/src/keys/index.js';
import { createOrgContext, createPipeline, type Pipeline, type RequestOutcome } from '../../service/src/pipeline/index.js';
import { createPolicyEngine } from '../../service/src/policy/index.js';
import { createRouter, type ModelRouter } from '../../service/src/route/index.js';
import { SalesforceConnection } from '../../service/src/salesforce/index.js';
import { createSanitizer } from '../../service/src/sanitize/index.js';
import { SqliteStore, type Lease, type Store, type TenantStore } from '../../service/src/store/index.js';
import type { IntakeWork } from '../../service/src/intake/index.js';
import { startTestOrg, type TestOrg } from '../reliability/harness.js';
import { startLoopbackUpstream, type LoopbackUpstream, type UpstreamReply, type RecordedRequest } from './models-upstream.js';

export interface SidecarUnderTest {
  org: TestOrg;
  sf: SalesforceConnection;
  store: Store;
  tenantStore: TenantStore;
  keys: ManagedKeyService;
  audit: AuditLog;
  router: ModelRouter;
  pipeline: Pipeline;
  upstreams: { EU: LoopbackUpstream; US: LoopbackUpstream };
  outcomes: RequestOutcome[];
  /** Claims the given AiRequest__c ids in the store and runs them through the pipeline as one batch. */
  run(ids: string[]): Promise<RequestOutcome[]>;
  close(): Promise<void>;
}

export async function startSidecar(
  options: { reply?: (req: RecordedRequest) => UpstreamReply; jurisdiction?: 'EU' | 'US' } = {},
): Promise<SidecarUnderTest> {
  const J = options.jurisdiction ?? 'EU';
  const region = J === 'EU' ? 'eu-central-1' : 'us-east-1';
  const dir = mkdtempSync(join(tmpdir(), 'sovra-pipeline-'));
  const org = await startTestOrg({ jurisdictions: [J] });
  const sf = await SalesforceConnection.connect({ tenant: org.tenant, baseDir: process.cwd(), env: org.env });
  const store = new SqliteStore({ path: join(dir, 'sovra.db') });
  const tenantStore = store.forTenant(org.tenant.id);
  const keys = await createKeyService(J, { provider: 'local', region, path: join(dir, `${J.toLowerCase()}.keyring`) }, { baseDir: dir });
  const audit = new AuditLog({
    store,
    keys,
    tenant: org.tenant.id,
    jurisdiction: J,
    region,
    namespace: org.tenant.namespace,
    checkpointEvery: 50,
  });
  const answer = (req: RecordedRequest): UpstreamReply => {
    const body = req.body as { messages?: { content?: string }[] };
    const user = body.messages?.[1]?.content ?? '';
    const tokens = user.match(/⟦[A-Z_]+_\d+⟧/g) ?? [];
    return {
      kind: 'completion',
      content: `Summary: ${tokens.slice(0, 2).join(' and ') || 'no contacts'} should be called back this week.`,
    };
  };
  // One model server per jurisdiction; only this deployment's is configured, the other one
  // exists so tests can prove it receives nothing.
  const EU = await startLoopbackUpstream(J === 'EU' ? (options.reply ?? answer) : answer);
  const US = await startLoopbackUpstream(J === 'US' ? (options.reply ?? answer) : answer);
  const own = J === 'EU' ? EU : US;
  const refusals: unknown[] = [];
  const holder: { pipeline?: Pipeline } = {};
  const router = createRouter({
    jurisdiction: J,
    config: {
      endpoints: [
        {
          id: `${J.toLowerCase()}-loopback`,
          provider: 'openai-compatible',
          region,
          model: 'loopback-model',
          baseUrl: own.baseUrl,
          priority: 10,
          timeoutMs: 5_000,
          maxRetries: 1,
        },
      ],
      egress: { networks: ['127.0.0.0/8'], hosts: ['127.0.0.1'] },
    },
    onEgressRefusal: (e) => {
      refusals.push(e);
      holder.pipeline?.onEgressRefusal(e);
    },
    backoff: { baseMs: 5, maxMs: 20 },
  });
  const outcomes: RequestOutcome[] = [];
  const orgContext = createOrgContext(sf, {
    deploymentJurisdiction: J,
    configJurisdictions: [
      { id: 'EU', countries: EU_MEMBER_STATES },
      { id: 'US', countries: ['US'] },
    ],
    unclassifiedHandling: 'drop',
  });
  await orgContext.resolver();
  const pipeline = createPipeline({
    tenant: org.tenant,
    deployment: { jurisdiction: J, region },
    sf,
    store: tenantStore,
    keys,
    audit,
    router,
    sanitizer: createSanitizer({ countries: ['DE', 'FR', 'NL', 'IE', 'GB', 'US'] }),
    classifier: orgContext.classifier,
    policy: createPolicyEngine(),
    resolver: orgContext.resolver,
    fieldType: orgContext.fieldType,
    onOutcome: (o) => outcomes.push(o),
  });
  holder.pipeline = pipeline;
  const p = pipeline;
  return {
    org,
    sf,
    store,
    tenantStore,
    keys,
    audit,
    router,
    pipeline: p,
    upstreams: { EU, US },
    outcomes,
    async run(ids) {
      const before = outcomes.length;
      const batch: IntakeWork[] = [];
      for (const id of ids) {
        const c = await tenantStore.claim(id, { jurisdiction: J, owner: 'test', leaseMs: 60_000, source: 'event' });
        if (c.status !== 'claimed') throw new Error(`request ${id} was not claimable (${c.status})`);
        batch.push({ requestId: id, externalId: null, source: 'event', lease: c.lease as Lease, request: c.request, replayId: null });
      }
      await p.process(batch);
      return outcomes.slice(before);
    },
    async close() {
      await router.close();
      await EU.close();
      await US.close();
      await keys.close();
      await store.close();
      await org.close();
    },
  };
}
