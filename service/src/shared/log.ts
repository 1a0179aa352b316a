/**
 * Structured JSON logging (winston) with a guard: log lines carry ids, classes, counts and
 * hashes, never a prompt, an answer or a field value. The guard
 *  - redacts every meta key that names content (prompt, answer, text, value, fields …),
 *  - redacts values wrapped with `sensitive()`, anywhere,
 *  - replaces any other string longer than MAX_SAFE_STRING with a length and a short hash,
 *  - keeps only the name and code of errors (their messages can quote upstream bodies),
 *  - and accepts as the message only a short constant-looking string.
 */
import { createHash } from 'node:crypto';
import winston from 'winston';

export const SENSITIVE_KEYS = new Set(
  [
    'prompt',
    'prompts',
    'answer',
    'answers',
    'response',
    'completion',
    'text',
    'content',
    'contents',
    'message_content',
    'messages',
    'value',
    'values',
    'field',
    'fields',
    'fieldvalues',
    'body',
    'question',
    'description',
    'payload',
    'record',
    'records',
    'input',
    'output',
    'raw',
    'tokenmap',
    'arguments',
    'args',
    'delta',
    'choices',
    'password',
    'secret',
    'apikey',
    'api_key',
    'authorization',
    'access_token',
    'accesstoken',
    'privatekey',
    'pin',
  ].map((k) => k.toLowerCase()),
);

const MAX_SAFE_STRING = 200;
const MESSAGE_PATTERN = /^[\w .,:;/()#'=+<>[\]-]{1,160}$/u;

const SENSITIVE = Symbol.for('sovra.sensitive');
export interface Sensitive {
  readonly [SENSITIVE]: true;
  readonly value: unknown;
}
/** Marks a value that must never be written to a log, whatever key it sits under. */
export function sensitive(value: unknown): Sensitive {
  return { [SENSITIVE]: true, value };
}
function isSensitive(v: unknown): v is Sensitive {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[SENSITIVE] === true;
}

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 12);
}

function redacted(v: unknown): { redacted: true; length?: number; sha256?: string } {
  const s = typeof v === 'string' ? v : v === undefined ? undefined : safeStringify(v);
  return s === undefined ? { redacted: true } : { redacted: true, length: s.length, sha256: shortHash(s) };
}

function safeStringify(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Returns a copy of `meta` that is safe to write: see the module header. */
export function scrub(value: unknown, key = '', depth = 0): unknown {
  if (isSensitive(value)) return redacted(value.value);
  if (key && SENSITIVE_KEYS.has(key.toLowerCase())) return redacted(value);
  if (value === null || value === undefined) return value;
  if (typeof value === 'string') return value.length > MAX_SAFE_STRING ? redacted(value) : value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return value;
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown; kind?: unknown };
    return {
      name: e.name,
      ...(e.code !== undefined ? { code: String(e.code) } : {}),
      ...(e.kind !== undefined ? { kind: String(e.kind) } : {}),
    };
  }
  if (value instanceof Date) return value.toISOString();
  if (depth > 6) return '[depth]';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => scrub(v, '', depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = scrub(v, k, depth + 1);
    return out;
  }
  return '[unloggable]';
}

const guard = winston.format((info) => {
  const message = info.message;
  if (typeof message !== 'string' || !MESSAGE_PATTERN.test(message)) {
    info.message = '[redacted message]';
    info.messageRedaction = redacted(message);
  }
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'message' || key === 'timestamp' || key === 'messageRedaction') continue;
    info[key] = scrub(info[key], key);
  }
  return info;
});

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to stdout. Tests pass a stream to read what was written. */
  stream?: NodeJS.WritableStream;
  /** Static fields on every line (service, jurisdiction, region). */
  defaultMeta?: Record<string, string>;
  silent?: boolean;
}

export type Logger = winston.Logger;

export function createLogger(options: LoggerOptions = {}): Logger {
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] });
  return winston.createLogger({
    level: options.level ?? 'info',
    silent: options.silent ?? false,
    defaultMeta: options.defaultMeta,
    format: winston.format.combine(guard(), winston.format.timestamp(), winston.format.json()),
    transports: [transport],
  });
}

let root: Logger | undefined;
/** The process-wide logger; `configureLogging` (called once from start-up) replaces it. */
export function log(): Logger {
  root ??= createLogger({ level: 'info' });
  return root;
}
export function configureLogging(options: LoggerOptions): Logger {
  root = createLogger(options);
  return root;
}
