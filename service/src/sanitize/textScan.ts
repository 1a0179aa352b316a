/**
 * Text scanning in WebAssembly (scan.wat). A text is copied in once and folded unit by unit
 * through a table built from `fold` itself, also narrowed to one byte per unit; on that:
 *
 * - known values: every folded value is found on word boundaries, exactly what `fold(text)` and
 *   one `indexOf` per value find. A text with a unit whose folding depends on its neighbours (a
 *   capital sigma, a unit that lower-cases to two, a surrogate of an astral character) is handed
 *   back to the JavaScript search. textScan.test.ts compares the two.
 * - secret starts: every position where a secret's key format or keyword may begin, by its first
 *   three characters folded (a superset: the patterns in detect.ts decide at each of them).
 * - number runs: where detect.ts's run pattern matches, found without it.
 *
 * Known values and secret starts find their candidates with Teddy: per byte, three nibble-table
 * lookups say which of eight buckets of prefixes can start there, sixteen bytes at a time.
 */
import { fold, isWordCode } from './fold.js';
import { SCAN_WASM_BASE64 } from './scanWasm.js';
import type { EntityType, Span } from './types.js';

/** The slice of the WebAssembly API used here (the project's TypeScript libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
const WASM = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface ScanExports {
  memory: WasmMemory;
  fold(src: number, dst: number, dst8: number, len: number): number;
  needles(units: number, table: number, count: number, tables: number): void;
  runs(text: number, len: number, out: number): number;
  teddy(bytes: number, len: number, tables: number, out: number, cap: number): number;
  searchAll(
    folded: number,
    text: number,
    len: number,
    bytes: number,
    tables: number,
    table: number,
    count: number,
    cand: number,
    out: number,
    cap: number,
  ): number;
}

/** A folded value to find (detect.ts's Needle). */
export interface FoldedNeedle {
  folded: string;
  type: EntityType;
  drop: boolean;
}

const WORD_TABLE = 131072;
const SPECIAL_TABLE = 196608;
/** Teddy's tables for the secret prefixes (constant, written on load). */
const SECRET_TABLES = 262144;
const SCRATCH = SECRET_TABLES + 128;
/** Teddy's tables: for each of three positions, a bucket mask by low and by high nibble; then 16 bytes of scratch. */
const TEDDY_BYTES = 112;
/**
 * Longer texts take the JavaScript path, so the module's memory stays small: text, fold and bytes
 * (5 bytes per unit) and candidate and result pairs (16), up to about 21 MiB.
 */
export const MAX_SCAN_UNITS = 1 << 20;
const PAGE = 65536;

interface Scanner {
  ex: ScanExports;
  bytes: Buffer;
  i32: Int32Array;
  u16: Uint16Array;
}
let scanner: Scanner | undefined;

function views(ex: ScanExports): Scanner {
  return { ex, bytes: Buffer.from(ex.memory.buffer), i32: new Int32Array(ex.memory.buffer), u16: new Uint16Array(ex.memory.buffer) };
}

/** The module, with its tables filled from `fold` and `isWordCode` (once per process, on first use). */
function load(): Scanner {
  if (scanner) return scanner;
  const module = new WASM.Module(Buffer.from(SCAN_WASM_BASE64, 'base64'));
  const ex = new WASM.Instance(module).exports as ScanExports;
  const folds = new Uint16Array(ex.memory.buffer, 0, 0x10000);
  const flags = new Uint8Array(ex.memory.buffer);
  for (let c = 0; c < 0x10000; c++) {
    const ch = String.fromCharCode(c);
    const f = fold(ch);
    folds[c] = f.length === 1 ? f.charCodeAt(0) : c;
    flags[WORD_TABLE + c] = isWordCode(c) ? 1 : 0;
    // Σ lower-cases by its position (σ or ς); some units lower-case to two; surrogates pair up.
    flags[SPECIAL_TABLE + c] = c === 0x03a3 || (c >= 0xd800 && c <= 0xdfff) || ch.toLowerCase().length !== 1 || f.length !== 1 ? 1 : 0;
  }
  new Uint8Array(ex.memory.buffer).set(teddyTables(SECRET_BUCKETS), SECRET_TABLES);
  scanner = views(ex);
  return scanner;
}

