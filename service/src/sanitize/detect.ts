/**
 * Free-text detectors. One cheap scan per family finds candidates (an `@`, a `:` between hex
 * digits, a run of digits with its separators, a secret's prefix, a known value's folded text);
 * only candidates reach the checksum and structure rules in checks.ts and libphonenumber-js,
 * so order numbers, amounts, case numbers and dates pass through untouched. No pattern here
 * can backtrack catastrophically: every repetition is over disjoint character classes or bounded.
 */
import type { CountryCode, MetadataJson } from 'libphonenumber-js/core';
import phoneMetadata from 'libphonenumber-js/metadata.max.json';
import { isBsn, isCodiceFiscale, isDni, isIban, isIpv4, isIpv6, isNie, isNino, isNir, isPaymentCard, isSsn, isSteuerId } from './checks.js';
import { fold, isWordAt, isWordCode } from './fold.js';
import { numberRuns, scanKnown, secretStarts } from './textScan.js';
import { isValidPhoneNumber } from './phone.js';
import type { DetectorType, EntityType, KnownValue, Span } from './types.js';

const METADATA = phoneMetadata as unknown as MetadataJson;

export interface DetectOptions {
  /** Countries whose national phone formats are recognised (international `+…` numbers always are). */
  countries: readonly CountryCode[];
  enabled: ReadonlySet<DetectorType>;
}

// ---------------------------------------------------------------------------------------------
// Email: every '@' with a plausible local part and a dotted domain around it.

const LOCAL_CHAR = new Uint8Array(128);
const DOMAIN_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9]/.test(ch)) LOCAL_CHAR[c] = DOMAIN_CHAR[c] = 1;
  if ("._%+-'".includes(ch)) LOCAL_CHAR[c] = 1;
  if ('.-'.includes(ch)) DOMAIN_CHAR[c] = 1;
}
const isLocal = (s: string, i: number): boolean => {
  const c = s.charCodeAt(i);
  return c < 128 ? LOCAL_CHAR[c] === 1 : isWordAt(s, i);
};
const isDomain = (s: string, i: number): boolean => {
  const c = s.charCodeAt(i);
  return c < 128 ? DOMAIN_CHAR[c] === 1 : isWordAt(s, i);
};
const DOMAIN_OK = /^(?:[^.\s-][^.\s]*\.)+[^\W\d_]{2,}$/u;

function detectEmails(text: string, out: Span[]): void {
  let at = text.indexOf('@');
  while (at !== -1) {
    let a = at;
    while (a > 0 && at - a < 64 && isLocal(text, a - 1)) a--;
    while (a < at && text[a] === '.') a++;
    let b = at + 1;
    while (b < text.length && b - at < 256 && isDomain(text, b)) b++;
    while (b > at + 1 && (text[b - 1] === '.' || text[b - 1] === '-')) b--;
    if (a < at && b > at + 3 && DOMAIN_OK.test(text.slice(at + 1, b))) out.push({ start: a, end: b, type: 'EMAIL', drop: false });
    at = text.indexOf('@', Math.max(b, at + 1));
  }
}

// ---------------------------------------------------------------------------------------------
// IPv6: every ':' between hex digits (or '::'), expanded over [0-9a-f:.] and checked by node:net.

const isHexOrColon = (c: number): boolean => (c >= 48 && c <= 58) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const isHexColonDot = (c: number): boolean => isHexOrColon(c) || c === 46;

function detectIpv6(text: string, out: Span[]): void {
  let i = text.indexOf(':');
  while (i !== -1) {
    const next = text.charCodeAt(i + 1);
    if (!isHexOrColon(next)) {
      i = text.indexOf(':', i + 1);
      continue;
    }
    let a = i;
    while (a > 0 && i - a < 45 && isHexOrColon(text.charCodeAt(a - 1))) a--;
    let b = i + 1;
    while (b < text.length && b - a < 46 && isHexColonDot(text.charCodeAt(b))) b++;
    while (b > i && text[b - 1] === '.') b--;
    const cand = text.slice(a, b);
    const bounded = !isWordAt(text, a - 1) && !isWordAt(text, b);
    if (bounded && cand.indexOf(':') !== cand.lastIndexOf(':') && isIpv6(cand)) {
      out.push({ start: a, end: b, type: 'IP', drop: false });
    }
    i = text.indexOf(':', Math.max(b, i + 1));
  }
}

// ---------------------------------------------------------------------------------------------
// Secrets: vendor key formats by prefix, and values written after a password/key keyword.

const SECRET_TOKENS =
  /(?:\bsk-(?:proj-|live-|test-|ant-)?[A-Za-z0-9_-]{16,}|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_\w{40,}|\bxox[abposr]-[A-Za-z0-9-]{10,}|\bAIza[0-9A-Za-z_-]{35}|\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}|\b[sprk]k_(?:live|test)_[A-Za-z0-9]{16,}|-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----[\s\S]{0,8000}?-----END [A-Z ]{0,20}PRIVATE KEY-----)/g;
