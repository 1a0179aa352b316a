/**
 * Tokens: each regulated value becomes a typed token (`⟦PERSON_1⟧`), and one value keeps one
 * token throughout a request (a session). Optionally the id comes from an injected keyed HMAC
 * (`⟦PERSON_7K2Q9X4M1B⟧`), stable for a tenant across requests. The token map maps ids
 * (`PERSON_1`) to the exact text they replaced, so detokenize restores the original verbatim.
 * Dropped (restricted) values get `⟦REDACTED⟧` and never enter the map.
 */
import { validationError } from '../shared/errors.js';
import type { EntityType } from './types.js';

/** Token id (`PERSON_1`, upper case, no brackets) → the original text. JSON-serialisable. */
export type TokenMap = Readonly<Record<string, string>>;

export const tokenText = (id: string): string => `⟦${id}⟧`;

/** A keyed HMAC over a string (the keys stage provides it per tenant). Any encoding of the digest. */
export type TokenHmac = (data: string) => string;

export class TokenAllocator {
  private readonly byValue = new Map<string, string>();
  private readonly map: Record<string, string> = Object.create(null) as Record<string, string>;
  private readonly counters = new Map<string, number>();
  private readonly reserved = new Set<string>();

  constructor(private readonly hmac?: TokenHmac) {}

  /** Ids that already occur in the input as text: never allocated, so restoring cannot touch them. */
  reserve(ids: ReadonlySet<string>): void {
    if (ids.size === 0) return;
    for (const id of ids) this.reserved.add(id);
  }

  /** The token id of a value of a type, allocating one if needed. */
  idFor(type: EntityType, value: string): string {
    const key = `${type}\u0000${value}`;
    const known = this.byValue.get(key);
    if (known) return known;
    let id: string | undefined;
    if (this.hmac) {
      const code = String(this.hmac(key))
        .toUpperCase()
        .replace(/[^0-9A-Z]/g, '')
        .slice(0, 10);
      if (code.length < 8) {
        throw validationError('The token HMAC returned too short a digest.', {
          code: 'TOKEN_HMAC_INVALID',
          fix: 'Inject an HMAC function that returns at least 8 hex or base32 characters.',
        });
      }
      id = `${type}_${code}`;
      if (this.map[id] !== undefined || this.reserved.has(id)) id = undefined;
    }
    if (!id) {
      let n = this.counters.get(type) ?? 0;
      do id = `${type}_${++n}`;
      while (this.map[id] !== undefined || this.reserved.has(id));
      this.counters.set(type, n);
    }
    this.byValue.set(key, id);
    this.map[id] = value;
    return id;
  }

  snapshot(): TokenMap {
    return Object.freeze({ ...this.map });
  }
}
