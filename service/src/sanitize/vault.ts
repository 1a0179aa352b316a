/**
 * The token-map port. A map is scoped by tenant, jurisdiction and request, and lives no longer
 * than its time to live; a lookup under any other scope finds nothing, so one request's (or
 * tenant's) tokens can never be restored with another's values. The store and keys stages
 * provide the persisted implementation, encrypted with the jurisdiction's key
 * (`encrypt({tenant, jurisdiction, purpose: 'token-map'}, plaintext)`); the in-memory one here
 * serves tests and the CLI.
 */
import { validationError } from '../shared/errors.js';
import type { TokenMap } from './tokens.js';

export interface TokenScope {
  tenant: string;
  jurisdiction: string;
  requestId: string;
}

export interface TokenVault {
  put(scope: TokenScope, map: TokenMap, ttlSeconds: number): Promise<void>;
  /** The map of exactly this scope, or undefined when absent or expired. */
  get(scope: TokenScope): Promise<TokenMap | undefined>;
  delete(scope: TokenScope): Promise<void>;
}

/** Validates a scope and returns its canonical key; every part must be non-empty and free of separators. */
export function scopeKey(scope: TokenScope): string {
  for (const part of ['tenant', 'jurisdiction', 'requestId'] as const) {
    const v = scope?.[part];
    // eslint-disable-next-line no-control-regex
    if (typeof v !== 'string' || v.length === 0 || v.length > 255 || /[\u0000-\u001f]/.test(v)) {
      throw validationError(`Token scope ${part} is missing or malformed.`, {
        code: 'TOKEN_SCOPE_INVALID',
        fix: 'Pass the tenant (org id), the jurisdiction and the request id, each a non-empty string.',
        details: { part },
      });
    }
  }
  return JSON.stringify([scope.tenant, scope.jurisdiction, scope.requestId]);
}

export class InMemoryTokenVault implements TokenVault {
  private readonly maps = new Map<string, { map: TokenMap; expires: number }>();
  constructor(private readonly now: () => number = Date.now) {}

  async put(scope: TokenScope, map: TokenMap, ttlSeconds: number): Promise<void> {
    if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
      throw validationError('Token map TTL must be a positive number of seconds.', {
        code: 'TOKEN_TTL_INVALID',
        fix: 'Pass ttlSeconds > 0.',
      });
    }
    this.sweep();
    this.maps.set(scopeKey(scope), { map: Object.freeze({ ...map }), expires: this.now() + ttlSeconds * 1000 });
  }

  async get(scope: TokenScope): Promise<TokenMap | undefined> {
    const key = scopeKey(scope);
    const hit = this.maps.get(key);
    if (!hit) return undefined;
    if (hit.expires <= this.now()) {
      this.maps.delete(key);
      return undefined;
    }
    return hit.map;
  }

  async delete(scope: TokenScope): Promise<void> {
    this.maps.delete(scopeKey(scope));
  }

  private sweep(): void {
    const t = this.now();
    for (const [k, v] of this.maps) if (v.expires <= t) this.maps.delete(k);
  }
}
