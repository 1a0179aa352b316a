/**
 * Key administration for the `sovra keys` commands: the jurisdiction's key service, with its
 * lifecycle events (rotation, crypto-shredding) recorded in the tenants' audit chains of this
 * deployment's store, from where the outbox carries them to Salesforce.
 */
import { auditKeyEvents } from '../audit/index.js';
import type { SovraConfig } from '../config/index.js';
import { createKeyService, type ManagedKeyService } from '../keys/index.js';
import { openStore } from '../store/index.js';

export interface KeyAdministration {
  keys: ManagedKeyService;
  close(): Promise<void>;
}

/** Opens `jurisdiction`'s keys (which must be defined in `cfg`) with key events audited. */
export async function openKeyAdministration(cfg: SovraConfig, jurisdiction: string): Promise<KeyAdministration> {
  const keys = await createKeyService(jurisdiction, cfg.jurisdictions[jurisdiction]!.keys, { baseDir: cfg.baseDir });
  const store = await openStore(cfg.store, { baseDir: cfg.baseDir });
  const stopAudit = auditKeyEvents({
    store,
    keys,
    tenants: cfg.tenants.filter((t) => t.jurisdictions.includes(jurisdiction)).map((t) => ({ id: t.id, namespace: t.namespace })),
    region: cfg.deployment.region,
  });
  return {
    keys,
    async close() {
      stopAudit();
      await keys.close();
      await store.close();
    },
  };
}
