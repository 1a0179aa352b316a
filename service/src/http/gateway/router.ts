/**
 * The sovereign gateway: `POST /v1/chat/completions` (OpenAI-compatible) for Apex callouts and
 * internal apps. What it guarantees, per call:
 *  - the caller's tenant comes from its API key and the jurisdiction is this deployment's; a
 *    tenant not entitled to it is refused; no header can choose either;
 *  - every text is sanitized before any model sees it (system, user, assistant history, tool
 *    results, tool-call JSON arguments, tool descriptions, stop sequences);
 *  - the model is one of this jurisdiction's endpoints (the router holds no other);
 *  - the answer is detokenized, tool-call arguments included, also while streaming: chunks are
 *    forwarded as they come and only a possibly split token is held back;
 *  - the call is audited with the outcome that actually happened (a cut stream is `cut`);
 *  - answers carry `Cache-Control: no-store`; errors go through `toHttpError`.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { ChatRequest, ToolCall, Usage } from '../../llm/index.js';
import type { ModelRouter, RoutedStream } from '../../route/index.js';
import { type SovraError, toHttpError, toSovraError, validationError } from '../../shared/errors.js';
import type { GeoLookup } from '../../shared/geo.js';
import { log } from '../../shared/log.js';
import { createGeofence, type ClientInfo, type GeofenceConfig } from '../geofence.js';
import type { SovraMetrics } from '../metrics.js';
import { assertEntitled, createKeyResolver, type GatewayCaller, type GatewayTenant } from './auth.js';
import type { Detokenizer, GatewayAudit, GatewayAuditEvent, GatewayOutcome, GatewaySanitizer, SanitizedConversation } from './ports.js';
import { chunkObject, completionObject, parseChatRequest, sseData, sseError, wireUsage } from './wire.js';

/** What the gateway needs of the jurisdiction's router. */
export type GatewayModelRouter = Pick<ModelRouter, 'jurisdiction' | 'chat' | 'health'>;

export interface GatewayDeps {
  /** The deployment's jurisdiction: every gateway call is served inside it. */
  jurisdiction: string;
  tenants: readonly GatewayTenant[];
  /** The router of `jurisdiction` (construction fails for any other). */
  router: GatewayModelRouter;
  sanitizer: GatewaySanitizer;
  audit: GatewayAudit;
  metrics?: SovraMetrics;
  /** Geo-fencing of gateway calls; omit to leave fencing to the app. */
  geofence?: { config: GeofenceConfig; jurisdictionCountries: readonly string[]; geo?: GeoLookup };
  /** Largest accepted request body. Default 2 MB. */
  maxBodyBytes?: number;
}

const SURFACE = 'gateway';

function outcomeOf(err: SovraError, aborted: boolean): GatewayOutcome {
  if (aborted) return 'client_aborted';
  switch (err.kind) {
    case 'egress_refused':
      return 'egress_refused';
    case 'validation':
      return 'invalid';
    case 'unauthorized':
    case 'forbidden':
    case 'policy_denied':
      return 'refused';
    case 'upstream':
    case 'timeout':
    case 'unavailable':
      return 'upstream_error';
    default:
      return 'error';
  }
}