const SECRET_KEYWORD =
  /\b(password|passwort|kennwort|passwd|pwd|mot de passe|mdp|passcode|pin|api[ _-]?key|key|schlüssel|clé|secret|token|access[ _-]?key|client[ _-]?secret)(?:[ \t]{0,3}(:|=|(?:is|ist|est|lautet)\b))?[ \t]{0,3}["'“„«]?[ \t]{0,2}([^\s"'”“»,;]{3,200})/gi;
const PASSWORD_WORDS = /^(?:password|passwort|kennwort|passwd|pwd|mot de passe|mdp|passcode|pin)$/i;
const TRAILING_PUNCT = /[.!?)\]]$/;
const HAS_SYMBOL = /[\W_]/;
const HAS_LETTER = /[A-Za-z]/;

// The same patterns tested at one position (sticky), where textScan.ts says a secret may start.
const SECRET_TOKENS_AT = new RegExp(SECRET_TOKENS.source, 'y');
const SECRET_KEYWORD_AT = new RegExp(SECRET_KEYWORD.source, 'iy');

/**
 * Secrets: the key formats, then the keywords. Where textScan.ts lists the positions a secret can
 * start at (a superset), the patterns are tested there only, in order, with what the global scans
 * would skip skipped too, so the result is theirs.
 */
function detectSecrets(text: string, out: Span[]): void {
  searchSecrets(text, out, secretStarts(text));
}

/** The secret search over the candidate `starts`, or over the whole text when there are none (the reference). */
export function searchSecrets(text: string, out: Span[], starts: readonly number[] | undefined): void {
  if (starts === undefined) {
    SECRET_TOKENS.lastIndex = 0;
    for (let m = SECRET_TOKENS.exec(text); m; m = SECRET_TOKENS.exec(text)) {
      out.push({ start: m.index, end: m.index + m[0].length, type: 'SECRET', drop: false });
    }
    SECRET_KEYWORD.lastIndex = 0;
    for (let m = SECRET_KEYWORD.exec(text); m; m = SECRET_KEYWORD.exec(text)) SECRET_KEYWORD.lastIndex = keyword(m, out);
    return;
  }
  // Past these, the global scans would go on looking (a match's end, or a rejected keyword's value).
  let tokenFrom = 0;
  let keywordFrom = 0;
  for (const p of starts) {
    if (p >= tokenFrom) {
      SECRET_TOKENS_AT.lastIndex = p;
      const m = SECRET_TOKENS_AT.exec(text);
      if (m) {
        out.push({ start: p, end: p + m[0].length, type: 'SECRET', drop: false });
        tokenFrom = p + m[0].length;
      }
    }
    if (p >= keywordFrom) {
      SECRET_KEYWORD_AT.lastIndex = p;
      const m = SECRET_KEYWORD_AT.exec(text);
      if (m) keywordFrom = keyword(m, out);
    }
  }
}

/** A keyword match: pushes its value when it reads as a credential; returns where scanning goes on. */
function keyword(m: RegExpExecArray, out: Span[]): number {
  let value = m[3];
  // A sentence end is not part of the secret.
  while (value.length > 3 && TRAILING_PUNCT.test(value)) value = value.slice(0, -1);
  const sep = m[2];
  const digit = /\d/.test(value);
  let ok: boolean;
  if (sep === ':' || sep === '=') ok = digit || HAS_SYMBOL.test(value) || value.length >= 12 || PASSWORD_WORDS.test(m[1]);
  else if (sep) ok = digit || HAS_SYMBOL.test(value) || value.length >= 12;
  // Without a separator (`API-Key Sommer2022`, `PIN 4711`) only what looks like a credential.
  else ok = (digit && HAS_LETTER.test(value) && value.length >= 6) || (digit && PASSWORD_WORDS.test(m[1]) && value.length >= 4);
  const start = m.index + m[0].length - m[3].length;
  if (ok) {
    out.push({ start, end: start + value.length, type: 'SECRET', drop: false });
    return m.index + m[0].length;
  }
  // Not a credential by the keyword rule: scanning goes on from the value (`key password: x1`).
  return start;
}

// ---------------------------------------------------------------------------------------------
// Numbers and identifiers: a run of digit-bearing groups joined by separators, cut into
// space-separated chunks; the longest chunk sequence that validates wins, left to right.

