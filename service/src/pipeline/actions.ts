/**
 * AI actions as the package defines them in `AiAction__mdt`: which object, which fields and
 * related records, the prompt template, the highest field class the action may send and the
 * permission it needs. Definitions are validated when loaded: an action whose template names
 * a field it does not fetch is invalid, never half-filled.
 */
import { SovraError } from '../shared/errors.js';
import { SECURITY_CLASSIFICATIONS, type SecurityClassification } from '../shared/schema.js';

export interface RelatedSpec {
  /** Child relationship name, e.g. `Contacts`. */
  relationship: string;
  fields: string[];
  /** Rows kept, newest first (default 5, at most 50). */
  limit: number;
}

export interface ActionDef {
  /** `AiAction__mdt.DeveloperName`, the value of `AiRequest__c.Action__c`. */
  name: string;
  label: string;
  object: string;
  template: string;
  /** Field paths on the object (parent paths allowed: `Account.Name`). */
  fields: string[];
  related: RelatedSpec[];
  maxClassification: SecurityClassification;
  requiredPermission: string;
  purpose: 'infer' | 'train' | 'export';
  active: boolean;
}

const API_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const FIELD_PATH = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*){0,4}$/;
const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_.]*)\s*\}\}/g;

function invalid(name: string, why: string): SovraError {
  return new SovraError('validation', `AI action ${name} is invalid: ${why}`, {
    code: 'ACTION_INVALID',
    fix: 'Correct the AiAction__mdt record (see the field descriptions in the package) and redeploy it.',
    details: { action: name },
  });
}

/** Parses `Relationship(Field,Field)[N];…`. */
export function parseRelated(name: string, text: string | null | undefined): RelatedSpec[] {
  if (!text || text.trim() === '') return [];
  return text
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((entry) => {
      const m = entry.match(/^([A-Za-z][A-Za-z0-9_]*)\(([^)]*)\)(?:\[(\d{1,2})\])?$/);
      if (!m) throw invalid(name, `related-records entry '${entry}' is not Relationship(Field,Field)[N].`);
      const fields = m[2]!
        .split(',')
        .map((f) => f.trim())
        .filter((f) => f !== '');
      if (fields.length === 0 || !fields.every((f) => FIELD_PATH.test(f)))
        throw invalid(name, `related-records entry '${entry}' lists no valid fields.`);
      const limit = m[3] === undefined ? 5 : Number(m[3]);
      if (limit < 1 || limit > 50) throw invalid(name, `related-records entry '${entry}' asks for ${limit} rows (1–50).`);
      return { relationship: m[1]!, fields, limit };
    });
}

export interface ActionRow {
  DeveloperName: string;
  MasterLabel?: string | null;
  Label?: string | null;
  ObjectApiName__c?: string | null;
  PromptTemplate__c?: string | null;
  Fields__c?: string | null;
  RelatedRecords__c?: string | null;
  MaxClassification__c?: string | null;
  RequiredPermission__c?: string | null;
  Purpose__c?: string | null;
  Active__c?: boolean | null;
}

/** Validates one `AiAction__mdt` row. */
export function parseAction(row: ActionRow): ActionDef {
  const name = row.DeveloperName;
  const object = row.ObjectApiName__c?.trim() ?? '';
  if (!API_NAME.test(object)) throw invalid(name, 'ObjectApiName__c is not an object API name.');
  const template = row.PromptTemplate__c ?? '';
  if (template.trim() === '') throw invalid(name, 'PromptTemplate__c is empty.');
  const fields = (row.Fields__c ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '');
  if (fields.length === 0) throw invalid(name, 'Fields__c lists no fields.');
  const bad = fields.find((f) => !FIELD_PATH.test(f));
  if (bad) throw invalid(name, `Fields__c entry '${bad}' is not a field path.`);
  const related = parseRelated(name, row.RelatedRecords__c);
  const maxClass = (row.MaxClassification__c ?? '').trim();
  if (!(SECURITY_CLASSIFICATIONS as readonly string[]).includes(maxClass)) {
    throw invalid(name, `MaxClassification__c '${maxClass}' is not one of ${SECURITY_CLASSIFICATIONS.join(', ')}.`);
  }
  const purpose = (row.Purpose__c ?? 'infer').trim();
  if (purpose !== 'infer' && purpose !== 'train' && purpose !== 'export')
    throw invalid(name, `Purpose__c '${purpose}' is not infer, train or export.`);
  const known = new Set([...fields, ...related.map((r) => r.relationship), 'Question']);
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (!known.has(m[1]!)) throw invalid(name, `the template uses {{${m[1]}}}, which is not in Fields__c or RelatedRecords__c.`);
  }
  return {
    name,
    label: row.MasterLabel ?? row.Label ?? name,
    object,
    template,
    fields,
    related,
    maxClassification: maxClass as SecurityClassification,
    requiredPermission: (row.RequiredPermission__c ?? 'AiInference').trim() || 'AiInference',
    purpose,
    active: row.Active__c !== false,
  };
}

/** Fills the template; `value(path)` returns the already sanitized text of a placeholder. */
export function renderTemplate(template: string, value: (placeholder: string) => string): string {
  return template.replace(PLACEHOLDER, (_m, p: string) => value(p));
}
