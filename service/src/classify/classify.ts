/**
 * Field classification: every field read from Salesforce gets a class and a handling
 * (`allow`, `tokenize`, `drop`) before any of its value can reach a prompt.
 *
 * Sources, each later one overriding the earlier (DESIGN step 4):
 *   1. the org's own data classification (`FieldDefinition.SecurityClassification`,
 *      `FieldDefinition.ComplianceGroup`), with field types as a hint (Email, Phone, address
 *      compounds and well-known person fields are PII);
 *   2. the package's `FieldPolicy__mdt` rows;
 *   3. the deployment config's overrides.
 * A field no source classifies gets the config's `unclassifiedHandling` (`drop` unless the
 * config says `tokenize`), never `allow`. Restricted and MissionCritical are always dropped,
 * whatever handling a row names: a row can lower a field's class, but not let a field that is
 * still Restricted through.
 */
import { FIELD_HANDLINGS, SECURITY_CLASSIFICATIONS } from '../shared/schema.js';
import type { FieldHandling, SecurityClassification } from '../shared/schema.js';
import { validationError } from '../shared/errors.js';

export type FieldClassification = SecurityClassification | 'Unclassified';
export type ClassificationSource = 'org' | 'policy' | 'config' | 'type' | 'default';

/** One `FieldDefinition` row as the salesforce stage reads it (Tooling or data API, see salesforce-wire.md §2.7). */
export interface FieldDefinitionRow {
  object: string;
  field: string;
  /** `Public | Internal | Confidential | Restricted | MissionCritical`, or empty when nobody classified the field. */
  securityClassification?: string | null;
  /** The multipicklist as the API returns it: `;`-separated, e.g. `PII;GDPR`. */
  complianceGroup?: string | null;
  /** `FieldDefinition.DataType` (`Email`, `Phone`, `Text(80)` …) or a describe type (`email`, `address` …). */
  dataType?: string | null;
}

/** One `FieldPolicy__mdt` row (ObjectApiName__c, FieldApiName__c, Classification__c, Handling__c). */
export interface FieldPolicyRow {
  object: string;
  field: string;
  classification?: string | null;
  handling?: string | null;
}

/** Deployment-config overrides keyed `Object.Field`. */
export type FieldOverrides = Readonly<Record<string, { classification?: string; handling?: string }>>;

export interface FieldClass {
  classification: FieldClassification;
  complianceGroups: string[];
  handling: FieldHandling;
  /** Whether the field holds personal data: its values are searched for in free text. */
  pii: boolean;
  /** The source that decided the handling. */
  source: ClassificationSource;
}

const STRICT: readonly SecurityClassification[] = ['Restricted', 'MissionCritical'];

/** Field types whose values are personal data wherever they appear. */
const PII_TYPES = new Set(['email', 'phone', 'address', 'location', 'personname', 'encryptedstring', 'encryptedtext']);

/**
 * Standard fields that hold a person's data although their type is plain text. Object `*`
 * matches any object (Contact, Lead, User, person accounts).
 */
const PII_FIELD_NAMES = new Set([
  'firstname',
  'lastname',
  'middlename',
  'suffix',
  'name',
  'birthdate',
  'email',
  'phone',
  'mobilephone',
  'homephone',
  'otherphone',
  'assistantphone',
  'assistantname',
  'fax',
  'title',
  'mailingstreet',
  'mailingcity',
  'mailingpostalcode',
  'mailingaddress',
  'otherstreet',
  'othercity',
  'otherpostalcode',
  'otheraddress',
  'street',
  'city',
  'postalcode',
  'address',
  'billingstreet',
  'billingaddress',
  'shippingstreet',
  'shippingaddress',
  'personemail',
  'personmobilephone',
  'personhomephone',
  'personbirthdate',
  'personmailingstreet',
  'personmailingaddress',
  'suppliedname',
  'suppliedemail',
  'suppliedphone',
]);
/** Objects whose `Name`/`Title` name a person (for other objects `Name` is a record name). */
const PERSON_OBJECTS = new Set(['contact', 'lead', 'user', 'individual', 'personaccount']);

