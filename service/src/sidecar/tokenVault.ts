/**
 * The token vault of record: a request's token map, encrypted with the tenant's and
 * jurisdiction's 'token-map' key, kept in the in-region store with a time to live. The store
 * only ever sees ciphertext; a map is readable only under its own (tenant, jurisdiction,
 * request) scope.
 */
import type { KeyService } from '../keys/index.js';
import type { TokenMap, TokenScope, TokenVault } from '../sanitize/index.js';
import { SovraError } from '../shared/errors.js';
import type { TenantOps } from '../store/index.js';

export class StoreTokenVault implements TokenVault {
  constructor(
    private readonly store: TenantOps,
    private readonly keys: KeyService,
    private readonly now: () => number = Date.now,
  ) {}

  private check(scope: TokenScope): void {
    if (scope.tenant !== this.store.tenant || scope.jurisdiction !== this.keys.jurisdiction) {
      throw new SovraError('forbidden', 'A token map may only be kept by its own tenant and jurisdiction.', {
        code: 'TOKEN_SCOPE_MISMATCH',
        details: { tenant: scope.tenant, jurisdiction: scope.jurisdiction },
      });
    }
  }

  async put(scope: TokenScope, map: TokenMap, ttlSeconds: number): Promise<void> {
    this.check(scope);
    const ciphertext = await this.keys.encrypt(
      { tenant: scope.tenant, jurisdiction: scope.jurisdiction, purpose: 'token-map' },
      JSON.stringify(map),
    );
    await this.store.putTokenMap({
      jurisdiction: scope.jurisdiction,
      requestId: scope.requestId,
      ciphertext,
      expiresAt: this.now() + ttlSeconds * 1000,
    });
  }

  async get(scope: TokenScope): Promise<TokenMap | undefined> {
    this.check(scope);
    const row = await this.store.getTokenMap(scope.jurisdiction, scope.requestId);
    if (!row) return undefined;
    const plain = await this.keys.decrypt({ tenant: scope.tenant, jurisdiction: scope.jurisdiction, purpose: 'token-map' }, row.ciphertext);
    return Object.freeze(JSON.parse(plain.toString('utf8')) as Record<string, string>);
  }

  async delete(scope: TokenScope): Promise<void> {
    this.check(scope);
    await this.store.deleteTokenMap(scope.jurisdiction, scope.requestId);
  }
}
