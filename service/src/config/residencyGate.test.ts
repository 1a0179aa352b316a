import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parse, stringify } from 'yaml';
import { checkResidencyText, RESIDENCY_RULES, type GateOptions, type ResidencyRule } from './index.js';

const base = readFileSync('test/fixtures/policy/pass.yaml', 'utf8');
const DNS: Record<string, string[]> = { 'llm-a.eu.internal': ['10.20.3.4'], 'llm-a.us.internal': ['10.30.3.4'] };
const opts = (dns: Record<string, string[]> = DNS): GateOptions => ({
  resolveHost: async (h) => {
    const a = dns[h];
    if (!a) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return a;
  },
});

async function check(mutate: (c: any) => void, dns?: Record<string, string[]>) {
  const c = parse(base);
  mutate(c);
  return checkResidencyText(stringify(c), 'fixture.yaml', opts(dns));
}

describe('residency gate (sovra policy check)', () => {
  it('passes the compliant fixture, resolving each named host', async () => {
    const r = await checkResidencyText(base, 'pass.yaml', opts());
    expect(r.findings).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.checked).toEqual({ jurisdictions: 2, endpoints: 3, tenants: 1, resolvedHosts: 2 });
  });

  const failing: [ResidencyRule, string, (c: any) => void, Record<string, string[]>?][] = [
    ['ENDPOINT_OUTSIDE', 'jurisdictions.EU.endpoints[1].region', (c) => (c.jurisdictions.EU.endpoints[1].region = 'us-east-1')],
    ['KEYS_OUTSIDE', 'jurisdictions.EU.keys.region', (c) => (c.jurisdictions.EU.keys.region = 'ca-central-1')],
    ['KEYS_OUTSIDE', 'jurisdictions.US.keys', (c) => (c.jurisdictions.US.keys.tokenLabel = 'sovra-eu')],
    ['STORE_OUTSIDE', 'store.region', (c) => (c.store.region = 'eastus')],
    ['STORE_OUTSIDE', 'store.backup.region', (c) => (c.store.backup.region = 'us-west-2')],
    ['LOG_SINK_OUTSIDE', 'log.sinks[1].region', (c) => (c.log.sinks[1].region = 'us-east-2')],
    ['EGRESS_NETWORK_OUTSIDE', 'jurisdictions.EU.egress.networks[1]', (c) => c.jurisdictions.EU.egress.networks.push('8.8.8.0/24')],
    ['ENDPOINT_NOT_ALLOWED', 'jurisdictions.EU.endpoints[0].baseUrl', (c) => (c.jurisdictions.EU.egress.hosts = [])],
    [
      'ENDPOINT_RESOLVES_OUTSIDE',
      'jurisdictions.EU.endpoints[0].baseUrl',
      () => undefined,
      { ...DNS, 'llm-a.eu.internal': ['10.20.3.4', '10.99.0.1'] },
    ],
    ['ENDPOINT_RESOLVES_OUTSIDE', 'jurisdictions.EU.endpoints[0].baseUrl', () => undefined, { 'llm-a.us.internal': ['10.30.3.4'] }],
    [
      'ENDPOINT_RESOLVES_OUTSIDE',
      'jurisdictions.EU.endpoints[0].pinnedAddresses[0]',
      (c) => (c.jurisdictions.EU.endpoints[0].pinnedAddresses = ['10.30.0.7']),
    ],
    ['TENANT_NOT_ENTITLED', 'tenants[0].jurisdictions', (c) => (c.tenants[0].jurisdictions = ['US'])],
    ['UNDEFINED_JURISDICTION', 'tenants[0].jurisdictions[1]', (c) => (c.tenants[0].jurisdictions = ['EU', 'APAC'])],
    [
      'CROSS_JURISDICTION_FALLBACK',
      'jurisdictions.US.endpoints[1].baseUrl',
      (c) =>
        c.jurisdictions.US.endpoints.push({
          id: 'us-b',
          provider: 'openai-compatible',
          region: 'us-east-1',
          model: 'm',
          baseUrl: 'https://llm-a.eu.internal/v1',
        }),
    ],
    [
      'CROSS_JURISDICTION_FALLBACK',
      'jurisdictions.US.egress.networks[1]',
      (c) => c.jurisdictions.US.egress.networks.push('10.20.128.0/17'),
    ],
    ['GEOFENCE_OUTSIDE', 'http.geofence.countries[1]', (c) => (c.http = { geofence: { countries: ['DE', 'US'] } })],
    ['UNKNOWN_REGION', 'jurisdictions.EU.endpoints[0].region', (c) => (c.jurisdictions.EU.endpoints[0].region = 'mars-1')],
    ['SCHEMA', 'jurisdictions.EU.endpoints[0]', (c) => (c.jurisdictions.EU.endpoints[0].fallbackJurisdiction = 'US')],
  ];

  const cases = failing.map(([rule, path, mutate, dns]) => ({ rule, path, mutate, dns }));
  it.each(cases)('fails $rule at $path, with the rule and a fix', async ({ rule, path, mutate, dns }) => {
    const r = await check(mutate, dns);
    expect(r.passed).toBe(false);
    expect(r.findings).toContainEqual(expect.objectContaining({ rule, path, ruleText: RESIDENCY_RULES[rule] }));
    for (const f of r.findings) expect(f.fix.length).toBeGreaterThan(10);
  });

  it('can check the file alone without DNS (--no-dns)', async () => {
    const r = await checkResidencyText(base, 'pass.yaml', {
      dns: false,
      resolveHost: async () => Promise.reject(new Error('must not resolve')),
    });
    expect(r.passed).toBe(true);
    expect(r.checked.resolvedHosts).toBe(0);
  });

  it('reports malformed YAML as a finding, not a crash', async () => {
    const r = await checkResidencyText('deployment: [', 'x.yaml', opts());
    expect(r.passed).toBe(false);
    expect(r.findings[0]!.rule).toBe('SCHEMA');
  });
});

