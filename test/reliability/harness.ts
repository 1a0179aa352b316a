/**
 * Shared set-up for the intake/outbox end-to-end and reliability suites: an emulator with
 * the demo seed, a JWT key registered on the demo connected app, and a tenant config that
 * points the sidecar's real clients at it (the key travels through an env-var SecretRef,
 * as in production).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { generateJwtKeyPair, startEmulator, DEMO, type RunningEmulator } from '../emulator/index.js';
import { tenantSchema, type TenantConfig } from '../../service/src/config/schema.js';

export const KEY_ENV = 'SOVRA_TEST_SF_PRIVATE_KEY';

/**
 * @salesforce/core keeps CLI state under the real home folder (it reads it through the
 * native os.homedir(), which jest's sandboxed process.env cannot redirect) and creates an
 * empty ~/.sfdx/alias.json when missing. Under jest's VM realms its `instanceof Error` check
 * on ENOENT fails, so the harness creates that same empty file up front when absent.
 */
export function ensureSalesforceStateFile(): void {
  const file = join(homedir(), '.sfdx', 'alias.json');
  if (existsSync(file)) return;
  mkdirSync(join(homedir(), '.sfdx'), { recursive: true });
  writeFileSync(file, JSON.stringify({ orgs: {} }));
}

export interface TestOrg {
  emu: RunningEmulator;
  tenant: TenantConfig;
  env: NodeJS.ProcessEnv;
  privateKeyPem: string;
  close(): Promise<void>;
}

export async function startTestOrg(
  options: { apiReserve?: number; cometdTimeoutMs?: number; jurisdictions?: string[] } = {},
): Promise<TestOrg> {
  ensureSalesforceStateFile();
  const emu = await startEmulator({ cometdTimeoutMs: options.cometdTimeoutMs ?? 500, cometdClientExpiryMs: 5_000 });
  const { privateKeyPem, publicKeyPem } = generateJwtKeyPair();
  emu.admin.registerCertificate(DEMO.clientId, publicKeyPem, DEMO.orgKey);
  const info = emu.admin.orgs().find((o) => o.key === DEMO.orgKey)!;
  const tenant = tenantSchema.parse({
    id: 'demo',
    orgId: info.orgId,
    loginUrl: emu.url,
    auth: { clientId: DEMO.clientId, username: DEMO.integrationUser, privateKey: { env: KEY_ENV } },
    namespace: info.namespace,
    jurisdictions: options.jurisdictions ?? ['EU'],
    apiReserve: options.apiReserve ?? 0.1,
  });
  return { emu, tenant, env: { [KEY_ENV]: privateKeyPem }, privateKeyPem, close: () => emu.close() };
}

/** Inserts a queued AiRequest__c as a user would (the emulated trigger publishes AiRequest__e). */
export function queueRequest(org: TestOrg, jurisdiction: string, n = 0): string {
  const accounts = org.emu.admin.records('Account', DEMO.orgKey);
  const target = accounts[n % accounts.length];
  return org.emu.admin.insert(
    'AiRequest__c',
    {
      RecordId__c: target.Id,
      ObjectApiName__c: 'Account',
      Action__c: 'summarize',
      Status__c: 'Queued',
      Jurisdiction__c: jurisdiction,
      ExternalId__c: `ext-${jurisdiction}-${n}-${Date.now()}`,
    },
    { org: DEMO.orgKey },
  );
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
