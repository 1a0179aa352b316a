// OAuth 2.0 JWT bearer: @salesforce/core's AuthInfo.create (the sidecar's login) and jsforce's
// OAuth2.requestToken against the emulator, plus the real error bodies for a bad signature,
// an unknown client, an unapproved user, a wrong audience and an expired assertion.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsforce from 'jsforce';
import { runSfCoreClient } from './clients/run.js';
import { DEMO, generateJwtKeyPair, signJwtAssertion, startEmulator, type RunningEmulator } from './index.js';

let emu: RunningEmulator;
let home: string;
const keys = generateJwtKeyPair();

const assertion = (claims: Record<string, unknown>, key = keys.privateKeyPem): string =>
  signJwtAssertion({ iss: DEMO.clientId, sub: DEMO.users.integration, aud: emu.url, exp: Date.now() + 300, ...claims }, key);

async function token(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${emu.url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  // The @salesforce/core child process gets this as HOME: AuthInfo persists auth files under
  // ~/.sfdx (its determineOrg step saves), never the developer's own.
  home = mkdtempSync(join(tmpdir(), 'sovra-emu-home-'));
  emu = await startEmulator();
  emu.admin.registerCertificate(DEMO.clientId, keys.publicKeyPem);
});

afterAll(async () => {
  await emu.close();
  rmSync(home, { recursive: true, force: true });
});

describe('JWT bearer flow', () => {
  it('authenticates @salesforce/core AuthInfo.create with a private key file, and Connection.create works', async () => {
    const keyFile = join(home, 'server.key');
    writeFileSync(keyFile, keys.privateKeyPem, { mode: 0o600 });
    const result = await runSfCoreClient({
      EMU_URL: emu.url,
      CLIENT_ID: DEMO.clientId,
      USERNAME: DEMO.users.integration,
      KEY_FILE: keyFile,
      HOME: home,
    });
    expect(result).toEqual({
      orgId: emu.admin.org().orgId,
      instanceUrl: emu.url,
      apiVersion: '66.0',
      queriedUsername: DEMO.users.integration,
    });
  }, 60_000);

  it('answers jsforce OAuth2.requestToken with the real JWT response fields (ms-based exp tolerated)', async () => {
    const oauth2 = new jsforce.OAuth2({ loginUrl: emu.url });
    const res = (await oauth2.requestToken({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: assertion({}),
    })) as unknown as Record<string, string>;
    expect(Object.keys(res).sort()).toEqual(['access_token', 'id', 'instance_url', 'issued_at', 'scope', 'token_type']);
    expect(res.token_type).toBe('Bearer');
    expect(res.id).toBe(`${emu.url}/id/${emu.admin.org().orgId}/${emu.admin.userId(DEMO.users.integration)}`);
    expect(res.access_token.startsWith(`${emu.admin.org().orgId.slice(0, 15)}!`)).toBe(true);
    const conn = new jsforce.Connection({ instanceUrl: res.instance_url, accessToken: res.access_token, version: '62.0' });
    const identity = await conn.identity();
    expect(identity.username).toBe(DEMO.users.integration);
    // A standard seconds-based exp works too; jsforce's authorize() path as well.
    const c2 = new jsforce.Connection({ oauth2: { loginUrl: emu.url, clientId: DEMO.clientId } });
    await c2.authorize({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: assertion({ exp: Math.floor(Date.now() / 1000) + 300 }),
    });
    expect(c2.instanceUrl).toBe(emu.url);
  });

  it('refuses bad assertions with the real OAuth error bodies', async () => {
    const grant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
    const other = generateJwtKeyPair();
    expect(await token({ grant_type: grant, assertion: assertion({}, other.privateKeyPem) })).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'invalid assertion' },
    });
    expect(await token({ grant_type: grant, assertion: assertion({ iss: 'unknown-client' }) })).toEqual({
      status: 400,
      body: { error: 'invalid_client_id', error_description: 'client identifier invalid' },
    });
    expect(await token({ grant_type: grant, assertion: assertion({ sub: DEMO.users.euSales }) })).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: "user hasn't approved this consumer" },
    });
    expect(await token({ grant_type: grant, assertion: assertion({ aud: 'https://evil.example.com' }) })).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'audience is invalid' },
    });
    expect(await token({ grant_type: grant, assertion: assertion({ exp: Math.floor(Date.now() / 1000) - 3600 }) })).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'expired authorization code' },
    });
    expect(await token({ grant_type: 'password', username: 'x', password: 'y' })).toEqual({
      status: 400,
      body: { error: 'unsupported_grant_type', error_description: 'grant type not supported' },
    });
    // jsforce surfaces them as errors named after `error`.
    const oauth2 = new jsforce.OAuth2({ loginUrl: emu.url });
    await expect(
      oauth2.requestToken({ grant_type: grant, assertion: assertion({ aud: 'https://evil.example.com' }) }),
    ).rejects.toMatchObject({
      name: 'invalid_grant',
      message: 'audience is invalid',
    });
  });

  it('keeps tenants apart: a client id authenticates only into its own org', async () => {
    const k2 = generateJwtKeyPair();
    emu.admin.registerCertificate(DEMO.secondClientId, k2.publicKeyPem, DEMO.secondOrgKey);
    const a = signJwtAssertion({ iss: DEMO.secondClientId, sub: DEMO.secondIntegrationUser }, k2.privateKeyPem);
    const ok = await token({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: a });
    expect(ok.status).toBe(200);
    expect(String(ok.body.id)).toContain(emu.admin.org(DEMO.secondOrgKey).orgId);
    const cross = signJwtAssertion({ iss: DEMO.secondClientId, sub: DEMO.users.integration, aud: emu.url }, k2.privateKeyPem);
    expect((await token({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: cross })).body).toEqual({
      error: 'invalid_grant',
      error_description: "user hasn't approved this consumer",
    });
  });
});
