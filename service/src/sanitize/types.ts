/** Entity types, the names inside tokens (`⟦EMAIL_1⟧`). */
export const DETECTOR_TYPES = [
  'EMAIL',
  'PHONE',
  'IBAN',
  'CARD',
  'SSN',
  'NINO',
  'NIR',
  'DNI',
  'NIE',
  'CODICEFISCALE',
  'BSN',
  'STEUERID',
  'IP',
  'SECRET',
] as const;
export type DetectorType = (typeof DETECTOR_TYPES)[number];

/** Types only known-value matching produces (from a record's PII fields). */
export const KNOWN_VALUE_TYPES = ['PERSON', 'ORG', 'ADDRESS', 'DATE', 'ID', 'VALUE'] as const;
export type KnownValueType = (typeof KNOWN_VALUE_TYPES)[number];

export type EntityType = DetectorType | KnownValueType;
export const ENTITY_TYPES: readonly EntityType[] = [...DETECTOR_TYPES, ...KNOWN_VALUE_TYPES];

/** A value taken from a PII (or restricted) field of the record or its related records. */
export interface KnownValue {
  value: string;
  /** Token type; PERSON values are also matched by their name parts. Default VALUE. */
  type?: EntityType;
  /** `drop` for restricted values: removed, never tokenized or restored. Default `tokenize`. */
  handling?: 'tokenize' | 'drop';
}

/** A found span of the input, before tokens are assigned. Offsets are UTF-16 code units. */
export interface Span {
  start: number;
  end: number;
  type: EntityType;
  drop: boolean;
}

/** One replaced entity in a sanitized text: offsets into the ORIGINAL text, and what replaced it. */
export interface Entity {
  type: EntityType;
  start: number;
  end: number;
  token: string;
}

export interface SanitizedText {
  text: string;
  entities: Entity[];
}

/** The placeholder of a dropped (restricted) value: not a token, nothing restores it. */
export const DROPPED = '⟦REDACTED⟧';
