/**
 * Sovra's one error taxonomy. Every stage throws a SovraError (or lets `toSovraError` wrap
 * what it caught); `toHttpError` is the one place that turns errors into response bodies.
 * Messages name what went wrong and how to fix it, and never carry a prompt, an answer or a
 * field value: they are logged and written to Salesforce.
 */

export type ErrorKind =
  | 'validation'
  | 'unauthorized'
  | 'forbidden'
  | 'policy_denied'
  | 'quarantined'
  | 'egress_refused'
  | 'not_found'
  | 'conflict'
  | 'upstream'
  | 'timeout'
  | 'unavailable'
  | 'internal';

const HTTP_STATUS: Record<ErrorKind, number> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  policy_denied: 403,
  quarantined: 451,
  egress_refused: 502,
  not_found: 404,
  conflict: 409,
  upstream: 502,
  timeout: 504,
  unavailable: 503,
  internal: 500,
};

export interface SovraErrorOptions {
  /** Stable machine-readable code, e.g. `CONFIG_INVALID`, `ENDPOINT_OUTSIDE_JURISDICTION`. */
  code: string;
  /** What the user or operator can do about it. */
  fix?: string;
  /** Safe, value-free details (ids, paths, counts, classes). */
  details?: Record<string, unknown>;
  /** Whether retrying the same call may succeed. */
  retryable?: boolean;
  cause?: unknown;
}

export class SovraError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly fix?: string;
  readonly details: Record<string, unknown>;
  readonly retryable: boolean;

  constructor(kind: ErrorKind, message: string, options: SovraErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SovraError';
    this.kind = kind;
    this.code = options.code;
    this.fix = options.fix;
    this.details = options.details ?? {};
    this.retryable = options.retryable ?? (kind === 'upstream' || kind === 'timeout' || kind === 'unavailable');
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.kind];
  }

  /** The reason as shown to a user or written to `Reason__c`: the message plus the fix. */
  get reason(): string {
    return this.fix ? `${this.message} ${this.fix}` : this.message;
  }
}

export const validationError = (message: string, o: SovraErrorOptions): SovraError => new SovraError('validation', message, o);
export const policyDenied = (message: string, o: SovraErrorOptions): SovraError => new SovraError('policy_denied', message, o);
export const quarantined = (message: string, o: SovraErrorOptions): SovraError => new SovraError('quarantined', message, o);
export const upstreamError = (message: string, o: SovraErrorOptions): SovraError => new SovraError('upstream', message, o);
export const timeoutError = (message: string, o: SovraErrorOptions): SovraError => new SovraError('timeout', message, o);
export const conflictError = (message: string, o: SovraErrorOptions): SovraError => new SovraError('conflict', message, o);
export const egressRefused = (message: string, o: SovraErrorOptions): SovraError => new SovraError('egress_refused', message, o);

export function isSovraError(err: unknown): err is SovraError {
  return err instanceof SovraError;
}

/** Wraps anything thrown into the taxonomy without copying its message (it may hold values). */
export function toSovraError(err: unknown, fallbackCode = 'INTERNAL'): SovraError {
  if (err instanceof SovraError) return err;
  const name = err instanceof Error ? err.name : typeof err;
  return new SovraError('internal', `Unexpected ${name} inside Sovra.`, {
    code: fallbackCode,
    fix: 'See the sidecar log for the error id; report it if it repeats.',
    cause: err,
    retryable: false,
  });
}

export interface HttpErrorBody {
  error: { type: ErrorKind; code: string; message: string; fix?: string; details?: Record<string, unknown> };
}

/** The one place errors become HTTP responses (OpenAI-style `error` envelope). */
export function toHttpError(err: unknown): { status: number; body: HttpErrorBody } {
  const e = toSovraError(err);
  const body: HttpErrorBody = { error: { type: e.kind, code: e.code, message: e.message } };
  if (e.fix) body.error.fix = e.fix;
  if (Object.keys(e.details).length > 0) body.error.details = e.details;
  return { status: e.httpStatus, body };
}
