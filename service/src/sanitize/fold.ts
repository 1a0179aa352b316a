/**
 * Case- and diacritics-insensitive folding that keeps every offset: each UTF-16 unit maps to
 * exactly one unit (é → e, Ü → u, ß → s), so a match in the folded text is a match at the same
 * offsets in the original.
 */

// Letters NFD does not decompose.
const EXTRA: Record<string, string> = {
  ß: 's',
  ø: 'o',
  Ø: 'o',
  đ: 'd',
  Đ: 'd',
  ł: 'l',
  Ł: 'l',
  æ: 'a',
  Æ: 'a',
  œ: 'o',
  Œ: 'o',
  ı: 'i',
  þ: 't',
  ð: 'd',
};

/** Folded unit per UTF-16 unit, computed on first use (-1 = not yet). */
const TABLE = new Int32Array(0x10000).fill(-1);
function foldUnit(c: number): number {
  const ch = String.fromCharCode(c);
  const extra = EXTRA[ch];
  if (extra) return extra.charCodeAt(0);
  if (c >= 0xd800 && c <= 0xdfff) return c;
  const base = ch.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  const lower = (base.length === 1 ? base : ch).toLowerCase();
  return lower.length === 1 ? lower.charCodeAt(0) : c;
}
for (let c = 0; c < 0x250; c++) TABLE[c] = foldUnit(c);

const UTF16 = new TextDecoder('utf-16le');
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007f]/;

/** Up to this length, a loop looks for units outside ASCII. */
const SHORT = 64;

const LATIN_MARKED = /[\u00c0-\u024f\u1e00-\u1eff]/g;
const foldChar = (ch: string): string => {
  const c = ch.charCodeAt(0);
  let f = TABLE[c];
  if (f < 0) f = TABLE[c] = foldUnit(c);
  return String.fromCharCode(f);
};

/** Folds a string to lower-case base letters of the same length. */
export function fold(s: string): string {
  if (s.length <= SHORT) {
    // A field value or a name part: a loop decides faster than a pattern test costs to call.
    let i = 0;
    while (i < s.length && s.charCodeAt(i) < 128) i++;
    if (i === s.length) return s.toLowerCase();
    const lower = s.toLowerCase();
    if (lower.length !== s.length) return slowFold(s);
    // The Latin letters with marks through the table, the rest kept in slices.
    let out = '';
    let last = 0;
    for (; i < lower.length; i++) {
      const c = lower.charCodeAt(i);
      if ((c >= 0xc0 && c <= 0x24f) || (c >= 0x1e00 && c <= 0x1eff)) {
        let f = TABLE[c];
        if (f < 0) f = TABLE[c] = foldUnit(c);
        if (f !== c) {
          out += lower.slice(last, i) + String.fromCharCode(f);
          last = i + 1;
        }
      }
    }
    return last === 0 ? lower : out + lower.slice(last);
  } else if (!NON_ASCII.test(s)) return s.toLowerCase();
  // Native lower-casing first; then only the Latin letters with marks go through the table.
  const lower = s.toLowerCase();
  if (lower.length === s.length) return lower.replace(LATIN_MARKED, foldChar);
  return slowFold(s);
}

function slowFold(s: string): string {
  const out = new Uint16Array(s.length);
  for (let i = 0; i < s.length; i++) {
    // As the fast path does it, unit by unit: lower-cased (where that keeps one unit), then a Latin letter with marks through the table.
    const c = s.charCodeAt(i);
    const l = String.fromCharCode(c).toLowerCase();
    let u = l.length === 1 ? l.charCodeAt(0) : c;
    if ((u >= 0xc0 && u <= 0x24f) || (u >= 0x1e00 && u <= 0x1eff)) {
      let f = TABLE[u];
      if (f < 0) f = TABLE[u] = foldUnit(u);
      u = f;
    }
    out[i] = u;
  }
  return UTF16.decode(out);
}

const WORD = /[\p{L}\p{N}]/u;
/** 1 = letter or digit, 0 = not, -1 = not computed yet (per UTF-16 unit; surrogates are not). */
const WORD_TABLE = new Int8Array(0x10000).fill(-1);
/** Whether a UTF-16 unit is part of a word (letter or digit). */
export function isWordCode(c: number): boolean {
  if (c < 128) return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  let w = WORD_TABLE[c];
  if (w < 0) w = WORD_TABLE[c] = WORD.test(String.fromCharCode(c)) ? 1 : 0;
  return w === 1;
}

/** Whether the UTF-16 unit at i is part of a word (letter or digit). */
export function isWordAt(s: string, i: number): boolean {
  if (i < 0 || i >= s.length) return false;
  return isWordCode(s.charCodeAt(i));
}
