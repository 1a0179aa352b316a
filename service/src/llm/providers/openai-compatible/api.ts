/**
 * Where an OpenAI-compatible server lives and how its answers map onto Sovra's taxonomy.
 * Works with vLLM, Ollama (/v1), llama.cpp's llama-server, TGI (Messages API) and LM Studio:
 * all serve `POST {baseUrl}/chat/completions`, `POST {baseUrl}/embeddings`, `GET {baseUrl}/models`.
 * Error messages name the endpoint and the provider and never quote the upstream body (it can
 * echo the prompt).
 */
import type { IncomingMessage } from 'node:http';
import { timeoutError, upstreamError, validationError, type SovraError } from '../../../shared/errors.js';

export const PROVIDER = 'openai-compatible';

export function endpointUrl(baseUrl: string, path: 'chat/completions' | 'embeddings' | 'models'): URL {
  return new URL(`${baseUrl.replace(/\/+$/, '')}/${path}`);
}

export function requestHeaders(apiKey: string | undefined, stream: boolean): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
    'user-agent': 'sovra-sidecar',
  };
  if (apiKey) h.authorization = `Bearer ${apiKey}`;
  return h;
}

const MAX_BODY = 32 * 1024 * 1024;

export async function readBody(body: IncomingMessage, endpointId: string): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) {
      body.destroy();
      throw upstreamError(`Model endpoint '${endpointId}' (${PROVIDER}) sent an answer larger than ${MAX_BODY} bytes.`, {
        code: 'UPSTREAM_BODY_TOO_LARGE',
        details: { endpointId, provider: PROVIDER },
        retryable: false,
      });
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

export function parseJson(text: string, endpointId: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw upstreamError(`Model endpoint '${endpointId}' (${PROVIDER}) answered with something that is not JSON.`, {
      code: 'UPSTREAM_BAD_RESPONSE',
      fix: 'Check that baseUrl points at the OpenAI-compatible API (usually ending in /v1).',
      details: { endpointId, provider: PROVIDER },
    });
  }
}

/** Maps a non-2xx answer to the taxonomy: which failures may be retried or failed over. */
export function statusError(status: number, endpointId: string, upstreamCode?: string): SovraError {
  const details: Record<string, unknown> = { endpointId, provider: PROVIDER, status };
  if (upstreamCode) details.upstreamCode = upstreamCode;
  if (status === 400 || status === 413 || status === 422) {
    return validationError(`Model endpoint '${endpointId}' (${PROVIDER}) rejected the request as invalid (HTTP ${status}).`, {
      code: 'UPSTREAM_REJECTED_REQUEST',
      fix: 'Check the model name, max_tokens against the context size, and the tool definitions.',
      details,
      retryable: false,
    });
  }
  if (status === 401 || status === 403) {
    return upstreamError(`Model endpoint '${endpointId}' (${PROVIDER}) refused Sovra's credentials (HTTP ${status}).`, {
      code: 'UPSTREAM_AUTH',
      fix: "Check the endpoint's apiKey secret.",
      details,
      retryable: false,
    });
  }
  if (status === 404) {
    return upstreamError(`Model endpoint '${endpointId}' (${PROVIDER}) does not serve this path or model (HTTP 404).`, {
      code: 'UPSTREAM_NOT_FOUND',
      fix: 'Check baseUrl (it usually ends in /v1) and the model name.',
      details,
      retryable: false,
    });
  }
  if (status === 408 || status === 504) {
    return timeoutError(`Model endpoint '${endpointId}' (${PROVIDER}) timed out (HTTP ${status}).`, {
      code: 'UPSTREAM_TIMEOUT',
      details,
      retryable: true,
    });
  }
  return upstreamError(`Model endpoint '${endpointId}' (${PROVIDER}) failed (HTTP ${status}).`, {
    code: status === 429 ? 'UPSTREAM_RATE_LIMITED' : 'UPSTREAM_ERROR',
    fix: status === 429 ? 'The model server is overloaded; Sovra retries inside the jurisdiction.' : undefined,
    details,
    retryable: status === 429 || status >= 500,
  });
}

export function badResponse(endpointId: string, what: string): SovraError {
  return upstreamError(`Model endpoint '${endpointId}' (${PROVIDER}) sent a malformed answer (${what}).`, {
    code: 'UPSTREAM_BAD_RESPONSE',
    details: { endpointId, provider: PROVIDER },
    retryable: false,
  });
}
