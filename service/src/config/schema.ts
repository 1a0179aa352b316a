/**
 * The deployment configuration, one zod schema. Residency is enforced here, not left to
 * honour: a model endpoint, key provider, store, backup target, log sink or egress network
 * outside its jurisdiction fails validation, naming the path and the fix. Every object is
 * strict, so a misspelt key (or a `fallback:` to another jurisdiction) is an error, not a
 * silently ignored setting.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { FIELD_HANDLINGS, SECURITY_CLASSIFICATIONS } from '../shared/schema.js';
import { ISO_COUNTRIES } from './countries.js';
import { parseCidr, isPrivateOrLocal, type Cidr } from './cidr.js';
import { regionCountry } from './regions.js';

const JURISDICTION_ID = /^[A-Z]{2,8}$/;
const ENDPOINT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A secret is never written into the config: it names an environment variable or a file. */
export const secretRefSchema = z.union(
  [
    z.strictObject({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name (A-Z, 0-9, _)') }),
    z.strictObject({ file: z.string().min(1) }),
  ],
  {
    error: 'must be { env: NAME } or { file: path } — secrets never sit in the config itself',
  },
);
export type SecretRef = z.infer<typeof secretRefSchema>;

const country = z
  .string()
  .transform((s) => s.toUpperCase())
  .refine((s) => ISO_COUNTRIES.has(s), {
    error: (i) => `'${String(i.input)}' is not an ISO 3166-1 alpha-2 country code (e.g. DE, FR, US, GB)`,
  });

const cidr = z.string().refine((s) => parseCidr(s) !== undefined, {
  error: (i) => `'${String(i.input)}' is not a CIDR network; write it like 10.20.0.0/16, 203.0.113.7/32 or 2001:db8::/32`,
});

const hostName = z
  .string()
  .min(1)
  .refine((s) => isIP(s) !== 0 || /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(s), {
    error: (i) => `'${String(i.input)}' is not a host name or IP address`,
  });

const region = z
  .string()
  .min(1, 'a region id is required (e.g. eu-central-1, europe-west3, germanywestcentral, or one of your own under regions:)');

const endpointCommon = {
  id: z.string().regex(ENDPOINT_ID, 'endpoint ids are lower-case letters, digits and dashes (e.g. eu-vllm-1)'),
  region,
  model: z.string().min(1),
  priority: z.number().int().min(0).default(100),
  timeoutMs: z.number().int().positive().max(600_000).default(60_000),
  maxRetries: z.number().int().min(0).max(5).default(2),
};

const openAiEndpoint = z.strictObject({
  ...endpointCommon,
  provider: z.literal('openai-compatible'),
  baseUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL of the OpenAI-compatible API, e.g. https://llm.eu.internal/v1' }),
  apiKey: secretRefSchema.optional(),
  /** Pin the host to these addresses instead of resolving it (each must be in the allowed networks). */
  pinnedAddresses: z.array(z.string().refine((s) => isIP(s) !== 0, 'must be an IP address')).optional(),
});

const embeddedEndpoint = z.strictObject({
  ...endpointCommon,
  provider: z.literal('embedded'),
  /** GGUF file; relative paths are resolved against the config file's folder. */
  modelPath: z.string().min(1),
  contextSize: z.number().int().positive().max(131072).default(512),
  maxTokens: z.number().int().positive().max(8192).default(128),
  threads: z.number().int().positive().max(64).default(1),
});

export const endpointSchema = z.discriminatedUnion('provider', [openAiEndpoint, embeddedEndpoint], {
  error:
    "provider must be 'openai-compatible' (vLLM, Ollama, llama.cpp server, TGI, LM Studio) or 'embedded' (node-llama-cpp with a GGUF file)",
});
export type EndpointConfig = z.infer<typeof endpointSchema>;

const localKeys = z.strictObject({
  provider: z.literal('local'),
  region,
  /** Keyring file, created on first start with mode 0600; relative to the config file. */
  path: z.string().min(1),
  /** Key that wraps the keyring file itself (optional; without it the file relies on its mode). */
  masterKey: secretRefSchema.optional(),
});
const pkcs11Keys = z.strictObject({
  provider: z.literal('pkcs11'),
  region,
  /** The PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  module: z.string().min(1),
  tokenLabel: z.string().min(1).max(32),
  pin: secretRefSchema,
});
export const keysSchema = z.discriminatedUnion('provider', [localKeys, pkcs11Keys], {
  error: "keys.provider must be 'local' (keyring file) or 'pkcs11' (HSM)",
});
export type KeysConfig = z.infer<typeof keysSchema>;

export const jurisdictionSchema = z.strictObject({
  countries: z.array(country).min(1, 'a jurisdiction needs at least one member country'),
  endpoints: z.array(endpointSchema).min(1, 'a jurisdiction needs at least one model endpoint inside it'),
  egress: z
    .strictObject({
      /** Networks outbound model calls may reach (resolved addresses are checked against these). */
      networks: z.array(cidr).default([]),
      /** Host names outbound model calls may name. */
      hosts: z.array(hostName).default([]),
      /** An explicit egress proxy; proxy environment variables are ignored otherwise. */
      proxy: z.url({ protocol: /^https?$/ }).optional(),
    })
    .default({ networks: [], hosts: [] }),
  keys: keysSchema,
});
export type JurisdictionConfig = z.infer<typeof jurisdictionSchema>;

