/**
 * Reads a deployment config (YAML) once at start-up: parse, validate with the zod schema and
 * the residency rules, resolve relative paths against the config file's folder, apply the few
 * environment overrides. Every problem is reported with its path and its fix, all at once.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { SovraError } from '../shared/errors.js';
import { geoLookup } from '../shared/geo.js';
import { configSchema, residencyIssues, type ParsedConfig } from './schema.js';

export type ConfigIssue = {
  /** Dotted path into the config, e.g. `jurisdictions.EU.endpoints[1].region`. */
  path: string;
  message: string;
};

export class ConfigError extends SovraError {
  readonly issues: ConfigIssue[];
  readonly source: string;
  constructor(source: string, issues: ConfigIssue[]) {
    const n = issues.length;
    super(
      'validation',
      `Configuration ${source} is invalid (${n} problem${n === 1 ? '' : 's'}):\n${issues.map((i) => `  - ${i.path || '(top level)'}: ${i.message}`).join('\n')}`,
      {
        code: 'CONFIG_INVALID',
        fix: 'Correct each path listed above; `sovra config validate --config <file>` checks a file without starting anything.',
        details: { source, issues: n },
      },
    );
    this.issues = issues;
    this.source = source;
  }
}

export interface SovraConfig extends ParsedConfig {
  /** The file it came from (or a label for built-in configs) and its folder. */
  readonly source: string;
  readonly baseDir: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

function describeZodIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `is required (expected ${issue.expected}).`;
      return `expected ${issue.expected}, found ${Array.isArray(issue.input) ? 'a list' : typeof issue.input}.`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}. Fix: remove ${issue.keys.length > 1 ? 'them' : 'it'} or correct the spelling (see the configuration reference in README.md).`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}.`;
    default:
      return issue.message.endsWith('.') ? issue.message : `${issue.message}.`;
  }
}

/** Validates an already-parsed object. Throws ConfigError listing every problem. */
export function validateConfig(raw: unknown, source: string, baseDir: string, env: NodeJS.ProcessEnv = process.env): SovraConfig {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      source,
      parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: describeZodIssue(i) })),
    );
  }
  const cfg = parsed.data;
  const geo = geoLookup();
  const residency = residencyIssues(cfg, (ip) => geo.country(ip));
  if (residency.length > 0)
    throw new ConfigError(
      source,
      residency.map((i) => ({ path: formatPath(i.path), message: i.message })),
    );
  return resolvePaths({ ...cfg, source, baseDir }, env);
}

function resolvePaths(cfg: SovraConfig, env: NodeJS.ProcessEnv): SovraConfig {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(cfg.baseDir, p));
  const modelOverride = env.SOVRA_MODEL_PATH;
  const jurisdictions = Object.fromEntries(
    Object.entries(cfg.jurisdictions).map(([j, jc]) => [
      j,
      {
        ...jc,
        keys: jc.keys.provider === 'local' ? { ...jc.keys, path: abs(jc.keys.path) } : jc.keys,
        endpoints: jc.endpoints.map((ep) =>
          ep.provider === 'embedded' ? { ...ep, modelPath: modelOverride ? resolve(modelOverride) : abs(ep.modelPath) } : ep,
        ),
      },
    ]),
  );
  const store =
    cfg.store.kind === 'sqlite' ? { ...cfg.store, path: cfg.store.path === ':memory:' ? ':memory:' : abs(cfg.store.path) } : cfg.store;
  const port = env.SOVRA_HTTP_PORT !== undefined ? Number(env.SOVRA_HTTP_PORT) : cfg.http.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('SOVRA_HTTP_PORT', [
      { path: 'SOVRA_HTTP_PORT', message: `'${env.SOVRA_HTTP_PORT}' is not a port number (0–65535).` },
    ]);
  }
  return { ...cfg, jurisdictions, store, http: { ...cfg.http, port } };
}

/** Parses YAML text; syntax errors are reported with line and column. */
export function parseConfigText(text: string, source: string, baseDir: string, env: NodeJS.ProcessEnv = process.env): SovraConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return {
          path: pos ? `line ${pos.line}, column ${pos.col}` : '(YAML)',
          message: `${e.message.split('\n')[0]} Fix: correct the YAML syntax (indentation, quotes, colons).`,
        };
      }),
    );
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [{ path: '', message: 'the file must hold a YAML mapping (deployment:, jurisdictions:, store: …).' }]);
  }
  return validateConfig(raw, source, baseDir, env);
}

/** Loads and validates the config file at `path`. */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): SovraConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(path, [
      {
        path: '',
        message:
          code === 'ENOENT'
            ? `no such file. Fix: pass the path of a config file, e.g. --config config/sovra.example.yaml.`
            : `cannot be read (${code ?? 'error'}).`,
      },
    ]);
  }
  return parseConfigText(text, path, dirname(resolve(path)), env);
}
