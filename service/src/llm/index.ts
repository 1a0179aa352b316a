/**
 * Stage `llm`: the only code that knows model vendors' wire formats and the only code that
 * opens connections to model servers — always through the jurisdiction's egress guard.
 * It never reaches Salesforce and never decides a jurisdiction: it is handed one.
 */
export type {
  ChatChunk,
  ChatMessage,
  ChatProvider,
  ChatRequest,
  ChatResult,
  ChatRole,
  ChatStream,
  EmbeddingRequest,
  EmbeddingResult,
  FinishReason,
  ProviderContext,
  ProviderKind,
  ServedBy,
  ToolCall,
  ToolCallDelta,
  ToolChoice,
  ToolDefinition,
  Usage,
} from './types.js';
export { isChatStream } from './types.js';
export {
  createEgressGuard,
  systemResolver,
  type EgressGuard,
  type EgressGuardOptions,
  type EgressPolicy,
  type EgressRefusalEvent,
  type EgressRefusalReason,
  type EgressRequest,
  type EgressResponse,
  type Resolver,
} from './egress.js';
export { PROVIDERS, createProvider } from './providers/index.js';
export { missingModelError } from './providers/embedded/index.js';
export { parseSse, type SseEvent } from './sse.js';