export const tenantSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'tenant ids are lower-case letters, digits and dashes'),
  orgId: z.string().regex(/^00D[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$/, 'must be a Salesforce org id (15 or 18 characters starting 00D)'),
  loginUrl: z.url({ protocol: /^https?$/ }).default('https://login.salesforce.com'),
  auth: z.strictObject({
    clientId: z.string().min(1, "the connected app's consumer key"),
    username: z.string().min(3, 'the integration user (e.g. sovra-integration@acme.com)'),
    privateKey: secretRefSchema,
  }),
  /** `sovra` for the managed package; '' for an unpackaged dev org. */
  namespace: z
    .string()
    .regex(/^([A-Za-z][A-Za-z0-9]{0,14})?$/)
    .default('sovra'),
  jurisdictions: z.array(z.string()).min(1, 'name the jurisdictions this tenant may use'),
  /** Share of the org's daily API limit kept free: work slows as usage nears the limit. */
  apiReserve: z.number().min(0).max(0.9).default(0.1),
  /** Gateway API keys, stored as SHA-256 hex digests (create with `sovra gateway key`). */
  gatewayKeys: z.array(z.strictObject({ id: z.string().min(1), sha256: z.string().regex(/^[a-f0-9]{64}$/) })).default([]),
});
export type TenantConfig = z.infer<typeof tenantSchema>;

const storeSqlite = z.strictObject({
  kind: z.literal('sqlite'),
  path: z.string().min(1),
  region,
  backup: z.strictObject({ target: z.string().min(1), region }).optional(),
});
const storePostgres = z.strictObject({
  kind: z.literal('postgres'),
  url: secretRefSchema,
  region,
  backup: z.strictObject({ target: z.string().min(1), region }).optional(),
  poolSize: z.number().int().positive().max(100).default(10),
  leaseSeconds: z.number().int().positive().max(3600).default(60),
});
export const storeSchema = z.discriminatedUnion('kind', [storeSqlite, storePostgres], {
  error: "store.kind must be 'sqlite' (one machine) or 'postgres' (replicas)",
});
export type StoreConfig = z.infer<typeof storeSchema>;

export const httpSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  geofence: z
    .strictObject({
      enabled: z.boolean().default(true),
      allowCidrs: z.array(cidr).default([]),
      denyCidrs: z.array(cidr).default([]),
      /** Client countries allowed; defaults to the deployment jurisdiction's countries. */
      countries: z.array(country).optional(),
      /** Whether private and loopback clients (no country) may call. */
      allowPrivate: z.boolean().default(true),
      /** Proxies whose X-Forwarded-For is believed. */
      trustedProxies: z.array(cidr).default([]),
      /** A MaxMind-format country database; defaults to the bundled GeoLite2 country data. */
      database: z.string().optional(),
    })
    .default({ enabled: true, allowCidrs: [], denyCidrs: [], allowPrivate: true, trustedProxies: [] }),
});

const logSink = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('stdout') }),
  z.strictObject({ kind: z.literal('file'), path: z.string().min(1), region }),
  z.strictObject({ kind: z.literal('http'), url: z.url({ protocol: /^https$/ }), region }),
]);

