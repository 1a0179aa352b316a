/**
 * keys: the jurisdiction's key store. Data at rest is sealed in AES-256-GCM envelopes under a
 * data key of its (tenant, jurisdiction, purpose), wrapped by a versioned KEK that stays in
 * the provider (a 0600 keyring file, or an HSM token over PKCS#11). A provider serves one
 * jurisdiction and refuses every other, at start-up (the store is marked) and on every call.
 * Rotation adds a KEK version and re-wraps; `destroyTenant` crypto-shreds a tenant.
 */
import { isAbsolute, resolve } from 'node:path';
import { readSecret, type KeysConfig } from '../config/index.js';
import { SovraError } from '../shared/errors.js';
import { checkJurisdictionId } from './envelope.js';
import { LocalKeyring } from './local.js';
import { Pkcs11Token } from './pkcs11.js';
import { EnvelopeKeyService, type ManagedKeyService } from './service.js';

export interface CreateKeyServiceOptions {
  /** Folder that relative paths and secret files are resolved against (the config file's folder). */
  baseDir: string;
  env?: NodeJS.ProcessEnv;
  clock?: () => Date;
}

/** Opens (on first start: creates) the key store of one jurisdiction. */
export async function createKeyService(jurisdiction: string, cfg: KeysConfig, opts: CreateKeyServiceOptions): Promise<ManagedKeyService> {
  checkJurisdictionId(jurisdiction);
  const clock = opts.clock ?? (() => new Date());
  const env = opts.env ?? process.env;
  switch (cfg.provider) {
    case 'local': {
      const path = isAbsolute(cfg.path) ? cfg.path : resolve(opts.baseDir, cfg.path);
      const masterKey = cfg.masterKey ? readSecret(cfg.masterKey, opts.baseDir, env) : undefined;
      return new EnvelopeKeyService(await LocalKeyring.open({ path, jurisdiction, masterKey, clock }), clock);
    }
    case 'pkcs11': {
      const pin = readSecret(cfg.pin, opts.baseDir, env);
      return new EnvelopeKeyService(
        await Pkcs11Token.open({ module: cfg.module, tokenLabel: cfg.tokenLabel, pin, jurisdiction, clock }),
        clock,
      );
    }
    default:
      throw new SovraError('validation', 'keys.provider must be local or pkcs11.', { code: 'CONFIG_INVALID' });
  }
}

export type { KeysConfig } from '../config/index.js';
export type { KeyRotationReport } from './backend.js';
export type { KeyDestroyReport, KeyStoreStatus, ManagedKeyService } from './service.js';
export { onKeyEvent, type KeyEvent, type KeyEventDelivery, type KeyEventListener } from './events.js';
export { ENVELOPE_MAGIC } from './envelope.js';
export * from './types.js';
