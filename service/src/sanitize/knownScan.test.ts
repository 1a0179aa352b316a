import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { compileKnownValues, searchKnown } from './detect.js';
import { MAX_SCAN_UNITS, scanKnown } from './knownScan.js';
import type { KnownValue, Span } from './types.js';

/** The WebAssembly search and the JavaScript reference on the same text; `scanned` says which answered. */
function both(text: string, values: KnownValue[]): { wasm: Span[]; reference: Span[]; scanned: boolean } {
  const needles = compileKnownValues(values);
  const wasm: Span[] = [];
  const scanned = scanKnown(text, needles, wasm);
  const reference: Span[] = [];
  searchKnown(text, needles, reference);
  // The reference lists needle by needle, the WebAssembly search in text order: the same spans, sorted alike.
  return { wasm: sorted(scanned ? wasm : reference), reference: sorted(reference), scanned };
}

const sorted = (spans: Span[]): Span[] =>
  [...spans].sort((x, y) => x.start - y.start || x.end - y.end || x.type.localeCompare(y.type) || Number(x.drop) - Number(y.drop));

const NAMES: KnownValue[] = [
  { value: 'Jürgen Weiß-Müller', type: 'PERSON' },
  { value: 'Chloé Lefèvre', type: 'PERSON' },
  { value: "Seán O'Neill", type: 'PERSON' },
  { value: 'anna.mueller@example.de', type: 'EMAIL' },
  { value: '+49 30 901820', type: 'PHONE' },
  { value: 'ΟΔΥΣΣΕΑΣ', type: 'PERSON' },
  { value: 'İnci Yılmaz', type: 'PERSON' },
];

describe('known values in WebAssembly (knownScan)', () => {
  it('finds what the JavaScript search finds: case, diacritics, ß/ss, name parts, word boundaries, overlaps', () => {
    const text =
      'Call with JÜRGEN weiss-muller and jurgen, Weiß, Müllerstraße (not a name), MULLER. ' +
      'Chloe LEFEVRE wrote to anna.mueller@example.de; o’neill? Sean O’Neill. +49 30 901820 or +49 30 9018201.';
    const r = both(text, NAMES);
    expect(r.scanned).toBe(true);
    expect(r.wasm).toEqual(r.reference);
    expect(r.wasm.length).toBeGreaterThan(8);
  });

  it('hands texts whose folding depends on neighbours back to JavaScript: capital sigma, İ, astral characters', () => {
    for (const text of ['ΟΔΥΣΣΕΑΣ ist da', 'İnci Yılmaz aus İzmir', 'Jürgen 🙂 Müller']) {
      const r = both(text, NAMES);
      expect(r.scanned).toBe(false);
      expect(r.reference.length).toBeGreaterThan(0);
    }
    expect(scanKnown('x'.repeat(MAX_SCAN_UNITS + 1), compileKnownValues(NAMES), [])).toBe(false);
  });

  it('finds two-unit values up to the last unit, and more values than Teddy has buckets', () => {
    // Two-unit values (Teddy's third position accepts anything for them) and 20 values, so buckets are shared.
    const values: KnownValue[] = [
      'Li',
      'Wu',
      'Ng',
      ...'Anna Bernd Chloé Dörte Émile Fritz Gaëlle Hanna Ingo Jörg Klaus Léa Mia Noé Olaf Paul Zoé'.split(' '),
    ].map((value) => ({ value, type: 'PERSON' as const }));
    const text =
      'Meeting: LI, wu and Ng; then anna, BERND, chloe, Dörte, emile, Fritz, gaelle, Hanna, Ingo, JORG, klaus, lea, Mia, noe, Olaf, paul, Zoe, ng';
    const r = both(text, values);
    expect(r.scanned).toBe(true);
    expect(r.wasm).toEqual(r.reference);
    expect(r.wasm).toHaveLength(21);
    expect(r.wasm[r.wasm.length - 1]).toMatchObject({ start: text.length - 2, end: text.length });
  });

  it('grows its memory for long texts and still agrees', () => {
    const text = 'Jürgen Müller, '.repeat(60_000);
    const r = both(text, NAMES);
    expect(r.scanned).toBe(true);
    expect(r.wasm).toEqual(r.reference);
    // `jurgen` and `muller` (parts of Jürgen Weiß-Müller) in each repetition.
    expect(r.wasm.length).toBe(120_000);
  });

  it('agrees with the JavaScript search on arbitrary texts and values (property)', () => {
    const alphabet = fc.constantFrom(..."aAäÄeéÉèsSßuüÜoöøØ-.’' ,nN1@Σσςİı".split(''), 'ss', 'Müller', 'muller', 'weiss', 'Weiß', '🙂');
    const textArb = fc.array(alphabet, { maxLength: 60 }).map((xs) => xs.join(''));
    const valueArb = fc.array(fc.record({ value: textArb, type: fc.constantFrom('PERSON' as const, 'VALUE' as const, 'EMAIL' as const) }), {
      minLength: 1,
      maxLength: 4,
    });
    let scanned = 0;
    fc.assert(
      fc.property(textArb, valueArb, (text, values) => {
        const r = both(text, values);
        if (r.scanned) scanned++;
        expect(r.wasm).toEqual(r.reference);
      }),
      { numRuns: 4000, seed: 5 },
    );
    // Most generated texts go through the WebAssembly search (the property is not decided by the fallback alone).
    expect(scanned).toBeGreaterThan(1000);
  });
});
