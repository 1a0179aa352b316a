import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { compileKnownValues, runsByPattern, searchKnown, searchSecrets } from './detect.js';
import { MAX_SCAN_UNITS, numberRuns, scanKnown, SECRET_PREFIXES, secretStarts } from './textScan.js';
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

describe('known values in WebAssembly (textScan)', () => {
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

/** Secrets found at the WebAssembly candidate starts, and by the whole-text scan (the reference). */
function secretsBoth(text: string): { starts: Span[]; reference: Span[] } {
  const starts: Span[] = [];
  searchSecrets(text, starts, secretStarts(text));
  const reference: Span[] = [];
  searchSecrets(text, reference, undefined);
  return { starts: sorted(starts), reference: sorted(reference) };
}

describe('secret starts in WebAssembly (textScan)', () => {
  it('lists every prefix a secret pattern can start with, in any case', () => {
    for (const prefix of SECRET_PREFIXES) {
      for (const written of [prefix, prefix.toUpperCase(), prefix[0].toUpperCase() + prefix.slice(1)]) {
        const text = `Note: ${written}xyz`;
        expect([written, secretStarts(text)]).toEqual([written, expect.arrayContaining([6])]);
      }
    }
    expect(secretStarts('Clé: x')).toContain(0);
    // Ordinary prose has few candidates (each costs a pattern test): here `sch` in `wünscht`; Teddy's `eit` in `Freitag` is not a prefix.
    expect(secretStarts('Der Kunde wünscht ein Angebot für das nächste Quartal, bitte bis Freitag.')).toEqual([13]);
  });

  it('finds what the whole-text scan finds: keywords, key formats, private keys, rejected values', () => {
    const text =
      'Passwort: Sommer2024! merken; the password is hunter2; mot de passe = azerty; API-Key Berlin2023$; PIN 4711; ' +
      'key password: x1y2z3 ok; aws AKIAIOSFODNN7EXAMPLE; sk-proj-AbCdEf0123456789xyzXYZ00; Schlüssel lautet Geheim#1; ' +
      '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY----- CLÉ: k3y!';
    const r = secretsBoth(text);
    expect(r.starts).toEqual(r.reference);
    expect(r.reference.length).toBe(11);
  });

  it('agrees with the whole-text scan on arbitrary texts (property)', () => {
    const keyword = fc.constantFrom(
      ...'password PASSWORT Kennwort passwd pwd Mot de passe MDP passcode PIN pin api key API-Key apikey api_key key KEY Schlüssel SCHLÜSSEL clé CLÉ Clé secret Token access key access-key client_secret Client Secret'.split(
        ' ',
      ),
    );
    const sep = fc.constantFrom(': ', ':', '=', ' = ', ' is ', ' ist ', ' est ', ' lautet ', ' ', '  "', ' “', ' «', '\t');
    const value = fc.constantFrom(
      'Sommer2022!',
      'x1',
      'hunter2',
      'abc',
      'Tr0ub4dor&3',
      'correcthorsebatterystaple',
      '4711',
      '12345678',
      'é9!',
      'ok.',
    );
    const format = fc.constantFrom(
      'sk-proj-AbCdEf0123456789xyzXYZ00',
      'sk-ant-0123456789abcdefXYZ',
      'AKIAIOSFODNN7EXAMPLE',
      'ASIAIOSFODNN7EXAMPL3',
      'ghp_0123456789abcdefghijABCDEFGHIJ0123',
      'gho_0123456789abcdefghijABCDEFGHIJ0123',
      'github_pat_0123456789abcdefghijABCDEFGHIJ0123456789_x',
      'xoxb-0123456789-abc',
      'AIzaSyA0123456789abcdefghijABCDEFGHIJ_',
      'eyJhbGciOiJI.eyJzdWIiOiIx.SflKxwRJSM',
      'sk_live_0123456789abcdefXYZ',
      'pk_test_0123456789abcdefXYZ',
      'rk_live_0123456789abcdefXYZ',
      '-----BEGIN PRIVATE KEY-----x-----END PRIVATE KEY-----',
    );
    const filler = fc.constantFrom(
      ' ',
      '. ',
      ', ',
      'der Kunde ',
      'Jürgen',
      'ü',
      'É',
      '_',
      '-',
      'x',
      '1',
      'pas ',
      'sehr ',
      'schon ',
      'sk',
      'ey',
      '\n',
      '€',
    );
    const piece = fc.oneof(
      { weight: 3, arbitrary: filler },
      { weight: 2, arbitrary: fc.tuple(keyword, sep, value).map((xs) => xs.join('')) },
      { weight: 1, arbitrary: keyword },
      { weight: 1, arbitrary: format },
    );
    let found = 0;
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }), (pieces) => {
        const r = secretsBoth(pieces.join(''));
        found += r.reference.length;
        expect(r.starts).toEqual(r.reference);
      }),
      { numRuns: 3000, seed: 11 },
    );
    expect(found).toBeGreaterThan(2000);
  });
});

describe('number runs in WebAssembly (textScan)', () => {
  it('finds the runs the pattern finds: separators, brackets, spaced dashes, four capitals, a trailing letter', () => {
    const text =
      'IBAN DE89 3704 0044 0532 0130 00, Tel. +49 (0) 30 1234-567, 06 12 34 56 78, BIC COBADEFFXXX; AB 12 34 56 C; ' +
      '2024-03-01 um 14:30, 1.234,50 €, 12 A und 4-b, 7 ABCD, 7 ABCDé, 9 / 8, 1\u00a02\u202f3, 5  6   7, X-12345678-Z.';
    const runs = numberRuns(text);
    expect(runs).toEqual(runsByPattern(text));
    expect(runs!.length).toBeGreaterThan(30);
  });

  it('leaves texts with surrogates or neighbour-dependent folding to the pattern', () => {
    expect(numberRuns('12 𝐀 34')).toBeUndefined();
    expect(numberRuns('ΣΑΣ 12 34')).toBeUndefined();
    expect(numberRuns('')).toEqual([]);
  });

  it('agrees with the pattern on arbitrary texts (property)', () => {
    const piece = fc.constantFrom(
      ...'0123456789'.split(''),
      '12',
      '4711',
      'A',
      'Z',
      'ABCD',
      'DE',
      'x',
      'b',
      'é',
      'É',
      'ß',
      ' ',
      '  ',
      '\u00a0',
      '\u202f',
      '-',
      '.',
      '/',
      '(',
      ')',
      '+',
      ',',
      ':',
      '_',
      '€',
      '\n',
    );
    let runs = 0;
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 80 }), (pieces) => {
        const text = pieces.join('');
        const wasm = numberRuns(text);
        expect(wasm).toEqual(runsByPattern(text));
        runs += wasm!.length / 2;
      }),
      { numRuns: 5000, seed: 17 },
    );
    expect(runs).toBeGreaterThan(3000);
  });
});