/**
 * Teddy's tables for up to eight buckets, each a set of folded characters for each of three
 * positions: bucket bit b of position k's tables says that bucket b accepts a byte there by its
 * low and by its high nibble.
 */
function teddyTables(buckets: readonly (readonly [string, string, string])[]): Uint8Array {
  const t = new Uint8Array(TEDDY_BYTES);
  buckets.forEach((positions, b) => {
    for (let k = 0; k < 3; k++) {
      for (const ch of positions[k]) {
        const c = Math.min(ch.charCodeAt(0), 255);
        t[32 * k + (c & 15)] |= 1 << b;
        t[32 * k + 16 + (c >> 4)] |= 1 << b;
      }
    }
  });
  return t;
}

/**
 * Where detect.ts's secret patterns can start, by their first three characters folded (keywords
 * case-insensitive, key formats as well: a superset). Eight buckets, each a set of characters per
 * position. Teddy's nibble tables accept more than the buckets, and the buckets more than the
 * prefixes, so each candidate's three folded bytes are then looked up among the prefixes.
 */
export const SECRET_PREFIXES = [
  // Keywords: password, passwort, passwd, passcode, pwd, pin, kennwort, key, mot de passe, mdp, api key,
  // access key, schlüssel, clé, client secret, secret, token. Key formats: sk-, sk_, pk_, rk_, AKIA,
  // ASIA, AIza, ghp_ (o, u, s, r), github_pat_, xox?-, eyJ, -----BEGIN … PRIVATE KEY-----.
  ...['pas', 'pwd', 'pin', 'ken', 'key', 'mot', 'mdp', 'api', 'acc', 'sch', 'cle', 'cli', 'sec', 'tok'],
  ...['sk-', 'sk_', 'pk_', 'rk_', 'kk_', 'aki', 'asi', 'aiz', 'ghp', 'gho', 'ghu', 'ghs', 'ghr', 'git', 'xox', 'eyj', '---'],
] as const;
/** Each prefix's three bytes as one number. */
const SECRET_PREFIX_CODES = new Set<number>(SECRET_PREFIXES.map((p) => (p.charCodeAt(0) << 16) | (p.charCodeAt(1) << 8) | p.charCodeAt(2)));
const SECRET_BUCKETS: readonly (readonly [string, string, string])[] = [
  ['p', 'aw', 'sd'],
  ['sc', 'cl', 'hei'],
  ['prk', 'ik', 'n_'],
  ['k', 'e', 'ny'],
  ['mt', 'od', 'tpk'],
  ['a', 'pcksi', 'icz'],
  ['s-', 'ke-', '-_c'],
  ['gxe', 'hioy', 'pousrtxj'],
];

/** The text whose copy, fold and bytes the module holds now (detection is synchronous). */
let held: { text: string; len: number; special: boolean } | undefined;

/** Copies and folds `text` into the module, unless it holds it already; false when it is too long. */
function hold(text: string): boolean {
  if (held !== undefined && held.text === text) return true;
  const len = text.length;
  if (len > MAX_SCAN_UNITS) return false;
  // Text, folded text, bytes and 32 zero bytes; then room for a search's tables and results.
  const s = room(SCRATCH + 5 * len + 64);
  s.bytes.write(text, SCRATCH, 'utf16le');
  const special = s.ex.fold(SCRATCH, SCRATCH + 2 * len, SCRATCH + 4 * len, len) !== 0;
  held = { text, len, special };
  return true;
}

/** The module with its memory grown to at least `end` bytes (growing renews the views). */
function room(end: number): Scanner {
  const s = load();
  if (end <= s.ex.memory.buffer.byteLength) return s;
  s.ex.memory.grow(Math.ceil((end - s.ex.memory.buffer.byteLength) / PAGE));
  return (scanner = views(s.ex));
}

/** Where scratch after the held text's bytes starts (16-aligned). */
const freeAt = (len: number): number => (SCRATCH + 5 * len + 32 + 15) & ~15;

