import { describe, expect, it } from '@jest/globals';
import { createPolicyEngine, SHIPPED_POLICIES, type PolicyRequest } from './index.js';

const engine = createPolicyEngine();
const ok: PolicyRequest = {
  user: { id: '005A', permissions: ['AiInference'], jurisdictions: ['EU'] },
  action: 'infer',
  record: { id: '006A', object: 'Opportunity', jurisdiction: 'EU' },
  endpointJurisdiction: 'EU',
  deploymentJurisdiction: 'EU',
  maxFieldClass: 'Confidential',
  classCeiling: 'Confidential',
  purpose: 'infer',
};
const withReq = (p: Partial<PolicyRequest>): PolicyRequest => ({ ...ok, ...p });

describe('policy (Cedar)', () => {
  it('allows an entitled user to run inference on a record of their jurisdiction on its pinned endpoint', () => {
    expect(engine.decide(ok)).toEqual({ allowed: true, policies: ['base-permit'] });
  });

  it.each([
    ['infer-needs-permission', withReq({ user: { ...ok.user, permissions: [] } })],
    ['jurisdiction-entitlement', withReq({ user: { ...ok.user, jurisdictions: ['US'] } })],
    ['endpoint-in-record-jurisdiction', withReq({ endpointJurisdiction: 'US' })],
    ['deployment-jurisdiction', withReq({ deploymentJurisdiction: 'US', endpointJurisdiction: 'EU' })],
    ['class-ceiling', withReq({ maxFieldClass: 'Restricted', classCeiling: 'Confidential' })],
    ['class-ceiling', withReq({ maxFieldClass: 'Unclassified', classCeiling: 'MissionCritical' })],
    ['train-needs-permission', withReq({ action: 'train', purpose: 'train' })],
    [
      'export-needs-permission',
      withReq({ action: 'export', purpose: 'export', user: { ...ok.user, permissions: ['AiInference', 'AiTrainingExport'] } }),
    ],
    [
      'inference-data-not-for-training',
      withReq({ action: 'train', purpose: 'infer', user: { ...ok.user, permissions: ['AiInference', 'AiTrainingExport'] } }),
    ],
  ])('denies with %s and its reason', (policy, req) => {
    const d = engine.decide(req);
    expect(d.allowed).toBe(false);
    expect(d.policies).toContain(policy);
    if (!d.allowed) {
      expect(d.code).toBe('POLICY_DENIED');
      expect(d.reason).toContain(SHIPPED_POLICIES.find((p) => p.id === policy)!.reason);
    }
  });

  it('keeps training separate: a training-export right does not grant inference, nor the reverse', () => {
    expect(engine.decide(withReq({ user: { ...ok.user, permissions: ['AiTrainingExport'] } })).allowed).toBe(false);
    expect(
      engine.decide(withReq({ action: 'train', purpose: 'train', user: { ...ok.user, permissions: ['AiTrainingExport'] } })).allowed,
    ).toBe(true);
  });

  it('names every deciding policy when several deny', () => {
    const d = engine.decide(withReq({ user: { id: 'x', permissions: [], jurisdictions: [] }, endpointJurisdiction: 'US' }));
    expect(d.policies.sort()).toEqual(['endpoint-in-record-jurisdiction', 'infer-needs-permission', 'jurisdiction-entitlement']);
  });

  it('refuses to start with a policy set that does not validate', () => {
    expect(() =>
      createPolicyEngine([
        ...SHIPPED_POLICIES,
        { id: 'bad', reason: 'x', text: 'permit (principal, action, resource) when { principal.nope == 1 };' },
      ]),
    ).toThrow(/do not validate/);
  });

  it('denies (fails closed) when evaluation errors', () => {
    const d = engine.decide(withReq({ action: 'nonsense' as never }));
    expect(d).toMatchObject({ allowed: false, code: 'POLICY_ERROR' });
  });
});
