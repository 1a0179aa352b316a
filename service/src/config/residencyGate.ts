/**
 * The residency gate behind `sovra policy check`: everything config validation enforces,
 * plus what needs the world outside the file — where endpoint hosts resolve to now — and
 * what spans jurisdictions: tenants reaching a jurisdiction they are not entitled to, and any
 * server, network, proxy or key store shared between jurisdictions (a failover path across
 * a border). It reports findings; it never throws for a bad config.
 */
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseDocument } from 'yaml';
import { geoLookup } from '../shared/geo.js';
import { isPrivateAddress, parseCidr, type Cidr } from './cidr.js';
import { formatPath } from './load.js';
import { configSchema, residencyIssues, RESIDENCY_RULES, type ParsedConfig, type ResidencyRule } from './schema.js';

export type GateFinding = {
  /** Where in the config, e.g. `jurisdictions.EU.endpoints[0].baseUrl`. */
  path: string;
  rule: ResidencyRule;
  /** The rule in words. */
  ruleText: string;
  message: string;
  /** How to fix it. */
  fix: string;
};

/** What the org says about residency (`Jurisdiction__mdt`, `ResidencyRule__mdt`), namespace stripped. */
export type OrgResidency = {
  jurisdictions: { id: string; countries: string[]; active: boolean }[];
  rules: { object: string; active: boolean }[];
  /** Objects whose records must carry a jurisdiction (the package stamps these). */
  stampedObjects: readonly string[];
};

export interface GateOptions {
  /** Resolve endpoint host names (default true). */
  dns?: boolean;
  /** Host → addresses; defaults to the system resolver (all addresses). */
  resolveHost?: (host: string) => Promise<string[]>;
  countryOf?: (ip: string) => string | undefined;
  /** Also compare the org's residency metadata with the config (`--target-org`). */
  org?: OrgResidency;
}

export type GateResult = {
  passed: boolean;
  file: string;
  findings: GateFinding[];
  checked: { jurisdictions: number; endpoints: number; tenants: number; resolvedHosts: number };
};

const defaultResolve = async (host: string): Promise<string[]> => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

function finding(path: string, rule: ResidencyRule, text: string): GateFinding {
  const [message, fix] = text.split(/ Fix: /, 2) as [string, string | undefined];
  return { path, rule, ruleText: RESIDENCY_RULES[rule], message, fix: fix ?? 'See the rule.' };
}

function overlaps(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && (a.contains(b.first) || b.contains(a.first));
}

async function dnsFindings(
  cfg: ParsedConfig,
  opts: Required<Pick<GateOptions, 'resolveHost' | 'countryOf'>>,
): Promise<{ findings: GateFinding[]; resolved: number }> {
  const findings: GateFinding[] = [];
  let resolved = 0;
  for (const [j, jc] of Object.entries(cfg.jurisdictions)) {
    const networks = jc.egress.networks.map((n) => parseCidr(n)).filter((n): n is Cidr => n !== undefined);
    for (const [i, ep] of jc.endpoints.entries()) {
      if (ep.provider !== 'openai-compatible') continue;
      const host = new URL(ep.baseUrl).hostname.replace(/^\[|\]$/g, '');
      const path = `jurisdictions.${j}.endpoints[${i}]`;
      let addresses: string[];
      if (ep.pinnedAddresses && ep.pinnedAddresses.length > 0) addresses = ep.pinnedAddresses;
      else if (isIP(host) !== 0) addresses = [host];
      else {
        try {
          addresses = await opts.resolveHost(host);
          resolved += 1;
        } catch (err) {
          findings.push(
            finding(
              `${path}.baseUrl`,
              'ENDPOINT_RESOLVES_OUTSIDE',
              `Host '${host}' of endpoint '${ep.id}' could not be resolved (${(err as NodeJS.ErrnoException).code ?? 'error'}), so where it points cannot be verified. Fix: run the check where the hosts resolve, pin the endpoint's addresses with pinnedAddresses, or pass --no-dns to check the file alone.`,
            ),
          );
          continue;
        }
      }
      for (const addr of addresses) {
        if (!networks.some((n) => n.contains(addr))) {
          findings.push(
            finding(
              `${path}.baseUrl`,
              'ENDPOINT_RESOLVES_OUTSIDE',
              `Endpoint '${ep.id}' (${host}) resolves to ${addr}, which is outside jurisdictions.${j}.egress.networks; the egress guard would refuse every call. Fix: point the host at a server inside ${j}'s allowed networks, or add that network if it lies inside ${j}.`,
            ),
          );
          continue;
        }
        const c = isPrivateAddress(addr) ? undefined : opts.countryOf(addr);
        if (c !== undefined && !jc.countries.includes(c)) {
          findings.push(
            finding(
              `${path}.baseUrl`,
              'ENDPOINT_RESOLVES_OUTSIDE',
              `Endpoint '${ep.id}' (${host}) resolves to ${addr}, located in ${c}, outside jurisdiction ${j}. Fix: use a model server inside ${j}.`,
            ),
          );
        }
      }
    }
  }
  return { findings, resolved };
}

