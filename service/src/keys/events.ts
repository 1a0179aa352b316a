/**
 * Key lifecycle events, so the audit stage can record rotations and crypto-shredding without
 * keys knowing any stage. Listeners are awaited in registration order.
 *  - `tenant.destroying` fires before anything is destroyed, while the tenant's keys still
 *    exist (an audit entry of the tenant's own chain can still be sealed and HMAC'd). A
 *    listener that throws aborts the destroy: nothing unaudited is shredded.
 *  - `tenant.destroyed`, `keys.rotated` and `tenant.reenabled` fire after the change is
 *    durable; a listener that throws does not undo it, and the failure is counted.
 */
import { log } from '../shared/log.js';
import type { KeyRotationReport } from './backend.js';
import type { DestroyResult } from './types.js';

export type KeyEvent =
  | { type: 'tenant.destroying'; tenant: string; jurisdiction: string; at: string }
  | { type: 'tenant.destroyed'; result: DestroyResult }
  | { type: 'tenant.reenabled'; tenant: string; jurisdiction: string; at: string }
  | { type: 'keys.rotated'; report: KeyRotationReport; at: string };

export type KeyEventListener = (event: KeyEvent) => void | Promise<void>;

export interface KeyEventDelivery {
  /** Listeners that returned normally. */
  recorded: number;
  failed: number;
}

const listeners = new Set<KeyEventListener>();

/** Registers a listener (e.g. the audit writer); returns the function that removes it. */
export function onKeyEvent(listener: KeyEventListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Delivers to every listener; with `strict`, the first failure is rethrown. */
export async function emitKeyEvent(event: KeyEvent, strict = false): Promise<KeyEventDelivery> {
  const out: KeyEventDelivery = { recorded: 0, failed: 0 };
  for (const l of [...listeners]) {
    try {
      await l(event);
      out.recorded++;
    } catch (err) {
      if (strict) throw err;
      out.failed++;
      log().error('key event listener failed', { event: event.type, err });
    }
  }
  return out;
}
