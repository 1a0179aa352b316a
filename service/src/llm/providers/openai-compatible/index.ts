/**
 * Provider `openai-compatible`: any server speaking OpenAI's chat-completions API. Every byte
 * goes through the jurisdiction's egress guard; nothing here resolves or connects on its own.
 */
import { randomUUID } from 'node:crypto';
import type { EndpointConfig } from '../../../config/schema.js';
import { SovraError, upstreamError, timeoutError } from '../../../shared/errors.js';
import { parseSse } from '../../sse.js';
import type {
  ChatChunk,
  ChatProvider,
  ChatRequest,
  ChatResult,
  ChatStream,
  EmbeddingRequest,
  EmbeddingResult,
  ProviderContext,
} from '../../types.js';
import { PROVIDER, endpointUrl, parseJson, readBody, requestHeaders, statusError } from './api.js';
import { chatCompletionBody, fromChunk, fromCompletion, type WireChunk, type WireCompletion } from './chatComplete.js';
import { embeddingsBody, fromEmbeddings } from './embed.js';

type OpenAiEndpoint = Extract<EndpointConfig, { provider: 'openai-compatible' }>;

export function createOpenAiCompatibleProvider(endpoint: OpenAiEndpoint, ctx: ProviderContext): ChatProvider {
  const { id: endpointId, model, timeoutMs } = endpoint;
  let apiKey: string | undefined;
  const key = (): string | undefined => {
    if (endpoint.apiKey && apiKey === undefined) {
      if (!ctx.secret) {
        throw new SovraError('validation', `Endpoint '${endpointId}' names an apiKey but no secret reader was given.`, {
          code: 'SECRET_READER_MISSING',
          fix: 'Build providers through the route stage, which passes config.readSecret.',
        });
      }
      apiKey = ctx.secret(endpoint.apiKey);
    }
    return apiKey;
  };

  async function post(path: 'chat/completions' | 'embeddings', body: unknown, stream: boolean, signal?: AbortSignal) {
    const res = await ctx.egress.request({
      endpointId,
      provider: PROVIDER,
      url: endpointUrl(endpoint.baseUrl, path),
      method: 'POST',
      headers: requestHeaders(key(), stream),
      body: JSON.stringify(body),
      pinnedAddresses: endpoint.pinnedAddresses,
      signal,
      timeoutMs,
    });
    if (res.status < 200 || res.status >= 300) {
      let upstreamCode: string | undefined;
      try {
        const parsed = JSON.parse(await readBody(res.body, endpointId)) as { error?: { code?: unknown; type?: unknown } };
        const c = parsed.error?.code ?? parsed.error?.type;
        if (typeof c === 'string' && /^[\w.-]{1,64}$/.test(c)) upstreamCode = c;
      } catch {
        // the body is not needed to classify the failure
      }
      throw statusError(res.status, endpointId, upstreamCode);
    }
    return res;
  }

  async function complete(req: ChatRequest): Promise<ChatResult> {
    const res = await post('chat/completions', chatCompletionBody(model, req, false), false, req.signal);
    const wire = parseJson(await readBody(res.body, endpointId), endpointId) as WireCompletion;
    const r = fromCompletion(wire, endpointId);
    const out: ChatResult = {
      id: r.id || `chatcmpl-${randomUUID()}`,
      endpointId,
      provider: PROVIDER,
      model: r.model ?? model,
      content: r.content,
      toolCalls: r.toolCalls,
      finishReason: r.finishReason,
    };
    if (r.usage) out.usage = r.usage;
    return out;
  }

  async function stream(req: ChatRequest): Promise<ChatStream> {
    const res = await post('chat/completions', chatCompletionBody(model, req, true), true, req.signal);
    const id = `chatcmpl-${randomUUID()}`;
    const contentType = String(res.headers['content-type'] ?? '');
    const body = res.body;

    async function* chunks(): AsyncGenerator<ChatChunk> {
      if (contentType.includes('application/json')) {
        // A server that ignored `stream: true`: one answer, replayed as chunks.
        const r = fromCompletion(parseJson(await readBody(body, endpointId), endpointId) as WireCompletion, endpointId);
        const c: ChatChunk = { finishReason: r.finishReason };
        if (r.content) c.contentDelta = r.content;
        if (r.toolCalls.length > 0)
          c.toolCallDeltas = r.toolCalls.map((t, index) => ({
            index,
            id: t.id,
            name: t.function.name,
            argumentsDelta: t.function.arguments,
          }));
        if (r.usage) c.usage = r.usage;
        yield c;
        return;
      }
      // Idle timeout: a stream that stops sending for timeoutMs is cut, not waited on forever.
      let idle: NodeJS.Timeout | undefined;
      let timedOut = false;
      const arm = (): void => {
        if (idle) clearTimeout(idle);
        idle = setTimeout(() => {
          timedOut = true;
          body.destroy(new Error('idle timeout'));
        }, timeoutMs);
      };
      let finished = false;
      let done = false;
      try {
        arm();
        for await (const ev of parseSse(body)) {
          arm();
          if (ev.data === '[DONE]') {
            done = true;
            break;
          }
          let wire: WireChunk;
          try {
            wire = JSON.parse(ev.data) as WireChunk;
          } catch {
            throw upstreamError(`Model endpoint '${endpointId}' (${PROVIDER}) streamed an event that is not JSON.`, {
              code: 'UPSTREAM_BAD_RESPONSE',
              details: { endpointId, provider: PROVIDER },
              retryable: false,
            });
          }
          if (wire.error !== undefined) {
            throw upstreamError(`Model endpoint '${endpointId}' (${PROVIDER}) reported an error in the middle of the stream.`, {
              code: 'UPSTREAM_STREAM_ERROR',
              details: { endpointId, provider: PROVIDER },
              retryable: false,
            });
          }
          const c = fromChunk(wire);
          if (!c) continue;
          if (c.finishReason) finished = true;
          yield c;
        }
      } catch (err) {
        if (err instanceof SovraError) throw err;
        if (timedOut) {
          throw timeoutError(`Model endpoint '${endpointId}' (${PROVIDER}) stopped streaming for ${timeoutMs} ms.`, {
            code: 'UPSTREAM_STREAM_IDLE',
            details: { endpointId, provider: PROVIDER, timeoutMs },
            retryable: false,
          });
        }
        if (req.signal?.aborted) {
          throw new SovraError('unavailable', `The stream from model endpoint '${endpointId}' was cancelled.`, {
            code: 'UPSTREAM_CANCELLED',
            details: { endpointId, provider: PROVIDER },
            retryable: false,
          });
        }
        throw cut(endpointId);
      } finally {
        if (idle) clearTimeout(idle);
        if (!body.destroyed && !done) body.destroy();
      }
      if (!done && !finished) throw cut(endpointId);
    }

    return { id, endpointId, provider: PROVIDER, model, [Symbol.asyncIterator]: () => chunks() };
  }

  function chat(request: ChatRequest & { stream: true }): Promise<ChatStream>;
  function chat(request: ChatRequest & { stream?: false }): Promise<ChatResult>;
  function chat(request: ChatRequest): Promise<ChatResult | ChatStream>;
  function chat(request: ChatRequest): Promise<ChatResult | ChatStream> {
    return request.stream ? stream(request) : complete(request);
  }

  return {
    endpointId,
    kind: PROVIDER,
    model,
    chat,
    async embed(req: EmbeddingRequest): Promise<EmbeddingResult> {
      const res = await post('embeddings', embeddingsBody(model, req.input), false, req.signal);
      const r = fromEmbeddings(parseJson(await readBody(res.body, endpointId), endpointId) as never, req.input.length, endpointId);
      return { endpointId, provider: PROVIDER, model, ...r };
    },
    async probe(signal?: AbortSignal): Promise<void> {
      const res = await ctx.egress.request({
        endpointId,
        provider: PROVIDER,
        url: endpointUrl(endpoint.baseUrl, 'models'),
        method: 'GET',
        headers: requestHeaders(key(), false),
        pinnedAddresses: endpoint.pinnedAddresses,
        signal,
        timeoutMs: Math.min(timeoutMs, 5_000),
      });
      res.body.resume();
      if (res.status < 200 || res.status >= 300) throw statusError(res.status, endpointId);
    },
    async close(): Promise<void> {
      // Connections belong to the jurisdiction's egress guard, closed by the router.
    },
  };
}

function cut(endpointId: string): SovraError {
  return upstreamError(`The stream from model endpoint '${endpointId}' (${PROVIDER}) was cut off before it finished.`, {
    code: 'UPSTREAM_STREAM_CUT',
    fix: 'Check the model server log; the answer was incomplete and is not used.',
    details: { endpointId, provider: PROVIDER },
    retryable: false,
  });
}
