/**
 * Phone number validity, decided exactly as libphonenumber-js decides it
 * (`parsePhoneNumberFromString(candidate, { defaultCountry, extract: false }).isValid()`), from the
 * same metadata, without its cost: the library builds a RegExp from a metadata string for every
 * pattern test and copies its options on every call (about 6 µs per number on a 2-core CI
 * machine), where this module compiles each pattern once. The steps below follow the library's
 * parse (IDD prefix, calling code written without `+`, national prefix for parsing and its
 * transform rule, the country among those sharing a calling code) and its number-type check.
 * Candidates with characters this module does not model go to the library itself;
 * phone.test.ts holds the two equal over every country of the metadata.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/core';
import type { CountryCode, MetadataJson } from 'libphonenumber-js/core';
import phoneMetadata from 'libphonenumber-js/metadata.max.json';

const METADATA = phoneMetadata as unknown as MetadataJson;

/** A numbering plan's fields (libphonenumber-js compressed metadata v4), with patterns compiled once. */
interface Plan {
  callingCode: string;
  /** `^(?:idd)`; absent for non-geographic plans. */
  idd?: RegExp;
  general: RegExp;
  lengths?: readonly number[];
  /** `^(?:national prefix for parsing, or the national prefix)`. */
  prefixForParsing?: RegExp;
  transformRule?: string;
  /** `^(?:leading digits)`: the country of a shared calling code whose numbers start so. */
  leading?: RegExp;
  /** Number types (fixed line, mobile, toll free …) with a pattern; undefined when the plan has none. */
  types?: readonly { pattern: RegExp; lengths?: readonly number[] }[];
}

type RawPlan = unknown[];
const raw = METADATA as unknown as {
  countries: Record<string, RawPlan | undefined>;
  country_calling_codes: Record<string, string[] | undefined>;
  nonGeographic?: Record<string, RawPlan | undefined>;
};

const anchoredCache = new Map<string, RegExp>();
const whole = (p: string): RegExp => {
  const key = `w${p}`;
  let re = anchoredCache.get(key);
  if (!re) anchoredCache.set(key, (re = new RegExp(`^(?:${p})$`)));
  return re;
};
const prefix = (p: string): RegExp => {
  const key = `p${p}`;
  let re = anchoredCache.get(key);
  if (!re) anchoredCache.set(key, (re = new RegExp(`^(?:${p})`)));
  return re;
};

function compilePlan(m: RawPlan): Plan {
  const str = (i: number): string | undefined => (typeof m[i] === 'string' && m[i] !== '' ? (m[i] as string) : undefined);
  const lengths = Array.isArray(m[3]) ? (m[3] as number[]) : undefined;
  const rawTypes = m[11];
  let types: { pattern: RegExp; lengths?: readonly number[] }[] | undefined;
  if (Array.isArray(rawTypes) && rawTypes.length > 0) {
    types = [];
    // The ten number types the library reads (fixed line … shared cost).
    for (const t of (rawTypes as unknown[]).slice(0, 10)) {
      if (!Array.isArray(t) || typeof t[0] !== 'string' || t[0] === '') continue;
      types.push({ pattern: whole(t[0]), lengths: Array.isArray(t[1]) ? (t[1] as number[]) : lengths });
    }
  }
  const forParsing = str(7) ?? str(5);
  return {
    callingCode: String(m[0]),
    idd: str(1) !== undefined ? prefix(str(1)!) : undefined,
    general: whole(typeof m[2] === 'string' ? m[2] : ''),
    lengths,
    prefixForParsing: forParsing !== undefined ? prefix(forParsing) : undefined,
    transformRule: str(8),
    leading: str(10) !== undefined ? prefix(str(10)!) : undefined,
    types,
  };
}

const countryPlans = new Map<string, Plan>();
function countryPlan(country: string): Plan | undefined {
  let plan = countryPlans.get(country);
  if (!plan) {
    const m = raw.countries[country];
    if (!m) return undefined;
    countryPlans.set(country, (plan = compilePlan(m)));
  }
  return plan;
}

/** The countries of a geographic calling code (not the non-geographic ones). */
function countriesOf(callingCode: string): string[] | undefined {
  const cs = raw.country_calling_codes[callingCode];
  if (!cs || (cs.length === 1 && cs[0].length === 3)) return undefined;
  return cs;
}

const nonGeoPlans = new Map<string, Plan>();
/** The plan a calling code selects: its main country's, or a non-geographic entity's. */
function callingCodePlan(callingCode: string): Plan | undefined {
  const cs = countriesOf(callingCode);
  if (cs) return countryPlan(cs[0]);
  let plan = nonGeoPlans.get(callingCode);
  if (!plan) {
    const m = raw.nonGeographic?.[callingCode];
    if (!m) return undefined;
    nonGeoPlans.set(callingCode, (plan = compilePlan(m)));
  }
  return plan;
}

/** A number type (any) whose pattern and lengths the national number matches, and the general pattern too. */
function hasType(nsn: string, plan: Plan): boolean {
  if (!plan.general.test(nsn) || !plan.types) return false;
  for (const t of plan.types) {
    if (t.lengths && !t.lengths.includes(nsn.length)) continue;
    if (t.pattern.test(nsn)) return true;
  }
  return false;
}