function crossJurisdictionFindings(cfg: ParsedConfig): GateFinding[] {
  const findings: GateFinding[] = [];
  const entries = Object.entries(cfg.jurisdictions);
  const hostOwner = new Map<string, string>();
  for (const [j, jc] of entries) {
    jc.endpoints.forEach((ep, i) => {
      if (ep.provider !== 'openai-compatible') return;
      const u = new URL(ep.baseUrl);
      const targets = [
        `${u.hostname.toLowerCase()}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`,
        ...(ep.pinnedAddresses ?? []).map((a) => `${a}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`),
      ];
      for (const t of targets) {
        const owner = hostOwner.get(t);
        if (owner && owner !== j) {
          findings.push(
            finding(
              `jurisdictions.${j}.endpoints[${i}].baseUrl`,
              'CROSS_JURISDICTION_FALLBACK',
              `Endpoint '${ep.id}' of ${j} uses ${t}, which also serves ${owner}: ${owner} and ${j} prompts would meet on one server. Fix: give each jurisdiction its own model servers.`,
            ),
          );
        } else hostOwner.set(t, j);
      }
    });
  }
  for (let a = 0; a < entries.length; a++) {
    for (let b = a + 1; b < entries.length; b++) {
      const [ja, ca] = entries[a]!;
      const [jb, cb] = entries[b]!;
      ca.egress.networks.forEach((na) => {
        cb.egress.networks.forEach((nb, k) => {
          const pa = parseCidr(na);
          const pb = parseCidr(nb);
          if (pa && pb && overlaps(pa, pb)) {
            findings.push(
              finding(
                `jurisdictions.${jb}.egress.networks[${k}]`,
                'CROSS_JURISDICTION_FALLBACK',
                `Egress network ${nb} of ${jb} overlaps ${na} of ${ja}: a call that fails over inside one jurisdiction's networks could reach the other's servers. Fix: give each jurisdiction disjoint networks.`,
              ),
            );
          }
        });
      });
      if (ca.egress.proxy && ca.egress.proxy === cb.egress.proxy) {
        findings.push(
          finding(
            `jurisdictions.${jb}.egress.proxy`,
            'CROSS_JURISDICTION_FALLBACK',
            `${ja} and ${jb} share the egress proxy ${cb.egress.proxy}. Fix: give each jurisdiction its own proxy inside it.`,
          ),
        );
      }
      const keyOf = (k: typeof ca.keys): string => (k.provider === 'local' ? `local:${k.path}` : `pkcs11:${k.module}:${k.tokenLabel}`);
      if (keyOf(ca.keys) === keyOf(cb.keys)) {
        findings.push(
          finding(
            `jurisdictions.${jb}.keys`,
            'KEYS_OUTSIDE',
            `${ja} and ${jb} share one key store (${keyOf(cb.keys)}): ${jb}'s data would be encrypted with keys that are not only ${jb}'s. Fix: give each jurisdiction its own keyring or HSM token.`,
          ),
        );
      }
    }
  }
  return findings;
}

function entitlementFindings(cfg: ParsedConfig): GateFinding[] {
  const dep = cfg.deployment.jurisdiction;
  const findings: GateFinding[] = [];
  cfg.tenants.forEach((t, i) => {
    if (!t.jurisdictions.includes(dep)) {
      findings.push(
        finding(
          `tenants[${i}].jurisdictions`,
          'TENANT_NOT_ENTITLED',
          `Tenant '${t.id}' is served by this ${dep} deployment but is entitled only to ${t.jurisdictions.join(', ')}: its requests${t.gatewayKeys.length > 0 ? ' and gateway calls' : ''} would be processed in ${dep}. Fix: remove the tenant from this deployment, or add ${dep} to its jurisdictions if its contract allows it.`,
        ),
      );
    }
  });
  return findings;
}

/**
 * The org against the config: the deployment's jurisdiction must be active in the org, every
 * jurisdiction both know must have the same countries (or the org stamps records the sidecar
 * then quarantines as conflicts), and every stamped object needs an active residency rule.
 */