function writeAsync(res: Response, data: string): Promise<void> {
  if (res.write(data)) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

export function createGatewayRouter(deps: GatewayDeps): Router {
  if (deps.router.jurisdiction !== deps.jurisdiction) {
    throw validationError(`The gateway of jurisdiction ${deps.jurisdiction} was given the router of ${deps.router.jurisdiction}.`, {
      code: 'GATEWAY_ROUTER_MISMATCH',
      fix: 'Build the gateway with the router of the deployment jurisdiction.',
    });
  }
  const { jurisdiction, metrics, sanitizer } = deps;
  const resolveKey = createKeyResolver(deps.tenants, jurisdiction);
  const router = express.Router();

  const audit = async (event: GatewayAuditEvent): Promise<void> => {
    await deps.audit(event);
  };
  const auditQuietly = (event: GatewayAuditEvent): void => {
    audit(event).catch(() => log().error('gateway audit failed', { requestId: event.requestId, outcome: event.outcome }));
  };
  const count = (outcome: GatewayOutcome, started: number): void => {
    metrics?.requests.inc({ surface: SURFACE, jurisdiction, outcome });
    metrics?.requestSeconds.observe({ surface: SURFACE, jurisdiction, outcome }, (performance.now() - started) / 1000);
  };

  if (deps.geofence) {
    router.use(
      createGeofence({
        jurisdiction,
        jurisdictionCountries: deps.geofence.jurisdictionCountries,
        config: deps.geofence.config,
        geo: deps.geofence.geo,
        metrics,
        audit: (e) =>
          audit({
            kind: 'gateway_call',
            requestId: randomUUID(),
            at: e.at,
            jurisdiction,
            clientAddress: e.clientAddress,
            ...(e.country ? { clientCountry: e.country } : {}),
            stream: false,
            outcome: 'refused',
            errorCode: `GEOFENCE_${e.reason.toUpperCase()}`,
            reason: e.reason,
            latencyMs: 0,
          }),
      }),
    );
  }

  router.use((_req: Request, res: Response, next: NextFunction) => {
    res.set('cache-control', 'no-store');
    next();
  });

  const base = (req: Request, res: Response, requestId: string, started: number, stream: boolean): GatewayAuditEvent => {
    const client = res.locals.sovraClient as ClientInfo | undefined;
    const ev: GatewayAuditEvent = {
      kind: 'gateway_call',
      requestId,
      at: new Date().toISOString(),
      jurisdiction,
      clientAddress: client?.address ?? req.socket.remoteAddress,
      stream,
      outcome: 'error',
      latencyMs: Math.round((performance.now() - started) * 10) / 10,
    };
    if (client?.country) ev.clientCountry = client.country;
    return ev;
  };

  const fail = (res: Response, err: SovraError): void => {
    const { status, body } = toHttpError(err);
    if (err.kind === 'unauthorized') res.set('www-authenticate', 'Bearer');
    res.status(status).json(body);
  };

  router.get('/models', (req: Request, res: Response) => {
    try {
      assertEntitled(resolveKey(req.headers.authorization), deps.tenants, jurisdiction);
    } catch (caught) {
      fail(res, toSovraError(caught));
      return;
    }
    const models = [...new Set(deps.router.health().map((h) => h.model))];
    res.json({ object: 'list', data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: `sovra-${jurisdiction}` })) });
  });

  router.post(
    '/chat/completions',
    express.json({ limit: deps.maxBodyBytes ?? 2 * 1024 * 1024, type: () => true }),
    async (req: Request, res: Response) => {
      const started = performance.now();
      const requestId = `chatcmpl-${randomUUID()}`;
      res.set('x-request-id', requestId);
      const ctl = new AbortController();
      res.on('close', () => {
        if (!res.writableEnded) ctl.abort(new Error('client closed the connection'));
      });
      const wantsStream = typeof req.body === 'object' && req.body !== null && (req.body as { stream?: unknown }).stream === true;
      let caller: GatewayCaller | undefined;
      let sanitized: SanitizedConversation | undefined;
      const answer = { content: '', toolCalls: [] as ToolCall[] };
      // What the caller received (restored): only for the audit's keyed hashes.
      const restored = { content: '', toolArgs: new Map<number, string>() };
      let rawPrompt: string | undefined;
      const ending = (outcome: GatewayOutcome, extra: Partial<GatewayAuditEvent> = {}): GatewayAuditEvent => {
        const ev: GatewayAuditEvent = { ...base(req, res, requestId, started, wantsStream), outcome, ...extra };
        if (caller) {
          ev.tenantId = caller.tenantId;
          ev.keyId = caller.keyId;
        }
        if (sanitized) {
          ev.sanitized = { messages: sanitized.messages, tokenized: sanitized.tokenized, dropped: sanitized.dropped };
          if (answer.content || answer.toolCalls.length > 0) ev.sanitized.answer = { content: answer.content, toolCalls: answer.toolCalls };
        }
        if (rawPrompt !== undefined) {
          ev.raw = { prompt: rawPrompt };
          if (restored.content || restored.toolArgs.size > 0) {
            ev.raw.answer = JSON.stringify({ content: restored.content, toolArguments: [...restored.toolArgs.values()] });
          }
        }
        return ev;
      };

      let stream: RoutedStream | undefined;
      try {
        caller = resolveKey(req.headers.authorization);
        assertEntitled(caller, deps.tenants, jurisdiction);
        const { request, includeUsage } = parseChatRequest(req.body);
        rawPrompt = JSON.stringify(request.messages);
        sanitized = await sanitizer.sanitizeMessages({
          requestId,
          tenantId: caller.tenantId,
          jurisdiction,
          messages: request.messages,
          ...(request.tools ? { tools: request.tools } : {}),
          ...(request.stop ? { stop: request.stop } : {}),
        });
        metrics?.sanitizedValues.inc({ surface: SURFACE, action: 'tokenized' }, sanitized.tokenized);
        metrics?.sanitizedValues.inc({ surface: SURFACE, action: 'dropped' }, sanitized.dropped);
        const upstreamRequest: ChatRequest = { ...request, messages: sanitized.messages, signal: ctl.signal };
        if (sanitized.tools) upstreamRequest.tools = sanitized.tools;
        if (sanitized.stop) upstreamRequest.stop = sanitized.stop;

        if (!request.stream) {
          const r = await deps.router.chat({ ...upstreamRequest, stream: false });
          answer.content = r.content;
          answer.toolCalls = r.toolCalls;
          const whole = (text: string, escape: 'none' | 'json'): string => {
            const d = sanitizer.createDetokenizer(sanitized!.handle, { escape });
            return d.push(text) + d.flush();
          };
          restored.content = whole(r.content, 'none');
          r.toolCalls.forEach((t, i) => restored.toolArgs.set(i, whole(t.function.arguments, 'json')));
          const body = completionObject({
            id: requestId,
            created: Math.floor(Date.now() / 1000),
            model: r.model,
            content: restored.content,
            toolCalls: r.toolCalls.map((t, i) => ({
              ...t,
              function: { name: t.function.name, arguments: restored.toolArgs.get(i) ?? '' },
            })),
            finishReason: r.finishReason,
            ...(r.usage ? { usage: r.usage } : {}),
          });
          // No answer leaves without its audit entry.
          await audit(
            ending('success', {
              endpointId: r.endpointId,
              provider: r.provider,
              model: r.model,
              attempts: r.routing.attempts,
              finishReason: r.finishReason,
              ...(r.usage ? { usage: r.usage } : {}),
            }),
          );
          count('success', started);
          res.json(body);
          return;
        }

        stream = await deps.router.chat({ ...upstreamRequest, stream: true });
        await relayStream(
          res,
          stream,
          sanitizer,
          sanitized,
          includeUsage,
          requestId,
          started,
          answer,
          restored,
          (outcome, extra) => audit(ending(outcome, extra)),
          count,
        );
      } catch (caught) {
        const err = toSovraError(caught);
        // Once the stream has begun, any failure means the caller got a cut-off answer.
        const outcome = res.headersSent && !ctl.signal.aborted ? 'cut' : outcomeOf(err, ctl.signal.aborted);
        const extra: Partial<GatewayAuditEvent> = { errorCode: err.code, reason: err.message };
        if (stream) Object.assign(extra, { endpointId: stream.endpointId, provider: stream.provider, model: stream.model });
        auditQuietly(ending(outcome, extra));
        count(outcome, started);
        if (outcome !== 'refused' && outcome !== 'invalid') log().warn('gateway call failed', { requestId, code: err.code, outcome });
        if (res.headersSent) {
          if (!res.writableEnded && !ctl.signal.aborted) res.end(sseError(err));
          return;
        }
        if (!ctl.signal.aborted) fail(res, err);
      }
    },
  );

  // Body parser failures (malformed JSON, too large) still get the one error format, and an audit entry.
  router.use((caught: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(caught);
      return;
    }
    const status = (caught as { status?: number }).status;
    const err =
      status === 413
        ? validationError('The request body is too large.', {
            code: 'GATEWAY_BODY_TOO_LARGE',
            fix: 'Send a smaller prompt.',
            retryable: false,
          })
        : status !== undefined && status >= 400 && status < 500
          ? validationError('The request body is not valid JSON.', {
              code: 'GATEWAY_BODY_INVALID',
              fix: 'Send a JSON chat.completions request.',
              retryable: false,
            })
          : toSovraError(caught);
    const started = performance.now();
    auditQuietly({
      ...base(req, res, `chatcmpl-${randomUUID()}`, started, false),
      outcome: outcomeOf(err, false),
      errorCode: err.code,
      reason: err.message,
    });
    count(outcomeOf(err, false), started);
    fail(res, err);
  });

  return router;
}

