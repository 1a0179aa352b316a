/**
 * classify: gives every field read from Salesforce a class, a handling (`allow`, `tokenize`,
 * `drop`) and a PII flag, from the org's own data classification, `FieldPolicy__mdt` rows and
 * the deployment config, in that order. Unclassified fields are never allowed.
 */
export { classifyField, handlingFor, isPiiByType, parseComplianceGroups } from './classify.js';
export type {
  ClassificationSource,
  ClassifyInput,
  FieldClass,
  FieldClassification,
  FieldDefinitionRow,
  FieldOverrides,
  FieldPolicyRow,
} from './classify.js';
export { createClassifier } from './classifier.js';
export type { Classifier, ClassifierOptions, FieldDefinitionLoader } from './classifier.js';
