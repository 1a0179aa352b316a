/**
 * Decides a record's jurisdiction before anything is sent anywhere. Sources, from the
 * package's `ResidencyRule__mdt` rows: an explicit jurisdiction field (the stamped
 * `DataJurisdiction__c`), and country fields mapped to a jurisdiction through
 * `Jurisdiction__mdt` and the deployment config. Every source must agree — with each other,
 * with the jurisdiction the request arrived for, and with this deployment's — or the record
 * is quarantined. Unknown is never guessed: it is quarantined.
 */
import { ISO_COUNTRIES } from '../config/countries.js';

export interface ResidencyRuleRow {
  object: string;
  /** Field holding an explicit jurisdiction id (e.g. `DataJurisdiction__c`). */
  jurisdictionField?: string | null;
  /** Field (or parent path, e.g. `Account.BillingCountry`) holding a country. */
  countryField?: string | null;
  priority?: number | null;
  active?: boolean | null;
}

export interface JurisdictionDef {
  id: string;
  countries: readonly string[];
}

export interface ResolveInput {
  object: string;
  /** Values of the deciding fields, keyed by field path as named in the rules. */
  values: Readonly<Record<string, unknown>>;
  /** Jurisdiction the request arrived for (AiRequest__c.Jurisdiction__c / the channel). */
  requestedJurisdiction?: string | null;
}

export type QuarantineCode =
  'NO_RULE' | 'JURISDICTION_UNKNOWN' | 'JURISDICTION_CONFLICT' | 'REQUEST_MISMATCH' | 'NOT_THIS_DEPLOYMENT' | 'MAPPING_CONFLICT';

export interface Evidence {
  field: string;
  /** What the field says: a jurisdiction id, or the ISO country it normalised to (never the raw value). */
  says: string | null;
  /** The jurisdiction it maps to, if any. */
  jurisdiction: string | null;
}

export type JurisdictionDecision =
  | { status: 'resolved'; jurisdiction: string; evidence: Evidence[] }
  | {
      status: 'quarantine';
      code: QuarantineCode;
      /** Value-free, shown to admins and written to AiQuarantine__c.Reason__c. */
      reason: string;
      detected: string | null;
      expected: string;
      evidence: Evidence[];
    };

const NAME_TO_CODE: Map<string, string> = (() => {
  const m = new Map<string, string>();
  const norm = (s: string): string =>
    s
      .normalize('NFD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .replace(/[^a-z]/g, '');
  for (const locale of ['en', 'de', 'fr', 'es', 'it', 'nl']) {
    const names = new Intl.DisplayNames([locale], { type: 'region' });
    for (const code of ISO_COUNTRIES) {
      const name = names.of(code);
      if (name && name !== code) m.set(norm(name), code);
    }
  }
  const aliases: Record<string, string> = {
    usa: 'US',
    unitedstatesofamerica: 'US',
    us: 'US',
    america: 'US',
    uk: 'GB',
    greatbritain: 'GB',
    england: 'GB',
    scotland: 'GB',
    wales: 'GB',
    northernireland: 'GB',
    britain: 'GB',
    holland: 'NL',
    thenetherlands: 'NL',
    deutschland: 'DE',
    brd: 'DE',
    eire: 'IE',
    republicofireland: 'IE',
  };
  for (const [k, v] of Object.entries(aliases)) m.set(k, v);
  return m;
})();

/** An ISO 3166-1 alpha-2 code for a country field value (code or name in EN/DE/FR/ES/IT/NL), or undefined. */
export function normaliseCountry(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^[A-Za-z]{2}$/.test(v) && ISO_COUNTRIES.has(v.toUpperCase())) return v.toUpperCase();
  const key = v
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
  return NAME_TO_CODE.get(key);
}

export interface JurisdictionResolverOptions {
  deploymentJurisdiction: string;
  /** From the deployment config. */
  configJurisdictions: readonly JurisdictionDef[];
  /** From the org's `Jurisdiction__mdt` (may be empty before the package is configured). */
  orgJurisdictions: readonly JurisdictionDef[];
  rules: readonly ResidencyRuleRow[];
}

export interface JurisdictionResolver {
  /** The fields to fetch for an object so that `resolve` can decide. */
  decidingFields(object: string): string[];
  resolve(input: ResolveInput): JurisdictionDecision;
}

