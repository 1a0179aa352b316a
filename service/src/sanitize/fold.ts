/**
 * Case- and diacritics-insensitive folding that keeps every offset: each UTF-16 unit maps to
 * exactly one unit (é → e, Ü → u, ß → s), so a match in the folded text is a match at the same
 * offsets in the original.
 */

const TABLE = new Uint16Array(0x250);
for (let c = 0; c < TABLE.length; c++) {
  const ch = String.fromCharCode(c);
  const base = ch.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  const lower = (base.length === 1 ? base : ch).toLowerCase();
  TABLE[c] = lower.length === 1 ? lower.charCodeAt(0) : c;
}
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
for (const [k, v] of Object.entries(EXTRA)) TABLE[k.charCodeAt(0)] = v.charCodeAt(0);

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007f]/;

/** Folds a string to lower-case base letters of the same length. */
export function fold(s: string): string {
  if (!NON_ASCII.test(s)) return s.toLowerCase();
  const out = new Uint16Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x250) out[i] = TABLE[c];
    else {
      const l = String.fromCharCode(c).toLowerCase();
      out[i] = l.length === 1 ? l.charCodeAt(0) : c;
    }
  }
  let r = '';
  for (let i = 0; i < out.length; i += 8192) r += String.fromCharCode.apply(null, out.subarray(i, i + 8192) as unknown as number[]);
  return r;
}

const WORD = /[\p{L}\p{N}]/u;
/** Whether the UTF-16 unit at i is part of a word (letter or digit). */
export function isWordAt(s: string, i: number): boolean {
  if (i < 0 || i >= s.length) return false;
  const c = s.charCodeAt(i);
  if (c < 128) return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  return WORD.test(s[i]);
}
