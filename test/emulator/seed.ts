/**
 * Seed data: the orgs an emulator starts with — users, permission sets, connected apps,
 * records (with `@key` references between them) and field classifications. JSON-friendly,
 * so `npm run emulator -- --seed file.json` can load the same shape.
 */
import { readFileSync } from 'node:fs';
import { CUSTOM_PERMISSIONS, jurisdictionPermission } from '../../service/src/shared/schema.js';
import type { PackageDefinition } from './metadata.js';
import { Org, defaultPermissionSets, type ConnectedApp, type OrgOptions, type Rec } from './org.js';
import type { EmulatorClock } from './util.js';

export interface SeedUser {
  /** Handle for `@key` references (defaults to the username). */
  key?: string;
  username: string;
  firstName?: string;
  lastName: string;
  email: string;
  country?: string;
  timeZone?: string;
  active?: boolean;
  /** Permission set names (unprefixed): SovraUser, SovraJurisdictionEU … */
  permissionSets?: string[];
  /** 'System Administrator' (View/Modify All Data: no object/field checks) or 'Standard User' (default). */
  profile?: 'System Administrator' | 'Standard User';
}

export interface SeedConnectedApp {
  name: string;
  clientId: string;
  certificates?: string[];
  /** 'all' or the usernames pre-authorized for the app (default: 'all'). */
  approvedUsers?: 'all' | string[];
}

export interface SeedRecord extends Rec {
  /** Handle other records use as `"@key"` in a reference field. */
  '@key'?: string;
  /** Username or `@key` of the creating user (becomes CreatedById/OwnerId). */
  '@createdBy'?: string;
  /** Age of the record: CreatedDate = now − days. */
  '@ageDays'?: number;
}

export interface SeedOrg extends Omit<OrgOptions, 'key'> {
  key: string;
  users: SeedUser[];
  /** Username used when a session is asked for without one (the integration user). */
  integrationUser?: string;
  connectedApps?: SeedConnectedApp[];
  /** Jurisdictions with a SovraJurisdiction<J> permission set (default EU, US). */
  jurisdictions?: string[];
  /** Records per sObject, inserted in order (object order as given). */
  records?: Record<string, SeedRecord[]>;
  /** `Object.Field` → data classification (Setup → Data Classification). */
  fieldClassifications?: Record<string, { securityClassification?: string | null; complianceGroup?: string | null }>;
}

export interface SeedData {
  orgs: SeedOrg[];
}

export function loadSeedFile(path: string): SeedData {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`Seed file ${path} could not be read as JSON: ${(e as Error).message}`, { cause: e });
  }
  return validateSeed(parsed, path);
}

export function validateSeed(v: unknown, where = 'seed'): SeedData {
  const fail = (msg: string): never => {
    throw new Error(`${where}: ${msg}`);
  };
  if (!v || typeof v !== 'object' || !Array.isArray((v as SeedData).orgs) || (v as SeedData).orgs.length === 0) {
    fail('expected {"orgs": [ … ]} with at least one org');
  }
  const seed = v as SeedData;
  const keys = new Set<string>();
  seed.orgs.forEach((o, i) => {
    if (typeof o.key !== 'string' || !o.key) fail(`orgs[${i}].key must be a non-empty string`);
    if (keys.has(o.key)) fail(`orgs[${i}].key '${o.key}' is used twice`);
    keys.add(o.key);
    if (typeof o.name !== 'string' || !o.name) fail(`orgs[${i}].name must be a non-empty string`);
    if (!Array.isArray(o.users) || o.users.length === 0) fail(`orgs[${i}].users must list at least one user`);
    o.users.forEach((u, j) => {
      if (typeof u.username !== 'string' || !u.username.includes('@'))
        fail(`orgs[${i}].users[${j}].username must look like an email address`);
      if (typeof u.lastName !== 'string' || !u.lastName) fail(`orgs[${i}].users[${j}].lastName is required`);
      if (typeof u.email !== 'string' || !u.email.includes('@')) fail(`orgs[${i}].users[${j}].email must be an email address`);
    });
  });
  return seed;
}

