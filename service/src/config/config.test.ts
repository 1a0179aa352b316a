import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse, stringify } from 'yaml';
import { ConfigError, loadConfig, parseConfigText } from './index.js';

const EXAMPLE = 'config/sovra.example.yaml';
const baseDir = dirname(resolve(EXAMPLE));
const example = (): Record<string, any> => parse(readFileSync(EXAMPLE, 'utf8'));

function issuesOf(raw: unknown): { path: string; message: string }[] {
  try {
    parseConfigText(stringify(raw), 'test.yaml', baseDir, {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected the config to be rejected');
}

describe('configuration', () => {
  it.each(['config/sovra.example.yaml', 'config/eu.yaml', 'config/us.yaml'])('accepts the shipped example %s', (file) => {
    const cfg = loadConfig(file, {});
    expect(Object.keys(cfg.jurisdictions)).toContain(cfg.deployment.jurisdiction);
  });

  it('resolves relative paths against the config folder and lets SOVRA_MODEL_PATH override the model', () => {
    const cfg = loadConfig(EXAMPLE, {});
    const ep = cfg.jurisdictions.EU!.endpoints.find((e) => e.provider === 'embedded');
    expect(ep && 'modelPath' in ep && ep.modelPath).toBe(resolve('..', 'shared/models/stories260K.gguf'));
    const over = loadConfig(EXAMPLE, { SOVRA_MODEL_PATH: '/models/x.gguf' });
    const ep2 = over.jurisdictions.EU!.endpoints.find((e) => e.provider === 'embedded');
    expect(ep2 && 'modelPath' in ep2 && ep2.modelPath).toBe('/models/x.gguf');
  });

  it('rejects an EU endpoint declared in a US region, naming its path', () => {
    const raw = example();
    raw.jurisdictions.EU.endpoints[1].region = 'us-east-1';
    const issues = issuesOf(raw);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('jurisdictions.EU.endpoints[1].region');
    expect(issues[0]!.message).toMatch(/us-east-1.*\(US\).*outside jurisdiction EU/);
    expect(issues[0]!.message).toMatch(/Fix:/);
  });

  it('rejects a tenant naming an unknown jurisdiction', () => {
    const raw = example();
    raw.tenants[0].jurisdictions = ['EU', 'APAC'];
    const issues = issuesOf(raw);
    expect(issues.map((i) => i.path)).toEqual(['tenants[0].jurisdictions[1]']);
    expect(issues[0]!.message).toMatch(/'APAC', which is not defined/);
  });

  it('rejects a key provider, store, backup or log sink outside the jurisdiction', () => {
    const raw = example();
    raw.jurisdictions.EU.keys.region = 'us-west-2';
    raw.store.region = 'eastus';
    raw.store.backup = { target: 's3://x', region: 'ca-central-1' };
    raw.log.sinks.push({ kind: 'file', path: '/var/log/s.log', region: 'us-east-2' });
    const paths = issuesOf(raw).map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining(['jurisdictions.EU.keys.region', 'store.region', 'store.backup.region', 'log.sinks[1].region']),
    );
  });

  it('rejects a public egress network located outside the jurisdiction (bundled geo data)', () => {
    const raw = example();
    raw.jurisdictions.EU.egress.networks.push('8.8.8.0/24');
    const issues = issuesOf(raw);
    expect(issues[0]!.path).toBe('jurisdictions.EU.egress.networks[1]');
    expect(issues[0]!.message).toMatch(/located in US/);
  });

  it('rejects an endpoint whose address or host is not in the allowed egress networks', () => {
    const raw = example();
    raw.jurisdictions.EU.endpoints[1].baseUrl = 'http://52.1.2.3/v1';
    raw.jurisdictions.EU.endpoints.push({
      id: 'eu-named',
      provider: 'openai-compatible',
      region: 'eu-west-1',
      model: 'm',
      baseUrl: 'https://llm.example.eu/v1',
    });
    const paths = issuesOf(raw).map((i) => i.path);
    expect(paths).toEqual(['jurisdictions.EU.endpoints[1].baseUrl', 'jurisdictions.EU.endpoints[2].baseUrl']);
  });

  it('has no way to declare a cross-jurisdiction fallback: unknown keys are errors', () => {
    const raw = example();
    raw.jurisdictions.EU.endpoints[0].fallbackJurisdiction = 'US';
    const issues = issuesOf(raw);
    expect(issues[0]!.path).toBe('jurisdictions.EU.endpoints[0]');
    expect(issues[0]!.message).toMatch(/unknown key 'fallbackJurisdiction'/);
  });

  it('rejects unknown regions, bad countries, bad CIDRs and missing fields with a fix', () => {
    const raw = example();
    raw.jurisdictions.EU.endpoints[0].region = 'moon-base-1';
    raw.jurisdictions.US.countries = ['USA'];
    raw.jurisdictions.EU.egress.networks = ['10.20.0.0/33'];
    delete raw.store.region;
    const issues = issuesOf(raw);
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(byPath['jurisdictions.US.countries[0]']).toMatch(/not an ISO 3166-1 alpha-2/);
    expect(byPath['jurisdictions.EU.egress.networks[0]']).toMatch(/not a CIDR/);
    expect(byPath['store.region']).toMatch(/is required/);
  });

  it('reports unknown regions with how to declare them', () => {
    const raw = example();
    raw.jurisdictions.EU.endpoints[0].region = 'moon-base-1';
    expect(issuesOf(raw)[0]!.message).toMatch(/regions:/);
  });

  it('reports malformed YAML with line and column', () => {
    expect(() => parseConfigText('deployment:\n  jurisdiction: EU\n   region: x\n', 'bad.yaml', baseDir, {})).toThrow(
      /line \d+, column \d+/,
    );
  });

  it('reports a missing file with the fix', () => {
    expect(() => loadConfig('config/nope.yaml', {})).toThrow(/no such file/);
  });
});
