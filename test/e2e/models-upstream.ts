/**
 * A loopback OpenAI-compatible model server for tests and the gateway benchmark: it records
 * every request body it received (so tests can prove what never reached a model), counts TCP
 * connections, and answers with scripted completions, SSE streams, errors, redirects or cuts.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  raw: string;
}

export interface WireToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type UpstreamReply =
  | { kind: 'json'; status?: number; body: unknown }
  | { kind: 'completion'; content?: string; toolCalls?: WireToolCall[]; model?: string; delayMs?: number }
  | { kind: 'stream'; pieces: string[]; toolCalls?: WireToolCall[]; delayMs?: number; cutAfter?: number; done?: boolean }
  | { kind: 'redirect'; status?: number; location: string }
  | { kind: 'hang' }
  | { kind: 'destroy' };

export interface LoopbackUpstream {
  url: string;
  /** baseUrl for config: `${url}/v1`. */
  baseUrl: string;
  port: number;
  requests: RecordedRequest[];
  connections: number;
  reply: (req: RecordedRequest) => UpstreamReply;
  close(): Promise<void>;
}

export function completionBody(content: string, toolCalls: WireToolCall[] = [], model = 'loopback-model'): unknown {
  return {
    id: 'chatcmpl-loopback',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: toolCalls.length > 0 && content === '' ? null : content,
          ...(toolCalls.length > 0
            ? { tool_calls: toolCalls.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } })) }
            : {}),
        },
        finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
      },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
}

function chunk(delta: unknown, finish: string | null): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-loopback', object: 'chat.completion.chunk', created: 0, model: 'loopback-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
}

/** Splits a string into pieces of n characters (to split tokens across chunks on purpose). */
export function pieces(s: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += n) out.push(s.slice(i, i + n));
  return out;
}

async function streamReply(res: ServerResponse, r: Extract<UpstreamReply, { kind: 'stream' }>): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const events: string[] = [chunk({ role: 'assistant', content: '' }, null)];
  for (const p of r.pieces) events.push(chunk({ content: p }, null));
  (r.toolCalls ?? []).forEach((t, index) => {
    events.push(chunk({ tool_calls: [{ index, id: t.id, type: 'function', function: { name: t.name, arguments: '' } }] }, null));
    for (const a of pieces(t.arguments, 7)) events.push(chunk({ tool_calls: [{ index, function: { arguments: a } }] }, null));
  });
  events.push(chunk({}, (r.toolCalls ?? []).length > 0 ? 'tool_calls' : 'stop'));
  if (r.done !== false) events.push('data: [DONE]\n\n');
  for (let i = 0; i < events.length; i++) {
    if (r.cutAfter !== undefined && i >= r.cutAfter) {
      res.socket?.destroy();
      return;
    }
    res.write(events[i]);
    if (r.delayMs) await new Promise((ok) => setTimeout(ok, r.delayMs));
  }
  res.end();
}

export async function startLoopbackUpstream(reply?: (req: RecordedRequest) => UpstreamReply): Promise<LoopbackUpstream> {
  const sockets = new Set<Socket>();
  const state: LoopbackUpstream = {
    url: '',
    baseUrl: '',
    port: 0,
    requests: [],
    connections: 0,
    reply: reply ?? (() => ({ kind: 'completion', content: 'ok' })),
    close: async () => undefined,
  };
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(parts).toString('utf8');
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        // not JSON: tests look at `raw`
      }
      const rec: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, raw };
      state.requests.push(rec);
      if (req.url?.endsWith('/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'loopback-model', object: 'model' }] }));
        return;
      }
      const r = state.reply(rec);
      switch (r.kind) {
        case 'json':
          res.writeHead(r.status ?? 200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(r.body));
          return;
        case 'completion':
          setTimeout(() => {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify(completionBody(r.content ?? '', r.toolCalls, r.model)));
          }, r.delayMs ?? 0);
          return;
        case 'stream':
          void streamReply(res, r);
          return;
        case 'redirect':
          res.writeHead(r.status ?? 302, { location: r.location });
          res.end();
          return;
        case 'hang':
          return;
        case 'destroy':
          req.socket.destroy();
          return;
      }
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (s: Socket) => {
    state.connections += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  state.port = port;
  state.url = `http://127.0.0.1:${port}`;
  state.baseUrl = `${state.url}/v1`;
  state.close = () =>
    new Promise<void>((ok) => {
      for (const s of sockets) s.destroy();
      server.close(() => ok());
    });
  return state;
}
