import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { TokenAllocator } from './tokens.js';
import type { TokenHmac } from './tokens.js';
import type { EntityType } from './types.js';

/** The allocator's rules written plainly (maps throughout): the reference. */
class Reference {
  private readonly byValue = new Map<string, string>();
  private readonly map = new Map<string, string>();
  private readonly counters = new Map<string, number>();
  private readonly reserved = new Set<string>();
  constructor(private readonly hmac?: TokenHmac) {}
  reserve(ids: Iterable<string>): void {
    for (const id of ids) this.reserved.add(id);
  }
  private taken = (id: string): boolean => this.map.has(id) || this.reserved.has(id);
  idFor(type: EntityType, value: string): string {
    const key = `${type}\u0000${value}`;
    const known = this.byValue.get(key);
    if (known) return known;
    let id: string | undefined;
    if (this.hmac) {
      id = `${type}_${this.hmac(key)
        .toUpperCase()
        .replace(/[^0-9A-Z]/g, '')
        .slice(0, 10)}`;
      if (this.taken(id)) id = undefined;
    }
    if (!id) {
      let n = this.counters.get(type) ?? 0;
      do id = `${type}_${++n}`;
      while (this.taken(id));
      this.counters.set(type, n);
    }
    this.byValue.set(key, id);
    this.map.set(id, value);
    return id;
  }
  snapshot(): Record<string, string> {
    return Object.fromEntries(this.map);
  }
}

describe('TokenAllocator', () => {
  const type = fc.constantFrom<EntityType>('PERSON', 'EMAIL', 'PHONE', 'IBAN');
  const value = fc.constantFrom(...'Anna Müller a@b.de 0171 2345678 x y z 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20'.split(' '));
  const step = fc.oneof(
    { weight: 8, arbitrary: fc.tuple(type, value).map(([t, v]) => ({ t, v })) },
    { weight: 1, arbitrary: fc.tuple(type, fc.integer({ min: 1, max: 30 })).map(([t, n]) => ({ reserve: `${t}_${n}` })) },
  );
  // HMACs: a real one's codes, one whose codes collide for every value, one whose codes read like counters.
  const hmacs: Record<string, TokenHmac | undefined> = {
    none: undefined,
    distinct: (d) => Buffer.from(d).toString('hex').toUpperCase().padEnd(10, '0').slice(-10),
    colliding: () => 'ABCDEFGH12',
    counterLike: (d) => `000000000${d.length % 3}`,
  };

  it('gives the tokens the plain rules give, before and after switching to maps (property)', () => {
    for (const [name, hmac] of Object.entries(hmacs)) {
      fc.assert(
        fc.property(fc.array(step, { minLength: 10, maxLength: 80, size: 'max' }), (steps) => {
          const a = new TokenAllocator(hmac);
          const r = new Reference(hmac);
          for (const s of steps) {
            if ('reserve' in s) {
              a.reserve(new Set([s.reserve!]));
              r.reserve([s.reserve!]);
            } else expect([name, s, a.idFor(s.t, s.v)]).toEqual([name, s, r.idFor(s.t, s.v)]);
          }
          expect(a.snapshot()).toEqual(r.snapshot());
          expect(Object.keys(a.snapshot())).toEqual(Object.keys(r.snapshot()));
        }),
        { numRuns: 400, seed: 31 },
      );
    }
  });

  it('keeps one token per value and type, and a value of two types gets two', () => {
    const a = new TokenAllocator();
    const ids = Array.from({ length: 40 }, (_, i) => a.idFor('VALUE', `v${i % 20}`));
    expect(new Set(ids).size).toBe(20);
    expect(a.idFor('PERSON', 'v3')).toBe('PERSON_1');
    expect(a.idFor('VALUE', 'v3')).toBe('VALUE_4');
    expect(Object.keys(a.snapshot())).toHaveLength(21);
  });
});
