/**
 * What the pipeline knows about one org, kept fresh: the package's metadata (cached for a few
 * minutes), the classifier over the org's FieldDefinition rows and the package's field policies,
 * the jurisdiction resolver over the org's and the config's jurisdictions, and the data types of
 * the fields read (free text is scanned, single values are tokenized whole).
 */
import { createClassifier, type Classifier, type FieldOverrides } from '../classify/index.js';
import { createJurisdictionResolver, type JurisdictionDef, type JurisdictionResolver } from '../jurisdiction/index.js';
import type { SalesforceConnection } from '../salesforce/index.js';
import { loadFieldDefinitions, loadOrgMetadata, type OrgMetadata } from './orgMetadata.js';

export interface OrgContextOptions {
  deploymentJurisdiction: string;
  /** The deployment config's jurisdictions: only these are honoured from the org (an org admin cannot add one). */
  configJurisdictions: readonly JurisdictionDef[];
  overrides?: FieldOverrides;
  unclassifiedHandling?: 'tokenize' | 'drop';
  metadataTtlMs?: number;
  now?: () => number;
}

export interface OrgContext {
  classifier: Classifier;
  resolver(): Promise<{ metadata: OrgMetadata; jurisdiction: JurisdictionResolver }>;
  fieldType(object: string, field: string): string | undefined;
}

/** The org context of one tenant's connection; call `resolver()` once to load it before use. */
export function createOrgContext(sf: SalesforceConnection, o: OrgContextOptions): OrgContext {
  const now = o.now ?? Date.now;
  const ttl = o.metadataTtlMs ?? 5 * 60_000;
  const known = new Set(o.configJurisdictions.map((j) => j.id));
  const dataTypes = new Map<string, string>();
  let cached: { at: number; metadata: OrgMetadata; jurisdiction: JurisdictionResolver } | undefined;
  const classifierFor = (policies?: OrgMetadata['fieldPolicies']): Classifier =>
    createClassifier({
      loadFieldDefinitions: async (_tenant, object) => {
        const rows = await loadFieldDefinitions(sf, object);
        for (const r of rows) if (r.dataType) dataTypes.set(`${object}.${r.field}`, r.dataType);
        return rows;
      },
      policies,
      overrides: o.overrides,
      unclassifiedHandling: o.unclassifiedHandling,
    });
  let classifier = classifierFor();
  return {
    // Delegates to the classifier of the latest metadata (its field policies may change).
    classifier: { classify: (...a) => classifier.classify(...a), invalidate: (t) => classifier.invalidate(t) },
    async resolver() {
      if (cached && now() - cached.at < ttl) return cached;
      const metadata = await loadOrgMetadata(sf);
      classifier = classifierFor(metadata.fieldPolicies);
      const jurisdiction = createJurisdictionResolver({
        deploymentJurisdiction: o.deploymentJurisdiction,
        configJurisdictions: o.configJurisdictions,
        orgJurisdictions: metadata.jurisdictions.filter((j) => known.has(j.id)),
        rules: metadata.residencyRules,
      });
      cached = { at: now(), metadata, jurisdiction };
      return cached;
    },
    fieldType: (object, field) => dataTypes.get(`${object}.${field}`),
  };
}
