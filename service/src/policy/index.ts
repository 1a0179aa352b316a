export {
  classRank,
  createPolicyEngine,
  POLICY_ACTIONS,
  type PolicyAction,
  type PolicyDecision,
  type PolicyEngine,
  type PolicyRequest,
} from './decide.js';
export { CEDAR_SCHEMA, SHIPPED_POLICIES, type ShippedPolicy } from './policySet.js';
