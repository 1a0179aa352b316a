/**
 * The streaming core of `sovra sanitize`: JSONL in, JSONL out, one output line per input line,
 * in order, with memory bounded by the longest line (lines above `maxLineBytes` are refused
 * without being buffered). A malformed line yields an error object for its id and the run goes on.
 *
 * In:  {"id", "text", "fields"?: {name: value}, "classes"?: {name: class}}
 * Out: {"id", "text", "entities": [{"type", "start", "end", "token"}]}   (offsets: UTF-16 units of the input text)
 *  or  {"id", "error": {"code", "message", "line"}}
 */
import { once } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import type { Writable } from 'node:stream';
import { SECURITY_CLASSIFICATIONS } from '../shared/schema.js';
import { entityTypeForField } from './sanitizer.js';
import type { Sanitizer } from './sanitizer.js';
import type { KnownValue } from './types.js';

export interface JsonlOptions {
  sanitizer: Sanitizer;
  /** Longest accepted line, in bytes. Default 32 MiB. */
  maxLineBytes?: number;
}

export interface JsonlSummary {
  lines: number;
  ok: number;
  errors: number;
  entities: number;
}

class LineError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const PII_GROUPS = new Set(['pii', 'gdpr', 'ccpa', 'hipaa', 'pci', 'coppa', 'personalinfo', 'confidential', 'unclassified', 'tokenize']);
const NOT_PII = new Set(['public', 'internal', 'allow']);
const DROP = new Set(['restricted', 'missioncritical', 'drop']);

function handlingOf(cls: unknown, field: string): 'tokenize' | 'drop' | undefined {
  if (cls === undefined) return 'tokenize';
  if (typeof cls !== 'string') throw new LineError('CLASS_INVALID', `classes.${field} must be a string.`);
  const c = cls.trim().toLowerCase();
  if (DROP.has(c)) return 'drop';
  if (NOT_PII.has(c)) return undefined;
  if (PII_GROUPS.has(c)) return 'tokenize';
  throw new LineError(
    'CLASS_INVALID',
    `classes.${field} '${cls}' is not a class: use PII, ${SECURITY_CLASSIFICATIONS.join(', ')}, a compliance group (GDPR, CCPA, HIPAA, PCI, COPPA) or allow/tokenize/drop.`,
  );
}

const ID_IN_BROKEN_LINE = /^\s*\{\s*"id"\s*:\s*("(?:[^"\\]|\\.){0,200}"|-?\d{1,20})/;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function processLine(line: string, lineNo: number, sanitizer: Sanitizer): { out: string; ok: boolean; entities: number } {
  let id: unknown = null;
  try {
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      // Best effort: name the id of a broken line when it can still be read.
      const m = ID_IN_BROKEN_LINE.exec(line);
      if (m) {
        try {
          id = JSON.parse(m[1]) as unknown;
        } catch {
          id = null;
        }
      }
      throw new LineError('JSON_INVALID', 'The line is not valid JSON.');
    }
    if (!isPlainObject(rec)) throw new LineError('LINE_NOT_OBJECT', 'Each line must be a JSON object.');
    if (typeof rec.id === 'string' || typeof rec.id === 'number') id = rec.id;
    else throw new LineError('ID_MISSING', 'The object needs an "id" (string or number).');
    if (typeof rec.text !== 'string') throw new LineError('TEXT_MISSING', 'The object needs a "text" string.');
    const known: KnownValue[] = [];
    if (rec.fields !== undefined) {
      if (!isPlainObject(rec.fields)) throw new LineError('FIELDS_INVALID', '"fields" must be an object of field name to value.');
      const classes = rec.classes === undefined ? {} : rec.classes;
      if (!isPlainObject(classes)) throw new LineError('CLASSES_INVALID', '"classes" must be an object of field name to class.');
      for (const [name, value] of Object.entries(rec.fields)) {
        if (value === null) continue;
        if (typeof value !== 'string' && typeof value !== 'number')
          throw new LineError('FIELD_INVALID', `fields.${name} must be a string, a number or null.`);
        const handling = handlingOf(classes[name], name);
        if (handling) known.push({ value: String(value), type: entityTypeForField(name), handling });
      }
    } else if (rec.classes !== undefined && !isPlainObject(rec.classes)) {
      throw new LineError('CLASSES_INVALID', '"classes" must be an object of field name to class.');
    }
    const result = sanitizer.session(known).sanitize(rec.text);
    return { out: JSON.stringify({ id, text: result.text, entities: result.entities }), ok: true, entities: result.entities.length };
  } catch (e) {
    const err = e instanceof LineError ? e : new LineError('INTERNAL', 'The line could not be sanitized.');
    return { out: JSON.stringify({ id, error: { code: err.code, message: err.message, line: lineNo } }), ok: false, entities: 0 };
  }
}

/** Sanitizes JSONL from `input` to `output`, honouring back-pressure. */
export async function sanitizeJsonl(
  input: AsyncIterable<string | Uint8Array>,
  output: Writable,
  options: JsonlOptions,
): Promise<JsonlSummary> {
  const max = options.maxLineBytes ?? 32 * 1024 * 1024;
  const summary: JsonlSummary = { lines: 0, ok: 0, errors: 0, entities: 0 };
  const decoder = new StringDecoder('utf8');
  let partial: string[] = [];
  let partialLen = 0;
  let overlong = false;

  const write = async (s: string): Promise<void> => {
    if (!output.write(s + '\n')) await once(output, 'drain');
  };
  const endLine = async (line: string): Promise<void> => {
    summary.lines++;
    if (overlong) {
      overlong = false;
      summary.errors++;
      await write(
        JSON.stringify({
          id: null,
          error: { code: 'LINE_TOO_LONG', message: `The line is longer than ${max} bytes.`, line: summary.lines },
        }),
      );
      return;
    }
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (l.trim() === '') {
      summary.lines--;
      return;
    }
    const r = processLine(l, summary.lines, options.sanitizer);
    if (r.ok) summary.ok++;
    else summary.errors++;
    summary.entities += r.entities;
    await write(r.out);
  };

  const feed = async (text: string): Promise<void> => {
    let from = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
      const piece = text.slice(from, nl);
      from = nl + 1;
      if (overlong) {
        partial = [];
        partialLen = 0;
        await endLine('');
        continue;
      }
      if (partialLen + (piece.length > max / 3 ? Buffer.byteLength(piece) : 0) > max) overlong = true;
      const line = overlong ? '' : partial.length ? partial.join('') + piece : piece;
      partial = [];
      partialLen = 0;
      await endLine(line);
    }
    const rest = text.slice(from);
    if (rest.length > 0 && !overlong) {
      partialLen += Buffer.byteLength(rest);
      if (partialLen > max) {
        overlong = true;
        partial = [];
        partialLen = 0;
      } else partial.push(rest);
    }
  };

  for await (const chunk of input)
    await feed(typeof chunk === 'string' ? chunk : decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  await feed(decoder.end());
  if (partial.length > 0 || overlong) await endLine(partial.join(''));
  return summary;
}
