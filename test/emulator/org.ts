/**
 * One emulated org (tenant): its schema (the package's definition with the org's namespace
 * applied, plus standard objects), its records, users, connected apps, API usage, faults and
 * platform-event log. The REST, OAuth and CometD layers all act on this class.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  CUSTOM_PERMISSIONS,
  DATA_JURISDICTION_FIELD,
  PERMISSION_SETS,
  STAMPED_OBJECTS,
  jurisdictionPermission,
  jurisdictionPermissionSet,
} from '../../service/src/shared/schema.js';
import {
  type ChannelDef,
  type FieldDef,
  type ObjectDef,
  type PackageDefinition,
  type PermissionSetDef,
  addField,
  makeObject,
  standardObjects,
} from './metadata.js';
import { type Cond, parseCondition } from './soql.js';
import { type EmulatorClock, SalesforceApiError, isoNoMillisZ, makeIdFactory, normalizeId, restDateTime, uuid } from './util.js';

export type Rec = Record<string, unknown>;

export type FaultKind = '503' | 'INVALID_SESSION_ID' | 'REQUEST_LIMIT_EXCEEDED' | 'DROP_COMETD';
export const FAULT_KINDS: readonly FaultKind[] = ['503', 'INVALID_SESSION_ID', 'REQUEST_LIMIT_EXCEEDED', 'DROP_COMETD'];

export interface ConnectedApp {
  name: string;
  clientId: string;
  /** PEM certificates or public keys registered on the app (JWT signatures are checked against them). */
  certificates: string[];
  /** Usernames pre-authorized to use the app ('all' = every active user of the org). */
  approvedUsers: 'all' | string[];
}

export interface StoredEvent {
  replayId: number;
  eventName: string;
  schema: string;
  uuid: string;
  publishedAt: number;
  payload: Rec;
}

export interface OrgOptions {
  key: string;
  name: string;
  orgId?: string;
  namespace?: string;
  instanceName?: string;
  organizationType?: string;
  country?: string;
  apiRequestLimit?: number;
  /** Platform-event retention (ms); 72 h by default (high-volume events). */
  eventRetentionMs?: number;
  /** Records per query batch (2000 by default, as the real API). */
  queryBatchSize?: number;
  /**
   * Enforce object and field security from the package's permission sets (objectPermissions,
   * fieldPermissions, customMetadataTypeAccesses) for API users. Off by default.
   */
  enforceFieldSecurity?: boolean;
}

export interface AiRequestOutcome {
  accepted: boolean;
  requestId: string | null;
  externalId: string | null;
  jurisdiction: string | null;
  status: 'Queued' | null;
  message: string | null;
}

/**
 * What one user may see and do, from the package's permission sets (objectPermissions,
 * fieldPermissions, customMetadataTypeAccesses). Standard objects and fields are taken as
 * granted by the user's profile. A field the user cannot read is, to the API, a field that
 * does not exist ("No such column …"); an object likewise ("sObject type … is not supported").
 */
export interface Access {
  objectRead(obj: ObjectDef): boolean;
  objectOp(obj: ObjectDef, op: 'create' | 'edit' | 'delete'): boolean;
  fieldRead(obj: ObjectDef, f: FieldDef): boolean;
  fieldEdit(obj: ObjectDef, f: FieldDef): boolean;
}

export interface WriteContext {
  userId: string;
  /** The acting user's field and object security; null = system mode (no checks). */
  access?: Access | null;
  /** Events published inside the transaction; sent on commit (Publish After Commit). */
  pendingEvents: { name: string; fields: Rec; userId: string }[];
  undo: (() => void)[];
  /** Internal/system writes (seeding) bypass createable/updateable checks. */
  system?: boolean;
}

export type WriteHook = (e: { org: Org; sobject: string; op: 'insert' | 'update' | 'delete'; record: Rec; old?: Rec }) => void;

const COUNTRY_NAMES: Record<string, string> = {
  austria: 'AT',
  belgium: 'BE',
  bulgaria: 'BG',
  croatia: 'HR',
  cyprus: 'CY',
  'czech republic': 'CZ',
  czechia: 'CZ',
  denmark: 'DK',
  estonia: 'EE',
  finland: 'FI',
  france: 'FR',
  germany: 'DE',
  deutschland: 'DE',
  greece: 'GR',
  hungary: 'HU',
  ireland: 'IE',
  italy: 'IT',
  latvia: 'LV',
  lithuania: 'LT',
  luxembourg: 'LU',
  malta: 'MT',
  netherlands: 'NL',
  'the netherlands': 'NL',
  nederland: 'NL',
  poland: 'PL',
  portugal: 'PT',
  romania: 'RO',
  slovakia: 'SK',
  slovenia: 'SI',
  spain: 'ES',
  sweden: 'SE',
  'united kingdom': 'GB',
  uk: 'GB',
  'great britain': 'GB',
  'united states': 'US',
  usa: 'US',
  'united states of america': 'US',
  canada: 'CA',
  switzerland: 'CH',
  norway: 'NO',
};

/** ISO 3166 alpha-2 code for a country value as users type it ('DE', 'Germany', 'Deutschland'). */
export function countryCode(value: unknown, names: Record<string, string> = COUNTRY_NAMES): string | null {
  if (typeof value !== 'string' || !value.trim()) return null;
  const v = value.trim();
  if (/^[A-Za-z]{2}$/.test(v)) {
    // "UK is not an ISO 3166-1 code but is what people type for GB" (package CountryCodes.cls).
    const code = v.toUpperCase();
    return code === 'UK' ? 'GB' : code;
  }
  return names[v.toLowerCase()] ?? null;
}

export class Org {
  readonly key: string;
  readonly name: string;
  readonly orgId: string;
  readonly namespace: string;
  readonly prefix: string;
  readonly instanceName: string;
  readonly organizationType: string;
  readonly country: string;
  apiRequestLimit: number;
  apiCalls = 0;
  eventRetentionMs: number;
  queryBatchSize: number;
  readonly objects = new Map<string, ObjectDef>();
  readonly channels: ChannelDef[] = [];
  readonly channelFilters = new Map<string, Cond | null>();
  readonly connectedApps: ConnectedApp[] = [];
  readonly faults: { kind: FaultKind; remaining: number }[] = [];
  latencyMs = 0;
  /** Emulated Apex (trigger handlers / publisher); tests may switch it off. */
  apexEmulation = true;
  readonly events: StoredEvent[] = [];
  /** Highest replayId ever issued, and highest one pruned by retention. */
  lastReplayId = 0;
  /** Per event type, the highest replayId dropped by retention (replay from below it is invalid). */
  readonly prunedUpTo = new Map<string, number>();
  readonly eventListeners = new Set<(e: StoredEvent) => void>();
  readonly hooks = new Set<WriteHook>();
  private readonly store = new Map<string, Map<string, Rec>>();
  private readonly keyPrefixToObject = new Map<string, string>();
  readonly newId: (keyPrefix: string) => string;
  readonly countryNames: Record<string, string>;
  /** Object/field security from permission sets (see Access). */
  fieldSecurity: boolean;
  /** Permission set definitions by Name. */
  readonly permissionSetDefs = new Map<string, PermissionSetDef>();
  /** Users with the System Administrator profile (View/Modify All Data): no object/field checks. */
  readonly systemAdministrators = new Set<string>();

