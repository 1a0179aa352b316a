/**
 * OAuth 2.0 JWT bearer flow (`POST /services/oauth2/token`, grant
 * `urn:ietf:params:oauth:grant-type:jwt-bearer`), as Salesforce Help "OAuth 2.0 JWT Bearer
 * Flow for Server-to-Server Integration" describes it and as @salesforce/core / jsforce
 * call it (salesforce-wire.md §2.4). The assertion's RS256 signature is verified against the
 * connected app's registered certificate or public key; `iss`, `sub`, `aud`, `exp` checked.
 * Errors are `{"error","error_description"}` with HTTP 400, with the descriptions real orgs
 * return (salesforce.stackexchange #184363, #207685, #282513).
 */
import { X509Certificate, createPublicKey, createVerify, randomBytes, type KeyObject } from 'node:crypto';
import type { Org, Rec } from './org.js';

export interface TokenError {
  status: number;
  body: { error: string; error_description: string };
}

export interface Session {
  token: string;
  org: Org;
  userId: string;
  issuedAt: number;
  expired: boolean;
}

const LOGIN_AUDIENCES = ['https://login.salesforce.com', 'https://test.salesforce.com'];

const err = (error: string, description: string, status = 400): TokenError => ({
  status,
  body: { error, error_description: description },
});

function b64urlJson(part: string): Rec | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : null;
  } catch {
    return null;
  }
}

export function publicKeyOf(pem: string): KeyObject {
  if (pem.includes('BEGIN CERTIFICATE')) return new X509Certificate(pem).publicKey;
  return createPublicKey(pem);
}

/** Access tokens look like real ones: `<orgId15>!<opaque>`. */
export function newAccessToken(org: Org): string {
  return `${org.orgId.slice(0, 15)}!${randomBytes(48).toString('base64url')}`;
}

/**
 * Verifies a JWT bearer assertion. Returns the org and user it authenticates, or the OAuth
 * error a real org gives.
 */
export function verifyJwtAssertion(
  assertion: string,
  orgs: Org[],
  ownAudience: string,
  nowMs: number,
): { org: Org; user: Rec } | TokenError {
  const parts = assertion.split('.');
  if (parts.length !== 3) return err('invalid_grant', 'invalid assertion');
  const header = b64urlJson(parts[0]);
  const claims = b64urlJson(parts[1]);
  if (!header || !claims) return err('invalid_grant', 'invalid assertion');
  if (header.alg !== 'RS256') return err('invalid_grant', 'invalid assertion');
  const iss = claims.iss;
  if (typeof iss !== 'string' || !iss) return err('invalid_client_id', 'client identifier invalid');
  const found = orgs.flatMap((o) => o.connectedApps.filter((a) => a.clientId === iss).map((app) => ({ org: o, app })));
  if (found.length === 0) return err('invalid_client_id', 'client identifier invalid');
  // Signature: checked against every certificate registered on the app.
  const signed = `${parts[0]}.${parts[1]}`;
  const sig = Buffer.from(parts[2], 'base64url');
  const match = found.find(({ app }) =>
    app.certificates.some((pem) => {
      try {
        return createVerify('RSA-SHA256').update(signed).verify(publicKeyOf(pem), sig);
      } catch {
        return false;
      }
    }),
  );
  if (!match) return err('invalid_grant', 'invalid assertion');
  const aud = claims.aud;
  const auds = Array.isArray(aud) ? aud : [aud];
  const okAud = auds.some((a) => typeof a === 'string' && [ownAudience, ...LOGIN_AUDIENCES].includes(a.replace(/\/$/, '')));
  if (!okAud) return err('invalid_grant', 'audience is invalid');
  const exp = claims.exp;
  if (typeof exp !== 'number') return err('invalid_grant', 'invalid assertion');
  // jsforce/@salesforce/core send `exp: Date.now() + 300` (milliseconds); a value that big is
  // read as ms, a normal one as seconds (RFC 7519 NumericDate). Salesforce accepts both.
  const expMs = exp > 1e11 ? exp : exp * 1000;
  if (expMs <= nowMs - 3 * 60_000) return err('invalid_grant', 'expired authorization code');
  const sub = claims.sub;
  if (typeof sub !== 'string' || !sub) return err('invalid_grant', 'invalid assertion');
  const user = match.org.userByUsername(sub);
  const approved =
    user &&
    user.IsActive !== false &&
    (match.app.approvedUsers === 'all' || match.app.approvedUsers.some((u) => u.toLowerCase() === sub.toLowerCase()));
  if (!user || !approved) return err('invalid_grant', "user hasn't approved this consumer");
  return { org: match.org, user };
}

/** JWT bearer success body: no refresh_token (Salesforce Help, JWT bearer flow). */
export function tokenResponse(baseUrl: string, org: Org, userId: string, token: string, issuedAt: number): Rec {
  return {
    access_token: token,
    scope: 'api',
    instance_url: baseUrl,
    id: `${baseUrl}/id/${org.orgId}/${userId}`,
    token_type: 'Bearer',
    issued_at: String(issuedAt),
  };
}
