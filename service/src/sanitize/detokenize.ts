/**
 * Detokenize: puts this request's values back into a model's answer, whole or streamed.
 * Only tokens present in the given map are restored; anything else (another request's or
 * tenant's token, a dropped value's placeholder, a token the model invented) stays as it is.
 * Tokens the model altered slightly are still recognised: case, spaces inside brackets,
 * ASCII or missing brackets (`[[PERSON_1]]`, `<PERSON_1>`, `PERSON_1`, `⟦ person 1 ⟧`).
 * A streamed token split across chunks is held back until it is complete, and only that.
 */
import { ENTITY_TYPES } from './types.js';
import type { TokenMap } from './tokens.js';

const STRONG_OPEN = ['⟦', '〚', '【', '[[', '{{', '<<'];
const WEAK_OPEN = ['[', '{', '<', '«', '⟨', '('];
const STRONG_CLOSE = ['⟧', '〛', '】', ']]', '}}', '>>'];
const WEAK_CLOSE = [']', '}', '>', '»', '⟩', ')'];
const OPENERS = [...STRONG_OPEN, ...WEAK_OPEN];
const CLOSERS = [...STRONG_CLOSE, ...WEAK_CLOSE];
const TYPES = [...ENTITY_TYPES].sort((a, b) => b.length - a.length);
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const alt = (xs: readonly string[]): string =>
  [...xs]
    .sort((a, b) => b.length - a.length)
    .map(esc)
    .join('|');

const TOKEN_SOURCE = `(?:(${alt(OPENERS)})([ \\t]{0,3}))?(?<![\\p{L}\\p{N}_])(${TYPES.join('|')})([_ \\t-]{0,7})([0-9A-Za-z]{1,16})(?![\\p{L}\\p{N}_])(?:([ \\t]{0,3})(${alt(CLOSERS)}))?`;
/** The longest text one (altered) token can span: opener, spaces, type, separator, id, spaces, closer. */
const MAX_TOKEN = 2 + 3 + TYPES[0].length + 7 + 16 + 3 + 2;

export type DetokenizeEscape = 'none' | 'json';
export interface DetokenizeOptions {
  /** `json`: restored values are escaped for the inside of a JSON string (streamed tool-call arguments). */
  escape?: DetokenizeEscape;
}

const jsonInner = (v: string): string => JSON.stringify(v).slice(1, -1);

function replacer(map: TokenMap, escape: DetokenizeEscape) {
  return (
    match: string,
    open: string | undefined,
    ows: string | undefined,
    type: string,
    sep: string,
    id: string,
    cws: string | undefined,
    close: string | undefined,
  ): string => {
    const value = map[`${type.toUpperCase()}_${id.toUpperCase()}`];
    if (value === undefined) return match;
    const strongOpen = open !== undefined && STRONG_OPEN.includes(open);
    const strongClose = close !== undefined && STRONG_CLOSE.includes(close);
    if (sep !== '_' && !(strongOpen || strongClose)) return match;
    const v = escape === 'json' ? jsonInner(value) : value;
    if (open !== undefined && close !== undefined) return v;
    const before = open !== undefined && !strongOpen ? open + (ows ?? '') : '';
    const after = close !== undefined && !strongClose ? (cws ?? '') + close : '';
    return before + v + after;
  };
}

function replaceFrom(text: string, from: number, to: number, map: TokenMap, escape: DetokenizeEscape): string {
  const re = new RegExp(TOKEN_SOURCE, 'giu');
  const region = to === text.length ? text : text.slice(0, to);
  const fn = replacer(map, escape);
  re.lastIndex = from;
  let out = '';
  let last = from;
  for (let m = re.exec(region); m; m = re.exec(region)) {
    out += region.slice(last, m.index) + fn(m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]);
    last = m.index + m[0].length;
    if (m[0].length === 0) re.lastIndex++;
  }
  return out + region.slice(last);
}

/** Restores this request's tokens in a whole text. */
export function detokenize(text: string, map: TokenMap, options: DetokenizeOptions = {}): string {
  if (text.length === 0) return text;
  return replaceFrom(text, 0, text.length, map, options.escape ?? 'none');
}

const WORD = /[\p{L}\p{N}_]/u;
const TYPE_START = new Set(TYPES.map((t) => t[0]));
const OPEN_START = new Set(OPENERS.map((o) => o[0]));