/** getCountryByCallingCode: one country, or the first whose leading digits (or number types) fit. */
function countryByCallingCode(callingCode: string, nsn: string): string | undefined {
  const cs = countriesOf(callingCode);
  if (!cs) return undefined;
  if (cs.length === 1) return cs[0];
  for (const c of cs) {
    const plan = countryPlan(c)!;
    if (plan.leading) {
      if (nsn !== '' && plan.leading.test(nsn)) return c;
    } else if (hasType(nsn, plan)) return c;
  }
  return undefined;
}

type LengthCheck = 'IS_POSSIBLE' | 'TOO_SHORT' | 'TOO_LONG' | 'INVALID_LENGTH';
function checkLength(nsn: string, plan: Plan): LengthCheck {
  const ls = plan.lengths;
  if (!ls) return 'IS_POSSIBLE';
  const n = nsn.length;
  if (ls[0] === n) return 'IS_POSSIBLE';
  if (ls[0] > n) return 'TOO_SHORT';
  if (ls[ls.length - 1] < n) return 'TOO_LONG';
  return ls.indexOf(n, 1) >= 0 ? 'IS_POSSIBLE' : 'INVALID_LENGTH';
}

/** extractNationalNumber: the national prefix (and carrier code) stripped where the plan's rules allow. */
function nationalNumberOf(digits: string, plan: Plan): string {
  if (digits === '' || !plan.prefixForParsing) return digits;
  const m = plan.prefixForParsing.exec(digits);
  if (!m) return digits;
  const groups = m.length - 1;
  const hasGroups = groups > 0 && Boolean(m[groups]);
  const nsn = plan.transformRule && hasGroups ? digits.replace(plan.prefixForParsing, plan.transformRule) : digits.slice(m[0].length);
  if (nsn === digits) return digits;
  // Not when the number fitted the plan before and does not after.
  if (plan.general.test(digits) && !plan.general.test(nsn)) return digits;
  if (plan.lengths) {
    const c = countryByCallingCode(plan.callingCode, nsn);
    const lengthPlan = c ? countryPlan(c)! : plan;
    const check = checkLength(nsn, lengthPlan);
    if (check === 'TOO_SHORT' || check === 'INVALID_LENGTH') return digits;
  }
  return nsn;
}

/** Only these characters are modelled here: ASCII digits, a leading `+`, and the library's punctuation subset. */
const MODELLED = /^\+?[0-9 \u00a0\-./()]*$/;
const MIN_NSN = 2;
const MAX_NSN = 17;
/** The library reads at most this many characters. */
const MAX_INPUT = 250;

/**
 * Whether libphonenumber-js would parse `candidate` (a number and its punctuation, nothing else)
 * into a valid number: international when it starts with `+`, else national in `country`.
 */
export function isValidPhoneNumber(candidate: string, country?: CountryCode): boolean {
  if (candidate.length > MAX_INPUT || !MODELLED.test(candidate)) return libraryVerdict(candidate, country);
  const digits = candidate.replace(NON_DIGIT, '');
  // Fewer than three digits is outside what the library calls a viable number (bar two digits alone).
  if (digits.length < 3) return libraryVerdict(candidate, country);

  // extractCountryCallingCode: `+`, an IDD prefix, or the home calling code written without `+`.
  let international = candidate.charCodeAt(0) === 43 ? digits : undefined;
  let callingCode: string | undefined;
  let number = digits;
  let selected: string | undefined;
  if (international === undefined) {
    if (!country) return false;
    const home = countryPlan(country);
    if (!home) return false;
    const idd = home.idd?.exec(digits);
    if (idd && idd[0].length > 0 && digits.length > idd[0].length && digits[idd[0].length] !== '0') {
      international = digits.slice(idd[0].length);
    } else if (digits.startsWith(home.callingCode)) {
      const shorter = digits.slice(home.callingCode.length);
      const nsn = nationalNumberOf(digits, home);
      if ((!home.general.test(nsn) && home.general.test(nationalNumberOf(shorter, home))) || checkLength(nsn, home) === 'TOO_LONG') {
        callingCode = home.callingCode;
        number = shorter;
      }
    }
    if (international === undefined && callingCode === undefined) {
      selected = country;
      callingCode = home.callingCode;
    }
  }
  if (international !== undefined) {
    // One to three digits, never starting with 0.
    if (international[0] === '0') return false;
    for (let k = 1; k <= 3 && k <= international.length; k++) {
      const cc = international.slice(0, k);
      if (countriesOf(cc) || raw.nonGeographic?.[cc]) {
        callingCode = cc;
        number = international.slice(k);
        break;
      }
    }
  }
  if (callingCode === undefined || number === '') return false;
  // The plan: the home country's, or the one the calling code selects (its main country's).
  const plan = selected ? countryPlan(selected) : callingCodePlan(callingCode);
  if (!plan) return false;
  const nsn = nationalNumberOf(number, plan);
  const exact = countryByCallingCode(callingCode, nsn);
  if (exact) selected = exact;
  if (nsn.length < MIN_NSN || nsn.length > MAX_NSN) return false;
  const finalPlan = selected ? countryPlan(selected) : callingCodePlan(callingCode);
  if (!finalPlan) return false;
  return finalPlan.types ? hasType(nsn, finalPlan) : finalPlan.general.test(nsn);
}
const NON_DIGIT = /\D/g;

/** The library's own answer, for what this module does not model. */
export function libraryVerdict(candidate: string, country?: CountryCode): boolean {
  const p = parsePhoneNumberFromString(candidate, country ? { defaultCountry: country, extract: false } : { extract: false }, METADATA);
  return p !== undefined && p.isValid();
}
