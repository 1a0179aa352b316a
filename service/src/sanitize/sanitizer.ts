/**
 * The sanitizer: one per deployment (countries, detectors, optional tenant HMAC), one session
 * per request. A session replaces every detected or known value in the texts it is given by a
 * typed token, the same token for the same value, and accumulates the token map that
 * detokenize needs. Restricted values are replaced by `⟦REDACTED⟧` and are not in the map.
 */
import { getCountries } from 'libphonenumber-js/core';
import type { CountryCode, MetadataJson } from 'libphonenumber-js/core';
import phoneMetadata from 'libphonenumber-js/metadata.max.json';
import { validationError } from '../shared/errors.js';
import type { FieldHandling } from '../shared/schema.js';
import { compileKnownValues, detectSpans } from './detect.js';
import type { DetectOptions, Needle } from './detect.js';
import { tokenIdsIn } from './detokenize.js';
import { TokenAllocator, tokenText } from './tokens.js';
import type { TokenHmac, TokenMap } from './tokens.js';
import { DETECTOR_TYPES, DROPPED } from './types.js';
import type { DetectorType, Entity, EntityType, KnownValue, SanitizedText, Span } from './types.js';

/** Phone countries by jurisdiction, when the deployment names none. */
export const JURISDICTION_COUNTRIES: Readonly<Record<string, readonly string[]>> = {
  EU: ['DE', 'FR', 'IT', 'ES', 'NL', 'BE', 'AT', 'IE', 'PT', 'PL', 'SE', 'DK', 'FI', 'LU', 'CZ'],
  DE: ['DE', 'AT', 'CH'],
  FR: ['FR', 'BE', 'LU', 'CH'],
  UK: ['GB', 'IE'],
  GB: ['GB', 'IE'],
  CH: ['CH', 'DE', 'FR', 'IT', 'AT'],
  US: ['US', 'CA'],
  CA: ['CA', 'US'],
};
export const DEFAULT_COUNTRIES: readonly string[] = ['DE', 'FR', 'GB', 'US', 'IT', 'ES', 'NL', 'AT', 'CH', 'BE', 'IE'];

export interface SanitizerOptions {
  /** ISO 3166-1 alpha-2 countries whose national phone formats are recognised. */
  countries?: readonly string[];
  /** Tenant-wide deterministic token ids (keyed HMAC, injected by the caller). Default: per-request counters. */
  hmac?: TokenHmac;
  /** Detectors to run. Default: all. */
  detectors?: readonly DetectorType[];
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface SanitizeSession {
  /** Adds values of PII (or restricted) fields; later texts are searched for them. */
  addKnownValues(values: readonly KnownValue[]): void;
  /** Replaces detected and known values in a free text by tokens. */
  sanitize(text: string): SanitizedText;
  /**
   * A field value by its handling: `allow` → scanned as free text; `tokenize` → the whole value
   * becomes one token (and is searched for in other texts); `drop` → undefined (and removed from other texts).
   */
  sanitizeField(value: string, handling: FieldHandling, type?: EntityType): string | undefined;
  /** Sanitizes every string inside a JSON value (not the keys); the result is still JSON. */
  sanitizeJson(value: JsonValue): JsonValue;
  /** A JSON text (e.g. tool-call arguments): parsed and sanitized value by value, or as text when it does not parse. */
  sanitizeJsonText(text: string): string;
  /** The token map so far (a frozen snapshot). */
  tokenMap(): TokenMap;
}

export interface Sanitizer {
  readonly countries: readonly string[];
  session(known?: readonly KnownValue[]): SanitizeSession;
  /** The spans a text would have replaced, without allocating tokens. */
  detect(text: string, known?: readonly KnownValue[]): Span[];
}

const SUPPORTED = new Set<string>(getCountries(phoneMetadata as unknown as MetadataJson));

export function createSanitizer(options: SanitizerOptions = {}): Sanitizer {
  const countries = [...new Set((options.countries ?? DEFAULT_COUNTRIES).map((c) => c.trim().toUpperCase()))];
  for (const c of countries) {
    if (!SUPPORTED.has(c)) {
      throw validationError(`'${c}' is not a country libphonenumber knows.`, {
        code: 'SANITIZE_COUNTRY_INVALID',
        fix: 'Use ISO 3166-1 alpha-2 codes such as DE, FR, GB, US.',
        details: { country: c },
      });
    }
  }
  for (const d of options.detectors ?? []) {
    if (!(DETECTOR_TYPES as readonly string[]).includes(d)) {
      throw validationError(`Unknown detector '${d}'.`, {
        code: 'SANITIZE_DETECTOR_INVALID',
        fix: `Use any of ${DETECTOR_TYPES.join(', ')}.`,
      });
    }
  }
  const detectOptions: DetectOptions = {
    countries: countries as CountryCode[],
    enabled: new Set(options.detectors ?? DETECTOR_TYPES),
  };

  return {
    countries,
    detect(text, known = []) {
      return detectSpans(text, compileKnownValues(known), detectOptions);
    },
    session(known = []) {
      return new Session(detectOptions, options.hmac, known);
    },
  };
}

class Session implements SanitizeSession {
  private readonly tokens: TokenAllocator;
  private values: KnownValue[];
  private needles: Needle[] | undefined;

