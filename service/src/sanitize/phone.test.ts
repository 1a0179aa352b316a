import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { getCountries, getCountryCallingCode } from 'libphonenumber-js/core';
import type { CountryCode, MetadataJson } from 'libphonenumber-js/core';
import examples from 'libphonenumber-js/examples.mobile.json';
import phoneMetadata from 'libphonenumber-js/metadata.max.json';
import { isValidPhoneNumber, libraryVerdict } from './phone.js';

const METADATA = phoneMetadata as unknown as MetadataJson;
const COUNTRIES = getCountries(METADATA);
const EXAMPLES = examples as unknown as Record<string, string>;
const IDD = (c: CountryCode): string => {
  const idd = (METADATA.countries as unknown as Record<string, unknown[]>)[c][1];
  return typeof idd === 'string' && /^\d+$/.test(idd) ? idd : '00';
};

/** A seeded random source (SHA-256 of a counter): the same candidates every run. */
function rng(seed: number): () => number {
  let counter = 0;
  return () => createHash('sha256').update(`${seed}:${counter++}`).digest().readUInt32BE(0) / 2 ** 32;
}

/** Writes digits the ways people do: grouped by spaces, dots, dashes, slashes, an area code in brackets. */
function punctuate(digits: string, r: () => number): string {
  const seps = [' ', ' ', '.', '-', '/', '\u00a0', ''];
  const sep = seps[Math.floor(r() * seps.length)];
  let out = '';
  let group = 2 + Math.floor(r() * 3);
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && group === 0) {
      out += sep;
      group = 2 + Math.floor(r() * 3);
    }
    out += digits[i];
    group--;
  }
  return r() < 0.15 && out.length > 4 ? `(${out.slice(0, 3)}) ${out.slice(3)}` : out;
}

/** Candidates for one country: its example number in every form, mutated, and random digit strings with its prefixes. */
function candidates(country: CountryCode, r: () => number): Array<[string, CountryCode | undefined]> {
  const cc = getCountryCallingCode(country, METADATA);
  const out: Array<[string, CountryCode | undefined]> = [];
  const nsns: string[] = [];
  const example = EXAMPLES[country];
  if (example) nsns.push(example);
  const randomDigits = (n: number): string => Array.from({ length: n }, () => String(Math.floor(r() * 10))).join('');
  for (let k = 0; k < 25; k++) {
    const base = example && r() < 0.6 ? example : randomDigits(3 + Math.floor(r() * 13));
    // Mutations: a digit changed, dropped or added; or a random number of the example's length.
    const at = Math.floor(r() * base.length);
    const m = Math.floor(r() * 4);
    nsns.push(
      m === 0
        ? base.slice(0, at) + randomDigits(1) + base.slice(at + 1)
        : m === 1
          ? base.slice(0, at) + base.slice(at + 1)
          : m === 2
            ? base.slice(0, at) + randomDigits(1) + base.slice(at)
            : randomDigits(base.length),
    );
  }
  for (const nsn of nsns) {
    for (const written of [
      nsn,
      `0${nsn}`,
      `1${nsn}`,
      `${cc}${nsn}`,
      `${cc}0${nsn}`,
      `${IDD(country)}${cc}${nsn}`,
      `${IDD(country)}0${nsn}`,
    ]) {
      out.push([punctuate(written, r), country]);
    }
    out.push([`+${cc} ${punctuate(nsn, r)}`, undefined]);
    out.push([`+${cc} (0) ${punctuate(nsn, r)}`, undefined]);
    out.push([`+${cc}0${nsn}`, undefined]);
  }
  return out;
}

describe('isValidPhoneNumber: libphonenumber-js validity, precompiled', () => {
  it('agrees with libphonenumber-js for every country of the metadata, national and international, valid and not', () => {
    const r = rng(7);
    let compared = 0;
    let valid = 0;
    const disagreements: string[] = [];
    for (const country of COUNTRIES) {
      for (const [candidate, home] of candidates(country, r)) {
        const expected = libraryVerdict(candidate, home);
        const got = isValidPhoneNumber(candidate, home);
        compared++;
        if (expected) valid++;
        if (got !== expected && disagreements.length < 10)
          disagreements.push(`${home ?? 'intl'} ${JSON.stringify(candidate)}: library ${expected}, here ${got}`);
      }
    }
    expect(disagreements).toEqual([]);
    // The candidates cover both outcomes in quantity (a check that cannot pass vacuously).
    expect(compared).toBeGreaterThan(40_000);
    expect(valid).toBeGreaterThan(compared / 10);
    expect(compared - valid).toBeGreaterThan(compared / 10);
  });

  it('agrees on arbitrary digit-and-punctuation strings (property)', () => {
    const home = fc.constantFrom<CountryCode | undefined>(
      undefined,
      'DE',
      'FR',
      'GB',
      'US',
      'CA',
      'IT',
      'ES',
      'NL',
      'CH',
      'AT',
      'BE',
      'IE',
      'AR',
      'MX',
      'BR',
      'RU',
      'KZ',
    );
    const candidate = fc.stringMatching(/^\+?[0-9 ().\-/]{3,24}$/);
    fc.assert(
      fc.property(candidate, home, (s, c) => {
        expect(isValidPhoneNumber(s, c)).toBe(libraryVerdict(s, c));
      }),
      { numRuns: 3000, seed: 11 },
    );
  });

  it('hands what it does not model to the library (narrow no-break space, a + in the middle)', () => {
    for (const s of ['+49\u202f30\u202f901820', '030+901820', '(+49) 30 901820']) {
      expect(isValidPhoneNumber(s, 'DE')).toBe(libraryVerdict(s, 'DE'));
    }
    expect(isValidPhoneNumber('+49 30 901820')).toBe(true);
    expect(isValidPhoneNumber('030 901820', 'DE')).toBe(true);
    expect(isValidPhoneNumber('0049 30 901820', 'DE')).toBe(true);
    expect(isValidPhoneNumber('(415) 555-2671', 'US')).toBe(true);
    expect(isValidPhoneNumber('1 415 555 2671', 'US')).toBe(true);
    expect(isValidPhoneNumber('030 90182', 'FR')).toBe(false);
  });
});
