/**
 * Key lifecycle in the audit trail. Rotation is recorded in the chain of every tenant of the
 * jurisdiction; crypto-shredding in the chain of the tenant whose keys are destroyed — once
 * before (the destroy does not happen unless that entry is committed) and once after, with how
 * many keys went. These entries carry no CRM text, so their outbox rows are not encrypted:
 * they must still reach Salesforce after the tenant's keys are gone.
 */
import { onKeyEvent, type KeyEvent, type KeyService } from '../keys/index.js';
import type { Store } from '../store/index.js';
import { AuditLog } from './auditLog.js';

export interface KeyEventAuditOptions {
  store: Store;
  keys: KeyService;
  /** Tenants of the jurisdiction (rotation is recorded in each of their chains). */
  tenants: readonly { id: string; namespace: string }[];
  region: string;
}

/** Records key events as audit entries until the returned function is called. */
export function auditKeyEvents(o: KeyEventAuditOptions): () => void {
  const logs = new Map<string, AuditLog>();
  const logFor = (tenant: string): AuditLog => {
    let l = logs.get(tenant);
    if (!l) {
      const ns = o.tenants.find((t) => t.id === tenant)?.namespace ?? 'sovra';
      l = new AuditLog({
        store: o.store,
        keys: o.keys,
        tenant,
        jurisdiction: o.keys.jurisdiction,
        region: o.region,
        namespace: ns,
        encryptOutbox: false,
      });
      logs.set(tenant, l);
    }
    return l;
  };
  return onKeyEvent(async (e: KeyEvent) => {
    switch (e.type) {
      case 'tenant.destroying':
        await logFor(e.tenant).record({
          eventType: 'key.destroyed',
          decision: 'info',
          reason: 'Crypto-shredding requested: every data key of the tenant in this jurisdiction is being destroyed.',
          details: { phase: 'requested', at: e.at },
        });
        return;
      case 'tenant.destroyed':
        await logFor(e.result.tenant).record({
          eventType: 'key.destroyed',
          decision: 'info',
          reason: "The tenant's data keys were destroyed; its data at rest in this jurisdiction can no longer be decrypted.",
          details: { phase: 'done', destroyedKeys: e.result.destroyedKeys, at: e.result.destroyedAt },
        });
        return;
      case 'tenant.reenabled':
        await logFor(e.tenant).record({
          eventType: 'key.reenabled',
          decision: 'info',
          reason: 'New data keys may be created for the tenant again; data written before the destroy stays unreadable.',
          details: { at: e.at },
        });
        return;
      case 'keys.rotated':
        for (const t of o.tenants) {
          await logFor(t.id).record({
            eventType: 'key.rotated',
            decision: 'info',
            reason: 'The jurisdiction key-encryption key was rotated and data keys re-wrapped.',
            details: {
              kekVersion: e.report.kekVersion,
              previousKekVersion: e.report.previousKekVersion,
              rewrapped: e.report.rewrapped,
              signingKeyId: e.report.signingKeyId,
              at: e.at,
            },
          });
        }
        return;
    }
  });
}
