/**
 * What the pipeline reads from an org besides the records themselves: the package's
 * protected custom metadata (actions, residency rules, jurisdictions, field policies), the
 * org's own field classification, and users' custom permissions — always re-read from the
 * org, never taken from an event.
 */
import type { FieldDefinitionRow, FieldPolicyRow } from '../classify/index.js';
import type { JurisdictionDef, ResidencyRuleRow } from '../jurisdiction/index.js';
import type { SalesforceConnection, SObjectRecord } from '../salesforce/index.js';
import { soqlString } from '../salesforce/index.js';
import { log } from '../shared/log.js';
import { CUSTOM_SCHEMA } from '../shared/schema.js';
import { parseAction, type ActionDef, type ActionRow } from './actions.js';

export interface OrgMetadata {
  actions: Map<string, ActionDef>;
  /** Actions that failed validation, with why (value-free). */
  invalidActions: Map<string, string>;
  residencyRules: ResidencyRuleRow[];
  jurisdictions: JurisdictionDef[];
  fieldPolicies: FieldPolicyRow[];
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function select(sf: SalesforceConnection, object: string, fields: string[]): string {
  return `SELECT ${fields.map((f) => sf.names.name(f)).join(', ')} FROM ${sf.names.name(object)}`;
}

export async function loadOrgMetadata(sf: SalesforceConnection): Promise<OrgMetadata> {
  const [actionRows, ruleRows, jurRows, policyRows] = await Promise.all([
    sf.query(select(sf, 'AiAction__mdt', ['DeveloperName', 'MasterLabel', ...CUSTOM_SCHEMA.AiAction__mdt]), {
      operation: 'load AiAction__mdt',
    }),
    sf.query(select(sf, 'ResidencyRule__mdt', ['DeveloperName', ...CUSTOM_SCHEMA.ResidencyRule__mdt]), {
      operation: 'load ResidencyRule__mdt',
    }),
    sf.query(select(sf, 'Jurisdiction__mdt', ['DeveloperName', ...CUSTOM_SCHEMA.Jurisdiction__mdt]), {
      operation: 'load Jurisdiction__mdt',
    }),
    sf.query(select(sf, 'FieldPolicy__mdt', ['DeveloperName', ...CUSTOM_SCHEMA.FieldPolicy__mdt]), {
      operation: 'load FieldPolicy__mdt',
    }),
  ]);
  const actions = new Map<string, ActionDef>();
  const invalidActions = new Map<string, string>();
  for (const row of actionRows) {
    try {
      const a = parseAction(row as unknown as ActionRow);
      actions.set(a.name, a);
    } catch (err) {
      invalidActions.set(String(row.DeveloperName), err instanceof Error ? err.message : 'invalid');
    }
  }
  if (invalidActions.size > 0) log().warn('invalid ai actions skipped', { tenant: sf.tenantId, actions: [...invalidActions.keys()] });
  return {
    actions,
    invalidActions,
    residencyRules: ruleRows.map((r) => ({
      object: str(r.ObjectApiName__c) ?? '',
      jurisdictionField: str(r.JurisdictionField__c),
      countryField: str(r.CountryField__c),
      priority: typeof r.Priority__c === 'number' ? r.Priority__c : null,
      active: r.Active__c !== false,
    })),
    jurisdictions: jurRows
      .filter((r) => r.Active__c !== false)
      .map((r) => ({
        id: String(r.DeveloperName).toUpperCase(),
        countries: (str(r.Countries__c) ?? '')
          .split(/[;,\s]+/)
          .map((c) => c.trim().toUpperCase())
          .filter((c) => /^[A-Z]{2}$/.test(c)),
      })),
    fieldPolicies: policyRows.map((r) => ({
      object: str(r.ObjectApiName__c) ?? '',
      field: str(r.FieldApiName__c) ?? '',
      classification: str(r.Classification__c),
      handling: str(r.Handling__c),
    })),
  };
}

/** The org's own classification of an object's fields (FieldDefinition). */
export async function loadFieldDefinitions(sf: SalesforceConnection, object: string): Promise<FieldDefinitionRow[]> {
  const rows = await sf.query(
    `SELECT QualifiedApiName, SecurityClassification, ComplianceGroup, DataType FROM FieldDefinition WHERE EntityDefinition.QualifiedApiName = ${soqlString(sf.names.name(object))}`,
    { operation: `load FieldDefinition ${object}` },
  );
  return rows.map((r) => ({
    object,
    field: sf.names.strip(String(r.QualifiedApiName)),
    securityClassification: str(r.SecurityClassification),
    complianceGroup: str(r.ComplianceGroup),
    dataType: str(r.DataType),
  }));
}

export interface UserRights {
  userId: string;
  active: boolean;
  /** Custom permission DeveloperNames (unprefixed) granted through permission sets. */
  permissions: Set<string>;
}

/** Users' custom permissions through their permission-set assignments: three queries for any number of users. */
export async function loadUserRights(sf: SalesforceConnection, userIds: readonly string[]): Promise<Map<string, UserRights>> {
  const out = new Map<string, UserRights>();
  const ids = [...new Set(userIds.filter((u) => /^005[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$/.test(u)))];
  if (ids.length === 0) return out;
  const users = await sf.queryIn('User', 'Id', ids, ['IsActive']);
  for (const u of users) out.set(String(u.Id), { userId: String(u.Id), active: u.IsActive === true, permissions: new Set() });
  const assignments = await sf.queryIn('PermissionSetAssignment', 'AssigneeId', [...out.keys()], ['AssigneeId', 'PermissionSetId']);
  const psIds = [...new Set(assignments.map((a) => String(a.PermissionSetId)))];
  if (psIds.length === 0) return out;
  const access: SObjectRecord[] = (
    await sf.queryIn('SetupEntityAccess', 'ParentId', psIds, ['ParentId', 'SetupEntityId', 'SetupEntityType'])
  ).filter((a) => a.SetupEntityType === undefined || a.SetupEntityType === 'CustomPermission');
  const cpIds = [...new Set(access.map((a) => String(a.SetupEntityId)))];
  const perms = cpIds.length === 0 ? [] : await sf.queryIn('CustomPermission', 'Id', cpIds, ['DeveloperName', 'NamespacePrefix']);
  const ns = sf.names.prefix.replace(/__$/, '');
  const permName = new Map<string, string>();
  for (const p of perms) {
    // Only the package's own custom permissions count: an org admin cannot mint a look-alike.
    const prefix = typeof p.NamespacePrefix === 'string' && p.NamespacePrefix !== '' ? p.NamespacePrefix : '';
    if (prefix === ns) permName.set(String(p.Id), String(p.DeveloperName));
  }
  const byPs = new Map<string, string[]>();
  for (const a of access) {
    const name = permName.get(String(a.SetupEntityId));
    if (name) byPs.set(String(a.ParentId), [...(byPs.get(String(a.ParentId)) ?? []), name]);
  }
  for (const a of assignments) {
    const u = out.get(String(a.AssigneeId));
    for (const p of byPs.get(String(a.PermissionSetId)) ?? []) u?.permissions.add(p);
  }
  return out;
}
