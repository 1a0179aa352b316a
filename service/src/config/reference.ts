/**
 * The configuration reference in README.md is generated from the zod schema, so it cannot
 * drift: every key the schema accepts must have a description here (a test holds README.md
 * to the generated text; `npm run docs:config` rewrites it).
 */
import { z } from 'zod';
import { configSchema } from './schema.js';

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  required?: string[];
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  pattern?: string;
  format?: string;
};

const RECORD_KEYS: Record<string, string> = {
  regions: '<site>',
  jurisdictions: '<J>',
  'classification.fields': '<Object.Field>',
};

export const CONFIG_DESCRIPTIONS: Record<string, string> = {
  deployment: 'This sidecar: which jurisdiction it serves and where it runs.',
  'deployment.name': 'A name for this deployment, shown in health output and logs.',
  'deployment.jurisdiction':
    'The one jurisdiction this sidecar serves (must be defined under `jurisdictions`). Records of any other jurisdiction are quarantined.',
  'deployment.region':
    'Where this sidecar runs (cloud region or your own site); must lie inside the deployment jurisdiction. Written on every audit entry as the processing region.',
  regions: 'Your own sites and their ISO country, e.g. `fra-dc1: DE`. AWS, Google Cloud and Azure regions are built in.',
  'regions.<site>': 'ISO 3166-1 alpha-2 country of the site.',
  jurisdictions: 'Every jurisdiction this deployment knows, by id (EU, US, UK …).',
  'jurisdictions.<J>': 'One jurisdiction.',
  'jurisdictions.<J>.countries': 'Member countries (ISO 3166-1 alpha-2). Regions, networks and geo-fencing are checked against them.',
  'jurisdictions.<J>.endpoints':
    'Model endpoints pinned to this jurisdiction. Requests of this jurisdiction go only to these; there is no fallback to another jurisdiction.',
  'jurisdictions.<J>.endpoints[].id': 'Endpoint id, unique across the config; appears in audit entries and metrics.',
  'jurisdictions.<J>.endpoints[].region': 'Where the model server runs; must lie inside the jurisdiction.',
  'jurisdictions.<J>.endpoints[].model': 'Model name sent to the server (or a label for embedded models).',
  'jurisdictions.<J>.endpoints[].priority': 'Lower is preferred; health and measured latency decide among equals.',
  'jurisdictions.<J>.endpoints[].timeoutMs': 'Timeout of one model call.',
  'jurisdictions.<J>.endpoints[].maxRetries':
    'Retries on this endpoint (with jittered backoff) before failing over to another endpoint of the same jurisdiction.',
  'jurisdictions.<J>.endpoints[].provider':
    '`openai-compatible` (vLLM, Ollama, llama.cpp server, TGI, LM Studio) or `embedded` (node-llama-cpp in-process).',
  'jurisdictions.<J>.endpoints[].baseUrl':
    '(openai-compatible) Base URL of the API, e.g. `https://llm.eu.internal/v1`. Its host must be in `egress.hosts` (or its address in `egress.networks`).',
  'jurisdictions.<J>.endpoints[].apiKey': '(openai-compatible) API key as `{ env: NAME }` or `{ file: path }`.',
  'jurisdictions.<J>.endpoints[].pinnedAddresses':
    '(openai-compatible) Addresses to connect to instead of resolving the host; each must be inside `egress.networks`.',
  'jurisdictions.<J>.endpoints[].modelPath': '(embedded) GGUF model file, relative to the config file; `SOVRA_MODEL_PATH` overrides it.',
  'jurisdictions.<J>.endpoints[].contextSize': '(embedded) Context size in tokens.',
  'jurisdictions.<J>.endpoints[].maxTokens': '(embedded) Most tokens generated per answer.',
  'jurisdictions.<J>.endpoints[].threads': '(embedded) CPU threads; keep 1 on small machines.',
  'jurisdictions.<J>.egress':
    'Where outbound model calls of this jurisdiction may go. Every resolved address is checked; redirects are refused.',
  'jurisdictions.<J>.egress.networks': 'Allowed networks (CIDR). Public networks must geolocate inside the jurisdiction.',
  'jurisdictions.<J>.egress.hosts': 'Host names endpoints may use.',
  'jurisdictions.<J>.egress.proxy': 'An explicit egress proxy inside the jurisdiction; proxy environment variables are ignored otherwise.',
  'jurisdictions.<J>.keys': "This jurisdiction's key store; must lie inside it.",
  'jurisdictions.<J>.keys.provider': '`local` (keyring file, one machine) or `pkcs11` (an HSM).',
  'jurisdictions.<J>.keys.region': 'Where the keys are held.',
  'jurisdictions.<J>.keys.path': '(local) Keyring file, created with mode 0600 on first start.',
  'jurisdictions.<J>.keys.masterKey': '(local) Optional key wrapping the keyring file, as `{ env }` or `{ file }`.',
  'jurisdictions.<J>.keys.module': '(pkcs11) Path of the PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`.',
  'jurisdictions.<J>.keys.tokenLabel': "(pkcs11) Label of the token holding this jurisdiction's keys.",
  'jurisdictions.<J>.keys.pin': '(pkcs11) User PIN as `{ env }` or `{ file }`.',
  tenants: 'Salesforce orgs served by this sidecar.',
  'tenants[].id': 'Tenant id (lower-case); every stored row and audit chain carries it.',
  'tenants[].orgId': 'Salesforce org id (00D…).',
  'tenants[].loginUrl': 'Login URL for the JWT bearer flow (`https://login.salesforce.com`, `https://test.salesforce.com` or My Domain).',
  'tenants[].auth': 'OAuth 2.0 JWT bearer flow of the integration user.',
  'tenants[].auth.clientId': "The connected app's consumer key.",
  'tenants[].auth.username': 'The integration user (assigned the SovraIntegration permission set).',
  'tenants[].auth.privateKey': 'Private key whose certificate is on the connected app, as `{ env }` or `{ file }`.',
  'tenants[].namespace': '`sovra` for the managed package, empty for an unpackaged dev org.',
  'tenants[].jurisdictions': 'Jurisdictions this tenant may use.',
  'tenants[].apiReserve': "Share of the org's daily API limit left untouched: work slows as usage nears it.",
  'tenants[].gatewayKeys': 'Gateway API keys of this tenant, stored as SHA-256 digests.',
  'tenants[].gatewayKeys[].id': 'Key id, shown in audit entries.',
  'tenants[].gatewayKeys[].sha256': 'SHA-256 (hex) of the key.',
  store: 'Where requests, claims, the outbox, token maps and the audit chain are kept.',
  'store.kind': '`sqlite` (one machine) or `postgres` (replicas sharing work).',
  'store.path': '(sqlite) Database file, relative to the config file.',
  'store.url': '(postgres) Connection URL as `{ env }` or `{ file }`.',
  'store.region': 'Where the store lives; must lie inside the deployment jurisdiction.',
  'store.backup': 'Backup target of the store.',
  'store.backup.target': 'Backup location (URL or path).',
  'store.backup.region': 'Where backups are kept; must lie inside the deployment jurisdiction.',
  'store.poolSize': '(postgres) Connection pool size.',
  'store.leaseSeconds': '(postgres) How long a replica holds claimed work before another may take it over.',
  http: 'The HTTP face: health, metrics and the gateway.',
  'http.host': 'Address to listen on.',
  'http.port': 'Port (0 picks a free one); `SOVRA_HTTP_PORT` overrides it.',
  'http.geofence': 'Who may call the gateway, by address and country.',
  'http.geofence.enabled': 'Whether geo-fencing is applied.',
  'http.geofence.allowCidrs': 'Client networks always allowed.',
  'http.geofence.denyCidrs': 'Client networks always refused (checked first).',
  'http.geofence.countries': "Client countries allowed; defaults to the deployment jurisdiction's countries.",
  'http.geofence.allowPrivate': 'Whether private and loopback clients (no country) may call.',
  'http.geofence.trustedProxies': 'Proxies whose `X-Forwarded-For` is believed; from anyone else it is ignored.',
  'http.geofence.database': 'A MaxMind-format country database; defaults to the bundled GeoLite2 data.',
  intake: 'How requests arrive from Salesforce.',
  'intake.sweepIntervalSeconds': 'How often the sweep looks for requests still `Queued`.',
  'intake.sweepMinAgeSeconds': 'Age after which a `Queued` request is picked up by the sweep.',
  'intake.replayRetentionHours':
    "The org's event retention window; a stored replayId older than this falls back to the sweep and is recorded as an incident.",
  'intake.batchSize': 'Requests fetched and processed together.',
  'intake.concurrency': 'Requests processed at once.',
  classification: 'Field classification overrides and defaults.',
  'classification.unclassifiedHandling': 'Handling of a field nobody classified: `drop` or `tokenize`, never `allow`.',
  'classification.fields': 'Per-field overrides, keyed `Object.Field`.',
  'classification.fields.<Object.Field>': 'One field override.',
  'classification.fields.<Object.Field>.classification': 'Sensitivity: Public, Internal, Confidential, Restricted, MissionCritical.',
  'classification.fields.<Object.Field>.handling': '`allow`, `tokenize` or `drop`.',
  'classification.tokenTtlSeconds': "How long a request's token map is kept (encrypted) for detokenizing.",
  audit: 'The tamper-evident audit trail.',
  'audit.checkpointEvery': 'Entries per signed checkpoint.',
  'audit.checkpointIntervalSeconds': 'Longest time between signed checkpoints.',
  log: 'Logging (structured JSON; never prompts, answers or field values).',
  'log.level': '`error`, `warn`, `info` or `debug`.',
  'log.sinks': 'Where log lines go.',
  'log.sinks[].kind': '`stdout`, `file` or `http`.',
  'log.sinks[].path': '(file) Log file.',
  'log.sinks[].url': '(http) HTTPS collector URL.',
  'log.sinks[].region': '(file, http) Where the logs are kept; must lie inside the deployment jurisdiction.',
};