export const configSchema = z.strictObject({
  deployment: z.strictObject({
    name: z.string().min(1).default('sovra'),
    jurisdiction: z.string().regex(JURISDICTION_ID, 'jurisdiction ids are 2–8 upper-case letters (EU, US, UK)'),
    /** Where this sidecar runs: its processing region, written on every audit entry. */
    region,
  }),
  /** Your own sites: region id → ISO country (e.g. fra-dc1: DE). Cloud regions are built in. */
  regions: z.record(z.string().min(1), country).default({}),
  jurisdictions: z.record(
    z.string().regex(JURISDICTION_ID, 'jurisdiction ids are 2–8 upper-case letters (EU, US, UK)'),
    jurisdictionSchema,
  ),
  tenants: z.array(tenantSchema).default([]),
  store: storeSchema,
  http: httpSchema.default({
    host: '127.0.0.1',
    port: 8080,
    geofence: { enabled: true, allowCidrs: [], denyCidrs: [], allowPrivate: true, trustedProxies: [] },
  }),
  intake: z
    .strictObject({
      sweepIntervalSeconds: z.number().int().positive().default(30),
      sweepMinAgeSeconds: z.number().int().min(0).default(60),
      replayRetentionHours: z.number().positive().default(72),
      batchSize: z.number().int().positive().max(200).default(50),
      concurrency: z.number().int().positive().max(64).default(4),
    })
    .default({ sweepIntervalSeconds: 30, sweepMinAgeSeconds: 60, replayRetentionHours: 72, batchSize: 50, concurrency: 4 }),
  classification: z
    .strictObject({
      /** Handling of a field nobody classified: never `allow`. */
      unclassifiedHandling: z.enum(['tokenize', 'drop']).default('drop'),
      fields: z
        .record(
          z.string().regex(/^[A-Za-z][\w]*\.[A-Za-z][\w]*$/, "keys are 'Object.Field' API names"),
          z.strictObject({ classification: z.enum(SECURITY_CLASSIFICATIONS).optional(), handling: z.enum(FIELD_HANDLINGS) }),
        )
        .default({}),
      tokenTtlSeconds: z.number().int().positive().default(86_400),
    })
    .default({ unclassifiedHandling: 'drop', fields: {}, tokenTtlSeconds: 86_400 }),
  audit: z
    .strictObject({
      checkpointEvery: z.number().int().positive().default(500),
      checkpointIntervalSeconds: z.number().int().positive().default(300),
    })
    .default({ checkpointEvery: 500, checkpointIntervalSeconds: 300 }),
  log: z
    .strictObject({
      level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
      sinks: z.array(logSink).default([{ kind: 'stdout' }]),
    })
    .default({ level: 'info', sinks: [{ kind: 'stdout' }] }),
});

export type SovraConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.infer<typeof configSchema>;

/** An address-country lookup for public egress networks (the bundled GeoLite2 data). */
export type CountryOf = (ip: string) => string | undefined;

/** A residency finding: where, which rule it breaks, and the message with its fix. */
export type ResidencyIssue = { path: (string | number)[]; rule: ResidencyRule; message: string };
type Issue = ResidencyIssue;

/** The rules of the residency gate (`sovra policy check` prints them with each finding). */
export const RESIDENCY_RULES = {
  UNKNOWN_REGION: "A region must be a known cloud region or one of the deployment's own sites.",
  DEPLOYMENT_OUTSIDE: 'The sidecar must run inside the jurisdiction it serves.',
  UNDEFINED_JURISDICTION: 'Every jurisdiction named must be defined.',
  ENDPOINT_OUTSIDE: 'A model endpoint must run inside its jurisdiction.',
  KEYS_OUTSIDE: "A jurisdiction's key provider must sit inside it.",
  STORE_OUTSIDE: "The store and its backups must sit inside the deployment's jurisdiction.",
  LOG_SINK_OUTSIDE: "Log sinks must sit inside the deployment's jurisdiction.",
  EGRESS_NETWORK_OUTSIDE: 'Allowed egress networks must lie inside the jurisdiction.',
  ENDPOINT_NOT_ALLOWED: "An endpoint's host or address must be among its jurisdiction's allowed egress hosts and networks.",
  ENDPOINT_RESOLVES_OUTSIDE: "Every address an endpoint's host resolves to must lie in its jurisdiction's allowed networks.",
  PROXY_OUTSIDE: 'An egress proxy must sit inside the jurisdiction.',
  DUPLICATE_ID: 'Endpoint and tenant ids must be unique.',
  GEOFENCE_OUTSIDE: "Geo-fencing may only admit countries of the deployment's jurisdiction.",
  TENANT_NOT_ENTITLED: 'A tenant may only reach jurisdictions it is entitled to.',
  CROSS_JURISDICTION_FALLBACK: 'No model server, network or proxy may be shared between jurisdictions, so no failover can cross one.',
  ORG_MISMATCH: "The org's Jurisdiction__mdt and residency rules must agree with the deployment config.",
  SCHEMA: 'The configuration must match the schema.',
} as const;
export type ResidencyRule = keyof typeof RESIDENCY_RULES;

