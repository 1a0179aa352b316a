/**
 * Policy: a Cedar decision for (user, action, record, endpoint) before anything is sent.
 * The policy set ships with the service and is validated against its schema at start-up;
 * a deny names the policies that decided it and their reasons. Errors deny.
 */
import { isAuthorized, validate, type AuthorizationAnswer } from '@cedar-policy/cedar-wasm/nodejs';
import { SovraError } from '../shared/errors.js';
import { SECURITY_CLASSIFICATIONS, type SecurityClassification } from '../shared/schema.js';
import { CEDAR_SCHEMA, SHIPPED_POLICIES, type ShippedPolicy } from './policySet.js';

export const POLICY_ACTIONS = ['infer', 'train', 'export'] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

export interface PolicyRequest {
  user: { id: string; permissions: readonly string[]; jurisdictions: readonly string[] };
  action: PolicyAction;
  record: { id: string; object: string; jurisdiction: string };
  endpointJurisdiction: string;
  deploymentJurisdiction: string;
  /** The most sensitive class among the fields the action would send ('Unclassified' ranks highest). */
  maxFieldClass: SecurityClassification | 'Unclassified';
  /** The action's ceiling (AiAction__mdt.MaxClassification__c). */
  classCeiling: SecurityClassification;
  /** Why the data was read: 'infer' for AI actions. */
  purpose: PolicyAction;
}

export type PolicyDecision =
  { allowed: true; policies: string[] } | { allowed: false; policies: string[]; reason: string; code: 'POLICY_DENIED' | 'POLICY_ERROR' };

export function classRank(c: SecurityClassification | 'Unclassified'): number {
  return c === 'Unclassified' ? SECURITY_CLASSIFICATIONS.length : SECURITY_CLASSIFICATIONS.indexOf(c);
}

export interface PolicyEngine {
  decide(req: PolicyRequest): PolicyDecision;
  readonly policies: readonly ShippedPolicy[];
}

/** Builds the engine; throws at start-up if the shipped policies do not validate. */
export function createPolicyEngine(policies: readonly ShippedPolicy[] = SHIPPED_POLICIES): PolicyEngine {
  const staticPolicies = Object.fromEntries(policies.map((p) => [p.id, p.text]));
  const v = validate({ schema: CEDAR_SCHEMA, policies: { staticPolicies }, validationSettings: { mode: 'strict' } });
  const problems =
    v.type === 'failure' ? v.errors.map((e) => e.message) : v.validationErrors.map((e) => `${e.policyId}: ${e.error.message}`);
  if (problems.length > 0) {
    throw new SovraError('internal', `The shipped Cedar policies do not validate: ${problems.join('; ')}`, {
      code: 'POLICY_SET_INVALID',
      fix: 'Fix service/src/policy/policySet.ts; the sidecar will not start with an invalid policy set.',
    });
  }
  const reasons = new Map(policies.map((p) => [p.id, p.reason]));

  return {
    policies,
    decide(req) {
      let answer: AuthorizationAnswer;
      try {
        answer = isAuthorized({
          principal: { type: 'Sovra::User', id: req.user.id },
          action: { type: 'Sovra::Action', id: req.action },
          resource: { type: 'Sovra::Record', id: req.record.id },
          context: {
            deploymentJurisdiction: req.deploymentJurisdiction,
            endpointJurisdiction: req.endpointJurisdiction,
            maxFieldClassRank: classRank(req.maxFieldClass),
            classCeilingRank: classRank(req.classCeiling),
            purpose: req.purpose,
          },
          schema: CEDAR_SCHEMA,
          validateRequest: true,
          policies: { staticPolicies },
          entities: [
            {
              uid: { type: 'Sovra::User', id: req.user.id },
              attrs: { permissions: [...req.user.permissions], jurisdictions: [...req.user.jurisdictions] },
              parents: [],
            },
            {
              uid: { type: 'Sovra::Record', id: req.record.id },
              attrs: { jurisdiction: req.record.jurisdiction, object: req.record.object },
              parents: [],
            },
          ],
        });
      } catch {
        return {
          allowed: false,
          policies: [],
          reason: 'The policy engine could not evaluate the request; nothing was sent.',
          code: 'POLICY_ERROR',
        };
      }
      if (answer.type === 'failure') {
        return {
          allowed: false,
          policies: [],
          reason: 'The request could not be evaluated against the policy set; nothing was sent.',
          code: 'POLICY_ERROR',
        };
      }
      const { decision, diagnostics } = answer.response;
      if (diagnostics.errors.length > 0) {
        return {
          allowed: false,
          policies: diagnostics.errors.map((e) => e.policyId),
          reason: 'A policy failed to evaluate; nothing was sent.',
          code: 'POLICY_ERROR',
        };
      }
      if (decision === 'allow') return { allowed: true, policies: diagnostics.reason };
      const ids = diagnostics.reason;
      const reason =
        ids
          .map((id) => reasons.get(id) ?? id)
          .filter((r) => r !== '')
          .join(' ') || 'No policy permits this request.';
      return { allowed: false, policies: ids, reason, code: 'POLICY_DENIED' };
    },
  };
}
