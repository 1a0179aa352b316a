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
  /** Per type: value → id. */
  private readonly byValue = new Map<string, Map<string, string>>();
  /** id → value. */
  private readonly map = new Map<string, string>();
  private readonly counters = new Map<string, number>();
  /** Made on first use: most texts hold no token-like text. */
  private reserved: Set<string> | undefined;

  constructor(private readonly hmac?: TokenHmac) {}

  /** Ids that already occur in the input as text: never allocated, so restoring cannot touch them. */
  reserve(ids: ReadonlySet<string>): void {
    if (ids.size === 0) return;
    this.reserved ??= new Set();
    for (const id of ids) this.reserved.add(id);
  }

  private taken(id: string): boolean {
    return this.map.has(id) || (this.reserved !== undefined && this.reserved.has(id));
  }

  /** The token id of a value of a type, allocating one if needed. */
  idFor(type: EntityType, value: string): string {
    let perType = this.byValue.get(type);
    if (!perType) this.byValue.set(type, (perType = new Map()));
    const known = perType.get(value);
    if (known) return known;
    let id: string | undefined;
    if (this.hmac) {
      const code = String(this.hmac(`${type}\u0000${value}`))
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
      if (this.taken(id)) id = undefined;
    }
    if (!id) {
      let n = this.counters.get(type) ?? 0;
      do id = `${type}_${++n}`;
      while (this.taken(id));
      this.counters.set(type, n);
    }
    perType.set(value, id);
    this.map.set(id, value);
    return id;
  }

  snapshot(): TokenMap {
    const o: Record<string, string> = {};
    for (const [k, v] of this.map) o[k] = v;
    return Object.freeze(o);
  }
}