export function orgFindings(cfg: ParsedConfig, org: OrgResidency): GateFinding[] {
  const out: GateFinding[] = [];
  const active = new Map(
    org.jurisdictions.filter((j) => j.active).map((j) => [j.id.toUpperCase(), new Set(j.countries.map((c) => c.toUpperCase()))]),
  );
  const dep = cfg.deployment.jurisdiction;
  if (!active.has(dep)) {
    out.push(
      finding(
        'deployment.jurisdiction',
        'ORG_MISMATCH',
        `The org has no active Jurisdiction__mdt record ${dep}, so no record is ever stamped ${dep} and no request reaches this deployment. Fix: activate (or deploy) the ${dep} record of the Sovra package in the org.`,
      ),
    );
  }
  for (const [j, jc] of Object.entries(cfg.jurisdictions)) {
    const orgCountries = active.get(j);
    if (!orgCountries) continue;
    const cfgCountries = new Set(jc.countries);
    const onlyOrg = [...orgCountries].filter((c) => !cfgCountries.has(c)).sort();
    const onlyCfg = [...cfgCountries].filter((c) => !orgCountries.has(c)).sort();
    if (onlyOrg.length > 0 || onlyCfg.length > 0) {
      out.push(
        finding(
          `jurisdictions.${j}.countries`,
          'ORG_MISMATCH',
          `Jurisdiction ${j} differs between the org and the config${onlyOrg.length ? `: only the org lists ${onlyOrg.join(', ')}` : ''}${onlyCfg.length ? `${onlyOrg.length ? ';' : ':'} only the config lists ${onlyCfg.join(', ')}` : ''}. Records of those countries would be stamped one way and re-derived another, and quarantined. Fix: make Jurisdiction__mdt.${j} and the config list the same countries.`,
        ),
      );
    }
  }
  for (const [id, countries] of active) {
    if (cfg.jurisdictions[id]) continue;
    for (const [j, jc] of Object.entries(cfg.jurisdictions)) {
      const shared = jc.countries.filter((c) => countries.has(c));
      if (shared.length > 0) {
        out.push(
          finding(
            `jurisdictions.${j}.countries`,
            'ORG_MISMATCH',
            `The org maps ${shared.join(', ')} to jurisdiction ${id}, which the config does not know, while the config maps them to ${j}. Fix: align the org's Jurisdiction__mdt with the config.`,
          ),
        );
      }
    }
  }
  const ruled = new Set(org.rules.filter((r) => r.active).map((r) => r.object));
  for (const object of org.stampedObjects) {
    if (!ruled.has(object)) {
      out.push(
        finding(
          '(org)',
          'ORG_MISMATCH',
          `The org has no active ResidencyRule__mdt for ${object}: its records carry no jurisdiction and every AI request on them is quarantined. Fix: activate the ${object} residency rule of the Sovra package.`,
        ),
      );
    }
  }
  return out;
}

/** Checks a configuration text against every residency rule. */
export async function checkResidencyText(text: string, file: string, options: GateOptions = {}): Promise<GateResult> {
  const empty = { jurisdictions: 0, endpoints: 0, tenants: 0, resolvedHosts: 0 };
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      passed: false,
      file,
      checked: empty,
      findings: doc.errors.map((e) =>
        finding(
          e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '(YAML)',
          'SCHEMA',
          `${e.message.split('\n')[0]} Fix: correct the YAML syntax.`,
        ),
      ),
    };
  }
  const parsed = configSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    return {
      passed: false,
      file,
      checked: empty,
      findings: parsed.error.issues.map((i) =>
        finding(formatPath(i.path), 'SCHEMA', `${i.message} Fix: correct the value (see the configuration reference in README.md).`),
      ),
    };
  }
  const cfg = parsed.data;
  const geo = options.countryOf ?? ((ip: string) => geoLookup().country(ip));
  const findings: GateFinding[] = residencyIssues(cfg, geo).map((i) => finding(formatPath(i.path), i.rule, i.message));
  findings.push(...entitlementFindings(cfg), ...crossJurisdictionFindings(cfg));
  if (options.org) findings.push(...orgFindings(cfg, options.org));
  let resolvedHosts = 0;
  if (options.dns !== false) {
    const d = await dnsFindings(cfg, { resolveHost: options.resolveHost ?? defaultResolve, countryOf: geo });
    findings.push(...d.findings);
    resolvedHosts = d.resolved;
  }
  const endpoints = Object.values(cfg.jurisdictions).reduce((n, j) => n + j.endpoints.length, 0);
  return {
    passed: findings.length === 0,
    file,
    findings,
    checked: { jurisdictions: Object.keys(cfg.jurisdictions).length, endpoints, tenants: cfg.tenants.length, resolvedHosts },
  };
}

export async function checkResidencyFile(file: string, options: GateOptions = {}): Promise<GateResult> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return {
      passed: false,
      file,
      checked: { jurisdictions: 0, endpoints: 0, tenants: 0, resolvedHosts: 0 },
      findings: [
        finding(
          '',
          'SCHEMA',
          `The file cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}). Fix: pass the path of a deployment config.`,
        ),
      ],
    };
  }
  return checkResidencyText(text, file, options);
}