  constructor(
    opts: OrgOptions,
    pkg: PackageDefinition,
    readonly clock: EmulatorClock,
  ) {
    this.key = opts.key;
    this.name = opts.name;
    const pod = randomBytes(2)
      .toString('hex')
      .slice(0, 2)
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, '0');
    this.newId = makeIdFactory(pod);
    this.orgId = opts.orgId ? (normalizeId(opts.orgId) ?? badOrgId(opts.orgId)) : this.newId('00D');
    this.namespace = opts.namespace ?? '';
    if (this.namespace && !/^[A-Za-z][A-Za-z0-9]{0,14}$/.test(this.namespace)) {
      throw new Error(`Org '${opts.key}': namespace '${this.namespace}' is not a valid Salesforce namespace prefix`);
    }
    this.prefix = this.namespace ? `${this.namespace}__` : '';
    this.instanceName = opts.instanceName ?? 'EU45';
    this.organizationType = opts.organizationType ?? 'Enterprise Edition';
    this.country = opts.country ?? 'DE';
    this.apiRequestLimit = opts.apiRequestLimit ?? 15000;
    this.eventRetentionMs = opts.eventRetentionMs ?? 72 * 3600 * 1000;
    this.queryBatchSize = opts.queryBatchSize ?? 2000;
    this.countryNames = pkg.countryNames ?? COUNTRY_NAMES;
    this.fieldSecurity = opts.enforceFieldSecurity ?? false;
    this.buildSchema(pkg);
  }

  // ------------------------------------------------------------------------------ schema

  /** `AiRequest__c` → `sovra__AiRequest__c` in a namespaced org (package names only). */
  ns(name: string): string {
    if (!this.prefix || name.startsWith(this.prefix) || !/__(c|e|mdt|chn|r)$/.test(name)) return name;
    return `${this.prefix}${name}`;
  }

  private buildSchema(pkg: PackageDefinition): void {
    const add = (o: ObjectDef): void => {
      this.objects.set(o.name.toLowerCase(), o);
    };
    for (const o of standardObjects()) add(o);
    const prefixField = (f: FieldDef): FieldDef => ({
      ...f,
      name: f.custom ? this.ns(f.name) : f.name,
      referenceTo: f.referenceTo.map((r) => this.ns(r)),
      relationshipName: f.relationshipName && f.custom ? this.ns(f.relationshipName) : f.relationshipName,
      childRelationshipName: f.childRelationshipName ? this.ns(f.childRelationshipName) : null,
    });
    let n = 0;
    for (const o of pkg.objects) {
      const name = this.ns(o.name);
      const kp =
        o.kind === 'event' ? 'e00' : o.kind === 'mdt' ? `m0${(n % 10).toString()}` : `a0${'0123456789ABCDEFGHJKLMNOPQRSTUVWXYZ'[n % 35]}`;
      n++;
      add(makeObject(name, o.kind, kp, o.fields.map(prefixField), { label: o.label, labelPlural: o.labelPlural, origin: o.origin }));
    }
    for (const [std, fields] of pkg.standardObjectFields) {
      const obj = this.objects.get(std.toLowerCase());
      if (!obj) continue;
      for (const f of fields) addField(obj, prefixField(f));
    }
    for (const o of this.objects.values()) {
      this.store.set(o.name, new Map());
      if (o.keyPrefix && o.kind !== 'event') this.keyPrefixToObject.set(o.keyPrefix, o.name);
    }
    for (const ch of pkg.channels) {
      const c: ChannelDef = {
        name: this.ns(ch.name),
        label: ch.label,
        members: ch.members.map((m) => ({
          ...m,
          eventChannel: this.ns(m.eventChannel),
          selectedEntity: this.ns(m.selectedEntity),
        })),
      };
      this.channels.push(c);
      for (const m of c.members) {
        this.channelFilters.set(`${c.name}|${m.selectedEntity}`, m.filterExpression ? parseCondition(m.filterExpression) : null);
      }
    }
    this.materializeMetadataRows(pkg);
  }

  /** Custom metadata records, EntityDefinition/FieldDefinition and channel rows. */
  private materializeMetadataRows(pkg: PackageDefinition): void {
    const now = restDateTime(this.clock.now());
    for (const r of pkg.mdtRecords) {
      const obj = this.objects.get(this.ns(r.type).toLowerCase());
      if (!obj) continue;
      const rec: Rec = {
        Id: this.newId(obj.keyPrefix ?? 'm00'),
        DeveloperName: r.developerName,
        MasterLabel: r.label,
        Label: r.label,
        Language: 'en_US',
        NamespacePrefix: this.namespace || null,
        QualifiedApiName: this.prefix + r.developerName,
        SystemModstamp: now,
      };
      for (const f of obj.fields) if (f.custom) rec[f.name] = null;
      for (const [k, v] of Object.entries(r.values)) {
        const f = obj.fieldIndex.get(this.ns(k).toLowerCase());
        if (!f) throw new Error(`Custom metadata record ${r.type}.${r.developerName}: field ${k} is not defined on ${r.type}`);
        rec[f.name] = coerceMdtValue(f, v);
      }
      this.table(obj.name).set(rec.Id as string, rec);
    }
    this.refreshFieldDefinitions();
    for (const ch of this.channels) {
      const id = this.newId('0YL');
      this.table('PlatformEventChannel').set(id, {
        Id: id,
        DeveloperName: ch.name.replace(this.prefix, '').replace(/__chn$/, ''),
        MasterLabel: ch.label,
        NamespacePrefix: this.namespace || null,
        ChannelType: 'event',
        FullName: ch.name,
      });
      for (const m of ch.members) {
        const mid = this.newId('0v8');
        this.table('PlatformEventChannelMember').set(mid, {
          Id: mid,
          DeveloperName: m.fullName,
          NamespacePrefix: this.namespace || null,
          EventChannel: m.eventChannel,
          SelectedEntity: m.selectedEntity,
          FilterExpression: m.filterExpression,
          FullName: m.fullName,
        });
      }
    }
  }

  private readonly classificationOverrides = new Map<string, { securityClassification?: string | null; complianceGroup?: string | null }>();

  /** Sets the data classification of a field (as an admin does in Setup), e.g. for standard fields. */
  setFieldClassification(
    object: string,
    fieldName: string,
    c: { securityClassification?: string | null; complianceGroup?: string | null },
  ): void {
    const obj = this.describeObject(object);
    const f = obj.fieldIndex.get(fieldName.toLowerCase()) ?? obj.fieldIndex.get(this.ns(fieldName).toLowerCase());
    if (!f) throw new Error(`setFieldClassification: ${object} has no field ${fieldName}`);
    this.classificationOverrides.set(`${obj.name}.${f.name}`, c);
    this.refreshFieldDefinitions();
  }

  refreshFieldDefinitions(): void {
    const ed = this.table('EntityDefinition');
    const fd = this.table('FieldDefinition');
    ed.clear();
    fd.clear();
    for (const o of this.objects.values()) {
      if (o.kind === 'setup' && !['User', 'Organization'].includes(o.name)) continue;
      const entityId = o.custom ? `01I${o.name.length.toString().padStart(2, '0')}000000${hash6(o.name)}` : o.name;
      ed.set(entityId, {
        Id: '000000000000000AAA',
        DurableId: entityId,
        QualifiedApiName: o.name,
        DeveloperName: o.name.replace(this.prefix, '').replace(/__(c|e|mdt)$/, ''),
        NamespacePrefix: o.custom && this.namespace ? this.namespace : null,
        Label: o.label,
        KeyPrefix: o.keyPrefix,
        IsCustomizable: true,
      });
      for (const f of o.fields) {
        const over = this.classificationOverrides.get(`${o.name}.${f.name}`) ?? {};
        const durable = `${entityId}.${f.custom ? `00N${hash6(o.name + f.name)}000000` : f.name}`;
        fd.set(durable, {
          Id: '000000000000000AAA',
          DurableId: durable,
          QualifiedApiName: f.name,
          DeveloperName: f.name.replace(this.prefix, '').replace(/__c$/, ''),
          NamespacePrefix: f.custom && this.namespace && f.name.startsWith(this.prefix) ? this.namespace : null,
          Label: f.label,
          DataType: dataTypeLabel(f),
          Length: f.length,
          EntityDefinitionId: entityId,
          SecurityClassification: over.securityClassification !== undefined ? over.securityClassification : f.securityClassification,
          ComplianceGroup: over.complianceGroup !== undefined ? over.complianceGroup : f.complianceGroup,
          BusinessStatus: null,
          BusinessOwnerId: null,
        });
      }
    }
  }

  /** Resolves an sObject name case-insensitively; null if the org has no such object. */
  findObject(name: string): ObjectDef | null {
    return this.objects.get(name.toLowerCase()) ?? null;
  }

  describeObject(name: string): ObjectDef {
    const o = this.findObject(name);
    if (!o) throw new SalesforceApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    return o;
  }

  objectForId(id: string): ObjectDef | null {
    const name = this.keyPrefixToObject.get(id.slice(0, 3));
    return name ? this.findObject(name) : null;
  }

  table(objectName: string): Map<string, Rec> {
    const o = this.findObject(objectName);
    const t = o ? this.store.get(o.name) : undefined;
    if (!t) throw new Error(`no table for ${objectName}`);
    return t;
  }

  get(objectName: string, id: string): Rec | undefined {
    const r = this.table(objectName).get(normalizeId(id) ?? id);
    return r && !r.IsDeleted ? r : undefined;
  }

  /** Resolves any record by id (polymorphic lookups). */
  getById(id: string): { obj: ObjectDef; rec: Rec } | null {
    const obj = this.objectForId(id);
    if (!obj) return null;
    const rec = this.table(obj.name).get(normalizeId(id) ?? id);
    return rec ? { obj, rec } : null;
  }

  // ------------------------------------------------------------------------------ users

  users(): Rec[] {
    return [...this.table('User').values()];
  }

  userByUsername(username: string): Rec | undefined {
    return this.users().find((u) => String(u.Username).toLowerCase() === username.toLowerCase());
  }

  /** The custom permissions a user holds through permission set assignments. */
  customPermissionsOf(userId: string): string[] {
    const psIds = [...this.table('PermissionSetAssignment').values()].filter((a) => a.AssigneeId === userId).map((a) => a.PermissionSetId);
    const cpIds = new Set(
      [...this.table('SetupEntityAccess').values()].filter((s) => psIds.includes(s.ParentId)).map((s) => s.SetupEntityId),
    );
    return [...this.table('CustomPermission').values()]
      .filter((c) => cpIds.has(c.Id))
      .map((c) => (c.NamespacePrefix ? `${String(c.NamespacePrefix)}__` : '') + String(c.DeveloperName));
  }

  /** The user's Access, or null when unrestricted (security off, or a System Administrator). */
  accessFor(userId: string): Access | null {
    if (!this.fieldSecurity || this.systemAdministrators.has(userId)) return null;
    const psIds = new Set(
      [...this.table('PermissionSetAssignment').values()]
        .filter((a) => a.AssigneeId === userId && !a.IsDeleted)
        .map((a) => a.PermissionSetId),
    );
    const objects = new Map<string, { read: boolean; create: boolean; edit: boolean; delete: boolean }>();
    const fields = new Map<string, { read: boolean; edit: boolean }>();
    const mdt = new Set<string>();
    for (const ps of this.table('PermissionSet').values()) {
      if (!psIds.has(ps.Id)) continue;
      const def = this.permissionSetDefs.get(String(ps.Name));
      for (const o of def?.objects ?? []) {
        const k = this.ns(o.object).toLowerCase();
        const cur = objects.get(k) ?? { read: false, create: false, edit: false, delete: false };
        objects.set(k, {
          read: cur.read || o.read,
          create: cur.create || o.create,
          edit: cur.edit || o.edit,
          delete: cur.delete || o.delete,
        });
      }
      for (const f of def?.fields ?? []) {
        const [o, name] = f.field.split('.');
        const k = `${this.ns(o)}.${this.ns(name)}`.toLowerCase();
        const cur = fields.get(k) ?? { read: false, edit: false };
        fields.set(k, { read: cur.read || f.read, edit: cur.edit || f.edit });
      }
      for (const m of def?.mdt ?? []) mdt.add(this.ns(m).toLowerCase());
    }
    const governed = (obj: ObjectDef): boolean => obj.kind === 'custom' || obj.kind === 'event' || obj.kind === 'mdt';
    const objectRead = (obj: ObjectDef): boolean => {
      if (!governed(obj)) return true;
      if (obj.kind === 'mdt') return mdt.has(obj.name.toLowerCase());
      return objects.get(obj.name.toLowerCase())?.read ?? false;
    };
    // Field-level security applies to custom fields of custom and standard objects; required
    // fields are always readable and editable; platform-event and metadata fields have no FLS.
    const fls = (obj: ObjectDef, f: FieldDef): boolean => f.custom && f.nillable && (obj.kind === 'custom' || obj.kind === 'standard');
    return {
      objectRead,
      objectOp: (obj, op) => {
        if (!governed(obj)) return true;
        if (obj.kind === 'mdt') return false;
        return objects.get(obj.name.toLowerCase())?.[op] ?? false;
      },
      fieldRead: (obj, f) => objectRead(obj) && (!fls(obj, f) || (fields.get(`${obj.name}.${f.name}`.toLowerCase())?.read ?? false)),
      fieldEdit: (obj, f) => !fls(obj, f) || (fields.get(`${obj.name}.${f.name}`.toLowerCase())?.edit ?? false),
    };
  }

  // ------------------------------------------------------------------------------ writes

  newContext(userId: string, system = false, access: Access | null = null): WriteContext {
    return { userId, pendingEvents: [], undo: [], system, access };
  }

  commit(ctx: WriteContext): void {
    for (const e of ctx.pendingEvents.splice(0)) this.publishEvent(e.name, e.fields, e.userId);
    ctx.undo.length = 0;
  }

  rollback(ctx: WriteContext): void {
    for (const u of ctx.undo.reverse()) u();
    ctx.undo.length = 0;
    ctx.pendingEvents.length = 0;
  }

  /** Validates and converts one field value for a write (REST API error codes and messages). */
  private coerce(obj: ObjectDef, f: FieldDef, value: unknown): unknown {
    if (value === null || value === undefined || value === '') {
      return f.type === 'boolean' ? false : null;
    }
    const bad = (): never => {
      throw new SalesforceApiError(
        400,
        'JSON_PARSER_ERROR',
        `Cannot deserialize instance of ${f.type} from ${typeof value === 'string' ? 'VALUE_STRING' : 'VALUE'} value ${JSON.stringify(value)} or request may be missing a required field`,
      );
    };
    switch (f.type) {
      case 'boolean':
        if (typeof value === 'boolean') return value;
        if (value === 'true' || value === 'false') return value === 'true';
        return bad();
      case 'double':
      case 'int':
      case 'currency':
      case 'percent': {
        const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
        if (!Number.isFinite(n)) return bad();
        return f.type === 'int' ? Math.trunc(n) : n;
      }
      case 'date': {
        if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(Date.parse(value.slice(0, 10)))) {
          throw new SalesforceApiError(
            400,
            'JSON_PARSER_ERROR',
            `Cannot deserialize value of type \`java.util.Date\` from String "${String(value)}": not a valid date`,
          );
        }
        return value.slice(0, 10);
      }
      case 'datetime': {
        const ms =
          typeof value === 'string' ? Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) : typeof value === 'number' ? value : NaN;
        if (Number.isNaN(ms)) {
          throw new SalesforceApiError(
            400,
            'JSON_PARSER_ERROR',
            `Cannot deserialize value of type \`java.util.Date\` from String "${String(value)}": not a valid datetime`,
          );
        }
        return restDateTime(ms);
      }
      case 'reference':
      case 'id': {
        const id = typeof value === 'string' ? normalizeId(value) : null;
        if (!id) {
          throw new SalesforceApiError(400, 'MALFORMED_ID', `${f.label}: id value of incorrect type: ${String(value)}`, [f.name]);
        }
        const target = this.getById(id);
        if (!target || (f.referenceTo.length > 0 && !f.referenceTo.includes(target.obj.name))) {
          throw new SalesforceApiError(
            400,
            target ? 'FIELD_INTEGRITY_EXCEPTION' : 'INVALID_CROSS_REFERENCE_KEY',
            target ? `${f.label}: id value of incorrect type: ${id}` : `invalid cross reference id`,
            [f.name],
          );
        }
        return id;
      }
      default: {
        if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return bad();
        const s = String(value);
        if (f.restrictedPicklist && !s.split(f.type === 'multipicklist' ? ';' : '\u0000').every((v) => f.picklistValues.includes(v))) {
          throw new SalesforceApiError(
            400,
            'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
            `${f.label}: bad value for restricted picklist field: ${s}`,
            [f.name],
          );
        }
        if (f.type === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s)) {
          throw new SalesforceApiError(400, 'INVALID_EMAIL_ADDRESS', `${f.label}: invalid email address: ${s}`, [f.name]);
        }
        if (f.length > 0 && s.length > f.length) {
          throw new SalesforceApiError(
            400,
            'STRING_TOO_LONG',
            `${f.label}: data value too large: ${s.length > 60 ? `${s.slice(0, 60)}...` : s} (max length=${f.length})`,
            [f.name],
          );
        }
        void obj;
        return s;
      }
    }
  }

  private applyFields(obj: ObjectDef, target: Rec, fields: Rec, mode: 'insert' | 'update', ctx: WriteContext): void {
    const notWritable: string[] = [];
    for (const [k, v] of Object.entries(fields)) {
      if (k === 'attributes') continue;
      if (k === 'Id' || k === 'id') {
        if (mode === 'insert')
          throw new SalesforceApiError(400, 'INVALID_FIELD', 'The Id field should not be specified in the sobject data.');
        continue;
      }
      const f = obj.fieldIndex.get(k.toLowerCase());
      if (!f || (ctx.access && !ctx.access.fieldRead(obj, f))) {
        throw new SalesforceApiError(400, 'INVALID_FIELD', `No such column '${k}' on sobject of type ${obj.name}`);
      }
      if (!ctx.system && (!(mode === 'insert' ? f.createable : f.updateable) || (ctx.access && !ctx.access.fieldEdit(obj, f)))) {
        notWritable.push(f.name);
        continue;
      }
      target[f.name] = this.coerce(obj, f, v);
    }
    if (notWritable.length) {
      throw new SalesforceApiError(
        400,
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to create/update fields: ${notWritable.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        notWritable,
      );
    }
  }

  private checkRequiredAndUnique(obj: ObjectDef, rec: Rec): void {
    const missing = obj.fields
      .filter(
        (f) =>
          !f.nillable &&
          f.createable &&
          !f.defaultedOnCreate &&
          f.type !== 'boolean' &&
          (rec[f.name] === null || rec[f.name] === undefined),
      )
      .map((f) => f.name);
    if (missing.length) {
      throw new SalesforceApiError(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing);
    }
    for (const f of obj.fields) {
      if (!f.unique || rec[f.name] === null || rec[f.name] === undefined) continue;
      const v = String(rec[f.name]).toLowerCase();
      for (const other of this.indexed(obj, f.name, v)) {
        if (other.Id !== rec.Id) {
          throw new SalesforceApiError(
            400,
            'DUPLICATE_VALUE',
            `duplicate value found: ${f.name} duplicates value on record with id: ${String(other.Id)}`,
            [f.name],
          );
        }
      }
    }
  }

  /** Live (not deleted) rows whose unique/external-id field has this lower-cased value. */
  private readonly valueIndex = new Map<string, Map<string, Set<string>>>();

  private indexedFields(obj: ObjectDef): string[] {
    return obj.fields.filter((f) => f.unique || f.externalId).map((f) => f.name);
  }

  private indexed(obj: ObjectDef, field: string, lowerValue: string): Rec[] {
    const ids = this.valueIndex.get(`${obj.name}.${field}`)?.get(lowerValue);
    if (!ids) return [];
    const t = this.table(obj.name);
    return [...ids].map((id) => t.get(id)).filter((r): r is Rec => !!r && !r.IsDeleted);
  }

  private indexRecord(obj: ObjectDef, rec: Rec, add: boolean): void {
    for (const name of this.indexedFields(obj)) {
      const v = rec[name];
      if (v === null || v === undefined || v === '') continue;
      const key = `${obj.name}.${name}`;
      let byValue = this.valueIndex.get(key);
      if (!byValue) this.valueIndex.set(key, (byValue = new Map()));
      const lower = String(v).toLowerCase();
      let ids = byValue.get(lower);
      if (!ids) byValue.set(lower, (ids = new Set()));
      if (add) ids.add(String(rec.Id));
      else ids.delete(String(rec.Id));
    }
  }

  private writable(name: string, op: string, ctx?: WriteContext): ObjectDef {
    const obj = this.findObject(name);
    if (!obj || obj.toolingOnly || (ctx?.access && !ctx.access.objectRead(obj))) {
      throw new SalesforceApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    }
    const crud = op === 'insert' ? 'create' : op === 'update' ? 'edit' : op === 'delete' ? 'delete' : null;
    if (ctx?.access && crud && !ctx.access.objectOp(obj, crud)) {
      // The DML access error's usual text; the exact REST body for CRUD denial is emulator wording.
      throw new SalesforceApiError(400, 'INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on object id');
    }
    if (ctx?.access && op === 'upsert' && !ctx.access.objectOp(obj, 'create') && !ctx.access.objectOp(obj, 'edit')) {
      throw new SalesforceApiError(400, 'INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on object id');
    }
    if (obj.kind === 'mdt' || ['Organization', 'EntityDefinition', 'FieldDefinition'].includes(obj.name)) {
      throw new SalesforceApiError(400, 'INVALID_TYPE_FOR_OPERATION', `entity type ${obj.name} does not support ${op}`);
    }
    return obj;
  }

  insert(sobject: string, fields: Rec, ctx: WriteContext): string {
    const obj = this.writable(sobject, 'insert', ctx);
    if (obj.kind === 'event') {
      const uuidV = this.validateEvent(obj, fields);
      ctx.pendingEvents.push({ name: obj.name, fields: { ...fields, __uuid: uuidV }, userId: ctx.userId });
      return uuidV;
    }
    const now = restDateTime(this.clock.now());
    const rec: Rec = {};
    for (const f of obj.fields)
      rec[f.name] = f.type === 'boolean' ? f.defaultValue === true : f.defaultedOnCreate && f.defaultValue !== null ? f.defaultValue : null;
    this.applyFields(obj, rec, fields, 'insert', ctx);
    const id = this.newId(obj.keyPrefix ?? '000');
    Object.assign(rec, {
      Id: id,
      IsDeleted: false,
      CreatedDate: now,
      CreatedById: ctx.userId,
      LastModifiedDate: now,
      LastModifiedById: ctx.userId,
      SystemModstamp: now,
    });
    if (obj.fieldIndex.has('ownerid') && !rec.OwnerId) rec.OwnerId = ctx.userId;
    const nameField = obj.fields.find((f) => f.nameField);
    if (nameField?.autoNumber && !rec[nameField.name]) rec[nameField.name] = this.autoNumber(obj);
    if (obj.name === 'Contact' || obj.name === 'Lead' || obj.name === 'User') {
      rec.Name = [rec.FirstName, rec.LastName].filter(Boolean).join(' ');
    }
    if (this.apexEmulation) this.emulateBeforeWrite(obj, rec, null);
    this.checkRequiredAndUnique(obj, rec);
    const table = this.table(obj.name);
    table.set(id, rec);
    this.indexRecord(obj, rec, true);
    ctx.undo.push(() => {
      this.indexRecord(obj, rec, false);
      table.delete(id);
    });
    if (this.apexEmulation) this.emulateAfterInsert(obj, rec, ctx);
    for (const h of this.hooks) h({ org: this, sobject: obj.name, op: 'insert', record: { ...rec } });
    return id;
  }

  private autoNumber(obj: ObjectDef): string {
    const n = this.table(obj.name).size + 1;
    if (obj.name === 'Case') return String(n).padStart(8, '0');
    return `${obj.name.replace(this.prefix, '').replace(/__c$/, '').replace(/[a-z]/g, '').slice(0, 4) || 'REC'}-${String(n).padStart(8, '0')}`;
  }

  update(sobject: string, id: string, fields: Rec, ctx: WriteContext): void {
    const obj = this.writable(sobject, 'update', ctx);
    const rec = this.existing(obj, id);
    const before = { ...rec };
    const next: Rec = { ...rec };
    this.applyFields(obj, next, fields, 'update', ctx);
    if (obj.name === 'Contact' || obj.name === 'Lead' || obj.name === 'User') {
      next.Name = [next.FirstName, next.LastName].filter(Boolean).join(' ');
    }
    if (this.apexEmulation) {
      this.emulateImmutability(obj);
      this.emulateBeforeWrite(obj, next, before);
    }
    this.checkRequiredAndUnique(obj, next);
    const now = restDateTime(this.clock.now());
    Object.assign(next, { LastModifiedDate: now, LastModifiedById: ctx.userId, SystemModstamp: now });
    this.indexRecord(obj, rec, false);
    Object.assign(rec, next);
    this.indexRecord(obj, rec, true);
    ctx.undo.push(() => {
      this.indexRecord(obj, rec, false);
      for (const k of Object.keys(rec)) delete rec[k];
      Object.assign(rec, before);
      this.indexRecord(obj, rec, true);
    });
    for (const h of this.hooks) h({ org: this, sobject: obj.name, op: 'update', record: { ...rec }, old: before });
  }

  delete(sobject: string | null, id: string, ctx: WriteContext): void {
    const norm = normalizeId(id);
    const found = norm ? this.getById(norm) : null;
    const obj = sobject ? this.writable(sobject, 'delete', ctx) : found ? this.writable(found.obj.name, 'delete', ctx) : null;
    if (!obj) throw new SalesforceApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    const rec = this.existing(obj, id);
    if (this.apexEmulation) this.emulateImmutability(obj);
    rec.IsDeleted = true;
    this.indexRecord(obj, rec, false);
    ctx.undo.push(() => {
      rec.IsDeleted = false;
      this.indexRecord(obj, rec, true);
    });
    for (const h of this.hooks) h({ org: this, sobject: obj.name, op: 'delete', record: { ...rec } });
  }

  existing(obj: ObjectDef, id: string): Rec {
    const norm = normalizeId(id);
    const rec = norm ? this.table(obj.name).get(norm) : undefined;
    if (!rec) {
      // Real API for a non-id or unknown id on /sobjects/T/{id}: 404 NOT_FOUND.
      throw new SalesforceApiError(
        404,
        'NOT_FOUND',
        norm ? 'The requested resource does not exist' : `Provided external ID field does not exist or is not accessible: ${id}`,
      );
    }
    if (rec.IsDeleted) throw new SalesforceApiError(404, 'ENTITY_IS_DELETED', 'entity is deleted');
    return rec;
  }

  /** Upsert by external id (REST: PATCH /sobjects/T/Field/Value). */
  upsert(sobject: string, extField: string, value: string, fields: Rec, ctx: WriteContext): { id: string; created: boolean } {
    const obj = this.writable(sobject, 'upsert', ctx);
    const f = obj.fieldIndex.get(extField.toLowerCase());
    if (!f || !(f.externalId || f.name === 'Id') || (ctx.access && !ctx.access.fieldRead(obj, f))) {
      throw new SalesforceApiError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${extField}`);
    }
    const matches =
      f.name === 'Id' ? [this.get(obj.name, value)].filter((r): r is Rec => !!r) : this.indexed(obj, f.name, value.toLowerCase());
    if (matches.length > 1) {
      throw new SalesforceApiError(300, 'MULTIPLE_CHOICES', `${matches.length} records found for ${f.name}=${value}`);
    }
    const body = { ...fields };
    for (const k of Object.keys(body)) if (k.toLowerCase() === f.name.toLowerCase()) delete body[k];
    if (matches.length === 1) {
      this.update(obj.name, String(matches[0].Id), body, ctx);
      return { id: String(matches[0].Id), created: false };
    }
    return { id: this.insert(obj.name, f.name === 'Id' ? body : { ...body, [f.name]: value }, ctx), created: true };
  }

  // ------------------------------------------------------------------------------ emulated Apex

  /**
   * EMULATION of the package's DataJurisdictionStamper (before insert/update trigger handler on
   * Account, Contact, Lead, Opportunity, Case; Apex does not run here). Same rules: a value set
   * explicitly must name an active jurisdiction (else FIELD_CUSTOM_VALIDATION_EXCEPTION); a new
   * record, a cleared value or a changed deciding field (country, or the lookup of a parent path)
   * is derived again from ResidencyRule__mdt by priority — an explicit jurisdiction field, then a
   * country mapped through the active Jurisdiction__mdt (a country in two jurisdictions maps to
   * none). Nothing found ⇒ blank, which the sidecar quarantines.
   */
  private emulateBeforeWrite(obj: ObjectDef, rec: Rec, old: Rec | null): void {
    if (!(STAMPED_OBJECTS as readonly string[]).includes(obj.name)) return;
    const jf = this.ns(DATA_JURISDICTION_FIELD);
    if (!obj.fieldIndex.has(jf.toLowerCase())) return;
    const rules = this.rulesFor(obj.name);
    if (!rules.length) return;
    const current = typeof rec[jf] === 'string' ? String(rec[jf]) : '';
    const previous = old && typeof old[jf] === 'string' ? String(old[jf]) : '';
    const active = this.activeJurisdictions();
    if (current.trim() && current !== previous) {
      const norm = current.trim().toUpperCase();
      if (!active.has(norm)) {
        throw new SalesforceApiError(
          400,
          'FIELD_CUSTOM_VALIDATION_EXCEPTION',
          `'${current}' is not an active Sovra jurisdiction. Use one of ${[...active.keys()].join(', ')}, or leave it blank to derive it from the country.`,
          [jf],
        );
      }
      rec[jf] = norm;
      return;
    }
    const changed =
      !old ||
      (previous.trim() !== '' && !current.trim()) ||
      rules.some((r) =>
        [r[this.ns('JurisdictionField__c')], r[this.ns('CountryField__c')]].some((p) => {
          const local = this.localFieldOf(obj, p);
          return local !== null && local !== jf && rec[local] !== old[local];
        }),
      );
    if (changed) rec[jf] = this.deriveJurisdiction(obj.name, rec);
  }

  private localFieldOf(obj: ObjectDef, path: unknown): string | null {
    if (typeof path !== 'string' || !path.trim()) return null;
    const parts = path.trim().split('.');
    if (parts.length === 1) return obj.fieldIndex.get(parts[0].toLowerCase())?.name ?? null;
    return obj.fields.find((f) => f.type === 'reference' && f.relationshipName?.toLowerCase() === parts[0].toLowerCase())?.name ?? null;
  }

  private rulesFor(objectName: string): Rec[] {
    return this.mdtRows('ResidencyRule__mdt')
      .filter(
        (r) => r[this.ns('Active__c')] === true && String(r[this.ns('ObjectApiName__c')] ?? '').toLowerCase() === objectName.toLowerCase(),
      )
      .sort((a, b) => Number(a[this.ns('Priority__c')] ?? 0) - Number(b[this.ns('Priority__c')] ?? 0));
  }

  /** Active Jurisdiction__mdt by upper-case DeveloperName. */
  activeJurisdictions(): Map<string, Rec> {
    const m = new Map<string, Rec>();
    for (const j of this.mdtRows('Jurisdiction__mdt'))
      if (j[this.ns('Active__c')] === true) m.set(String(j.DeveloperName).toUpperCase(), j);
    return m;
  }

  /** The active jurisdiction of a country (null if unknown or listed by two jurisdictions). */
  jurisdictionForCountry(country: unknown): string | null {
    const code = countryCode(country, this.countryNames);
    if (!code) return null;
    const hits = [...this.activeJurisdictions()].filter(([, j]) =>
      String(j[this.ns('Countries__c')] ?? '')
        .split(';')
        .map((c) => c.trim().toUpperCase())
        .includes(code),
    );
    return hits.length === 1 ? hits[0][0] : null;
  }

  /** The jurisdiction the residency rules give a record (null when none applies). */
  deriveJurisdiction(objectName: string, rec: Rec): string | null {
    const obj = this.findObject(objectName);
    if (!obj) return null;
    const jf = this.ns(DATA_JURISDICTION_FIELD);
    const active = this.activeJurisdictions();
    for (const rule of this.rulesFor(obj.name)) {
      const explicit = this.localFieldOf(obj, rule[this.ns('JurisdictionField__c')]);
      if (explicit && explicit !== jf) {
        const v = rec[explicit];
        if (typeof v === 'string' && active.has(v.trim().toUpperCase())) return v.trim().toUpperCase();
      }
      const cf = rule[this.ns('CountryField__c')];
      if (typeof cf !== 'string' || !cf.trim()) continue;
      const found = this.jurisdictionForCountry(this.readPath(obj.name, rec, cf.trim().split('.')));
      if (found) return found;
    }
    return null;
  }

  /**
   * EMULATION of the package's AuditImmutabilityHandler (before update/delete on
   * AiAuditEntry__c and AiAuditCheckpoint__c): every change is refused.
   */
  private emulateImmutability(obj: ObjectDef): void {
    if (obj.name === this.ns('AiAuditEntry__c') || obj.name === this.ns('AiAuditCheckpoint__c')) {
      throw new SalesforceApiError(
        400,
        'FIELD_CUSTOM_VALIDATION_EXCEPTION',
        'Sovra audit records are immutable: they can be inserted, never changed or deleted.',
        [],
      );
    }
  }

  /**
   * EMULATION of AiRequestService.submit (what the LWC's "run AI action" does): the same
   * refusals in the same order, then one AiRequest__c (Status Queued, the record's
   * jurisdiction, the user, a new ExternalId__c) and its AiRequest__e after commit.
   */
  submitAiRequest(userId: string, s: { recordId: string; action: string; question?: string }): AiRequestOutcome {
    const n = (f: string): string => this.ns(f);
    const out: AiRequestOutcome = { accepted: false, requestId: null, externalId: null, jurisdiction: null, status: null, message: null };
    const target = s.recordId ? this.getById(s.recordId) : null;
    if (!s.recordId || !s.action) return { ...out, message: 'A record id and an action name are required.' };
    const action = this.mdtRows('AiAction__mdt').find((a) => a.DeveloperName === s.action && a[n('Active__c')] === true);
    if (!action) {
      return {
        ...out,
        message: `The AI action '${s.action}' does not exist or is inactive. Ask your admin to check the AI Action custom metadata.`,
      };
    }
    const objectName = target?.obj.name ?? this.objectForId(s.recordId)?.name ?? '';
    if (objectName.toLowerCase() !== String(action[n('ObjectApiName__c')] ?? '').toLowerCase()) {
      return {
        ...out,
        message: `The AI action '${s.action}' runs on ${String(action[n('ObjectApiName__c')])} records, not on ${objectName}.`,
      };
    }
    const perms = new Set(this.customPermissionsOf(userId).map((p) => p.replace(this.prefix, '')));
    if (!perms.has('AiInference')) {
      return {
        ...out,
        message: 'You need the custom permission AiInference to run AI actions. Ask your admin for the Sovra User permission set.',
      };
    }
    const required = String(action[n('RequiredPermission__c')] ?? '').trim() || 'AiInference';
    if (!perms.has(required))
      return { ...out, message: `You need the custom permission ${required} to run '${String(action.MasterLabel)}'.` };
    if (String(action[n('PromptTemplate__c')] ?? '').includes('{{Question}}') && !s.question?.trim()) {
      return { ...out, message: `Type a question for '${String(action.MasterLabel)}'.` };
    }
    if (!target || target.rec.IsDeleted) return { ...out, message: 'The record does not exist or you do not have access to it.' };
    const j = target.rec[n(DATA_JURISDICTION_FIELD)];
    if (typeof j !== 'string' || !j.trim()) {
      return {
        ...out,
        message:
          'This record has no data jurisdiction, so no AI action can run on it. Set its country (or its Data Jurisdiction) and try again.',
      };
    }
    if (!this.activeJurisdictions().has(j.toUpperCase()))
      return { ...out, message: `The record's jurisdiction '${j}' is not active in Sovra.` };
    if (!perms.has(`AiJurisdiction${j.toUpperCase()}`)) {
      return {
        ...out,
        message: `You are not entitled to AI processing of ${j} records (custom permission AiJurisdiction${j.toUpperCase()}).`,
      };
    }
    // Database.insert(rows, false, AccessLevel.USER_MODE): the user's object and field security applies.
    const ctx = this.newContext(userId, false, this.accessFor(userId));
    const externalId = uuid();
    try {
      const id = this.insert(
        n('AiRequest__c'),
        {
          [n('RecordId__c')]: target.rec.Id,
          [n('ObjectApiName__c')]: objectName,
          [n('Action__c')]: s.action,
          [n('Question__c')]: s.question?.trim() || null,
          [n('Status__c')]: 'Queued',
          [n('Jurisdiction__c')]: j,
          [n('RequestedBy__c')]: userId,
          [n('ExternalId__c')]: externalId,
        },
        ctx,
      );
      this.commit(ctx);
      return { accepted: true, requestId: id, externalId, jurisdiction: j, status: 'Queued', message: null };
    } catch (e) {
      this.rollback(ctx);
      if (e instanceof SalesforceApiError) return { ...out, message: `The request could not be saved: ${e.errorCode}: ${e.message}` };
      throw e;
    }
  }

  mdtRows(type: string): Rec[] {
    const o = this.findObject(this.ns(type));
    return o ? [...this.table(o.name).values()] : [];
  }

  /** Reads a field path (`Account.BillingCountry`) from a record through lookups. */
  readPath(objectName: string, rec: Rec, path: string[]): unknown {
    let obj = this.findObject(objectName);
    let cur: Rec | undefined = rec;
    for (let i = 0; i < path.length - 1; i++) {
      if (!obj || !cur) return null;
      const rel = obj.fields.find((f) => f.relationshipName?.toLowerCase() === path[i].toLowerCase());
      if (!rel) return null;
      const id = cur[rel.name];
      if (typeof id !== 'string') return null;
      const target = this.getById(id);
      if (!target) return null;
      obj = target.obj;
      cur = target.rec;
    }
    if (!obj || !cur) return null;
    const f = obj.fieldIndex.get(path[path.length - 1].toLowerCase());
    return f ? cur[f.name] : null;
  }

  /**
   * EMULATION of the package's AiRequest__c after-insert handler and publisher: a queued
   * request publishes AiRequest__e with RequestId__c = the record id and the request's
   * ExternalId__c, RecordId__c, ObjectApiName__c, Action__c, Jurisdiction__c, RequestedBy__c
   * (service/src/shared/schema.ts; compared with force-app's Apex by test/emulator/apex.test.ts).
   * When Jurisdiction__c is blank the controller's lookup of the target record's
   * DataJurisdiction__c is emulated too. Published after commit.
   */
  private emulateAfterInsert(obj: ObjectDef, rec: Rec, ctx: WriteContext): void {
    if (obj.name !== this.ns('AiRequest__c')) return;
    const n = (f: string): string => this.ns(f);
    if (rec[n('Jurisdiction__c')] === null && typeof rec[n('RecordId__c')] === 'string') {
      const target = this.getById(String(rec[n('RecordId__c')]));
      const j = target?.rec[n(DATA_JURISDICTION_FIELD)];
      if (typeof j === 'string' && j) rec[n('Jurisdiction__c')] = j;
    }
    const status = rec[n('Status__c')];
    if (status !== null && status !== 'Queued') return;
    const eventObj = this.findObject(n('AiRequest__e'));
    if (!eventObj) return;
    const fields: Rec = {};
    for (const f of eventObj.fields) {
      if (!f.custom) continue;
      if (f.name === n('RequestId__c')) fields[f.name] = rec.Id;
      else if (f.name in rec) fields[f.name] = rec[f.name];
    }
    ctx.pendingEvents.push({ name: eventObj.name, fields, userId: ctx.userId });
  }

  // ------------------------------------------------------------------------------ events

  private validateEvent(obj: ObjectDef, fields: Rec): string {
    const ctx = this.newContext('', true);
    const tmp: Rec = {};
    this.applyFields(obj, tmp, fields, 'insert', ctx);
    return uuid();
  }

  /** Publishes a platform event (REST, emulated Apex, or the admin handle). */
  publishEvent(eventName: string, fields: Rec, userId: string): StoredEvent {
    const obj = this.findObject(eventName);
    if (!obj || obj.kind !== 'event') throw new Error(`publishEvent: '${eventName}' is not a platform event of org ${this.key}`);
    const { __uuid, ...rest } = fields;
    const payload: Rec = { CreatedDate: isoNoMillisZ(this.clock.now()), CreatedById: userId };
    for (const f of obj.fields) if (f.custom) payload[f.name] = null;
    const ctx = this.newContext(userId, true);
    const tmp: Rec = {};
    this.applyFields(obj, tmp, rest, 'insert', ctx);
    Object.assign(payload, tmp);
    this.pruneEvents();
    // replayIds are opaque and increase but are not contiguous (real: 3877653 → 3877655).
    this.lastReplayId += 1 + (randomBytes(1)[0] % 3);
    const e: StoredEvent = {
      replayId: this.lastReplayId,
      eventName: obj.name,
      schema: schemaId(obj),
      uuid: typeof __uuid === 'string' ? __uuid : uuid(),
      publishedAt: this.clock.now(),
      payload,
    };
    this.events.push(e);
    for (const l of this.eventListeners) l(e);
    return e;
  }

  pruneEvents(): void {
    const cutoff = this.clock.now() - this.eventRetentionMs;
    while (this.events.length && this.events[0].publishedAt < cutoff) {
      const e = this.events.shift()!;
      this.prunedUpTo.set(e.eventName, e.replayId);
    }
  }

  // ------------------------------------------------------------------------------ accounting

  /** Takes one fault of the given kinds from the queue, if any. */
  takeFault(kinds: FaultKind[]): FaultKind | null {
    const f = this.faults.find((x) => kinds.includes(x.kind) && x.remaining > 0);
    if (!f) return null;
    f.remaining--;
    if (f.remaining === 0) this.faults.splice(this.faults.indexOf(f), 1);
    return f.kind;
  }

  addFault(kind: FaultKind, count: number): void {
    if (!FAULT_KINDS.includes(kind)) throw new Error(`Unknown fault kind '${String(kind)}'; use one of ${FAULT_KINDS.join(', ')}`);
    if (!Number.isInteger(count) || count < 1) throw new Error(`Fault count must be a positive integer, got ${String(count)}`);
    this.faults.push({ kind, remaining: count });
  }
}

function badOrgId(id: string): never {
  throw new Error(`Org id '${id}' is not a 15- or 18-character Salesforce id`);
}

function hash6(s: string): string {
  return createHash('sha256')
    .update(s)
    .digest('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 6);
}

/**
 * The schema id: "the MD5 fingerprint of the normalized Avro schema, encoded as a base-64 URL
 * variant" (REST API Guide, "Platform Event Schema by Event Name") — here of the compact schema.
 */
export function schemaId(obj: ObjectDef): string {
  return createHash('md5')
    .update(JSON.stringify(compactFields(obj)))
    .update(obj.name)
    .digest('base64url');
}

const AVRO: Record<string, string> = { double: 'double', int: 'int', currency: 'double', percent: 'double', boolean: 'boolean' };

function compactFields(obj: ObjectDef): Rec[] {
  return [
    { name: 'CreatedDate', type: 'string' },
    { name: 'CreatedById', type: 'string' },
    ...obj.fields.filter((f) => f.custom).map((f) => ({ name: f.name, type: ['null', AVRO[f.type] ?? 'string'], default: null })),
  ];
}

/**
 * A platform event's schema as `GET …/sobjects/{Event}/eventSchema` and
 * `…/event/eventSchema/{id}` return it: EXPANDED (default since v43: the CometD message
 * shape, `type: "expanded-record"`) or COMPACT (an Avro record with `uuid`), after the REST
 * API Guide examples for Low_Ink__e.
 */
export function eventSchema(obj: ObjectDef, format: 'EXPANDED' | 'COMPACT'): Rec {
  if (format === 'COMPACT') {
    return { name: obj.name, namespace: 'com.sforce.eventbus', type: 'record', fields: compactFields(obj), uuid: schemaId(obj) };
  }
  const typeLabel = (f: FieldDef): string => f.type.charAt(0).toUpperCase() + f.type.slice(1);
  return {
    name: obj.name,
    namespace: 'com.sforce.eventbus',
    type: 'expanded-record',
    fields: [
      {
        name: 'data',
        type: {
          type: 'record',
          name: 'Data',
          namespace: '',
          fields: [
            { name: 'schema', type: 'string' },
            {
              name: 'payload',
              type: {
                type: 'record',
                name: 'Payload',
                doc: '',
                fields: [
                  { name: 'CreatedDate', type: 'string', doc: 'CreatedDate:DateTime' },
                  { name: 'CreatedById', type: 'string', doc: 'CreatedBy:EntityId' },
                  ...obj.fields
                    .filter((f) => f.custom)
                    .map((f) => ({ name: f.name, type: ['null', AVRO[f.type] ?? 'string'], doc: `Data:${typeLabel(f)}`, default: null })),
                ],
              },
            },
            { name: 'event', type: { type: 'record', name: 'Event', fields: [{ name: 'replayId', type: 'long' }] } },
          ],
        },
      },
      { name: 'channel', type: 'string' },
    ],
  };
}

function coerceMdtValue(f: FieldDef, v: string | number | boolean | null): unknown {
  if (v === null) return f.type === 'boolean' ? false : null;
  if (f.type === 'boolean') return v === true || v === 'true';
  if (['double', 'int', 'currency', 'percent'].includes(f.type)) return Number(v);
  return String(v);
}

/** FieldDefinition.DataType as Setup shows it ("Text(255)", "Lookup(User)", "Checkbox"…). */
function dataTypeLabel(f: FieldDef): string {
  switch (f.type) {
    case 'id':
      return 'Lookup()';
    case 'string':
      return f.autoNumber ? 'Auto Number' : `Text(${f.length})`;
    case 'textarea':
      return f.length > 255 ? `Long Text Area(${f.length})` : 'Text Area(255)';
    case 'boolean':
      return 'Checkbox';
    case 'reference':
      return `Lookup(${f.referenceTo.join(',')})`;
    case 'datetime':
      return 'Date/Time';
    case 'date':
      return 'Date';
    case 'picklist':
      return 'Picklist';
    case 'multipicklist':
      return 'Picklist (Multi-Select)';
    case 'double':
    case 'int':
      return `Number(${f.precision}, ${f.scale})`;
    case 'currency':
      return `Currency(${f.precision}, ${f.scale})`;
    case 'percent':
      return `Percent(${f.precision}, ${f.scale})`;
    default:
      return f.type.charAt(0).toUpperCase() + f.type.slice(1);
  }
}

/** Default permission sets and the custom permissions each grants (schema.ts names). */
export function defaultPermissionSets(jurisdictions: string[]): { name: string; label: string; perms: string[] }[] {
  const p = CUSTOM_PERMISSIONS;
  return [
    { name: PERMISSION_SETS.user, label: 'Sovra User', perms: [p.inference] },
    { name: PERMISSION_SETS.admin, label: 'Sovra Admin', perms: [p.inference, p.admin, p.auditView, p.quarantineRelease] },
    { name: PERMISSION_SETS.auditor, label: 'Sovra Auditor', perms: [p.auditView] },
    { name: PERMISSION_SETS.integration, label: 'Sovra Integration', perms: [p.auditView] },
    { name: PERMISSION_SETS.trainingExport, label: 'Sovra Training Export', perms: [p.trainingExport, p.fineTuning] },
    ...jurisdictions.map((j) => ({
      name: jurisdictionPermissionSet(j),
      label: `Sovra Jurisdiction ${j}`,
      perms: [jurisdictionPermission(j)],
    })),
  ];
}