/**
 * The number runs of `text` as (first digit, end) pairs, exactly as detect.ts's RUN pattern finds
 * them one after the other (see `runs` in scan.wat), or undefined when the text is longer than
 * MAX_SCAN_UNITS or has a unit the pattern reads as part of a code point or that folds with its
 * neighbours (the caller runs the pattern then).
 */
export function numberRuns(text: string): number[] | undefined {
  if (text.length === 0) return [];
  if (!hold(text) || held!.special) return undefined;
  const len = text.length;
  const outAt = freeAt(len);
  const s = room(outAt + 8 * (len + 1));
  const n = s.ex.runs(SCRATCH, len, outAt);
  const runs: number[] = [];
  for (let k = 0, at = outAt >> 2; k < 2 * n; k++) runs.push(s.i32[at + k]);
  return runs;
}

/**
 * Every position of `text` where a secret may start, ascending (see SECRET_PREFIXES), or
 * undefined when the text is longer than MAX_SCAN_UNITS (the caller scans the whole text then).
 */
export function secretStarts(text: string): number[] | undefined {
  if (text.length === 0) return [];
  if (!hold(text)) return undefined;
  const len = text.length;
  const candAt = freeAt(len);
  const s = room(candAt + 8 * (len + 1));
  const bytesAt = SCRATCH + 4 * len;
  const n = s.ex.teddy(bytesAt, len, SECRET_TABLES, candAt, len + 1);
  const starts: number[] = [];
  const b = s.bytes;
  // Teddy's buckets accept more than the prefixes (`eit`, `uis`: most of its candidates in prose); the
  // three folded bytes decide (the 32 zero bytes after the text cover a candidate at its end).
  for (let k = 0, at = candAt >> 2; k < n; k++, at += 2) {
    const p = s.i32[at];
    if (SECRET_PREFIX_CODES.has((b[bytesAt + p] << 16) | (b[bytesAt + p + 1] << 8) | b[bytesAt + p + 2])) starts.push(p);
  }
  return starts;
}

/**
 * Pushes a span for every occurrence of every needle (in text order, overlapping ones too) on word
 * boundaries. Returns false, having pushed nothing, when the text is not one this
 * search decides exactly (see above), is longer than MAX_SCAN_UNITS, or has more matches than the
 * result area holds (one per unit of the text): the caller searches then.
 */
export function scanKnown(text: string, needles: readonly FoldedNeedle[], out: Span[]): boolean {
  const len = text.length;
  if (len === 0 || needles.length === 0) return true;
  if (!hold(text) || held!.special) return false;
  let units = 0;
  for (const nd of needles) units += nd.folded.length;
  const tedAt = freeAt(len);
  const tableAt = tedAt + TEDDY_BYTES;
  const unitsAt = tableAt + 16 * needles.length;
  const candAt = (unitsAt + 2 * units + 7) & ~7;
  const cap = len + 1;
  const outAt = candAt + 8 * cap;
  const s = room(outAt + 8 * cap);
  // The needles' units one after the other; their lengths; the module completes the rows (offset,
  // length, word start, word end) and Teddy's tables (needle k in bucket k mod 8).
  const t = s.i32;
  const u16 = s.u16;
  for (let k = 0, row = (tableAt >> 2) + 1, u = unitsAt >> 1; k < needles.length; k++, row += 4) {
    const f = needles[k].folded;
    t[row] = f.length;
    for (let j = 0; j < f.length; j++) u16[u++] = f.charCodeAt(j);
  }
  s.ex.needles(unitsAt, tableAt, needles.length, tedAt);
  const n = s.ex.searchAll(SCRATCH + 2 * len, SCRATCH, len, SCRATCH + 4 * len, tedAt, tableAt, needles.length, candAt, outAt, cap);
  if (n < 0) return false;
  const pairs = outAt >> 2;
  for (let p = 0; p < n; p++) {
    const start = t[pairs + 2 * p];
    const nd = needles[t[pairs + 2 * p + 1]];
    out.push({ start, end: start + nd.folded.length, type: nd.type, drop: nd.drop });
  }
  return true;
}
