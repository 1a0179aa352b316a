import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { fold } from './fold.js';

/** Each unit folded alone: what textScan.ts's table holds. */
const unitByUnit = (s: string): string =>
  [...s]
    .flatMap((ch) => ch.split(''))
    .map((u) => {
      const f = fold(u);
      return f.length === 1 ? f : u;
    })
    .join('');

describe('fold', () => {
  it('folds case and marks and keeps every offset', () => {
    expect(fold('Jürgen WEISS-Müller, Chloé Lefèvre, Łukasz, Ørsted, ß, Þór, Ðorđe')).toBe(
      'jurgen weiss-muller, chloe lefevre, lukasz, orsted, s, tor, dorde',
    );
    expect(fold('İnci')).toHaveLength(4);
  });

  it('folds every Latin unit as it folds alone, also in a text that lower-cases to a different length (İ)', () => {
    // Such a text takes the unit-by-unit path; a needle is folded alone: both must agree (Ð and Þ once did not).
    for (let c = 0; c < 0x250; c++) {
      const ch = String.fromCharCode(c);
      for (const s of [ch, `a${ch}B`, `İ${ch}`, `${ch}É${ch}İ`]) expect([c, fold(s)]).toEqual([c, unitByUnit(s)]);
    }
  });

  it('folds arbitrary Latin strings unit by unit (property)', () => {
    const unit = fc.oneof(fc.integer({ min: 0, max: 0x24f }), fc.constantFrom(0x130, 0x1e9e, 0x2019, 0x1ea0, 0x10d0));
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 80 }), (codes) => {
        const s = String.fromCharCode(...codes);
        expect(fold(s)).toBe(unitByUnit(s));
      }),
      { numRuns: 5000, seed: 23 },
    );
  });
});
