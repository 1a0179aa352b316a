/**
 * The OpenAI chat-completions request the gateway accepts, validated with zod, and the answer
 * objects it sends (https://platform.openai.com/docs/api-reference/chat/create and the
 * `chat.completion` / `chat.completion.chunk` objects). Unknown request fields are ignored, as
 * OpenAI-compatible servers do; fields Sovra cannot honour safely (n > 1, non-text content) are
 * rejected with a reason.
 */
import { z } from 'zod';
import type { ChatMessage, ChatRequest, ToolCall, ToolChoice, ToolDefinition, Usage } from '../../llm/index.js';
import { validationError, type SovraError } from '../../shared/errors.js';

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const content = z.union([z.string(), z.array(textPart), z.null()], {
  error: 'content must be a string or a list of text parts (images, audio and files are not supported by the Sovra gateway)',
});

const toolCall = z.object({
  id: z.string().min(1).max(256),
  type: z.literal('function').default('function'),
  function: z.object({ name: z.string().min(1).max(128), arguments: z.string().max(1_000_000) }),
});

const message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: content.optional(),
  name: z.string().max(256).optional(),
  tool_calls: z.array(toolCall).max(128).optional(),
  tool_call_id: z.string().max(256).optional(),
});

const tool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names are 1-64 letters, digits, _ or -'),
    description: z.string().max(8192).optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const chatCompletionRequestSchema = z.object({
  model: z.string().max(256).optional(),
  messages: z.array(message).min(1, 'messages must hold at least one message').max(1024),
  tools: z.array(tool).max(128).optional(),
  tool_choice: z
    .union([z.enum(['auto', 'none', 'required']), z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) })])
    .optional(),
  max_tokens: z.number().int().positive().max(131_072).optional(),
  max_completion_tokens: z.number().int().positive().max(131_072).optional(),
  temperature: z.number().min(0).max(2).optional(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).optional(),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  n: z.literal(1, { error: 'n must be 1: the Sovra gateway returns one choice' }).optional(),
});
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

export function parseChatRequest(body: unknown): { request: ChatRequest; includeUsage: boolean } {
  const parsed = chatCompletionRequestSchema.safeParse(body);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    const path = first.path.map(String).join('.');
    throw validationError(`The chat completion request is invalid at '${path || '(body)'}': ${first.message}.`, {
      code: 'GATEWAY_REQUEST_INVALID',
      fix: 'Send an OpenAI chat.completions request body (model, messages, optional tools, stream).',
      details: { path, issues: parsed.error.issues.length },
      retryable: false,
    });
  }
  const b = parsed.data;
  const messages: ChatMessage[] = b.messages.map((m) => {
    const text =
      m.content === undefined || m.content === null
        ? null
        : typeof m.content === 'string'
          ? m.content
          : m.content.map((p) => p.text).join('');
    const out: ChatMessage = { role: m.role === 'developer' ? 'system' : m.role, content: text };
    if (m.tool_calls && m.tool_calls.length > 0) {
      out.toolCalls = m.tool_calls.map((c): ToolCall => ({
        id: c.id,
        type: 'function',
        function: { name: c.function.name, arguments: c.function.arguments },
      }));
    }
    if (m.tool_call_id !== undefined) out.toolCallId = m.tool_call_id;
    if (m.role === 'tool' && m.tool_call_id === undefined) {
      throw validationError("A 'tool' message needs tool_call_id.", {
        code: 'GATEWAY_REQUEST_INVALID',
        fix: 'Answer each tool call with its id.',
      });
    }
    return out;
  });
  const request: ChatRequest = { messages, stream: b.stream === true };
  if (b.tools && b.tools.length > 0) {
    request.tools = b.tools.map((t): ToolDefinition => {
      const d: ToolDefinition = { name: t.function.name };
      if (t.function.description !== undefined) d.description = t.function.description;
      if (t.function.parameters !== undefined) d.parameters = t.function.parameters;
      return d;
    });
  }
  if (b.tool_choice !== undefined) {
    request.toolChoice = (typeof b.tool_choice === 'string' ? b.tool_choice : { name: b.tool_choice.function.name }) satisfies ToolChoice;
  }
  const maxTokens = b.max_completion_tokens ?? b.max_tokens;
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  if (b.temperature !== undefined) request.temperature = b.temperature;
  if (b.stop !== undefined) request.stop = typeof b.stop === 'string' ? [b.stop] : b.stop;
  return { request, includeUsage: b.stream_options?.include_usage === true };
}

export function wireUsage(u: Usage): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  return { prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.totalTokens };
}

export function completionObject(args: {
  id: string;
  created: number;
  model: string;
  content: string;
  toolCalls: ToolCall[];
  finishReason: string;
  usage?: Usage;
}): Record<string, unknown> {
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: args.toolCalls.length > 0 && args.content === '' ? null : args.content,
    refusal: null,
  };
  if (args.toolCalls.length > 0)
    message.tool_calls = args.toolCalls.map((t) => ({
      id: t.id,
      type: 'function',
      function: { name: t.function.name, arguments: t.function.arguments },
    }));
  const out: Record<string, unknown> = {
    id: args.id,
    object: 'chat.completion',
    created: args.created,
    model: args.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: args.finishReason }],
  };
  if (args.usage) out.usage = wireUsage(args.usage);
  return out;
}

export function chunkObject(
  id: string,
  created: number,
  model: string,
  delta: Record<string, unknown>,
  finishReason: string | null,
): Record<string, unknown> {
  return {
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
}

export function sseData(obj: unknown): string {
  return `data: ${JSON.stringify(obj)}\n\n`;
}

/** An error inside an already started stream (the OpenAI SDK raises it as an APIError). */
export function sseError(err: SovraError): string {
  const e: Record<string, unknown> = { type: err.kind, code: err.code, message: err.message };
  if (err.fix) e.fix = err.fix;
  return sseData({ error: e });
}
