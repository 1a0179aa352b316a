/**
 * Small shared helpers of the org emulator: Salesforce ids, the emulator clock, and the
 * REST error body. Nothing here knows an org.
 */
import { randomBytes, randomUUID } from 'node:crypto';

const ID_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/**
 * The 3-character case-insensitive checksum that turns a 15-character id into the 18-character
 * form the API returns (each 5-char chunk → a bitmap of its upper-case letters).
 * Source: Salesforce help "What is a Salesforce ID" / widely reimplemented (e.g. jsforce tests).
 */
export function to18(id15: string): string {
  if (id15.length === 18) return id15;
  if (id15.length !== 15) throw new Error(`'${id15}' is not a 15- or 18-character Salesforce id`);
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charAt(chunk * 5 + i);
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += SUFFIX_CHARS.charAt(bits);
  }
  return id15 + suffix;
}

/** Ids are 3-char key prefix + 2-char pod + '0' + 9 base-62 chars (+ checksum). */
export function makeIdFactory(pod: string): (keyPrefix: string) => string {
  let counter = 1 + (randomBytes(2).readUInt16BE(0) % 1000);
  return (keyPrefix: string) => {
    let n = counter++;
    let body = '';
    for (let i = 0; i < 9; i++) {
      body = ID_CHARS.charAt(n % 62) + body;
      n = Math.floor(n / 62);
    }
    return to18(`${keyPrefix}${pod}0${body}`);
  };
}

/** Accepts 15- or 18-char ids; returns the 18-char form, or null when it isn't an id. */
export function normalizeId(value: string): string | null {
  if (!/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(value)) return null;
  return to18(value.slice(0, 15));
}

export const uuid = (): string => randomUUID();

/** The emulator's clock: real time plus an offset tests can advance (to age events). */
export class EmulatorClock {
  private offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`advance(ms) needs a non-negative number, got ${ms}`);
    this.offsetMs += ms;
  }
  iso(): string {
    return isoNoMillisZ(this.now());
  }
}

/** REST datetime format: `2024-01-31T10:15:00.000+0000` (REST API Developer Guide, "Valid Date Formats"). */
export function restDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** Event payload CreatedDate: ISO with `Z` (real captures: `2021-07-16T21:53:01Z`). */
export function isoNoMillisZ(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** One REST API error item (REST API Developer Guide, "Status Codes and Error Responses"). */
export interface RestError {
  message: string;
  errorCode: string;
  fields?: string[];
}

/** An error that becomes `[{"message","errorCode"[,"fields"]}]` with an HTTP status. */
export class SalesforceApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields?: string[],
  ) {
    super(message);
    this.name = 'SalesforceApiError';
  }
  body(): RestError[] {
    const e: RestError = { message: this.message, errorCode: this.errorCode };
    if (this.fields) e.fields = this.fields;
    return [e];
  }
}

export const notFound = (): SalesforceApiError => new SalesforceApiError(404, 'NOT_FOUND', 'The requested resource does not exist');

/** A query locator like the real ones (`01gRO0000016PIAYA2`). */
export function randomLocator(): string {
  return to18(`01g${randomBytes(6).toString('hex').toUpperCase().slice(0, 12)}`);
}
