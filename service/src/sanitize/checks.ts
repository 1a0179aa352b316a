/**
 * Check-digit and structure rules of the identifiers the detectors look for. Each takes the
 * compact form (no separators, upper case) and answers whether it is a well-formed identifier;
 * these are what let order numbers, amounts and dates through untouched.
 */
import { isValidIBAN } from 'ibantools';
import { isIPv6 } from 'node:net';

const d = (s: string, i: number): number => s.charCodeAt(i) - 48;

/** Luhn (ISO/IEC 7812-1) over a digit string. */
export function luhn(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let v = d(digits, i);
    if (v < 0 || v > 9) return false;
    if (dbl) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

/** Issuer prefixes (IIN ranges) and the lengths each issues, per the networks' published ranges. */
const CARD_RANGES: ReadonlyArray<[lo: number, hi: number, digits: number, lengths: readonly number[]]> = [
  [4, 4, 1, [13, 16, 19]], // Visa
  [51, 55, 2, [16]], // Mastercard
  [2221, 2720, 4, [16]], // Mastercard 2-series
  [34, 34, 2, [15]], // American Express
  [37, 37, 2, [15]],
  [6011, 6011, 4, [16, 17, 18, 19]], // Discover
  [644, 649, 3, [16, 17, 18, 19]],
  [65, 65, 2, [16, 17, 18, 19]],
  [300, 305, 3, [14, 15, 16, 17, 18, 19]], // Diners Club
  [36, 36, 2, [14, 15, 16, 17, 18, 19]],
  [38, 39, 2, [14, 15, 16, 17, 18, 19]],
  [3528, 3589, 4, [16, 17, 18, 19]], // JCB
  [62, 62, 2, [16, 17, 18, 19]], // UnionPay
  [2200, 2204, 4, [16, 17, 18, 19]], // Mir
  [50, 50, 2, [12, 13, 14, 15, 16, 17, 18, 19]], // Maestro
  [56, 69, 2, [12, 13, 14, 15, 16, 17, 18, 19]],
];

export function isPaymentCard(digits: string): boolean {
  const n = digits.length;
  if (n < 12 || n > 19) return false;
  let issued = false;
  for (const [lo, hi, k, lengths] of CARD_RANGES) {
    const p = Number(digits.slice(0, k));
    if (p >= lo && p <= hi && lengths.includes(n)) {
      issued = true;
      break;
    }
  }
  return issued && luhn(digits);
}

/** US Social Security Number: area 001–899 except 666, group 01–99, serial 0001–9999 (SSA randomization rules). */
export function isSsn(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  const area = Number(digits.slice(0, 3));
  const group = Number(digits.slice(3, 5));
  const serial = Number(digits.slice(5));
  return area > 0 && area !== 666 && area < 900 && group > 0 && serial > 0;
}

/** UK National Insurance number (HMRC NIM39110): prefix letters, six digits, suffix A–D. */
export function isNino(c: string): boolean {
  return /^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$/.test(c) && !/^(?:BG|GB|KN|NK|NT|TN|ZZ)/.test(c);
}

function mod97(numeric: string): number {
  let r = 0;
  for (let i = 0; i < numeric.length; i++) r = (r * 10 + d(numeric, i)) % 97;
  return r;
}

/** French NIR (numéro de sécurité sociale): 13 characters and a key 97 − (n mod 97); Corsica 2A/2B count as 19/18. */
export function isNir(c: string): boolean {
  const m = /^([12378])(\d{2})(\d{2})(\d{2}|2A|2B)(\d{3})(\d{3})(\d{2})$/.exec(c);
  if (!m) return false;
  const month = Number(m[3]);
  if (!((month >= 1 && month <= 12) || month === 20 || (month >= 30 && month <= 42) || month >= 50)) return false;
  if (m[4] === '00') return false;
  const dept = m[4] === '2A' ? '19' : m[4] === '2B' ? '18' : m[4];
  const body = m[1] + m[2] + m[3] + dept + m[5] + m[6];
  return 97 - mod97(body) === Number(m[7]);
}

const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';
/** Spanish DNI: eight digits and the letter of (number mod 23). */
export function isDni(c: string): boolean {
  if (!/^\d{8}[A-Z]$/.test(c)) return false;
  return DNI_LETTERS[Number(c.slice(0, 8)) % 23] === c[8];
}
/** Spanish NIE: X/Y/Z (as 0/1/2), seven digits and the DNI letter. */
export function isNie(c: string): boolean {
  if (!/^[XYZ]\d{7}[A-Z]$/.test(c)) return false;
  const n = Number('XYZ'.indexOf(c[0]) + c.slice(1, 8));
  return DNI_LETTERS[n % 23] === c[8];
}

// Codice fiscale check character (DM 23/12/1976): odd positions through this table, even positions by value.
const CF_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];
const cfValue = (ch: number): number => (ch <= 57 ? ch - 48 : ch - 65);
/** Italian codice fiscale, including omocodia (digits replaced by L M N P Q R S T U V). */
export function isCodiceFiscale(c: string): boolean {
  if (!/^[A-Z]{6}[\dLMNP-V]{2}[ABCDEHLMPRST][\dLMNP-V]{2}[A-Z][\dLMNP-V]{3}[A-Z]$/.test(c)) return false;
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const v = cfValue(c.charCodeAt(i));
    sum += i % 2 === 0 ? CF_ODD[v] : v;
  }
  return String.fromCharCode(65 + (sum % 26)) === c[15];
}

/** Dutch BSN: nine digits passing the 11-proof (9·d1 + 8·d2 + … + 2·d8 − d9 ≡ 0 mod 11). */
export function isBsn(digits: string): boolean {
  if (!/^\d{9}$/.test(digits) || digits === '000000000') return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += d(digits, i) * (9 - i);
  sum -= d(digits, 8);
  return sum % 11 === 0;
}

/**
 * German Steuerliche Identifikationsnummer (§ 139b AO): eleven digits, no leading zero, in the
 * first ten exactly one digit repeated (twice, or three times but not all adjacent), and an
 * ISO 7064 MOD 11,10 check digit.
 */
export function isSteuerId(digits: string): boolean {
  if (!/^[1-9]\d{10}$/.test(digits)) return false;
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 10; i++) counts[d(digits, i)]++;
  const repeated = counts.filter((n) => n > 1);
  if (repeated.length !== 1 || repeated[0] > 3) return false;
  if (repeated[0] === 3 && /(\d)\1\1/.test(digits.slice(0, 10))) return false;
  let product = 10;
  for (let i = 0; i < 10; i++) {
    let sum = (d(digits, i) + product) % 10;
    if (sum === 0) sum = 10;
    product = (sum * 2) % 11;
  }
  const check = (11 - product) % 10;
  return check === d(digits, 10);
}

export function isIban(c: string): boolean {
  return c.length >= 15 && c.length <= 34 && isValidIBAN(c);
}

export function isIpv4(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return false;
  for (let i = 1; i <= 4; i++) {
    const p = m[i];
    if (Number(p) > 255 || (p.length > 1 && p[0] === '0')) return false;
  }
  return true;
}

export function isIpv6(s: string): boolean {
  return s.includes(':') && isIPv6(s);
}
