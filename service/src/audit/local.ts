/**
 * What the audit commands need from a deployment config: the local store (read-only for
 * SQLite, so a running sidecar is not disturbed), the jurisdiction's trusted public keys,
 * and the chains to look at.
 */
import type { SovraConfig } from '../config/index.js';
import { createKeyService } from '../keys/index.js';
import type { PublicKeyInfo } from '../keys/types.js';
import { validationError } from '../shared/errors.js';
import { openStore, type ChainHead, type Store } from '../store/index.js';
import { chainIdFor } from './entry.js';

export interface LocalAuditContext {
  store: Store;
  jurisdiction: string;
  trustedKeys: PublicKeyInfo[];
  /** endpoint id → region for the jurisdiction's endpoints. */
  endpointRegions: Record<string, string>;
  close(): Promise<void>;
}

export async function openLocalAudit(cfg: SovraConfig, jurisdiction?: string): Promise<LocalAuditContext> {
  const j = jurisdiction ?? cfg.deployment.jurisdiction;
  const jc = cfg.jurisdictions[j];
  if (!jc) {
    throw validationError(`The configuration has no jurisdiction ${j}.`, {
      code: 'AUDIT_UNKNOWN_JURISDICTION',
      fix: `Use one of ${Object.keys(cfg.jurisdictions).join(', ')}.`,
    });
  }
  const keys = await createKeyService(j, jc.keys, { baseDir: cfg.baseDir });
  let trustedKeys: PublicKeyInfo[];
  try {
    trustedKeys = await keys.publicKeys();
  } finally {
    await keys.close();
  }
  const store = await openStore(cfg.store, { baseDir: cfg.baseDir, readonly: cfg.store.kind === 'sqlite' });
  return {
    store,
    jurisdiction: j,
    trustedKeys,
    endpointRegions: Object.fromEntries(jc.endpoints.map((e) => [e.id, e.region])),
    close: () => store.close(),
  };
}

/** The chains of the jurisdiction in the store, for one tenant or every tenant. */
export async function chainsOf(store: Store, jurisdiction: string, tenant?: string): Promise<ChainHead[]> {
  const tenants = tenant ? [tenant] : await store.tenants();
  const out: ChainHead[] = [];
  for (const t of tenants) {
    const head = await store.forTenant(t).getChainHead(chainIdFor(t, jurisdiction));
    if (head) out.push(head);
  }
  return out;
}
