/**
 * Gateway API keys: a caller presents `Authorization: Bearer <key>`; the config holds only the
 * SHA-256 of each key (`tenants[].gatewayKeys`). The key decides the tenant, and the tenant must
 * be entitled to this deployment's jurisdiction — no header can choose either.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TenantConfig } from '../../config/schema.js';
import { SovraError } from '../../shared/errors.js';

export type GatewayTenant = Pick<TenantConfig, 'id' | 'jurisdictions' | 'gatewayKeys'>;

export interface GatewayCaller {
  tenantId: string;
  keyId: string;
  /** Whether the tenant is entitled to the deployment's jurisdiction. */
  entitled: boolean;
}

export function hashGatewayKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new random key (`sovra_` + 43 base64url characters) and the hash to put in the config. */
export function generateGatewayKey(): { key: string; sha256: string } {
  const key = `sovra_${randomBytes(32).toString('base64url')}`;
  return { key, sha256: hashGatewayKey(key) };
}

const unauthorized = (message: string, code: string): SovraError =>
  new SovraError('unauthorized', message, {
    code,
    fix: 'Send Authorization: Bearer <gateway key>; an operator creates keys with `sovra gateway key` and lists their SHA-256 under tenants[].gatewayKeys.',
    retryable: false,
  });

export function createKeyResolver(
  tenants: readonly GatewayTenant[],
  jurisdiction: string,
): (authorization: string | undefined) => GatewayCaller {
  const entries = tenants.flatMap((t) => t.gatewayKeys.map((k) => ({ tenant: t, keyId: k.id, digest: Buffer.from(k.sha256, 'hex') })));
  return (authorization) => {
    const m = authorization?.match(/^Bearer\s+(\S{16,512})\s*$/i);
    if (!m) throw unauthorized('The call carries no gateway API key.', 'GATEWAY_KEY_MISSING');
    const digest = createHash('sha256').update(m[1]!, 'utf8').digest();
    // Compare against every key, in constant time each, so timing reveals nothing about which matched.
    let found: (typeof entries)[number] | undefined;
    for (const e of entries) if (timingSafeEqual(e.digest, digest) && !found) found = e;
    if (!found) throw unauthorized('The gateway API key is not valid.', 'GATEWAY_KEY_INVALID');
    return { tenantId: found.tenant.id, keyId: found.keyId, entitled: found.tenant.jurisdictions.includes(jurisdiction) };
  };
}

/** Throws unless the caller's tenant may use the deployment's jurisdiction. */
export function assertEntitled(caller: GatewayCaller, tenants: readonly GatewayTenant[], jurisdiction: string): void {
  if (caller.entitled) return;
  const t = tenants.find((x) => x.id === caller.tenantId);
  throw new SovraError(
    'forbidden',
    `Tenant '${caller.tenantId}' is not entitled to jurisdiction ${jurisdiction}, which this deployment serves.`,
    {
      code: 'TENANT_NOT_ENTITLED',
      fix: `Call the deployment of one of the tenant's jurisdictions (${(t?.jurisdictions ?? []).join(', ')}), or add ${jurisdiction} to the tenant's jurisdictions.`,
      details: { tenantId: caller.tenantId, jurisdiction },
      retryable: false,
    },
  );
}
