/**
 * The ports the gateway is built against: a sanitizer (tokenize before a model sees anything,
 * restore after) and an audit sink. Production wires `sanitizePort()` (over the sanitize stage)
 * and the audit stage; tests may wire their own implementations of the same contracts.
 */
import type { ChatMessage, ToolCall, ToolDefinition, Usage } from '../../llm/index.js';

export interface SanitizeInput {
  requestId: string;
  tenantId: string;
  jurisdiction: string;
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  stop?: string[];
}

export interface SanitizedConversation {
  /** Every text replaced: system, user, assistant history, tool results, tool-call JSON arguments. */
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  stop?: string[];
  /** Opaque per-request state the detokenizer needs (the token map). Never logged. */
  handle: unknown;
  /** Values replaced by tokens, and values dropped. */
  tokenized: number;
  dropped: number;
}

export interface Detokenizer {
  /** Feeds a piece of the answer; returns what is safe to emit now (only a possibly split token is held back). */
  push(text: string): string;
  /** The end of the answer: whatever was held back, restored. */
  flush(): string;
}

export interface GatewaySanitizer {
  sanitizeMessages(input: SanitizeInput): SanitizedConversation | Promise<SanitizedConversation>;
  /** `escape: 'json'` restores values inside a JSON string (tool-call arguments). */
  createDetokenizer(handle: unknown, options?: { escape?: 'none' | 'json' }): Detokenizer;
}

export type GatewayOutcome = 'success' | 'refused' | 'invalid' | 'egress_refused' | 'upstream_error' | 'cut' | 'client_aborted' | 'error';

/** One gateway call as the audit trail records it: sanitized texts only, never raw ones. */
export interface GatewayAuditEvent {
  kind: 'gateway_call';
  requestId: string;
  at: string;
  jurisdiction: string;
  tenantId?: string;
  keyId?: string;
  clientAddress?: string;
  clientCountry?: string;
  stream: boolean;
  /** What actually happened: a stream that was cut is `cut`, not `success`. */
  outcome: GatewayOutcome;
  errorCode?: string;
  reason?: string;
  endpointId?: string;
  provider?: string;
  model?: string;
  attempts?: number;
  latencyMs: number;
  finishReason?: string;
  usage?: Usage;
  sanitized?: {
    messages: ChatMessage[];
    /** The answer as the model wrote it (tokens, not restored values). */
    answer?: { content: string; toolCalls: ToolCall[] };
    tokenized: number;
    dropped: number;
  };
  /**
   * The raw prompt (JSON of the caller's messages) and the restored answer the caller received,
   * handed to the audit stage ONLY to compute keyed hashes (HMAC) — never stored, never logged.
   */
  raw?: { prompt: string; answer?: string };
}

export type GatewayAudit = (event: GatewayAuditEvent) => void | Promise<void>;
