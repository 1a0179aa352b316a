/**
 * The OpenAI chat-completions wire format: Sovra's request → the JSON body, the JSON answer and
 * each streamed `chat.completion.chunk` → Sovra's result and chunks.
 * Reference: https://platform.openai.com/docs/api-reference/chat (create, streaming chunk object).
 */
import type { ChatChunk, ChatMessage, ChatRequest, FinishReason, ToolCall, ToolCallDelta, Usage } from '../../types.js';
import { badResponse } from './api.js';

interface WireToolCall {
  id?: string;
  type?: string;
  index?: number;
  function?: { name?: string; arguments?: string };
}
interface WireMessage {
  role?: string;
  content?: string | null;
  tool_calls?: WireToolCall[];
}
interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}
export interface WireCompletion {
  id?: string;
  model?: string;
  choices?: { index?: number; message?: WireMessage; finish_reason?: string | null }[];
  usage?: WireUsage;
}
export interface WireChunk {
  id?: string;
  model?: string;
  choices?: { index?: number; delta?: WireMessage; finish_reason?: string | null }[];
  usage?: WireUsage | null;
  error?: unknown;
}

function toWireMessage(m: ChatMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { role: m.role, content: m.content };
  if (m.name !== undefined) out.name = m.name;
  if (m.toolCalls && m.toolCalls.length > 0) {
    out.tool_calls = m.toolCalls.map((t) => ({
      id: t.id,
      type: 'function',
      function: { name: t.function.name, arguments: t.function.arguments },
    }));
  }
  if (m.toolCallId !== undefined) out.tool_call_id = m.toolCallId;
  return out;
}

export function chatCompletionBody(model: string, req: ChatRequest, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { model, messages: req.messages.map(toWireMessage), stream };
  if (req.maxTokens !== undefined) body.max_tokens = req.maxTokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.stop && req.stop.length > 0) body.stop = req.stop;
  if (req.tools && req.tools.length > 0) {
    body.tools = req.tools.map((t) => ({
      type: 'function',
      function: {
        name: t.name,
        ...(t.description !== undefined ? { description: t.description } : {}),
        parameters: t.parameters ?? { type: 'object', properties: {} },
      },
    }));
    if (req.toolChoice !== undefined) {
      body.tool_choice =
        typeof req.toolChoice === 'string' ? req.toolChoice : { type: 'function', function: { name: req.toolChoice.name } };
    }
  }
  return body;
}

export function toFinishReason(r: string | null | undefined): FinishReason | undefined {
  switch (r) {
    case 'stop':
    case 'eos':
    case 'eos_token':
    case 'stop_sequence':
      return 'stop';
    case 'length':
    case 'max_tokens':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    case null:
    case undefined:
      return undefined;
    default:
      return 'stop';
  }
}

export function toUsage(u: WireUsage | null | undefined): Usage | undefined {
  if (!u || typeof u.prompt_tokens !== 'number') return undefined;
  const completion = typeof u.completion_tokens === 'number' ? u.completion_tokens : 0;
  return { promptTokens: u.prompt_tokens, completionTokens: completion, totalTokens: u.total_tokens ?? u.prompt_tokens + completion };
}

export function fromCompletion(
  wire: WireCompletion,
  endpointId: string,
): { id: string; model?: string; content: string; toolCalls: ToolCall[]; finishReason: FinishReason; usage?: Usage } {
  const choice = wire.choices?.[0];
  if (!choice || !choice.message) throw badResponse(endpointId, 'no choices[0].message');
  const msg = choice.message;
  const toolCalls: ToolCall[] = (msg.tool_calls ?? []).map((t, i) => {
    if (!t.function || typeof t.function.name !== 'string') throw badResponse(endpointId, 'a tool call without a function name');
    return { id: t.id ?? `call_${i}`, type: 'function', function: { name: t.function.name, arguments: t.function.arguments ?? '' } };
  });
  const content = typeof msg.content === 'string' ? msg.content : '';
  const finishReason = toFinishReason(choice.finish_reason) ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop');
  const out: { id: string; model?: string; content: string; toolCalls: ToolCall[]; finishReason: FinishReason; usage?: Usage } = {
    id: wire.id ?? '',
    content,
    toolCalls,
    finishReason,
  };
  if (wire.model !== undefined) out.model = wire.model;
  const usage = toUsage(wire.usage);
  if (usage) out.usage = usage;
  return out;
}

export function fromChunk(wire: WireChunk): ChatChunk | undefined {
  const out: ChatChunk = {};
  const choice = wire.choices?.find((c) => (c.index ?? 0) === 0);
  if (choice) {
    const d = choice.delta ?? {};
    if (typeof d.content === 'string' && d.content.length > 0) out.contentDelta = d.content;
    if (d.tool_calls && d.tool_calls.length > 0) {
      out.toolCallDeltas = d.tool_calls.map((t, i): ToolCallDelta => {
        const delta: ToolCallDelta = { index: typeof t.index === 'number' ? t.index : i };
        if (t.id) delta.id = t.id;
        if (t.function?.name) delta.name = t.function.name;
        if (typeof t.function?.arguments === 'string' && t.function.arguments.length > 0) delta.argumentsDelta = t.function.arguments;
        return delta;
      });
    }
    const fr = toFinishReason(choice.finish_reason);
    if (fr) out.finishReason = fr;
  }
  const usage = toUsage(wire.usage);
  if (usage) out.usage = usage;
  return Object.keys(out).length > 0 ? out : undefined;
}
