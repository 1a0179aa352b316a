/** The gateway part of the HTTP face; the app mounts `createGatewayRouter(deps)` at `/v1`. */
export { createGatewayRouter, type GatewayDeps, type GatewayModelRouter } from './router.js';
export { assertEntitled, createKeyResolver, generateGatewayKey, hashGatewayKey, type GatewayCaller, type GatewayTenant } from './auth.js';
export { sanitizePort } from './sanitizePort.js';
export type {
  Detokenizer,
  GatewayAudit,
  GatewayAuditEvent,
  GatewayOutcome,
  GatewaySanitizer,
  SanitizedConversation,
  SanitizeInput,
} from './ports.js';
export { chatCompletionRequestSchema, parseChatRequest } from './wire.js';
export { auditLogPort, toAuditInput, type AuditRecorder } from './auditPort.js';