  constructor(
    private readonly detectOptions: DetectOptions,
    hmac: TokenHmac | undefined,
    known: readonly KnownValue[],
  ) {
    this.tokens = new TokenAllocator(hmac);
    this.values = known.length > 0 ? [...known] : [];
  }

  addKnownValues(more: readonly KnownValue[]): void {
    this.values = this.values.concat(more);
    this.needles = undefined;
  }

  sanitize(text: string): SanitizedText {
    if (typeof text !== 'string') {
      throw validationError('sanitize expects a string.', {
        code: 'SANITIZE_INPUT',
        fix: 'Pass text, or use sanitizeJson for structured values.',
      });
    }
    this.needles ??= compileKnownValues(this.values);
    const spans = detectSpans(text, this.needles, this.detectOptions);
    if (spans.length === 0) return { text, entities: [] };
    this.tokens.reserve(tokenIdsIn(text));
    const entities: Entity[] = [];
    let out = '';
    let last = 0;
    for (const s of spans) {
      const token = s.drop ? DROPPED : tokenText(this.tokens.idFor(s.type, text.slice(s.start, s.end)));
      out += text.slice(last, s.start) + token;
      last = s.end;
      entities.push({ type: s.type, start: s.start, end: s.end, token });
    }
    return { text: out + text.slice(last), entities };
  }

  sanitizeField(value: string, handling: FieldHandling, type: EntityType = 'VALUE'): string | undefined {
    if (handling === 'allow') return this.sanitize(value).text;
    const v = value.trim();
    if (v.length > 0) {
      this.values.push({ value, type, handling });
      this.needles = undefined;
    }
    if (handling === 'drop') return undefined;
    if (v.length === 0) return value;
    return tokenText(this.tokens.idFor(type, value));
  }

  sanitizeJson(v: JsonValue): JsonValue {
    if (typeof v === 'string') return this.sanitize(v).text;
    if (Array.isArray(v)) return v.map((x) => this.sanitizeJson(x));
    if (v !== null && typeof v === 'object') {
      const o: { [key: string]: JsonValue } = {};
      for (const [k, x] of Object.entries(v)) o[k] = this.sanitizeJson(x);
      return o;
    }
    return v;
  }

  sanitizeJsonText(text: string): string {
    let parsed: JsonValue;
    try {
      parsed = JSON.parse(text) as JsonValue;
    } catch {
      // Partial or invalid JSON: tokens contain no quote or backslash, so replacing spans keeps whatever structure there is.
      return this.sanitize(text).text;
    }
    return JSON.stringify(this.sanitizeJson(parsed));
  }

  tokenMap(): TokenMap {
    return this.tokens.snapshot();
  }
}

/** The token type a field's values get, from its name and type (for known-value matching). */
export function entityTypeForField(field: string, dataType?: string | null): EntityType {
  // Memoised per data type, then per field name (no key is built per call: names repeat across records).
  const dt = dataType ?? '';
  let byField = FIELD_TYPES.get(dt);
  if (byField === undefined) {
    // Bounded, like the names per type below.
    if (FIELD_TYPES.size >= 64) FIELD_TYPES.clear();
    FIELD_TYPES.set(dt, (byField = new Map()));
  }
  let type = byField.get(field);
  if (type === undefined) {
    type = typeForField(field, dataType);
    if (byField.size >= 1024) byField.clear();
    byField.set(field, type);
  }
  return type;
}
const FIELD_TYPES = new Map<string, Map<string, EntityType>>();

function typeForField(field: string, dataType?: string | null): EntityType {
  const t = (dataType ?? '').toLowerCase();
  const f = field.toLowerCase();
  if (t === 'email' || /email/.test(f)) return 'EMAIL';
  if (t === 'phone' || /phone|mobile|fax/.test(f)) return 'PHONE';
  if (t === 'address' || /street|city|postalcode|address|zip/.test(f)) return 'ADDRESS';
  if (t === 'date' || t === 'datetime' || /birthdate|dateofbirth|dob/.test(f)) return 'DATE';
  if (/name$/.test(f) && !/(account|company|org|product|record|user)name$/.test(f)) return 'PERSON';
  if (/(account|company|org)name$/.test(f)) return 'ORG';
  return 'VALUE';
}
