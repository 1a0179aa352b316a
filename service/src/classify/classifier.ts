/**
 * The per-tenant classifier: FieldDefinition rows are fetched once per (tenant, object) through
 * the loader the caller injects (classify never talks to Salesforce itself), cached with a
 * time to live, and shared by concurrent callers. A failed load is not cached, and a field
 * whose object could not be loaded is never silently allowed: the error propagates.
 */
import { validationError } from '../shared/errors.js';
import { classifyField } from './classify.js';
import type { FieldClass, FieldDefinitionRow, FieldOverrides, FieldPolicyRow } from './classify.js';

export type FieldDefinitionLoader = (tenant: string, object: string) => Promise<readonly FieldDefinitionRow[]>;

export interface ClassifierOptions {
  loadFieldDefinitions: FieldDefinitionLoader;
  /** `FieldPolicy__mdt` rows (namespace already stripped from field names). */
  policies?: readonly FieldPolicyRow[];
  /** Deployment config overrides keyed `Object.Field`. */
  overrides?: FieldOverrides;
  /** What a field nobody classified gets. Never `allow`. Default `drop`. */
  unclassifiedHandling?: 'tokenize' | 'drop';
  /** How long a tenant's FieldDefinition rows are trusted. Default 15 minutes. */
  ttlMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export interface Classifier {
  /** Classes of the given fields of one object, keyed by field API name. */
  classify(tenant: string, object: string, fields: readonly string[]): Promise<Record<string, FieldClass>>;
  /** Forgets cached rows of one tenant (or all tenants), e.g. after a classification change. */
  invalidate(tenant?: string): void;
}

const lc = (s: string): string => s.toLowerCase();

export function createClassifier(options: ClassifierOptions): Classifier {
  const unclassified = options.unclassifiedHandling ?? 'drop';
  if ((unclassified as string) !== 'drop' && (unclassified as string) !== 'tokenize') {
    throw validationError(`unclassifiedHandling '${String(unclassified)}' is not allowed.`, {
      code: 'CLASSIFICATION_DEFAULT_INVALID',
      fix: "Set unclassifiedHandling to 'drop' or 'tokenize'; unclassified fields are never allowed.",
    });
  }
  const ttl = options.ttlMs ?? 15 * 60_000;
  const now = options.now ?? Date.now;
  const policies = new Map<string, FieldPolicyRow>();
  for (const p of options.policies ?? []) policies.set(`${lc(p.object)}.${lc(p.field)}`, p);
  const overrides = new Map<string, { classification?: string; handling?: string }>();
  for (const [k, v] of Object.entries(options.overrides ?? {})) {
    if (!/^[A-Za-z][\w]*\.[A-Za-z][\w]*$/.test(k)) {
      throw validationError(`Field override key '${k}' is not 'Object.Field'.`, {
        code: 'CLASSIFICATION_OVERRIDE_KEY',
        fix: "Key each override by the object and field API names, e.g. 'Contact.Email'.",
      });
    }
    overrides.set(lc(k), v);
  }

  interface Entry {
    at: number;
    rows: Promise<Map<string, FieldDefinitionRow>>;
  }
  const cache = new Map<string, Map<string, Entry>>();

  function rowsFor(tenant: string, object: string): Promise<Map<string, FieldDefinitionRow>> {
    let perTenant = cache.get(tenant);
    if (!perTenant) cache.set(tenant, (perTenant = new Map()));
    const key = lc(object);
    const hit = perTenant.get(key);
    if (hit && now() - hit.at < ttl) return hit.rows;
    const tenantCache = perTenant;
    const entry: Entry = {
      at: now(),
      rows: options.loadFieldDefinitions(tenant, object).then((rows) => {
        const m = new Map<string, FieldDefinitionRow>();
        for (const r of rows) if (lc(r.object) === key) m.set(lc(r.field), r);
        return m;
      }),
    };
    // A failed load is forgotten so the next request retries it.
    entry.rows.catch(() => {
      if (tenantCache.get(key) === entry) tenantCache.delete(key);
    });
    perTenant.set(key, entry);
    return entry.rows;
  }

  return {
    async classify(tenant, object, fields) {
      if (!tenant || !object) {
        throw validationError('classify needs a tenant and an object.', {
          code: 'CLASSIFY_INPUT',
          fix: 'Pass the org id and the object API name.',
        });
      }
      const rows = await rowsFor(tenant, object);
      const out: Record<string, FieldClass> = {};
      for (const field of fields) {
        const k = `${lc(object)}.${lc(field)}`;
        out[field] = classifyField({
          object,
          field,
          definition: rows.get(lc(field)),
          policy: policies.get(k),
          override: overrides.get(k),
          unclassifiedHandling: unclassified,
        });
      }
      return out;
    },
    invalidate(tenant) {
      if (tenant === undefined) cache.clear();
      else cache.delete(tenant);
    },
  };
}