const SP = '[ \\u00a0\\u202f]';
const RUN = new RegExp(
  `\\d[A-Za-z0-9]*(?:(?:[\\-./]|${SP}{1,2}|${SP}?[()]${SP}?|${SP}[\\-/.]${SP})(?:[A-Za-z0-9]*\\d[A-Za-z0-9]*|[A-Z]{4}(?![\\p{L}\\p{N}])))*(?:(?:${SP}|-)[A-Za-z](?![\\p{L}\\p{N}]))?`,
  'gu',
);
// The run pattern matches at every digit (all after the first is optional), so the next run starts at the
// next digit: two sticky tests find it and its end without a match array or substring per run
// (textScan.ts's `numberRuns` finds the same runs in WebAssembly).
const RUN_AT = new RegExp(RUN.source, 'yu');
const NON_DIGITS = /[^0-9]*/y;
const NON_ALNUM = /[^A-Za-z0-9]/g;
/** The letters and digits of a span that has `n` of them (itself when that is all it has). */
const alnumOf = (s: string, n: number): string => (n === s.length ? s : s.replace(NON_ALNUM, ''));
const DATE_SHAPE = /^(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}[./-]\d{1,2}[./-]\d{1,2})$/;
const CARD_SHAPE = /^\d[\d -]*$/;
const SSN_SHAPE = /^\d{3}([- ])\d{2}\1\d{4}$/;
const BSN_SHAPE = /^(?:\d{9}|\d{4}\.\d{2}\.\d{3}|\d{3} \d{3} \d{3}|\d{2} \d{3} \d{2} \d{2})$/;
const DNI_SHAPE = /^(?:\d{8}|\d{2}\.\d{3}\.\d{3})-?[A-Za-z]$/;
const NIE_SHAPE = /^[XYZxyz]-?\d{7}-?[A-Za-z]$/;
const NINO_SHAPE = /^[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]$/;
/** How numbers without a trunk prefix are grouped in writing (ES/PT 3-3-3 or 3-2-2-2, DK/NO 2-2-2-2, IT mobiles). */
const NO_TRUNK_SHAPE =
  /^(?:\d{3}([ .-])\d{3}\1\d{3}|\d{3} \d{2} \d{2} \d{2}|\d{2} \d{2} \d{2} \d{2}|3\d{2}[ .-]?\d{6,7}|3\d{2}[ .-]\d{3}[ .-]\d{3,4})$/;
const NANP_SHAPE = /^(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}$/;
/** Words right before a number that make it a reference, not personal data (stems match by prefix). */
const REFERENCE_WORDS = new Set([
  'n°',
  'nº',
  'no',
  'nr',
  'order',
  'commande',
  'invoice',
  'facture',
  'quote',
  'devis',
  'case',
  'ticket',
  'fall',
  'dossier',
  'ref',
  'réf',
  'po',
  'sku',
  'art',
  'item',
  'serial',
  'lot',
  'version',
  'eur',
  'usd',
  'chf',
  'gbp',
  '#',
  '€',
  '$',
  '£',
  '-',
]);
const REFERENCE_STEMS = [
  'auftrag',
  'bestell',
  'rechnung',
  'angebot',
  'vertrag',
  'contrat',
  'contract',
  'lieferschein',
  'kundennummer',
  'customer',
];
const PHONE_WORDS = new Set([
  'tel',
  'tél',
  'phone',
  'fon',
  'handy',
  'portable',
  'fax',
  'call',
  'joindre',
  'whatsapp',
  'cell',
  'ph',
  't',
  'm',
  'p',
  'f',
  'mob',
  'rufnummer',
  'nummer',
  'numéro',
  'number',
]);
const PHONE_STEMS = ['telef', 'teleph', 'téléph', 'mobil', 'anruf', 'appel', 'zentrale', 'durchwahl', 'standard'];
const isReferenceWord = (w: string): boolean => REFERENCE_WORDS.has(w) || REFERENCE_STEMS.some((p) => w.startsWith(p));
const isPhoneWord = (w: string): boolean => PHONE_WORDS.has(w) || PHONE_STEMS.some((p) => w.startsWith(p));

/**
 * The word right before a number, lower-cased, skipping up to three spaces, colons and dots:
 * `Tel.: ` → `tel`, `Order # ` → `#`, `INV-` → `-` (glued to a code), `€ ` → `€`.
 */
function wordBefore(ctx: RunContext): string {
  if (ctx.word !== undefined) return ctx.word;
  const t = ctx.text;
  let i = ctx.runStart;
  let skipped = 0;
  while (i > 0 && skipped < 3 && (t[i - 1] === ' ' || t[i - 1] === ':' || t[i - 1] === '.' || t[i - 1] === '\u00a0')) {
    i--;
    skipped++;
  }
  let w = '';
  if (i > 0) {
    const ch = t[i - 1];
    if (ch === '#' || ch === '€' || ch === '$' || ch === '£') w = ch;
    else if ((ch === '-' || ch === '_' || ch === '/') && skipped === 0 && isWordAt(t, i - 2)) w = '-';
    else {
      let j = i;
      while (j > 0 && i - j < 24 && (isWordAt(t, j - 1) || t[j - 1] === '°' || t[j - 1] === 'º')) j--;
      w = t.slice(j, i).toLowerCase();
    }
  }
  ctx.word = w;
  return w;
}

