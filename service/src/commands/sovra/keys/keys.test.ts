/**
 * `sovra keys rotate` and `sovra keys destroy` on the example configuration (copied to a temp
 * dir, so its keyrings are created there), checked through their --json results and through
 * the key store itself.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { AuditLog } from '../../../audit/index.js';
import { loadConfig } from '../../../config/index.js';
import { openStore } from '../../../store/index.js';
import { createKeyService, onKeyEvent, type KeyEvent } from '../../../keys/index.js';
import KeysDestroy from './destroy.js';
import KeysRotate from './rotate.js';

const ROOT = resolve('.');
let dir: string;
let config: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sovra-keys-cmd-'));
  mkdirSync(join(dir, 'config'));
  config = join(dir, 'config', 'sovra.yaml');
  copyFileSync(join(ROOT, 'config', 'sovra.example.yaml'), config);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  jest.restoreAllMocks();
});

function quiet(): string[] {
  const out: string[] = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    out.push(String(chunk));
    return true;
  });
  jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  return out;
}

async function keysOf(jurisdiction: string) {
  const cfg = loadConfig(config);
  return createKeyService(jurisdiction, cfg.jurisdictions[jurisdiction].keys, { baseDir: cfg.baseDir });
}

const scope = (tenant: string) => ({ tenant, jurisdiction: 'EU', purpose: 'token-map' }) as const;

describe('sovra keys', () => {
  it('rotate re-wraps the jurisdiction keys and keeps old data readable', async () => {
    const keys = await keysOf('EU');
    const env = await keys.encrypt(scope('acme'), 'before rotation');
    await keys.close();

    quiet();
    const result = await KeysRotate.run(['--config', config, '--json'], ROOT);
    expect(result).toMatchObject({
      jurisdiction: 'EU',
      provider: 'local',
      kekVersion: 2,
      previousKekVersion: 1,
      rewrapped: 1,
      audited: true,
    });
    expect(result.signingKeyId).toMatch(/^EU-ed25519-v2-/);

    const us = await KeysRotate.run(['--config', config, '--jurisdiction', 'US', '--json'], ROOT);
    expect(us).toMatchObject({ jurisdiction: 'US', kekVersion: 2, rewrapped: 0 });

    const again = await keysOf('EU');
    expect((await again.decrypt(scope('acme'), env)).toString()).toBe('before rotation');
    await again.close();
  });

  it('rotate refuses a jurisdiction the configuration does not define', async () => {
    quiet();
    await expect(KeysRotate.run(['--config', config, '--jurisdiction', 'UK', '--json'], ROOT)).rejects.toThrow(/no jurisdiction UK/);
  });

  it('destroy shreds one tenant, leaves the others, and reports whether the audit recorded it', async () => {
    const keys = await keysOf('EU');
    const acme = await keys.encrypt(scope('acme'), 'acme data');
    const globex = await keys.encrypt(scope('globex'), 'globex data');
    await keys.close();

    const seen: KeyEvent[] = [];
    const off = onKeyEvent((e) => {
      seen.push(e);
    });
    quiet();
    try {
      const result = await KeysDestroy.run(['--config', config, '--tenant', 'acme', '--no-prompt', '--json'], ROOT);
      expect(result).toMatchObject({ tenant: 'acme', jurisdiction: 'EU', provider: 'local', destroyedKeys: 2, audited: true }); // generations 1 and 2 (rotated above)
    } finally {
      off();
    }
    expect(seen.map((e) => e.type)).toEqual(['tenant.destroying', 'tenant.destroyed']);

    // The audit trail says so, in the tenant's chain in the deployment's store: the rotation
    // above, and the destroy before and after; outbox rows in clear (no CRM text, and the
    // tenant's outbox key is gone), and the chain still verifies.
    const cfg = loadConfig(config);
    const store = await openStore(cfg.store, { baseDir: cfg.baseDir });
    try {
      const t = store.forTenant('acme');
      const bodies = (await t.readChainEntries('acme:EU')).map(
        (e) => JSON.parse(e.body) as { eventType: string; details: Record<string, unknown> },
      );
      expect(bodies.map((b) => b.eventType)).toEqual(['key.rotated', 'key.destroyed', 'key.destroyed']);
      expect(bodies[2]!.details).toMatchObject({ phase: 'done', destroyedKeys: 2 });
      const rows = await t.listOutbox({ limit: 100 });
      expect(rows.filter((r) => r.sobject === 'AiAuditEntry__c').every((r) => !r.encrypted)).toBe(true);
      const verifyKeys = await keysOf('EU');
      const audit = new AuditLog({ store, keys: verifyKeys, tenant: 'acme', jurisdiction: 'EU', region: 'eu-central-1' });
      expect((await audit.verify()).ok).toBe(true);
      await verifyKeys.close();
    } finally {
      await store.close();
    }

    const after = await keysOf('EU');
    await expect(after.decrypt(scope('acme'), acme)).rejects.toMatchObject({ code: 'TENANT_KEYS_DESTROYED' });
    expect((await after.decrypt(scope('globex'), globex)).toString()).toBe('globex data');
    await after.close();
  });

  it('destroy will not run unconfirmed where it cannot ask', async () => {
    const keys = await keysOf('EU');
    const env = await keys.encrypt(scope('initech'), 'kept');
    await keys.close();
    quiet();
    await expect(KeysDestroy.run(['--config', config, '--tenant', 'initech', '--json'], ROOT)).rejects.toThrow(/needs a confirmation/);
    await expect(KeysDestroy.run(['--config', config, '--tenant', 'Bad Tenant!', '--no-prompt', '--json'], ROOT)).rejects.toMatchObject({
      code: 'KEY_SCOPE_INVALID',
    });
    const again = await keysOf('EU');
    expect((await again.decrypt(scope('initech'), env)).toString()).toBe('kept');
    await again.close();
  });
});