describe('residency gate against the org (--target-org)', () => {
  const stamped = ['Account', 'Contact', 'Lead', 'Opportunity', 'Case'];
  const rules = stamped.map((object) => ({ object, active: true }));
  const agreeing = {
    jurisdictions: [
      { id: 'EU', countries: ['DE', 'FR', 'NL', 'IE'], active: true },
      { id: 'US', countries: ['US'], active: true },
    ],
    rules,
    stampedObjects: stamped,
  };

  it('passes when the org agrees with the config', async () => {
    const r = await checkResidencyText(base, 'pass.yaml', { ...opts(), org: agreeing });
    expect(r.findings).toEqual([]);
  });

  it('fails when a jurisdiction lists other countries in the org, naming them', async () => {
    const org = {
      ...agreeing,
      jurisdictions: [
        { id: 'EU', countries: ['DE', 'FR', 'NL', 'IE', 'CH'], active: true },
        { id: 'US', countries: ['US'], active: true },
      ],
    };
    const r = await checkResidencyText(base, 'pass.yaml', { ...opts(), org });
    expect(r.findings).toEqual([
      expect.objectContaining({
        rule: 'ORG_MISMATCH',
        path: 'jurisdictions.EU.countries',
        message: expect.stringMatching(/only the org lists CH/),
      }),
    ]);
  });

  it("fails when the deployment's jurisdiction is inactive in the org, when the org maps a country to an unknown jurisdiction, and when a stamped object has no rule", async () => {
    const org = {
      jurisdictions: [
        { id: 'EU', countries: ['DE', 'FR', 'NL', 'IE'], active: false },
        { id: 'US', countries: ['US'], active: true },
        { id: 'DACH', countries: ['DE'], active: true },
      ],
      rules: rules.filter((x) => x.object !== 'Case'),
      stampedObjects: stamped,
    };
    const r = await checkResidencyText(base, 'pass.yaml', { ...opts(), org });
    const messages = r.findings.map((f) => f.message).join('\n');
    expect(r.findings.every((f) => f.rule === 'ORG_MISMATCH')).toBe(true);
    expect(messages).toMatch(/no active Jurisdiction__mdt record EU/);
    expect(messages).toMatch(/maps DE to jurisdiction DACH/);
    expect(messages).toMatch(/no active ResidencyRule__mdt for Case/);
  });
});