/**
 * Residency rules the per-field schema cannot express. Returns issues with paths; the caller
 * turns them into one error listing each with its fix.
 */
export function residencyIssues(cfg: ParsedConfig, countryOf?: CountryOf): Issue[] {
  const issues: Issue[] = [];
  const where = (r: string): string | undefined => regionCountry(r, cfg.regions);
  const jurs = cfg.jurisdictions;

  const checkRegion = (path: (string | number)[], r: string, j: string, what: string, rule: ResidencyRule): void => {
    const c = where(r);
    const jc = jurs[j];
    if (!jc) return;
    if (c === undefined) {
      issues.push({
        path,
        rule: 'UNKNOWN_REGION',
        message: `${what} is in region '${r}', which Sovra does not know. Fix: use a cloud region id (e.g. eu-central-1, europe-west3, germanywestcentral) or declare your site under regions: (e.g. regions: { ${r}: DE }).`,
      });
    } else if (!jc.countries.includes(c)) {
      issues.push({
        path,
        rule,
        message: `${what} is declared in '${r}' (${c}), which is outside jurisdiction ${j} (${jc.countries.join(', ')}). Fix: use a region inside ${j}, or move it to the jurisdiction that covers ${c}.`,
      });
    }
  };

  const dep = cfg.deployment.jurisdiction;
  if (!jurs[dep]) {
    issues.push({
      path: ['deployment', 'jurisdiction'],
      rule: 'UNDEFINED_JURISDICTION',
      message: `jurisdiction '${dep}' is not defined. Fix: add it under jurisdictions: or use one of ${Object.keys(jurs).join(', ') || '(none defined)'}.`,
    });
  } else {
    checkRegion(['deployment', 'region'], cfg.deployment.region, dep, 'This sidecar', 'DEPLOYMENT_OUTSIDE');
  }

  const seenEndpoints = new Map<string, string>();
  for (const [j, jc] of Object.entries(jurs)) {
    const base = ['jurisdictions', j];
    checkRegion([...base, 'keys', 'region'], jc.keys.region, j, `The ${jc.keys.provider} key provider`, 'KEYS_OUTSIDE');
    const networks: Cidr[] = [];
    jc.egress.networks.forEach((n, i) => {
      const parsed = parseCidr(n);
      if (!parsed) return;
      networks.push(parsed);
      if (!isPrivateOrLocal(parsed) && countryOf) {
        const c = countryOf(parsed.first);
        if (c !== undefined && !jc.countries.includes(c)) {
          issues.push({
            path: [...base, 'egress', 'networks', i],
            rule: 'EGRESS_NETWORK_OUTSIDE',
            message: `Egress network ${n} is located in ${c}, outside jurisdiction ${j} (${jc.countries.join(', ')}). Fix: allow only networks inside ${j}.`,
          });
        }
      }
    });
    jc.endpoints.forEach((ep, i) => {
      const path = [...base, 'endpoints', i];
      const prev = seenEndpoints.get(ep.id);
      if (prev)
        issues.push({
          path: [...path, 'id'],
          rule: 'DUPLICATE_ID',
          message: `Endpoint id '${ep.id}' is already used in ${prev}. Fix: give every endpoint its own id (ids appear in the audit trail).`,
        });
      seenEndpoints.set(ep.id, `jurisdictions.${j}`);
      checkRegion([...path, 'region'], ep.region, j, `Endpoint '${ep.id}'`, 'ENDPOINT_OUTSIDE');
      if (ep.provider === 'openai-compatible') {
        const host = new URL(ep.baseUrl).hostname.replace(/^\[|\]$/g, '');
        if (isIP(host) !== 0) {
          if (!networks.some((n) => n.contains(host))) {
            issues.push({
              path: [...path, 'baseUrl'],
              rule: 'ENDPOINT_NOT_ALLOWED',
              message: `Endpoint '${ep.id}' points at ${host}, which is not inside jurisdictions.${j}.egress.networks. Fix: add the endpoint's network there, or point it at a model server inside ${j}.`,
            });
          }
        } else if (!jc.egress.hosts.map((h) => h.toLowerCase()).includes(host.toLowerCase())) {
          issues.push({
            path: [...path, 'baseUrl'],
            rule: 'ENDPOINT_NOT_ALLOWED',
            message: `Endpoint '${ep.id}' names host '${host}', which is not listed in jurisdictions.${j}.egress.hosts. Fix: add it there (its resolved addresses must also be in egress.networks).`,
          });
        }
        if (isIP(host) === 0 && jc.egress.networks.length === 0) {
          issues.push({
            path: [...base, 'egress', 'networks'],
            rule: 'ENDPOINT_NOT_ALLOWED',
            message: `Endpoint '${ep.id}' is reached by host name, but jurisdiction ${j} allows no networks, so every resolved address would be refused. Fix: list the networks of ${j}'s model servers under egress.networks.`,
          });
        }
        (ep.pinnedAddresses ?? []).forEach((a, k) => {
          if (!networks.some((n) => n.contains(a))) {
            issues.push({
              path: [...path, 'pinnedAddresses', k],
              rule: 'ENDPOINT_RESOLVES_OUTSIDE',
              message: `Pinned address ${a} is outside jurisdictions.${j}.egress.networks. Fix: pin only addresses inside ${j}'s allowed networks.`,
            });
          }
        });
      }
    });
    if (jc.egress.proxy) {
      const ph = new URL(jc.egress.proxy).hostname.replace(/^\[|\]$/g, '');
      if (isIP(ph) !== 0 ? !networks.some((n) => n.contains(ph)) : !jc.egress.hosts.includes(ph)) {
        issues.push({
          path: [...base, 'egress', 'proxy'],
          rule: 'PROXY_OUTSIDE',
          message: `Egress proxy ${ph} is not inside jurisdiction ${j}'s allowed networks or hosts. Fix: use a proxy inside ${j}, or none.`,
        });
      }
    }
  }

  cfg.tenants.forEach((t, i) => {
    t.jurisdictions.forEach((j, k) => {
      if (!jurs[j]) {
        issues.push({
          path: ['tenants', i, 'jurisdictions', k],
          rule: 'UNDEFINED_JURISDICTION',
          message: `Tenant '${t.id}' names jurisdiction '${j}', which is not defined. Fix: use one of ${Object.keys(jurs).join(', ')} or define '${j}' under jurisdictions:.`,
        });
      }
    });
  });
  const ids = new Set<string>();
  cfg.tenants.forEach((t, i) => {
    if (ids.has(t.id))
      issues.push({
        path: ['tenants', i, 'id'],
        rule: 'DUPLICATE_ID',
        message: `Tenant id '${t.id}' appears twice. Fix: tenant ids must be unique.`,
      });
    ids.add(t.id);
  });

  if (jurs[dep]) {
    checkRegion(['store', 'region'], cfg.store.region, dep, `The ${cfg.store.kind} store`, 'STORE_OUTSIDE');
    if (cfg.store.backup)
      checkRegion(['store', 'backup', 'region'], cfg.store.backup.region, dep, 'The store backup target', 'STORE_OUTSIDE');
    cfg.log.sinks.forEach((s, i) => {
      if (s.kind !== 'stdout') checkRegion(['log', 'sinks', i, 'region'], s.region, dep, `Log sink ${s.kind}`, 'LOG_SINK_OUTSIDE');
    });
    const countries = cfg.http.geofence.countries;
    countries?.forEach((c, i) => {
      if (!jurs[dep]!.countries.includes(c)) {
        issues.push({
          path: ['http', 'geofence', 'countries', i],
          rule: 'GEOFENCE_OUTSIDE',
          message: `Geo-fence country ${c} is outside this deployment's jurisdiction ${dep}. Fix: allow only countries of ${dep}.`,
        });
      }
    });
  }
  return issues;
}
