/**
 * Salesforce failures mapped onto Sovra's one taxonomy (shared/errors.ts). Salesforce
 * messages can quote record values ("invalid value 'Jane Doe'…"), so they are never copied:
 * the mapped error names the Salesforce errorCode / statusCode, the operation and the fix.
 *
 * REST error bodies are `[{"message","errorCode"[,"fields"]}]`; jsforce turns a one-element
 * body into an HttpApiError whose `errorCode` is that code, and anything else into
 * `ERROR_HTTP_<status>` (salesforce-wire.md §2.1, jsforce src/http-api.ts).
 * Collections report per-record `statusCode` instead (§2.3).
 */
import { SovraError } from '../shared/errors.js';

/** Codes that mean "try again later": the org is busy, limited, or briefly unavailable. */
const UNAVAILABLE_CODES = new Set([
  'SERVER_UNAVAILABLE',
  'REQUEST_LIMIT_EXCEEDED',
  'REQUEST_RUNNING_TOO_LONG',
  'CONCURRENT_REQUESTS_LIMIT_EXCEEDED',
  'ERROR_HTTP_500',
  'ERROR_HTTP_502',
  'ERROR_HTTP_503',
  'ERROR_HTTP_504',
  'SF_UNREACHABLE',
]);

/** Per-record codes worth another attempt (row locks, transient platform errors). */
const RETRYABLE_RECORD_CODES = new Set([
  'UNABLE_TO_LOCK_ROW',
  'SERVER_UNAVAILABLE',
  'REQUEST_RUNNING_TOO_LONG',
  'ALL_OR_NONE_OPERATION_ROLLED_BACK',
]);

const FORBIDDEN_CODES = new Set([
  'INSUFFICIENT_ACCESS',
  'INSUFFICIENT_ACCESS_OR_READONLY',
  'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY',
  'API_DISABLED_FOR_ORG',
  'API_CURRENTLY_DISABLED',
  'FUNCTIONALITY_NOT_ENABLED',
]);

const SESSION_CODES = new Set(['INVALID_SESSION_ID']);

export function isRetryableRecordCode(statusCode: string): boolean {
  return RETRYABLE_RECORD_CODES.has(statusCode);
}

/** The Salesforce error code carried by something jsforce (or fetch) threw, if any. */
export function salesforceErrorCode(err: unknown): string | undefined {
  if (err instanceof SovraError) {
    const c = err.details.salesforceErrorCode;
    return typeof c === 'string' ? c : undefined;
  }
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { errorCode?: unknown; name?: unknown; code?: unknown };
  if (typeof e.errorCode === 'string' && /^[A-Z][A-Z0-9_]*$/.test(e.errorCode)) return e.errorCode;
  // Network failures (fetch / node sockets) carry no Salesforce code.
  if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return 'SF_UNREACHABLE';
  if (e.name === 'FetchError' || e.name === 'AbortError') return 'SF_UNREACHABLE';
  return undefined;
}

export function isSessionExpired(err: unknown): boolean {
  const c = salesforceErrorCode(err);
  return c !== undefined && SESSION_CODES.has(c);
}

/**
 * Maps what a Salesforce call threw onto the taxonomy. `operation` names the call
 * (e.g. `query AiRequest__c`, `upsert AiAuditEntry__c`) and must hold no values.
 */
export function toSalesforceError(err: unknown, operation: string): SovraError {
  if (err instanceof SovraError) return err;
  const code = salesforceErrorCode(err);
  const details = { operation, salesforceErrorCode: code ?? null };
  if (code === undefined) {
    return new SovraError('upstream', `Salesforce call '${operation}' failed without an error code.`, {
      code: 'SF_ERROR',
      fix: 'Check that the instance URL is reachable and answers the REST API; the sidecar retries.',
      details,
      retryable: true,
      cause: err,
    });
  }
  if (code === 'SF_UNREACHABLE') {
    return new SovraError('unavailable', `Salesforce could not be reached for '${operation}'.`, {
      code: 'SF_UNREACHABLE',
      fix: 'Check network access from the sidecar to the org instance URL; the sidecar retries with backoff.',
      details,
      retryable: true,
      cause: err,
    });
  }
  if (code === 'REQUEST_LIMIT_EXCEEDED') {
    return new SovraError(
      'unavailable',
      `Salesforce refused '${operation}': the org's API request limit is exceeded (REQUEST_LIMIT_EXCEEDED).`,
      {
        code: 'SF_REQUEST_LIMIT_EXCEEDED',
        fix: "Work resumes when the org has API requests left; raise the limit or lower other integrations' usage.",
        details,
        retryable: true,
        cause: err,
      },
    );
  }
  if (UNAVAILABLE_CODES.has(code)) {
    return new SovraError('unavailable', `Salesforce is unavailable for '${operation}' (${code}).`, {
      code: 'SF_UNAVAILABLE',
      fix: 'Nothing to do: the sidecar retries with backoff until the org answers again.',
      details,
      retryable: true,
      cause: err,
    });
  }
  if (SESSION_CODES.has(code)) {
    return new SovraError('unauthorized', `The Salesforce session expired during '${operation}' and could not be renewed for it.`, {
      code: 'SF_SESSION_EXPIRED',
      fix: 'The sidecar renews the session with the JWT bearer flow; if this repeats, check the connected app and the integration user.',
      details,
      retryable: true,
      cause: err,
    });
  }
  if (FORBIDDEN_CODES.has(code)) {
    return new SovraError('forbidden', `The integration user may not run '${operation}' (${code}).`, {
      code: 'SF_FORBIDDEN',
      fix: 'Assign the SovraIntegration permission set to the integration user and check API access on its profile.',
      details,
      retryable: false,
      cause: err,
    });
  }
  if (code === 'NOT_FOUND' || code === 'ENTITY_IS_DELETED') {
    return new SovraError('not_found', `Salesforce found nothing for '${operation}' (${code}).`, {
      code: 'SF_NOT_FOUND',
      fix: 'Check that the Sovra package is installed and the namespace in the tenant config matches the org.',
      details,
      retryable: false,
      cause: err,
    });
  }
  if (code === 'UNABLE_TO_LOCK_ROW') {
    return new SovraError('conflict', `Salesforce could not lock a row for '${operation}'.`, {
      code: 'SF_ROW_LOCK',
      fix: 'Nothing to do: the sidecar retries.',
      details,
      retryable: true,
      cause: err,
    });
  }
  return new SovraError('validation', `Salesforce rejected '${operation}' with ${code}.`, {
    code: 'SF_REJECTED',
    fix: 'Check the field and object names against the installed package version (and the namespace in the tenant config).',
    details,
    retryable: false,
    cause: err,
  });
}