const normType = (t: string | null | undefined): string =>
  (t ?? '')
    .toLowerCase()
    .replace(/\(.*$/, '')
    .replace(/[\s_-]/g, '');

function parseClassification(raw: string | null | undefined, where: string): FieldClassification | undefined {
  if (raw === undefined || raw === null || raw.trim() === '') return undefined;
  const v = raw.trim();
  const hit = SECURITY_CLASSIFICATIONS.find((c) => c.toLowerCase() === v.toLowerCase());
  if (hit) return hit;
  if (v.toLowerCase() === 'unclassified') return 'Unclassified';
  throw validationError(`Unknown data classification '${v}' in ${where}.`, {
    code: 'CLASSIFICATION_INVALID',
    fix: `Use one of ${SECURITY_CLASSIFICATIONS.join(', ')}.`,
    details: { where },
  });
}

function parseHandling(raw: string | null | undefined, where: string): FieldHandling | undefined {
  if (raw === undefined || raw === null || raw.trim() === '') return undefined;
  const v = raw.trim().toLowerCase();
  const hit = FIELD_HANDLINGS.find((h) => h === v);
  if (hit) return hit;
  throw validationError(`Unknown field handling '${raw.trim()}' in ${where}.`, {
    code: 'HANDLING_INVALID',
    fix: `Use one of ${FIELD_HANDLINGS.join(', ')}.`,
    details: { where },
  });
}

export function parseComplianceGroups(raw: string | null | undefined): string[] {
  if (!raw) return [];
  return [
    ...new Set(
      raw
        .split(';')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}

/** Whether a field's type or standard name marks it as personal data. */
export function isPiiByType(object: string, field: string, dataType?: string | null): boolean {
  if (PII_TYPES.has(normType(dataType))) return true;
  const f = field.toLowerCase();
  if (f.endsWith('__c')) return false;
  if (f === 'name' || f === 'title') return PERSON_OBJECTS.has(object.toLowerCase());
  return PII_FIELD_NAMES.has(f);
}

/** The handling a class implies when no row names one. */
export function handlingFor(classification: FieldClassification, pii: boolean, unclassified: 'tokenize' | 'drop'): FieldHandling {
  if (classification === 'Restricted' || classification === 'MissionCritical') return 'drop';
  if (classification === 'Unclassified') return pii ? 'tokenize' : unclassified;
  if (pii || classification === 'Confidential') return 'tokenize';
  return 'allow';
}

export interface ClassifyInput {
  object: string;
  field: string;
  definition?: FieldDefinitionRow;
  policy?: FieldPolicyRow;
  override?: { classification?: string; handling?: string };
  unclassifiedHandling?: 'tokenize' | 'drop';
}

/** Classifies one field from whatever sources know it. Pure; throws a validation error on a malformed row. */
export function classifyField(input: ClassifyInput): FieldClass {
  const unclassified = input.unclassifiedHandling ?? 'drop';
  const key = `${input.object}.${input.field}`;
  const def = input.definition;
  const complianceGroups = parseComplianceGroups(def?.complianceGroup);
  // Any compliance category (PII, GDPR, CCPA, HIPAA, PCI, COPPA, or an org's own value) means regulated personal data.
  const typePii = isPiiByType(input.object, input.field, def?.dataType);
  const pii = complianceGroups.length > 0 || typePii;

  let classification: FieldClassification = 'Unclassified';
  let handling: FieldHandling | undefined;
  let source: ClassificationSource = 'default';

  const orgClass = parseClassification(def?.securityClassification, `FieldDefinition ${key}`);
  if (orgClass) {
    classification = orgClass;
    source = 'org';
  } else if (complianceGroups.length > 0) {
    source = 'org';
  } else if (typePii) {
    source = 'type';
  }

  const rows: Array<[ClassificationSource, { classification?: string | null; handling?: string | null } | undefined, string]> = [
    ['policy', input.policy, `FieldPolicy__mdt ${key}`],
    ['config', input.override, `config fieldOverrides['${key}']`],
  ];
  for (const [src, row, where] of rows) {
    if (!row) continue;
    const c = parseClassification(row.classification, where);
    const h = parseHandling(row.handling, where);
    if (!c && !h) {
      throw validationError(`${where} names neither a classification nor a handling.`, {
        code: 'CLASSIFICATION_ROW_EMPTY',
        fix: 'Give the row a classification, a handling, or both.',
        details: { where },
      });
    }
    if (c) classification = c;
    // A new class without a handling re-derives the handling from it.
    handling = h ?? (c ? undefined : handling);
    source = src;
  }

  let effective = handling ?? handlingFor(classification, pii, unclassified);
  if (STRICT.includes(classification as SecurityClassification)) effective = 'drop';
  if (classification === 'Unclassified' && effective === 'allow' && source === 'default') effective = unclassified;
  return { classification, complianceGroups, handling: effective, pii, source };
}
