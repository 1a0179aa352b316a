/**
 * The OAuth 2.0 JWT bearer flow through @salesforce/core, without its on-disk auth store.
 *
 * `AuthInfo.create({ username, oauth2Options: { clientId, privateKey, loginUrl } })` takes
 * the JWT path when `privateKey` is set, and reads that value as a *file path*
 * (@salesforce/core lib/org/authInfo.js `readJwtKey`). Sovra's key comes from `readSecret`
 * (an env variable or a file named by the config), so `SovraAuthInfo` resolves an opaque
 * in-memory handle instead of touching the file system, and never persists anything:
 * `save()` is a no-op, and the connection gets no refresh callback (which would call
 * `save()`): renewal is done by SalesforceConnection, which re-runs this flow.
 */
import { randomUUID } from 'node:crypto';
import { AuthInfo, Connection } from '@salesforce/core';
import { SovraError } from '../shared/errors.js';

/** Keys waiting to be read by an AuthInfo being created; removed as soon as it is. */
const pendingKeys = new Map<string, string>();
const HANDLE_PREFIX = 'sovra-secret:';

type AuthFieldsArg = Parameters<AuthInfo['save']>[0];
type ConnectionOptionsOf = ReturnType<AuthInfo['getConnectionOptions']>;

class SovraAuthInfo extends AuthInfo {
  /** Never write tokens or key handles to ~/.sfdx: the sidecar keeps sessions in memory only. */
  override save(_authData?: AuthFieldsArg): Promise<AuthInfo> {
    return Promise.resolve(this);
  }

  /** Without `refreshFn`, jsforce surfaces INVALID_SESSION_ID to SalesforceConnection, which renews. */
  override getConnectionOptions(clientApp?: string): ConnectionOptionsOf {
    const options = { ...super.getConnectionOptions(clientApp) };
    delete options.refreshFn;
    return options;
  }
}

// `readJwtKey` is private in the typings, so it is replaced on the subclass prototype only.
Object.defineProperty(SovraAuthInfo.prototype, 'readJwtKey', {
  value: function readJwtKey(handle: string): Promise<string> {
    const key = pendingKeys.get(handle);
    if (key === undefined) {
      return Promise.reject(
        new SovraError('internal', 'The JWT signing key was requested outside a Sovra login.', {
          code: 'SF_KEY_HANDLE_UNKNOWN',
          fix: 'Create connections only through the salesforce module.',
          retryable: false,
        }),
      );
    }
    return Promise.resolve(key);
  },
});

export interface JwtLogin {
  username: string;
  clientId: string;
  /** PEM private key of the connected app's certificate (from readSecret). */
  privateKey: string;
  loginUrl: string;
}

export interface Session {
  accessToken: string;
  instanceUrl: string;
  orgId: string;
}

/** Runs the JWT bearer flow and returns the AuthInfo (in memory only). */
export async function jwtAuthInfo(login: JwtLogin): Promise<AuthInfo> {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(login.privateKey)) {
    throw new SovraError('validation', 'The connected-app private key is not a PEM private key.', {
      code: 'SF_PRIVATE_KEY_INVALID',
      fix: 'Point tenants[].auth.privateKey at the PEM key (-----BEGIN PRIVATE KEY-----) whose certificate is on the connected app.',
      retryable: false,
    });
  }
  const handle = `${HANDLE_PREFIX}${randomUUID()}`;
  pendingKeys.set(handle, login.privateKey);
  try {
    return await SovraAuthInfo.create({
      username: login.username,
      oauth2Options: { clientId: login.clientId, privateKey: handle, loginUrl: login.loginUrl },
    });
  } catch (err) {
    throw new SovraError('unauthorized', `The JWT bearer login for ${login.username} failed.`, {
      code: 'SF_JWT_LOGIN_FAILED',
      fix: "Check tenants[].auth: the connected app's consumer key, that its certificate matches the private key, that the user is pre-authorized on the app, and tenants[].loginUrl.",
      details: { username: login.username, loginUrl: login.loginUrl, cause: err instanceof Error ? err.name : typeof err },
      retryable: true,
      cause: err,
    });
  } finally {
    pendingKeys.delete(handle);
  }
}

export function sessionOf(authInfo: AuthInfo): Session {
  const f = authInfo.getFields(true);
  if (!f.accessToken || !f.instanceUrl || !f.orgId) {
    throw new SovraError('upstream', 'The Salesforce token response lacked an access token, instance URL or org id.', {
      code: 'SF_TOKEN_RESPONSE_INVALID',
      fix: 'Check tenants[].loginUrl points at a Salesforce login endpoint.',
      retryable: true,
    });
  }
  return { accessToken: f.accessToken, instanceUrl: f.instanceUrl, orgId: f.orgId };
}

/** A @salesforce/core Connection (a jsforce Connection) on a fresh JWT session. */
export async function jwtConnection(login: JwtLogin, apiVersion?: string): Promise<{ connection: Connection; session: Session }> {
  const authInfo = await jwtAuthInfo(login);
  const session = sessionOf(authInfo);
  const connection = await Connection.create({ authInfo, connectionOptions: apiVersion ? { version: apiVersion } : {} });
  return { connection, session };
}