/** Whether `s` could still grow into a (different, longer) token match with more input. */
function couldGrow(s: string): boolean {
  let i = 0;
  let opened = false;
  for (const o of OPENERS) if (o.length > s.length && o.startsWith(s)) return true;
  for (const o of [...OPENERS].sort((a, b) => b.length - a.length)) {
    if (s.startsWith(o)) {
      i = o.length;
      opened = true;
      break;
    }
  }
  if (opened) {
    let w = 0;
    while (i < s.length && w < 3 && (s[i] === ' ' || s[i] === '\t')) {
      i++;
      w++;
    }
    if (i === s.length) return true;
  }
  const rest = s.slice(i).toUpperCase();
  for (const t of TYPES) {
    if (t.length > rest.length && t.startsWith(rest)) return true;
    if (rest.startsWith(t) && tailCouldGrow(s, i + t.length)) return true;
  }
  return false;
}

function tailCouldGrow(s: string, i: number): boolean {
  let n = 0;
  while (i < s.length && n < 7 && (s[i] === '_' || s[i] === ' ' || s[i] === '\t' || s[i] === '-')) {
    i++;
    n++;
  }
  if (i === s.length) return true;
  let idLen = 0;
  while (i < s.length && idLen < 16 && /[0-9A-Za-z]/.test(s[i])) {
    i++;
    idLen++;
  }
  if (idLen === 0) return false;
  if (i === s.length) return true;
  if (WORD.test(s[i])) return false;
  let w = 0;
  while (i < s.length && w < 3 && (s[i] === ' ' || s[i] === '\t')) {
    i++;
    w++;
  }
  if (i === s.length) return true;
  const rest = s.slice(i);
  for (const c of CLOSERS) if (c.length > rest.length && c.startsWith(rest)) return true;
  for (const c of CLOSERS) if (rest === c) return CLOSERS.some((d) => d.length > c.length && d.startsWith(c));
  return false;
}

/** The first position from which the tail of `text` may still become a token, or text.length. */
function holdFrom(text: string, from: number): number {
  for (let p = Math.max(from, text.length - MAX_TOKEN); p < text.length; p++) {
    const ch = text[p];
    const typeStart = TYPE_START.has(ch.toUpperCase()) && !(p > 0 && WORD.test(text[p - 1]));
    if ((OPEN_START.has(ch) || typeStart) && couldGrow(text.slice(p))) return p;
  }
  return text.length;
}

export interface DetokenizeStream {
  /** Feeds a chunk; returns the text that is safe to emit now. */
  push(chunk: string): string;
  /** Ends the stream; returns whatever was held back, restored. */
  flush(): string;
}

/** A stateful detokenizer for a streamed answer: emitted text never contains half a token. */
export function createDetokenizeStream(map: TokenMap, options: DetokenizeOptions = {}): DetokenizeStream {
  const escape = options.escape ?? 'none';
  let pending = '';
  // The last emitted character: the look-behind of a token starting at the next chunk.
  let context = '';
  return {
    push(chunk) {
      if (chunk.length === 0) return '';
      const text = context + pending + chunk;
      const base = context.length;
      const cut = holdFrom(text, base);
      const out = cut > base ? replaceFrom(text, base, cut, map, escape) : '';
      if (cut > base) context = text[cut - 1];
      pending = text.slice(cut);
      return out;
    },
    flush() {
      const text = context + pending;
      const out = pending.length > 0 ? replaceFrom(text, context.length, text.length, map, escape) : '';
      pending = '';
      context = '';
      return out;
    },
  };
}

/** Token ids (`PERSON_1`) written in a text in any form detokenize would restore. */
const TOKEN_IDS = new RegExp(TOKEN_SOURCE, 'giu');
// Weak brackets and bare ids need an underscore; other separators only count inside strong brackets.
const MAY_HOLD_TOKEN = /_|[⟦⟧〚〛【】]|\[\[|\]\]|\{\{|\}\}|<<|>>/;
const NO_IDS: ReadonlySet<string> = new Set();
export function tokenIdsIn(text: string): ReadonlySet<string> {
  if (!MAY_HOLD_TOKEN.test(text)) return NO_IDS;
  const ids = new Set<string>();
  // Synchronous, so one shared global regex serves every call.
  const re = TOKEN_IDS;
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) ids.add(`${m[3].toUpperCase()}_${m[5].toUpperCase()}`);
  return ids;
}

/** Restores tokens in every string of a JSON value (keys untouched). */
export function detokenizeJson<T>(value: T, map: TokenMap): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return detokenize(v, map);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = walk(x);
      return o;
    }
    return v;
  };
  return walk(value) as T;
}
