/**
 * The adapter from the gateway's audit port to the audit stage: each gateway call becomes one
 * chained audit entry in its tenant's chain, with the sanitized prompt and answer, keyed hashes
 * of the raw ones (computed by the audit stage; the raw texts are not stored), and the outcome
 * that actually happened. Calls refused before a tenant is known (no or bad key, geo-fence)
 * go to the chain `logFor(undefined)` returns, if any. The client's address is not written to
 * the entry (its country is): audit entries are replicated into Salesforce.
 */
import type { AuditDecision, AuditEventInput, AuditEventType, DetailValue } from '../../audit/index.js';
import type { GatewayAudit, GatewayAuditEvent, GatewayOutcome } from './ports.js';

/** What the adapter needs of an audit log (the audit stage's `AuditLog`). */
export interface AuditRecorder {
  record(input: AuditEventInput): Promise<unknown>;
}

const EVENT: Record<GatewayOutcome, [AuditEventType, AuditDecision]> = {
  success: ['model.answered', 'allow'],
  refused: ['request.rejected', 'deny'],
  invalid: ['request.rejected', 'reject'],
  egress_refused: ['egress.refused', 'deny'],
  upstream_error: ['model.failed', 'error'],
  cut: ['model.failed', 'error'],
  client_aborted: ['model.failed', 'error'],
  error: ['model.failed', 'error'],
};

export function toAuditInput(e: GatewayAuditEvent): AuditEventInput {
  const [eventType, decision] = EVENT[e.outcome];
  const details: Record<string, DetailValue> = { surface: 'gateway', outcome: e.outcome, stream: e.stream };
  if (e.keyId) details.gatewayKeyId = e.keyId;
  if (e.clientCountry) details.clientCountry = e.clientCountry;
  if (e.provider) details.provider = e.provider;
  if (e.attempts !== undefined) details.attempts = e.attempts;
  if (e.finishReason) details.finishReason = e.finishReason;
  if (e.errorCode) details.errorCode = e.errorCode;
  if (e.usage) {
    details.promptTokens = e.usage.promptTokens;
    details.completionTokens = e.usage.completionTokens;
  }
  if (e.sanitized) {
    details.tokenized = e.sanitized.tokenized;
    details.dropped = e.sanitized.dropped;
  }
  const input: AuditEventInput = {
    eventType,
    decision,
    requestId: e.requestId,
    // actorId holds Salesforce user ids; a gateway caller is identified by its key id in details.
    actorId: null,
    action: 'gateway.chat.completions',
    reason: e.errorCode ? `${e.errorCode}: ${e.reason ?? ''}`.trim() : null,
    endpoint: e.endpointId ?? null,
    model: e.model ?? null,
    sanitizedPrompt: e.sanitized ? JSON.stringify(e.sanitized.messages) : null,
    sanitizedAnswer: e.sanitized?.answer ? JSON.stringify(e.sanitized.answer) : null,
    rawPrompt: e.raw?.prompt ?? null,
    rawAnswer: e.raw?.answer ?? null,
    timings: { latencyMs: e.latencyMs },
    details,
    occurredAt: Date.parse(e.at),
  };
  return input;
}

/** The gateway's audit port over per-tenant audit logs. */
export function auditLogPort(logFor: (tenantId: string | undefined) => AuditRecorder | undefined): GatewayAudit {
  return async (event) => {
    const recorder = logFor(event.tenantId);
    if (!recorder) return;
    await recorder.record(toAuditInput(event));
  };
}
