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

/**
 * A request's tokens. A request has a handful, so they are kept in arrays and found by a linear
 * look-up (no map per session, no hashing per value) until there are many, then through maps.
 */
export class TokenAllocator {
  /** Allocated tokens in order: type, value and id of each. */
  private readonly types: EntityType[] = [];
  private readonly values: string[] = [];
  private readonly ids: string[] = [];
  /** Per type: value → index, made once there are MANY tokens. */
  private byValue: Map<EntityType, Map<string, number>> | undefined;
  /** Per type: the last number given (a map: an object keyed by type names went megamorphic, 8% of the time on dense notes). */
  private counters: Map<EntityType, number> | undefined;
  /** Made on first use: most texts hold no token-like text. */
  private reserved: Set<string> | undefined;
  /** Every id given, kept only with an HMAC (its truncated codes can collide; counters cannot). */
  private readonly given: Set<string> | undefined;

  constructor(private readonly hmac?: TokenHmac) {
    if (hmac) this.given = new Set();
  }

  /** Ids that already occur in the input as text: never allocated, so restoring cannot touch them. */
  reserve(ids: ReadonlySet<string>): void {
    if (ids.size === 0) return;
    this.reserved ??= new Set();
    for (const id of ids) this.reserved.add(id);
  }

  private taken(id: string): boolean {
    return (this.reserved !== undefined && this.reserved.has(id)) || (this.given !== undefined && this.given.has(id));
  }

  private find(type: EntityType, value: string): number {
    if (this.byValue) return this.byValue.get(type)?.get(value) ?? -1;
    const { types, values } = this;
    for (let i = 0; i < values.length; i++) if (values[i] === value && types[i] === type) return i;
    return -1;
  }

  /** The token id of a value of a type, allocating one if needed. */
  idFor(type: EntityType, value: string): string {
    const known = this.find(type, value);
    if (known >= 0) return this.ids[known];
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
      const counters = (this.counters ??= new Map());
      let n = counters.get(type) ?? 0;
      do id = `${type}_${++n}`;
      while (this.taken(id));
      counters.set(type, n);
    }
    this.add(type, value, id);
    return id;
  }

  private add(type: EntityType, value: string, id: string): void {
    const k = this.values.length;
    this.types.push(type);
    this.values.push(value);
    this.ids.push(id);
    this.given?.add(id);
    if (this.byValue) indexOf(this.byValue, type).set(value, k);
    else if (k + 1 >= MANY) {
      this.byValue = new Map();
      for (let i = 0; i <= k; i++) indexOf(this.byValue, this.types[i]).set(this.values[i], i);
    }
  }

  snapshot(): TokenMap {
    const o: Record<string, string> = {};
    for (let i = 0; i < this.ids.length; i++) o[this.ids[i]] = this.values[i];
    return Object.freeze(o);
  }
}

/** From this many tokens on, look-ups go through maps. */
const MANY = 16;

function indexOf(byValue: Map<EntityType, Map<string, number>>, type: EntityType): Map<string, number> {
  let m = byValue.get(type);
  if (!m) byValue.set(type, (m = new Map()));
  return m;
}