const VERSION_BEFORE = /(?:(?<!\p{L})(?:version|release|build|ver\.?)\s?|(?<!\p{L})v)$/iu;
const SSN_BEFORE = /(?:ssn|social security(?: number| no\.?)?|ss#)[\s:#.]{0,3}$/i;
const BSN_BEFORE = /(?:bsn|burgerservicenummer|sofinummer)[\s:#.]{0,3}$/i;

/** Countries whose numbers are written nationally without a trunk prefix (no leading 0). */
const NO_TRUNK = new Set(['ES', 'PT', 'DK', 'NO', 'GR', 'LU', 'MT', 'CY', 'IS', 'EE', 'LV', 'IT']);
const NANP = new Set(['US', 'CA']);

/**
 * A necessary condition for validity, from the same metadata libphonenumber validates with:
 * the national significant number has a possible length and matches the country's general
 * pattern. It spares the full parse for most non-numbers and for the wrong countries.
 */
interface PhonePlan {
  prefix: string;
  lengths: ReadonlySet<number>;
  general: RegExp;
}
const plans = new Map<string, PhonePlan | null>();
function planOf(country: string): PhonePlan | null {
  let plan = plans.get(country);
  if (plan === undefined) {
    const raw = (METADATA.countries as unknown as Record<string, unknown[] | undefined>)[country];
    plan =
      raw && typeof raw[2] === 'string' && Array.isArray(raw[3])
        ? { prefix: typeof raw[5] === 'string' ? raw[5] : '', lengths: new Set(raw[3] as number[]), general: new RegExp(`^(?:${raw[2]})$`) }
        : null;
    plans.set(country, plan);
  }
  return plan;
}
function possibleIn(country: string, digits: string): boolean {
  const plan = planOf(country);
  if (!plan) return true;
  const fits = (nsn: string): boolean => plan.lengths.has(nsn.length) && plan.general.test(nsn);
  return fits(digits) || (plan.prefix !== '' && digits.startsWith(plan.prefix) && fits(digits.slice(plan.prefix.length)));
}
const CALLING = METADATA.country_calling_codes as unknown as Record<string, string[]>;
function possibleInternational(digits: string): boolean {
  for (let k = 1; k <= 3; k++) {
    const countries = CALLING[digits.slice(0, k)];
    if (countries) return countries.some((c) => possibleIn(c, digits.slice(k)) || possibleIn(c, digits.slice(k).replace(/^0/, '')));
  }
  return false;
}

function validPhone(candidate: string, digits: string, country?: CountryCode): boolean {
  if (country ? !possibleIn(country, digits) : !possibleInternational(digits)) return false;
  return isValidPhoneNumber(candidate, country);
}

interface RunContext {
  text: string;
  runStart: number;
  before?: string;
  /** False when the span starts inside a longer number: only checksummed identifiers may be cut out of it. */
  standalone: boolean;
  word?: string;
}
const beforeOf = (ctx: RunContext): string => (ctx.before ??= ctx.text.slice(Math.max(0, ctx.runStart - 28), ctx.runStart));

/**
 * `s` is a span without letters that starts with a digit, or with `+`/`(` and a digit (the caller
 * checks that shape), with `n` digits; `maybeDate` is false when it cannot be a date (not exactly
 * two separators). Its digits alone are only taken out once a date and a reference are ruled out.
 */
function isPhone(s: string, n: number, ctx: RunContext, o: DetectOptions, maybeDate: boolean): boolean {
  if (!ctx.standalone || n < 6 || n > 15 || (maybeDate && DATE_SHAPE.test(s))) return false;
  if (s[0] === '+') return validPhone(s, alnumOf(s, n));
  if (s[0] === '0' && s[1] === '0' && s[2] !== '0') return validPhone(`+${s.slice(2)}`, alnumOf(s, n).slice(2));
  const before = wordBefore(ctx);
  const hinted = isPhoneWord(before);
  if (!hinted && isReferenceWord(before)) return false;
  const digits = alnumOf(s, n);
  const lead = s[0] === '(' ? s[1] : s[0];
  for (const c of o.countries) {
    if (lead === '0') {
      if (!NO_TRUNK.has(c) || c === 'IT') {
        if (validPhone(s, digits, c)) return true;
      }
    } else if (NANP.has(c)) {
      if ((hinted || NANP_SHAPE.test(s)) && validPhone(s, digits, c)) return true;
    } else if (NO_TRUNK.has(c) && (hinted || NO_TRUNK_SHAPE.test(s))) {
      if (validPhone(s, digits, c)) return true;
    } else if (hinted && validPhone(s, digits, c)) return true;
  }
  return false;
}

const isDigitCode = (c: number): boolean => c >= 48 && c <= 57;
const isAsciiLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isAsciiUpper = (c: number): boolean => c >= 65 && c <= 90;

/**
 * What a span of a run is made of, counted once per chunk and summed per span: the cheap
 * necessary conditions below (lengths, separators) spare the shapes, checksums and phone
 * validation for almost every span that cannot be an identifier.
 */
interface Counts {
  digits: number;
  letters: number;
  /** ASCII spaces, other spaces (no-break, narrow no-break), '-', '.'. */
  spaces: number;
  nbsp: number;
  dashes: number;
  dots: number;
}

function classifyChunk(text: string, a: number, b: number, k: Counts, ctx: RunContext, o: DetectOptions): DetectorType | null {
  const nd = k.digits;
  const nl = k.letters;
  const n = nd + nl;
  if (n < 4 || n > 34) return null;
  const en = o.enabled;
  const first = text.charCodeAt(a);
  const len = b - a;
  if (nl === 0) {
    // IPv4 (4–12 digits, dotted), card 12–19, NIR 15, Steuer-ID 11, SSN/BSN 9, phone 6–15: never more than 19 digits.
    if (n > 19 || (n < 6 && !(n >= 4 && len >= 7))) return null;
    let s: string | undefined;
    let c: string | undefined;
    if (n <= 12 && k.dots === 3 && nd + 3 === len && en.has('IP') && isIpv4((s = text.slice(a, b))) && !VERSION_BEFORE.test(beforeOf(ctx)))
      return 'IP';
    if (n >= 12 && en.has('CARD') && isDigitCode(first) && nd + k.spaces + k.dashes === len) {
      s ??= text.slice(a, b);
      c ??= alnumOf(s, nd);
      if (CARD_SHAPE.test(s) && isPaymentCard(c)) return 'CARD';
    }
    if (n === 15 && en.has('NIR')) {
      s ??= text.slice(a, b);
      c ??= alnumOf(s, nd);
      if (isNir(c)) return 'NIR';
    }
    if (n === 11 && en.has('STEUERID')) {
      s ??= text.slice(a, b);
      c ??= alnumOf(s, nd);
      if (isSteuerId(c)) return 'STEUERID';
    }
    if (n === 9) {
      s ??= text.slice(a, b);
      c ??= alnumOf(s, nd);
      if (en.has('SSN') && isSsn(c) && (SSN_SHAPE.test(s) || (ctx.standalone && SSN_BEFORE.test(beforeOf(ctx))))) return 'SSN';
      if (
        en.has('BSN') &&
        ctx.standalone &&
        BSN_SHAPE.test(s) &&
        isBsn(c) &&
        (BSN_BEFORE.test(beforeOf(ctx)) || !isReferenceWord(wordBefore(ctx)))
      )
        return 'BSN';
    }
    // A phone's shape: a digit first, or `+`/`(` and then a digit (everything else in a run without letters is digits and separators).
    if (
      n <= 15 &&
      n >= 6 &&
      ctx.standalone &&
      en.has('PHONE') &&
      (isDigitCode(first) || ((first === 43 || first === 40) && isDigitCode(text.charCodeAt(a + 1))))
    ) {
      s ??= text.slice(a, b);
      // A date (`24.02.2021`, `2025-04-24`) has exactly two separators.
      if (isPhone(s, nd, ctx, o, len - nd === 2)) return 'PHONE';
    }
    return null;
  }
  // With letters: IBAN 15–34, DNI/NIE/NINO 9, codice fiscale 16, Corsican NIR 15.
  if (!(n >= 15 || n === 9)) return null;
  const s = text.slice(a, b);
  const c = alnumOf(s, nd + nl).toUpperCase();
  if (
    n >= 15 &&
    en.has('IBAN') &&
    nd + nl + k.spaces + k.nbsp === len &&
    /^[A-Z]{2}\d{2}/.test(c) &&
    !/[^A-Za-z0-9 \u00a0]/.test(s) &&
    isIban(c)
  )
    return 'IBAN';
  if (n === 9) {
    if (en.has('DNI') && nd >= 8 && DNI_SHAPE.test(s) && isDni(c) && !isReferenceWord(wordBefore(ctx))) return 'DNI';
    if (en.has('NIE') && nd === 7 && NIE_SHAPE.test(s) && isNie(c)) return 'NIE';
    if (en.has('NINO') && nd === 6 && NINO_SHAPE.test(s) && isNino(c)) return 'NINO';
  }
  if (n === 16 && en.has('CODICEFISCALE') && nd + nl === len && isCodiceFiscale(c)) return 'CODICEFISCALE';
  if (n === 15 && en.has('NIR') && isNir(c)) return 'NIR';
  return null;
}

const MAX_CHUNKS = 9;

// Scratch arrays reused across runs (detection is synchronous, so no two runs share them at once).
const STARTS: number[] = [];
const ENDS: number[] = [];
/** Per chunk: digits, letters, ASCII spaces after it…: see Counts (prefix sums over chunks). */
const PD: number[] = [];
const PL: number[] = [];
const PDASH: number[] = [];
const PDOT: number[] = [];
const PSP: number[] = [];
const PNB: number[] = [];

/** A chunk that is a lone separator or letters only: what follows it still stands alone. */
function separatorOrLetters(text: string, a: number, b: number): boolean {
  if (b - a === 1) {
    const c = text.charCodeAt(a);
    if (c === 47 || c === 45 || c === 0x2013 || c === 124) return true;
  }
  for (let i = a; i < b; i++) if (!isAsciiLetter(text.charCodeAt(i))) return false;
  return b > a;
}
const isGlueSep = (c: number): boolean => c === 58 || c === 46 || c === 44;

/**
 * The runs of a text as (first digit, end) pairs: each is the RUN pattern's match from the next
 * digit after the previous run. The reference for textScan.ts's `numberRuns`.
 */
export function runsByPattern(text: string): number[] {
  const runs: number[] = [];
  for (let next = 0; ;) {
    NON_DIGITS.lastIndex = next;
    NON_DIGITS.test(text);
    const first = NON_DIGITS.lastIndex;
    if (first >= text.length) break;
    RUN_AT.lastIndex = first;
    if (!RUN_AT.test(text)) break;
    next = RUN_AT.lastIndex;
    runs.push(first, next);
  }
  return runs;
}

function detectRuns(text: string, out: Span[], o: DetectOptions): void {
  const ctx: RunContext = { text, runStart: 0, standalone: true };
  const counts: Counts = { digits: 0, letters: 0, spaces: 0, nbsp: 0, dashes: 0, dots: 0 };
  // The same runs found in WebAssembly, for every text it decides exactly (see textScan.ts).
  const runs = numberRuns(text) ?? runsByPattern(text);
  for (let r = 0; r < runs.length; r += 2) {
    const first = runs[r];
    const end = runs[r + 1];
    let start = first;
    // No identifier, phone or address has fewer than four characters from its first digit on.
    if (end - start < 4) continue;
    // Letters glued to the front (IBAN country, NIE, NINO, codice fiscale), at most 8.
    let j = start;
    while (j > 0 && start - j < 8 && isAsciiLetter(text.charCodeAt(j - 1))) j--;
    // Inside a longer word or identifier (`Kundennummer123`, `file_2024`): that first chunk is not a value of its own.
    const before = j > 0 ? text.charCodeAt(j - 1) : -1;
    const glued = j > 0 && (isWordCode(before) || before === 95 || before === 64);
    if (glued) j = start;
    start = j;
    // A spaced NINO prefix: `AB 12 34 56 C`.
    if (
      !glued &&
      j === first &&
      j >= 3 &&
      before === 32 &&
      isAsciiUpper(text.charCodeAt(j - 2)) &&
      isAsciiUpper(text.charCodeAt(j - 3)) &&
      !isWordAt(text, j - 4)
    )
      start = j - 3;
    if (glued) {
      // nothing in front belongs to it
    } else if (start > 0 && (text.charCodeAt(start - 1) === 43 || text.charCodeAt(start - 1) === 40)) start--;
    else if (start > 1 && text.charCodeAt(start - 1) === 32 && text.charCodeAt(start - 2) === 43) start -= 2;

    // Chunks: split at spaces; sequences of chunks are the candidates. Counted on the way.
    // Scratch arrays are written by index and never shrunk (setting an array's length is slow).
    const starts = STARTS;
    const ends = ENDS;
    let chunks = 0;
    let cs = -1;
    let nd = 0;
    let nl = 0;
    let ndash = 0;
    let ndot = 0;
    let nsp = 0;
    let nnb = 0;
    for (let i = start; i <= end; i++) {
      const c = i < end ? text.charCodeAt(i) : 32;
      if (c === 32 || c === 0xa0 || c === 0x202f) {
        if (cs >= 0) {
          starts[chunks] = cs;
          ends[chunks] = i;
          PD[chunks] = nd;
          PL[chunks] = nl;
          PDASH[chunks] = ndash;
          PDOT[chunks] = ndot;
          PSP[chunks] = nsp;
          PNB[chunks] = nnb;
          chunks++;
          cs = -1;
        }
        if (c === 32) nsp++;
        else nnb++;
      } else {
        if (cs < 0) cs = i;
        if (c >= 48 && c <= 57) nd++;
        else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) nl++;
        else if (c === 45) ndash++;
        else if (c === 46) ndot++;
      }
    }
    let lo = 0;
    let hi = chunks;
    // A chunk glued to a time or decimal (`… 14:30`, `12,50 …`) belongs to that number, not to the run.
    if (hi - lo > 1 && isGlueSep(text.charCodeAt(end)) && isDigitCode(text.charCodeAt(end + 1))) hi--;
    if (hi - lo > 1 && start >= 2 && isGlueSep(text.charCodeAt(start - 1)) && isDigitCode(text.charCodeAt(start - 2))) lo++;
    if (glued) lo++;
    let standalone = !glued;
    for (let i = lo; i < hi;) {
      let hit = false;
      // Counts before chunk i (prefix sums are cumulative up to each chunk's end).
      const bd = i > 0 ? PD[i - 1] : 0;
      const bl = i > 0 ? PL[i - 1] : 0;
      const bdash = i > 0 ? PDASH[i - 1] : 0;
      const bdot = i > 0 ? PDOT[i - 1] : 0;
      const bsp = i > 0 ? PSP[i - 1] : 0;
      const bnb = i > 0 ? PNB[i - 1] : 0;
      for (let k = Math.min(hi - 1, i + MAX_CHUNKS - 1); k >= i; k--) {
        const nDigits = PD[k] - bd;
        const nLetters = PL[k] - bl;
        const nAll = nDigits + nLetters;
        // Nothing to find in fewer than 4 or more than 34 letters and digits, or letters with neither 9 nor 15+.
        if (nAll < 4 || nAll > 34 || (nLetters === 0 ? nAll > 19 : nAll !== 9 && nAll < 15)) continue;
        let a = starts[i];
        let b = ends[k];
        if (b - a > 60) continue;
        // A chunk may carry a separator from the run's edge: `(0)30` keeps its bracket, `…78)` drops it.
        while (b > a && (text.charCodeAt(b - 1) === 40 || (text.charCodeAt(b - 1) === 41 && !hasCharIn(text, 40, a, b)))) b--;
        while (a < b && text.charCodeAt(a) === 41) a++;
        if (text.charCodeAt(a) === 40 && !hasCharIn(text, 41, a, b)) a++;
        ctx.runStart = a;
        ctx.before = undefined;
        ctx.word = undefined;
        ctx.standalone = standalone;
        counts.digits = nDigits;
        counts.letters = nLetters;
        counts.dashes = PDASH[k] - bdash;
        counts.dots = PDOT[k] - bdot;
        // Spaces between chunk i and chunk k (the prefix before chunk i also counts the gap before it).
        counts.spaces = PSP[k] - bsp;
        counts.nbsp = PNB[k] - bnb;
        if (i > 0) {
          // The gap right before chunk i was counted into chunk i's prefix: take it out.
          for (let g = ends[i - 1]; g < starts[i]; g++) {
            if (text.charCodeAt(g) === 32) counts.spaces--;
            else counts.nbsp--;
          }
        }
        const type = classifyChunk(text, a, b, counts, ctx, o);
        if (type) {
          out.push({ start: a, end: b, type, drop: false });
          i = k + 1;
          hit = true;
          break;
        }
      }
      if (!hit) {
        // After a number chunk that is nothing, the next span starts inside a longer number (not after a lone separator or letters).
        standalone = separatorOrLetters(text, starts[i], ends[i]) || (i + 1 < hi && starts[i + 1] - ends[i] > 1);
        i++;
      } else standalone = true;
    }
  }
}

function hasCharIn(text: string, code: number, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if (text.charCodeAt(i) === code) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Known values: each PII value of the record (and its parts, for names) searched in the folded text.

/** Two-letter words that are never searched for alone as a name part. */
const SHORT_WORDS = new Set(
  'do to in on at an am im er es la le de du et ou il so no be we he me my by or of it is us as up go ok hi ja da wo zu ab en un ne se ce sa ma ta mo di al el lo si ha ho ca va'.split(
    ' ',
  ),
);
/** Name particles never searched for alone. */
const PARTICLES = new Set([
  'von',
  'van',
  'der',
  'den',
  'del',
  'della',
  'des',
  'dos',
  'das',
  'zu',
  'ter',
  'ten',
  'mc',
  'mac',
  'bin',
  'ibn',
  'dr',
  'prof',
  'mr',
  'mrs',
  'ms',
  'frau',
  'herr',
  'mme',
  'mlle',
  'm',
]);

export interface Needle {
  folded: string;
  type: EntityType;
  drop: boolean;
}

const PART_SEP = /[\s,;/]+/;
const EDGE_PUNCT = /^[.'’-]+|[.'’-]+$/g;

/** Whitespace as `\s` has it, and the separators of a name's parts: `,` `;` `/`. */
function isPartSep(c: number): boolean {
  if (c < 128) return c === 32 || (c >= 9 && c <= 13) || c === 44 || c === 59 || c === 47;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}
/** Punctuation trimmed off a name part's edges: `.` `'` `’` `-`. */
const isEdgePunct = (c: number): boolean => c === 46 || c === 39 || c === 0x2019 || c === 45;

/**
 * The needles of a record's values, in insertion order. A record has a handful: a linear look-up
 * answers "seen already?" until there are many, then a map does.
 */
class NeedleSet {
  readonly needles: Needle[] = [];
  private seen: Map<string, Needle> | undefined;

  add(folded: string, type: EntityType, drop: boolean): void {
    if (folded.length < 2) return;
    const needles = this.needles;
    let prev: Needle | undefined;
    if (this.seen) prev = this.seen.get(folded);
    else {
      for (let i = 0; i < needles.length; i++) {
        if (needles[i].folded === folded) {
          prev = needles[i];
          break;
        }
      }
    }
    if (prev) prev.drop ||= drop;
    else {
      const nd = { folded, type, drop };
      needles.push(nd);
      if (this.seen) this.seen.set(folded, nd);
      else if (needles.length >= 16) this.seen = new Map(needles.map((x) => [x.folded, x]));
    }
  }

  /** A value, and for a person each part of it (folding keeps lengths, so the folded value splits like the original). */
  addSpelling(folded: string, type: EntityType, drop: boolean): void {
    this.add(folded, type, drop);
    if (type !== 'PERSON') return;
    let sep = false;
    let punct = false;
    for (let i = 0; i < folded.length; i++) {
      const c = folded.charCodeAt(i);
      if (isPartSep(c)) sep = true;
      else if (isEdgePunct(c)) punct = true;
    }
    // One word without punctuation is its own only part, added above.
    if (!sep && !punct) return;
    if (!sep) this.addPart(folded, type, drop);
    else for (const raw of folded.split(PART_SEP)) this.addPart(raw, type, drop);
  }

  private addPart(raw: string, type: EntityType, drop: boolean): void {
    let punct = false;
    for (let i = 0; i < raw.length && !punct; i++) punct = isEdgePunct(raw.charCodeAt(i));
    const f = punct ? raw.replace(EDGE_PUNCT, '') : raw;
    if (f.length < 2 || PARTICLES.has(f) || (f.length === 2 && SHORT_WORDS.has(f))) return;
    this.add(f, type, drop);
    // Double-barrelled names: each half too.
    if (punct && f.includes('-')) for (const half of f.split('-')) if (half.length >= 3) this.add(half, type, drop);
  }
}

export function compileKnownValues(values: readonly KnownValue[]): Needle[] {
  if (values.length === 0) return [];
  const set = new NeedleSet();
  for (const kv of values) {
    if (typeof kv.value !== 'string') continue;
    const v = kv.value.trim();
    if (v.length < 2) continue;
    const type = kv.type ?? 'VALUE';
    const drop = kv.handling === 'drop';
    set.addSpelling(fold(v), type, drop);
    // ß is written ss as often as not: search both spellings.
    if (v.includes('ß')) set.addSpelling(fold(v.replace(/ß/g, 'ss')), type, drop);
  }
  const needles = set.needles;
  // Longest first: a full name wins over its parts at the same offset (both sorts are stable).
  if (needles.length > 64) return needles.sort((x, y) => y.folded.length - x.folded.length);
  for (let i = 1; i < needles.length; i++) {
    const nd = needles[i];
    let j = i - 1;
    while (j >= 0 && needles[j].folded.length < nd.folded.length) {
      needles[j + 1] = needles[j];
      j--;
    }
    needles[j + 1] = nd;
  }
  return needles;
}

function detectKnown(text: string, needles: readonly Needle[], out: Span[]): void {
  if (needles.length === 0) return;
  // The same search in WebAssembly, for every text it decides exactly (see textScan.ts).
  if (!scanKnown(text, needles, out)) searchKnown(text, needles, out);
}

/** Every occurrence of every needle in the folded text, on word boundaries (the reference search). */
export function searchKnown(text: string, needles: readonly Needle[], out: Span[]): void {
  const folded = fold(text);
  for (const nd of needles) {
    const f = nd.folded;
    const wordStart = isWordAt(f, 0);
    const wordEnd = isWordAt(f, f.length - 1);
    for (let i = folded.indexOf(f); i !== -1; i = folded.indexOf(f, i + 1)) {
      const e = i + f.length;
      if (wordStart && isWordAt(text, i - 1)) continue;
      if (wordEnd && isWordAt(text, e)) continue;
      out.push({ start: i, end: e, type: nd.type, drop: nd.drop });
    }
  }
}

// ---------------------------------------------------------------------------------------------

/** Overlapping spans become one: the earliest, longest span names the type; a drop anywhere drops the union. */
export function mergeSpans(spans: Span[]): Span[] {
  if (spans.length < 2) return spans;
  if (spans.length > 64) spans.sort((x, y) => x.start - y.start || y.end - x.end);
  else {
    // A short list: insertion sort (stable, like the sort above), cheaper than a comparator sort.
    for (let i = 1; i < spans.length; i++) {
      const s = spans[i];
      let j = i - 1;
      while (j >= 0 && (spans[j].start > s.start || (spans[j].start === s.start && spans[j].end < s.end))) {
        spans[j + 1] = spans[j];
        j--;
      }
      spans[j + 1] = s;
    }
  }
  const out: Span[] = [spans[0]];
  for (let i = 1; i < spans.length; i++) {
    const s = spans[i];
    const top = out[out.length - 1];
    if (s.start < top.end) {
      if (s.end > top.end) top.end = s.end;
      top.drop ||= s.drop;
    } else out.push(s);
  }
  return out;
}

/** All entity spans of a text, merged, in order. */
export function detectSpans(text: string, needles: readonly Needle[], o: DetectOptions): Span[] {
  const out: Span[] = [];
  const en = o.enabled;
  if (en.has('EMAIL')) detectEmails(text, out);
  if (en.has('IP')) detectIpv6(text, out);
  if (en.has('SECRET')) detectSecrets(text, out);
  detectRuns(text, out, o);
  detectKnown(text, needles, out);
  return mergeSpans(out);
}
