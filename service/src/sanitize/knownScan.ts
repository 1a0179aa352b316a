/**
 * Known-value search in WebAssembly (scan.wat): the text is copied in once, folded unit by unit
 * through a table built from `fold` itself, and every folded value is searched for on word
 * boundaries. It finds exactly what `fold(text)` and one `indexOf` per value find: the table is
 * `fold` of each unit, and a text with a unit whose folding depends on its neighbours (a capital
 * sigma, a unit that lower-cases to two, a surrogate of an astral character) is handed back to
 * the JavaScript search. knownScan.test.ts compares the two.
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
const SCRATCH = 262144;
/** Teddy's tables: for each of three positions, a bucket mask by low and by high nibble; then 16 bytes of scratch. */
const TEDDY_BYTES = 112;
/** Longer texts take the JavaScript search, so the module's memory stays small (about 12 bytes per unit, up to 12 MiB). */
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
  scanner = views(ex);
  return scanner;
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
  if (len > MAX_SCAN_UNITS) return false;
  let s = load();
  let units = 0;
  for (const nd of needles) units += nd.folded.length;
  const textAt = SCRATCH;
  const foldedAt = textAt + 2 * len;
  // The narrowed bytes are followed by 32 zero bytes: Teddy reads sixteen at a time, two further on.
  const bytesAt = foldedAt + 2 * len;
  const tedAt = (bytesAt + len + 32 + 15) & ~15;
  const tableAt = tedAt + TEDDY_BYTES;
  const unitsAt = tableAt + 16 * needles.length;
  const candAt = (unitsAt + 2 * units + 7) & ~7;
  const cap = len + 1;
  const outAt = candAt + 8 * cap;
  const end = outAt + 8 * cap;
  if (end > s.ex.memory.buffer.byteLength) {
    s.ex.memory.grow(Math.ceil((end - s.ex.memory.buffer.byteLength) / PAGE));
    s = scanner = views(s.ex);
  }
  s.bytes.write(text, textAt, 'utf16le');
  if (s.ex.fold(textAt, foldedAt, bytesAt, len) !== 0) return false;
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
  const n = s.ex.searchAll(foldedAt, textAt, len, bytesAt, tedAt, tableAt, needles.length, candAt, outAt, cap);
  if (n < 0) return false;
  const pairs = outAt >> 2;
  for (let p = 0; p < n; p++) {
    const start = t[pairs + 2 * p];
    const nd = needles[t[pairs + 2 * p + 1]];
    out.push({ start, end: start + nd.folded.length, type: nd.type, drop: nd.drop });
  }
  return true;
}