/** Builds one org from its seed. */
export function buildOrg(s: SeedOrg, pkg: PackageDefinition, clock: EmulatorClock): Org {
  const org = new Org(s, pkg, clock);
  const sys = org.newContext('', true);
  const userIds = new Map<string, string>();
  const orgRow = org.newId('00D');
  void orgRow;
  org.table('Organization').set(org.orgId, {
    Id: org.orgId,
    Name: org.name,
    InstanceName: org.instanceName,
    IsSandbox: false,
    TrialExpirationDate: null,
    NamespacePrefix: org.namespace || null,
    OrganizationType: org.organizationType,
    Country: org.country,
    DefaultLocaleSidKey: 'en_US',
    TimeZoneSidKey: 'Europe/Berlin',
  });
  // Users first (everything else is created by one of them).
  for (const u of s.users) {
    const id = org.insert(
      'User',
      {
        Username: u.username,
        FirstName: u.firstName ?? null,
        LastName: u.lastName,
        Email: u.email,
        Alias: (u.firstName?.[0] ?? '') + u.lastName.slice(0, 4),
        IsActive: u.active !== false,
        Country: u.country ?? null,
        TimeZoneSidKey: u.timeZone ?? 'GMT',
        LocaleSidKey: 'en_US',
        LanguageLocaleKey: 'en_US',
      },
      { ...sys, userId: '' },
    );
    const rec = org.table('User').get(id)!;
    rec.CreatedById = id;
    rec.LastModifiedById = id;
    rec.UserType = 'Standard';
    userIds.set(u.key ?? u.username, id);
    userIds.set(u.username, id);
    if (u.profile === 'System Administrator') org.systemAdministrators.add(id);
  }
  const firstUser = [...userIds.values()][0];
  const asUser = (ref: unknown): string => (typeof ref === 'string' ? (userIds.get(ref.replace(/^@/, '')) ?? firstUser) : firstUser);
  // Custom permissions and permission sets (namespace on NamespacePrefix, as in a real org).
  const jurisdictions = s.jurisdictions ?? [...org.activeJurisdictions().keys()].sort();
  const cpIds = new Map<string, string>();
  const ctx = { ...sys, userId: firstUser };
  const permissionSets = pkg.permissionSets.length ? pkg.permissionSets : defaultPermissionSets(jurisdictions);
  const cpNames = new Set([...pkg.customPermissions, ...Object.values(CUSTOM_PERMISSIONS), ...jurisdictions.map(jurisdictionPermission)]);
  for (const ps of permissionSets) for (const p of ps.perms) cpNames.add(p);
  for (const name of cpNames) {
    const id = org.insert('CustomPermission', { DeveloperName: name, MasterLabel: name }, ctx);
    org.table('CustomPermission').get(id)!.NamespacePrefix = org.namespace || null;
    cpIds.set(name, id);
  }
  const psIds = new Map<string, string>();
  for (const ps of permissionSets) {
    org.permissionSetDefs.set(ps.name, ps);
    const id = org.insert('PermissionSet', { Name: ps.name, Label: ps.label }, ctx);
    org.table('PermissionSet').get(id)!.NamespacePrefix = org.namespace || null;
    psIds.set(ps.name, id);
    for (const p of ps.perms) {
      const sea = org.insert('SetupEntityAccess', { ParentId: id, SetupEntityId: cpIds.get(p)! }, ctx);
      org.table('SetupEntityAccess').get(sea)!.SetupEntityType = 'CustomPermission';
    }
  }
  for (const u of s.users) {
    for (const ps of u.permissionSets ?? []) {
      const psId = psIds.get(ps);
      if (!psId) throw new Error(`Seed org '${s.key}': user ${u.username} is assigned unknown permission set '${ps}'`);
      org.insert('PermissionSetAssignment', { AssigneeId: userIds.get(u.username)!, PermissionSetId: psId }, ctx);
    }
  }
  for (const app of s.connectedApps ?? []) {
    const a: ConnectedApp = {
      name: app.name,
      clientId: app.clientId,
      certificates: [...(app.certificates ?? [])],
      approvedUsers: app.approvedUsers ?? 'all',
    };
    org.connectedApps.push(a);
  }
  // Records, resolving "@key" references.
  const keys = new Map<string, string>();
  for (const [sobject, rows] of Object.entries(s.records ?? {})) {
    const obj = org.findObject(org.ns(sobject));
    if (!obj) throw new Error(`Seed org '${s.key}': sObject '${sobject}' does not exist`);
    for (const row of rows) {
      const fields: Rec = {};
      for (const [k, v] of Object.entries(row)) {
        if (k.startsWith('@')) continue;
        const f = obj.fieldIndex.get(k.toLowerCase()) ?? obj.fieldIndex.get(org.ns(k).toLowerCase());
        const name = f?.name ?? k;
        if (typeof v === 'string' && v.startsWith('@') && f?.type === 'reference') {
          const target = keys.get(v.slice(1)) ?? userIds.get(v.slice(1));
          if (!target) throw new Error(`Seed org '${s.key}': ${sobject}.${k} refers to unknown key '${v}'`);
          fields[name] = target;
        } else fields[name] = v;
      }
      const by = asUser(row['@createdBy']);
      const id = org.insert(obj.name, fields, { ...sys, userId: by });
      if (typeof row['@ageDays'] === 'number') {
        const rec = org.table(obj.name).get(id)!;
        const when = new Date(clock.now() - row['@ageDays'] * 86_400_000).toISOString().replace('Z', '+0000');
        rec.CreatedDate = when;
        rec.LastModifiedDate = when;
        rec.SystemModstamp = when;
      }
      if (row['@key']) keys.set(row['@key'], id);
    }
  }
  for (const [path, c] of Object.entries(s.fieldClassifications ?? {})) {
    const [o, f] = path.split('.');
    org.setFieldClassification(org.ns(o), f, c);
  }
  org.commit(sys);
  return org;
}
