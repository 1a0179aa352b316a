/**
 * sanitize: the model sees only what it needs. Detected values (email, phone, IBAN, payment
 * card, national ids, IPs, secrets) and known values of the record's PII fields become stable
 * typed tokens (`⟦PERSON_1⟧`); restricted values are dropped. Detokenize restores this
 * request's tokens in the answer, whole or streamed, and nothing else.
 */
export { createSanitizer, entityTypeForField, DEFAULT_COUNTRIES, JURISDICTION_COUNTRIES } from './sanitizer.js';
export type { JsonValue, SanitizeSession, Sanitizer, SanitizerOptions } from './sanitizer.js';
export { createDetokenizeStream, detokenize, detokenizeJson } from './detokenize.js';
export type { DetokenizeEscape, DetokenizeOptions, DetokenizeStream } from './detokenize.js';
export { tokenText } from './tokens.js';
export type { TokenHmac, TokenMap } from './tokens.js';
export { InMemoryTokenVault, scopeKey } from './vault.js';
export type { TokenScope, TokenVault } from './vault.js';
export { DETECTOR_TYPES, DROPPED, ENTITY_TYPES, KNOWN_VALUE_TYPES } from './types.js';
export type { DetectorType, Entity, EntityType, KnownValue, KnownValueType, SanitizedText, Span } from './types.js';
export { sanitizeJsonl } from './jsonl.js';
export type { JsonlOptions, JsonlSummary } from './jsonl.js';