export function createJurisdictionResolver(opts: JurisdictionResolverOptions): JurisdictionResolver {
  const dep = opts.deploymentJurisdiction;
  const known = new Set(opts.configJurisdictions.map((j) => j.id));
  // Country → jurisdiction from config and org. A country claimed by two jurisdictions, or
  // mapped differently by the org than by the config, is a mapping conflict: fail closed.
  const countryTo = new Map<string, string>();
  const conflicted = new Set<string>();
  for (const j of [...opts.configJurisdictions, ...opts.orgJurisdictions]) {
    for (const c of j.countries) {
      const prev = countryTo.get(c);
      if (prev !== undefined && prev !== j.id) conflicted.add(c);
      else countryTo.set(c, j.id);
    }
  }
  const rulesFor = (object: string): ResidencyRuleRow[] =>
    opts.rules.filter((r) => r.object === object && r.active !== false).sort((a, b) => (a.priority ?? 100) - (b.priority ?? 100));

  const quarantine = (code: QuarantineCode, reason: string, detected: string | null, evidence: Evidence[]): JurisdictionDecision => ({
    status: 'quarantine',
    code,
    reason,
    detected,
    expected: dep,
    evidence,
  });

  return {
    decidingFields(object) {
      const fields = new Set<string>();
      for (const r of rulesFor(object)) {
        if (r.jurisdictionField) fields.add(r.jurisdictionField);
        if (r.countryField) fields.add(r.countryField);
      }
      return [...fields];
    },

    resolve(input) {
      const rules = rulesFor(input.object);
      if (rules.length === 0) {
        return quarantine('NO_RULE', `No residency rule covers ${input.object}, so its jurisdiction cannot be decided.`, null, []);
      }
      const evidence: Evidence[] = [];
      for (const r of rules) {
        if (r.jurisdictionField) {
          const raw = input.values[r.jurisdictionField];
          const id = typeof raw === 'string' && raw.trim() !== '' ? raw.trim().toUpperCase() : null;
          evidence.push({ field: r.jurisdictionField, says: id, jurisdiction: id !== null && known.has(id) ? id : null });
          if (id !== null && !known.has(id)) {
            return quarantine(
              'JURISDICTION_UNKNOWN',
              `${input.object}.${r.jurisdictionField} names jurisdiction ${id}, which this deployment does not know.`,
              id,
              evidence,
            );
          }
        }
        if (r.countryField) {
          const raw = input.values[r.countryField];
          const code = normaliseCountry(raw);
          if (raw !== undefined && raw !== null && String(raw).trim() !== '' && code === undefined) {
            evidence.push({ field: r.countryField, says: null, jurisdiction: null });
            return quarantine(
              'JURISDICTION_UNKNOWN',
              `${input.object}.${r.countryField} holds a value that is not a recognised country.`,
              null,
              evidence,
            );
          }
          if (code !== undefined && conflicted.has(code)) {
            evidence.push({ field: r.countryField, says: code, jurisdiction: null });
            return quarantine(
              'MAPPING_CONFLICT',
              `Country ${code} is mapped to more than one jurisdiction by the org's Jurisdiction__mdt and the deployment config.`,
              code,
              evidence,
            );
          }
          evidence.push({ field: r.countryField, says: code ?? null, jurisdiction: code ? (countryTo.get(code) ?? null) : null });
          if (code !== undefined && !countryTo.has(code)) {
            return quarantine(
              'JURISDICTION_UNKNOWN',
              `${input.object}.${r.countryField} is ${code}, which belongs to no known jurisdiction.`,
              code,
              evidence,
            );
          }
        }
      }
      const decided = [...new Set(evidence.map((e) => e.jurisdiction).filter((j): j is string => j !== null))];
      if (decided.length === 0) {
        return quarantine(
          'JURISDICTION_UNKNOWN',
          `None of ${evidence.map((e) => e.field).join(', ')} says where this ${input.object} belongs.`,
          null,
          evidence,
        );
      }
      if (decided.length > 1) {
        const parts = evidence.filter((e) => e.jurisdiction).map((e) => `${e.field} → ${e.jurisdiction}`);
        return quarantine(
          'JURISDICTION_CONFLICT',
          `The record's residency fields disagree (${parts.join('; ')}).`,
          decided.join('/'),
          evidence,
        );
      }
      const j = decided[0]!;
      const requested = input.requestedJurisdiction?.trim().toUpperCase();
      if (requested && requested !== j) {
        return quarantine('REQUEST_MISMATCH', `The request arrived for ${requested}, but the record belongs to ${j}.`, j, evidence);
      }
      if (j !== dep) {
        return quarantine('NOT_THIS_DEPLOYMENT', `The record belongs to ${j}; this deployment serves ${dep} only.`, j, evidence);
      }
      return { status: 'resolved', jurisdiction: j, evidence };
    },
  };
}
