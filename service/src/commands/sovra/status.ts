/**
 * `sovra status`: the running sidecar's own view (`GET /status`, answered only to callers on
 * its host or private network): each tenant's subscription and last durable replayId, the
 * outbox depth, the model endpoints' health and the org API usage. The answer is validated
 * before it is shown; nothing is inferred when the sidecar cannot be reached.
 */
import { Messages } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { z } from 'zod';
import { channelName } from '../../shared/schema.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('sovra', 'status');

const count = z.number().int().nonnegative();
const counts = z.record(z.string(), z.number());

const endpointSchema = z.looseObject({
  endpointId: z.string(),
  provider: z.string(),
  model: z.string(),
  region: z.string(),
  priority: z.number(),
  state: z.string(),
  consecutiveFailures: count,
  latencyMs: z.number().optional(),
  lastErrorCode: z.string().optional(),
  lastSuccessAt: z.string().optional(),
  lastFailureAt: z.string().optional(),
});

const tenantSchema = z.looseObject({
  id: z.string(),
  connected: z.boolean(),
  error: z.string().optional(),
  intake: z
    .looseObject({
      subscription: z.string(),
      checkpoint: z.number().nullable(),
      queued: count,
      inFlight: count,
      claimed: counts,
      skipped: counts,
      sweeps: count,
      replayGaps: count,
      processFailures: count,
      streaming: counts,
    })
    .optional(),
  outbox: z
    .looseObject({
      pending: count,
      leased: count,
      due: count,
      dead: count,
      sent: count,
      oldestPendingAt: z.number().nullable(),
      bySObject: counts,
    })
    .optional(),
  apiUsage: z
    .looseObject({
      tenant: z.string(),
      apiCalls: count,
      reserveRefusals: count,
      sessionRenewals: count,
      usage: z.object({ used: z.number(), limit: z.number(), at: z.number() }).nullable(),
      backpressure: z.string(),
    })
    .optional(),
});

const statusSchema = z.looseObject({
  jurisdiction: z.string(),
  region: z.string(),
  endpoints: z.array(endpointSchema),
  tenants: z.array(tenantSchema),
});

type Endpoint = {
  endpointId: string;
  provider: string;
  model: string;
  region: string;
  priority: number;
  state: string;
  consecutiveFailures: number;
  latencyMs?: number;
  lastErrorCode?: string;
  lastSuccessAt?: string;
  lastFailureAt?: string;
};

type TenantStatus = {
  id: string;
  connected: boolean;
  error?: string;
  intake?: {
    subscription: string;
    /** Last durable replayId of the jurisdiction channel. */
    checkpoint: number | null;
    queued: number;
    inFlight: number;
    claimed: Record<string, number>;
    skipped: Record<string, number>;
    sweeps: number;
    replayGaps: number;
    processFailures: number;
    streaming: Record<string, number>;
  };
  outbox?: {
    pending: number;
    leased: number;
    due: number;
    dead: number;
    sent: number;
    oldestPendingAt: number | null;
    bySObject: Record<string, number>;
  };
  apiUsage?: {
    tenant: string;
    apiCalls: number;
    reserveRefusals: number;
    sessionRenewals: number;
    usage: { used: number; limit: number; at: number } | null;
    backpressure: string;
  };
};

export type StatusResult = {
  url: string;
  jurisdiction: string;
  region: string;
  /** The channel each tenant's intake subscribes to (without the org's namespace prefix). */
  channel: string;
  endpoints: Endpoint[];
  tenants: TenantStatus[];
  /** True when every tenant is connected and subscribed, no outbox row is dead, and an endpoint is usable. */
  healthy: boolean;
};

function normaliseUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw messages.createError('error.badUrl', [raw]);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw messages.createError('error.badUrl', [raw]);
  return new URL('/status', u);
}

export default class Status extends SfCommand<StatusResult> {
  public static override readonly summary = messages.getMessage('summary');
  public static override readonly description = messages.getMessage('description');
  public static override readonly examples = messages.getMessages('examples');

  public static override readonly flags = {
    url: Flags.string({ char: 'u', summary: messages.getMessage('flags.url.summary'), default: 'http://127.0.0.1:8080' }),
    timeout: Flags.integer({ summary: messages.getMessage('flags.timeout.summary'), default: 5, min: 1, max: 120 }),
  };

  public async run(): Promise<StatusResult> {
    const { flags } = await this.parse(Status);
    const url = normaliseUrl(flags.url);
    let res: Response;
    try {
      res = await fetch(url, {
        signal: AbortSignal.timeout(flags.timeout * 1000),
        redirect: 'error',
        headers: { accept: 'application/json' },
      });
    } catch (err) {
      const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw messages.createError('error.unreachable', [url.origin, cause]);
    }
    const text = await res.text();
    if (res.status === 403) throw messages.createError('error.forbidden', [url.origin]);
    if (!res.ok) throw messages.createError('error.httpStatus', [url.href, res.status, text.slice(0, 200)]);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw messages.createError('error.notStatus', [url.href, 'the answer is not JSON']);
    }
    const parsed = statusSchema.safeParse(body);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw messages.createError('error.notStatus', [url.href, `${first?.path.join('.') || '(root)'}: ${first?.message ?? 'invalid'}`]);
    }
    const s = parsed.data as unknown as Omit<StatusResult, 'url' | 'channel' | 'healthy'>;
    const healthy =
      s.tenants.every((t) => t.connected && (t.intake?.subscription ?? 'subscribed') === 'subscribed' && (t.outbox?.dead ?? 0) === 0) &&
      s.endpoints.some((e) => e.state !== 'open');
    const result: StatusResult = {
      url: url.origin,
      jurisdiction: s.jurisdiction,
      region: s.region,
      channel: channelName(s.jurisdiction),
      endpoints: s.endpoints,
      tenants: s.tenants,
      healthy,
    };
    this.print(result);
    return result;
  }

  private print(r: StatusResult): void {
    this.log(messages.getMessage('info.header', [r.url, r.jurisdiction, r.region, r.healthy ? 'healthy' : 'NEEDS ATTENTION']));
    this.log('');
    this.log(messages.getMessage('info.tenants'));
    this.table({
      data: r.tenants.map((t) => ({
        tenant: t.id,
        connected: t.connected ? 'yes' : `no${t.error ? ` (${t.error})` : ''}`,
        subscription: t.intake ? `${r.channel} ${t.intake.subscription}` : '-',
        replayId: t.intake?.checkpoint ?? '-',
        queued: t.intake ? `${t.intake.queued} queued, ${t.intake.inFlight} in flight` : '-',
        outbox: t.outbox ? `${t.outbox.pending} pending, ${t.outbox.dead} dead` : '-',
        apiUsage: t.apiUsage?.usage ? `${t.apiUsage.usage.used}/${t.apiUsage.usage.limit} (${t.apiUsage.backpressure})` : '-',
        apiCalls: t.apiUsage?.apiCalls ?? '-',
      })),
    });
    this.log(messages.getMessage('info.endpoints'));
    this.table({
      data: r.endpoints.map((e) => ({
        endpoint: e.endpointId,
        model: e.model,
        region: e.region,
        priority: e.priority,
        state: e.state,
        failures: e.consecutiveFailures,
        latencyMs: e.latencyMs !== undefined ? Math.round(e.latencyMs) : '-',
        lastError: e.lastErrorCode ?? '',
      })),
    });
  }
}