/**
 * Forwards a routed stream as OpenAI `chat.completion.chunk` events, detokenizing content and
 * each tool call's arguments with their own stream detokenizers. Only a finished stream whose
 * audit entry was written ends with `[DONE]`.
 */
async function relayStream(
  res: Response,
  stream: RoutedStream,
  sanitizer: GatewaySanitizer,
  sanitized: SanitizedConversation,
  includeUsage: boolean,
  requestId: string,
  started: number,
  answer: { content: string; toolCalls: ToolCall[] },
  restored: { content: string; toolArgs: Map<number, string> },
  finish: (outcome: GatewayOutcome, extra: Partial<GatewayAuditEvent>) => Promise<void>,
  count: (outcome: GatewayOutcome, started: number) => void,
): Promise<void> {
  const created = Math.floor(Date.now() / 1000);
  const model = stream.model;
  const content = sanitizer.createDetokenizer(sanitized.handle, { escape: 'none' });
  const tools = new Map<number, { detok: Detokenizer; call: ToolCall }>();
  let usage: Usage | undefined;
  let finishReason: string | undefined;
  let roleSent = false;

  res.status(200);
  res.set({
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();

  const send = (delta: Record<string, unknown>, fr: string | null = null): Promise<void> => {
    if (typeof delta.content === 'string') restored.content += delta.content;
    for (const t of (delta.tool_calls as { index: number; function: { arguments: string } }[] | undefined) ?? []) {
      restored.toolArgs.set(t.index, (restored.toolArgs.get(t.index) ?? '') + t.function.arguments);
    }
    if (!roleSent) {
      delta = { role: 'assistant', ...delta };
      roleSent = true;
    }
    return writeAsync(res, sseData(chunkObject(requestId, created, model, delta, fr)));
  };

  for await (const c of stream) {
    if (c.contentDelta) {
      answer.content += c.contentDelta;
      const out = content.push(c.contentDelta);
      if (out) await send({ content: out });
    }
    for (const d of c.toolCallDeltas ?? []) {
      let t = tools.get(d.index);
      const first = t === undefined;
      if (!t) {
        t = {
          detok: sanitizer.createDetokenizer(sanitized.handle, { escape: 'json' }),
          call: { id: d.id ?? `call_${d.index}`, type: 'function', function: { name: d.name ?? '', arguments: '' } },
        };
        tools.set(d.index, t);
        answer.toolCalls.push(t.call);
      }
      if (d.id) t.call.id = d.id;
      if (d.name && !first) t.call.function.name = d.name;
      const args = d.argumentsDelta ? t.detok.push(d.argumentsDelta) : '';
      if (d.argumentsDelta) t.call.function.arguments += d.argumentsDelta;
      if (first || args) {
        const wire: Record<string, unknown> = { index: d.index, function: { arguments: args } };
        if (first) {
          wire.id = t.call.id;
          wire.type = 'function';
          (wire.function as Record<string, unknown>).name = t.call.function.name;
        }
        await send({ tool_calls: [wire] });
      }
    }
    if (c.usage) usage = c.usage;
    if (c.finishReason) finishReason = c.finishReason;
  }
  // The stream finished: release whatever was held back, then the finish reason.
  const rest = content.flush();
  if (rest) await send({ content: rest });
  for (const [index, t] of tools) {
    const args = t.detok.flush();
    if (args) await send({ tool_calls: [{ index, function: { arguments: args } }] });
  }
  await send({}, finishReason ?? 'stop');
  if (includeUsage && usage)
    await writeAsync(
      res,
      sseData({ id: requestId, object: 'chat.completion.chunk', created, model, choices: [], usage: wireUsage(usage) }),
    );
  await finish('success', {
    endpointId: stream.endpointId,
    provider: stream.provider,
    model,
    attempts: stream.routing.attempts,
    finishReason: finishReason ?? 'stop',
    ...(usage ? { usage } : {}),
  });
  count('success', started);
  res.end('data: [DONE]\n\n');
}
