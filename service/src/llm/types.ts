/**
 * The one chat interface every model provider speaks, whatever its wire format. Messages,
 * tool calls and chunks are Sovra's own shapes; only `providers/<id>` translate them.
 */
import type { SecretRef } from '../config/schema.js';
import type { EgressGuard } from './egress.js';

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; /** JSON text, as the model wrote it. */ arguments: string };
}

export interface ChatMessage {
  role: ChatRole;
  /** Text of the message; null for an assistant turn that only calls tools. */
  content: string | null;
  name?: string;
  /** Tool calls an assistant turn made. */
  toolCalls?: ToolCall[];
  /** For a `tool` message: the call it answers. */
  toolCallId?: string;
}

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters?: Record<string, unknown>;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export interface ChatRequest {
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  maxTokens?: number;
  temperature?: number;
  stop?: string[];
  stream?: boolean;
  /** Aborts the call (and a running stream). */
  signal?: AbortSignal;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** Where an answer came from: written on every audit entry. */
export interface ServedBy {
  endpointId: string;
  provider: ProviderKind;
  model: string;
}

export interface ChatResult extends ServedBy {
  id: string;
  content: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage?: Usage;
}

export interface ToolCallDelta {
  /** Position of the call in the answer; deltas of one call share it. */
  index: number;
  id?: string;
  name?: string;
  argumentsDelta?: string;
}

export interface ChatChunk {
  contentDelta?: string;
  toolCallDeltas?: ToolCallDelta[];
  finishReason?: FinishReason;
  usage?: Usage;
}

/** A streamed answer: chunks as the model produces them. Errors surface while iterating. */
export interface ChatStream extends AsyncIterable<ChatChunk>, ServedBy {
  id: string;
}

export interface EmbeddingRequest {
  input: string[];
  signal?: AbortSignal;
}

export interface EmbeddingResult extends ServedBy {
  vectors: number[][];
  usage?: { promptTokens: number; totalTokens: number };
}

export type ProviderKind = 'openai-compatible' | 'embedded';

/** The common interface of a model endpoint. */
export interface ChatProvider {
  readonly endpointId: string;
  readonly kind: ProviderKind;
  readonly model: string;
  chat(request: ChatRequest & { stream: true }): Promise<ChatStream>;
  chat(request: ChatRequest & { stream?: false }): Promise<ChatResult>;
  chat(request: ChatRequest): Promise<ChatResult | ChatStream>;
  embed(request: EmbeddingRequest): Promise<EmbeddingResult>;
  /** A cheap liveness check (no prompt is sent). */
  probe(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export function isChatStream(x: ChatResult | ChatStream): x is ChatStream {
  return typeof (x as ChatStream)[Symbol.asyncIterator] === 'function';
}

/** What a provider gets from the router that builds it. */
export interface ProviderContext {
  jurisdiction: string;
  /** The jurisdiction's egress guard: every network call of the provider goes through it. */
  egress: EgressGuard;
  /** Reads a secret reference (config's readSecret, bound to the config folder). */
  secret?: (ref: SecretRef) => string;
}