export interface ReferenceRow {
  path: string;
  type: string;
  required: boolean;
  default?: string;
  description: string;
}

function typeOf(s: JsonSchema): string {
  if (s.anyOf && s.anyOf.every((a) => a.properties && ('env' in a.properties || 'file' in a.properties))) return 'secret';
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((e) => JSON.stringify(e)).join(' \\| ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties) return 'map';
  if (s.oneOf)
    return s.oneOf
      .map(typeOf)
      .filter((v, i, a) => a.indexOf(v) === i)
      .join(' \\| ');
  return Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
}

function walk(s: JsonSchema, path: string, required: boolean, rows: Map<string, ReferenceRow>): void {
  if (path) {
    const existing = rows.get(path);
    const variantType = typeOf(s);
    if (existing) {
      if (!existing.type.split(' \\| ').includes(variantType)) existing.type = `${existing.type} \\| ${variantType}`;
    } else {
      const description = CONFIG_DESCRIPTIONS[path];
      if (description === undefined) throw new Error(`Configuration key '${path}' has no description in service/src/config/reference.ts.`);
      rows.set(path, {
        path,
        type: variantType,
        required,
        ...(s.default !== undefined && typeof s.default !== 'object' ? { default: JSON.stringify(s.default) } : {}),
        description,
      });
    }
  }
  if (typeOf(s) === 'secret') return;
  const variants = s.oneOf ?? s.anyOf;
  if (variants) {
    for (const v of variants) walkChildren(v, path, rows);
    return;
  }
  walkChildren(s, path, rows);
}

function walkChildren(s: JsonSchema, path: string, rows: Map<string, ReferenceRow>): void {
  if (s.properties) {
    for (const [k, child] of Object.entries(s.properties)) {
      walk(child, path ? `${path}.${k}` : k, (s.required ?? []).includes(k), rows);
    }
  } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    walk(s.additionalProperties, `${path}.${RECORD_KEYS[path] ?? '<key>'}`, true, rows);
  } else if (s.type === 'array' && s.items && (s.items.properties || s.items.oneOf)) {
    const items = s.items;
    if (items.oneOf) for (const v of items.oneOf) walkChildren(v, `${path}[]`, rows);
    else walkChildren(items, `${path}[]`, rows);
  }
}

export function configReferenceRows(): ReferenceRow[] {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows = new Map<string, ReferenceRow>();
  walkChildren(schema, '', rows);
  return [...rows.values()];
}

/** The Markdown table for README.md's configuration reference. */
export function configReferenceMarkdown(): string {
  const lines = ['| key | type | required | default | what it does |', '| --- | --- | --- | --- | --- |'];
  for (const r of configReferenceRows()) {
    lines.push(`| \`${r.path}\` | ${r.type} | ${r.required ? 'yes' : ''} | ${r.default ? `\`${r.default}\`` : ''} | ${r.description} |`);
  }
  return lines.join('\n');
}
