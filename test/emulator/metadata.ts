/**
 * The emulator's schema: standard objects Sovra touches (hand-written after the real
 * describe results, see README), plus the package's own objects, fields, events, custom
 * metadata records and platform-event channels parsed from `force-app/` — or, while the
 * package does not define an object yet, a minimal built-in definition derived from
 * `service/src/shared/schema.ts`. A namespace prefix (`sovra`) can be applied per org.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import {
  CUSTOM_SCHEMA,
  DATA_JURISDICTION_FIELD,
  QUARANTINE_STATUSES,
  REQUEST_STATUSES,
  SECURITY_CLASSIFICATIONS,
  STAMPED_OBJECTS,
  channelName,
} from '../../service/src/shared/schema.js';

/** Describe field types (REST describe `type`), as in recorded describes (salesforce-wire.md §2.6). */
export type FieldType =
  | 'id'
  | 'string'
  | 'textarea'
  | 'boolean'
  | 'reference'
  | 'datetime'
  | 'date'
  | 'picklist'
  | 'multipicklist'
  | 'phone'
  | 'email'
  | 'url'
  | 'double'
  | 'int'
  | 'currency'
  | 'percent';

export interface FieldDef {
  name: string;
  label: string;
  type: FieldType;
  length: number;
  precision: number;
  scale: number;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  custom: boolean;
  unique: boolean;
  externalId: boolean;
  nameField: boolean;
  autoNumber: boolean;
  calculated: boolean;
  defaultedOnCreate: boolean;
  defaultValue: string | boolean | null;
  referenceTo: string[];
  relationshipName: string | null;
  /** The parent's name for the list of children through this lookup (`Contacts`, `Requests__r`). */
  childRelationshipName: string | null;
  picklistValues: string[];
  /** Only the listed values are accepted (Metadata `valueSet.restricted`). */
  restrictedPicklist: boolean;
  htmlFormatted: boolean;
  extraTypeInfo: string | null;
  securityClassification: string | null;
  complianceGroup: string | null;
  /** Where the definition came from: 'standard' | 'force-app' | 'built-in'. */
  origin: 'standard' | 'force-app' | 'built-in';
}

export type ObjectKind = 'standard' | 'custom' | 'event' | 'mdt' | 'setup';

export interface ObjectDef {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string | null;
  kind: ObjectKind;
  custom: boolean;
  fields: FieldDef[];
  /** Lookup by lower-case name. */
  fieldIndex: Map<string, FieldDef>;
  origin: 'standard' | 'force-app' | 'built-in';
  /** Only reachable through `/tooling/query` (and, for FieldDefinition, also `/query`). */
  toolingOnly?: boolean;
}

export interface ChannelMemberDef {
  fullName: string;
  eventChannel: string;
  selectedEntity: string;
  filterExpression: string | null;
}

export interface ChannelDef {
  name: string;
  label: string;
  members: ChannelMemberDef[];
}

export interface ObjectPermission {
  object: string;
  read: boolean;
  create: boolean;
  edit: boolean;
  delete: boolean;
}

/** A permission set as force-app defines it (Metadata API PermissionSet). */
export interface PermissionSetDef {
  name: string;
  label: string;
  /** Custom permissions enabled. */
  perms: string[];
  objects?: ObjectPermission[];
  /** `Object.Field` → access. */
  fields?: { field: string; read: boolean; edit: boolean }[];
  /** Custom metadata types readable (customMetadataTypeAccesses). */
  mdt?: string[];
}

export interface MdtRecord {
  type: string;
  developerName: string;
  label: string;
  protected: boolean;
  values: Record<string, string | number | boolean | null>;
}

/** What the package defines (unprefixed names), before a namespace is applied. */
export interface PackageDefinition {
  objects: ObjectDef[];
  /** Custom fields the package adds to standard objects, by object. */
  standardObjectFields: Map<string, FieldDef[]>;
  mdtRecords: MdtRecord[];
  channels: ChannelDef[];
  /** Permission sets and the custom permissions each enables (force-app, else built-in). */
  permissionSets: PermissionSetDef[];
  /** Custom permission DeveloperNames. */
  customPermissions: string[];
  /** Country names → ISO codes as the package's CountryCodes Apex class maps them (null: built-in table). */
  countryNames: Record<string, string> | null;
  /** Which package items were read from force-app (else built-in). */
  sources: { forceApp: string[]; builtIn: string[] };
}

// ---------------------------------------------------------------------------------------------
// Field builders

type FieldOpts = Partial<Omit<FieldDef, 'name' | 'type'>>;

export function field(name: string, type: FieldType, opts: FieldOpts = {}): FieldDef {
  const defaults: Record<FieldType, Partial<FieldDef>> = {
    id: { length: 18 },
    string: { length: 255 },
    textarea: { length: 32000 },
    boolean: { length: 0, nillable: false, defaultValue: false, defaultedOnCreate: true },
    reference: { length: 18 },
    datetime: { length: 0 },
    date: { length: 0 },
    picklist: { length: 255 },
    multipicklist: { length: 4099 },
    phone: { length: 40 },
    email: { length: 80 },
    url: { length: 255 },
    double: { length: 0, precision: 18, scale: 0 },
    int: { length: 0 },
    currency: { length: 0, precision: 18, scale: 2 },
    percent: { length: 0, precision: 3, scale: 0 },
  };
  const custom = name.endsWith('__c');
  return {
    name,
    label: opts.label ?? labelOf(name),
    type,
    length: 0,
    precision: 0,
    scale: 0,
    nillable: true,
    createable: true,
    updateable: true,
    custom,
    unique: false,
    externalId: false,
    nameField: false,
    autoNumber: false,
    calculated: false,
    defaultedOnCreate: false,
    defaultValue: null,
    referenceTo: [],
    relationshipName: null,
    childRelationshipName: null,
    picklistValues: [],
    restrictedPicklist: false,
    htmlFormatted: false,
    extraTypeInfo: null,
    securityClassification: null,
    complianceGroup: null,
    origin: 'standard',
    ...defaults[type],
    ...opts,
  };
}

function labelOf(apiName: string): string {
  const base = apiName.replace(/__c$/, '').replace(/Id$/, ' ID');
  return base.replace(/([a-z])([A-Z])/g, '$1 $2').trim();
}

const readOnly: FieldOpts = { createable: false, updateable: false };
const sys = (): FieldDef[] => [
  field('IsDeleted', 'boolean', { ...readOnly, label: 'Deleted' }),
  field('CreatedDate', 'datetime', { ...readOnly, nillable: false, defaultedOnCreate: true }),
  field('CreatedById', 'reference', {
    ...readOnly,
    nillable: false,
    defaultedOnCreate: true,
    referenceTo: ['User'],
    relationshipName: 'CreatedBy',
  }),
  field('LastModifiedDate', 'datetime', { ...readOnly, nillable: false, defaultedOnCreate: true }),
  field('LastModifiedById', 'reference', {
    ...readOnly,
    nillable: false,
    defaultedOnCreate: true,
    referenceTo: ['User'],
    relationshipName: 'LastModifiedBy',
  }),
  field('SystemModstamp', 'datetime', { ...readOnly, nillable: false, defaultedOnCreate: true }),
];
const idField = (label: string): FieldDef => field('Id', 'id', { ...readOnly, nillable: false, defaultedOnCreate: true, label });
const owner = (): FieldDef =>
  field('OwnerId', 'reference', {
    nillable: false,
    defaultedOnCreate: true,
    referenceTo: ['User'],
    relationshipName: 'Owner',
    label: 'Owner ID',
  });
const ref = (name: string, to: string, rel: string, opts: FieldOpts = {}): FieldDef =>
  field(name, 'reference', { referenceTo: [to], relationshipName: rel, ...opts });
const pick = (name: string, values: string[], opts: FieldOpts = {}): FieldDef =>
  field(name, 'picklist', { picklistValues: values, ...opts });

export function makeObject(
  name: string,
  kind: ObjectKind,
  keyPrefix: string | null,
  fields: FieldDef[],
  opts: { label?: string; labelPlural?: string; origin?: ObjectDef['origin']; toolingOnly?: boolean } = {},
): ObjectDef {
  const label = opts.label ?? labelOf(name.replace(/__(c|e|mdt)$/, ''));
  const obj: ObjectDef = {
    name,
    label,
    labelPlural: opts.labelPlural ?? `${label}s`,
    keyPrefix,
    kind,
    custom: /__(c|e|mdt)$/.test(name),
    fields: [],
    fieldIndex: new Map(),
    origin: opts.origin ?? 'standard',
    toolingOnly: opts.toolingOnly,
  };
  for (const f of fields) addField(obj, f);
  return obj;
}

export function addField(obj: ObjectDef, f: FieldDef): void {
  const existing = obj.fieldIndex.get(f.name.toLowerCase());
  if (existing) obj.fields.splice(obj.fields.indexOf(existing), 1, f);
  else obj.fields.push(f);
  obj.fieldIndex.set(f.name.toLowerCase(), f);
}

// ---------------------------------------------------------------------------------------------
// Standard objects (field names, types and key prefixes as in the Object Reference for
// Salesforce and Lightning Platform; attributes as in the recorded User describe v37.0).

const ADDRESS = (p: string): FieldDef[] => [
  field(`${p}Street`, 'textarea', { length: 255 }),
  field(`${p}City`, 'string', { length: 40 }),
  field(`${p}State`, 'string', { length: 80 }),
  field(`${p}PostalCode`, 'string', { length: 20 }),
  field(`${p}Country`, 'string', { length: 80 }),
];

export function standardObjects(): ObjectDef[] {
  const fullName: FieldOpts = { ...readOnly, nameField: true, calculated: false, length: 121, label: 'Full Name' };
  return [
    makeObject('Account', 'standard', '001', [
      idField('Account ID'),
      field('Name', 'string', { nillable: false, nameField: true, label: 'Account Name' }),
      pick('Type', ['Prospect', 'Customer - Direct', 'Customer - Channel', 'Partner', 'Other'], { length: 255 }),
      pick('Industry', ['Banking', 'Healthcare', 'Manufacturing', 'Retail', 'Technology', 'Insurance', 'Energy']),
      ...ADDRESS('Billing'),
      ...ADDRESS('Shipping'),
      field('Phone', 'phone'),
      field('Website', 'url'),
      field('AccountNumber', 'string', { length: 40 }),
      field('AnnualRevenue', 'currency'),
      field('NumberOfEmployees', 'int', { precision: 8 }),
      field('Description', 'textarea', { length: 32000, label: 'Account Description' }),
      owner(),
      ...sys(),
    ]),
    makeObject('Contact', 'standard', '003', [
      idField('Contact ID'),
      ref('AccountId', 'Account', 'Account', { label: 'Account ID', childRelationshipName: 'Contacts' }),
      field('Salutation', 'picklist', { picklistValues: ['Mr.', 'Ms.', 'Mrs.', 'Dr.', 'Prof.'] }),
      field('FirstName', 'string', { length: 40 }),
      field('LastName', 'string', { length: 80, nillable: false }),
      field('Name', 'string', fullName),
      field('Title', 'string', { length: 128 }),
      field('Email', 'email'),
      field('Phone', 'phone', { label: 'Business Phone' }),
      field('MobilePhone', 'phone'),
      ...ADDRESS('Mailing'),
      field('Birthdate', 'date'),
      field('Description', 'textarea', { length: 32000, label: 'Contact Description' }),
      owner(),
      ...sys(),
    ]),
    makeObject('Lead', 'standard', '00Q', [
      idField('Lead ID'),
      field('FirstName', 'string', { length: 40 }),
      field('LastName', 'string', { length: 80, nillable: false }),
      field('Name', 'string', fullName),
      field('Company', 'string', { nillable: false }),
      field('Title', 'string', { length: 128 }),
      field('Email', 'email'),
      field('Phone', 'phone'),
      field('MobilePhone', 'phone'),
      ...['Street', 'City', 'State', 'PostalCode', 'Country'].map((n) =>
        field(n, n === 'Street' ? 'textarea' : 'string', { length: n === 'Street' ? 255 : 80 }),
      ),
      pick('Status', ['Open - Not Contacted', 'Working - Contacted', 'Closed - Converted', 'Closed - Not Converted'], {
        nillable: false,
        defaultedOnCreate: true,
        defaultValue: 'Open - Not Contacted',
        label: 'Lead Status',
      }),
      pick('LeadSource', ['Web', 'Phone Inquiry', 'Partner Referral', 'Trade Show', 'Other']),
      field('Description', 'textarea', { length: 32000 }),
      owner(),
      ...sys(),
    ]),
    makeObject(
      'Opportunity',
      'standard',
      '006',
      [
        idField('Opportunity ID'),
        ref('AccountId', 'Account', 'Account', { label: 'Account ID', childRelationshipName: 'Opportunities' }),
        field('Name', 'string', { length: 120, nillable: false, nameField: true }),
        pick(
          'StageName',
          ['Prospecting', 'Qualification', 'Needs Analysis', 'Proposal/Price Quote', 'Negotiation/Review', 'Closed Won', 'Closed Lost'],
          { nillable: false, label: 'Stage' },
        ),
        field('CloseDate', 'date', { nillable: false }),
        field('Amount', 'currency'),
        field('Probability', 'percent', { label: 'Probability (%)' }),
        field('NextStep', 'string'),
        field('Description', 'textarea', { length: 32000 }),
        owner(),
        ...sys(),
      ],
      { labelPlural: 'Opportunities' },
    ),
    makeObject('Case', 'standard', '500', [
      idField('Case ID'),
      field('CaseNumber', 'string', { ...readOnly, length: 30, nameField: true, autoNumber: true, nillable: false }),
      ref('AccountId', 'Account', 'Account', { label: 'Account ID', childRelationshipName: 'Cases' }),
      ref('ContactId', 'Contact', 'Contact', { label: 'Contact ID', childRelationshipName: 'Cases' }),
      field('Subject', 'string'),
      field('Description', 'textarea', { length: 32000 }),
      pick('Status', ['New', 'Working', 'Escalated', 'Closed'], { defaultedOnCreate: true, defaultValue: 'New' }),
      pick('Priority', ['High', 'Medium', 'Low'], { defaultedOnCreate: true, defaultValue: 'Medium' }),
      pick('Origin', ['Phone', 'Email', 'Web'], { label: 'Case Origin' }),
      field('SuppliedName', 'string', { length: 80, label: 'Web Name' }),
      field('SuppliedEmail', 'email', { label: 'Web Email' }),
      field('SuppliedPhone', 'string', { length: 40, label: 'Web Phone' }),
      owner(),
      ...sys(),
    ]),
    // Child objects read by the package's AI actions through child relationships
    // (RelatedRecords__c): OpportunityLineItems, CaseComments, OpenActivities. Field names and
    // relationship names as in the Object Reference (OpportunityLineItem, CaseComment,
    // OpenActivity — the last is read-only in a real org, computed from open tasks and events;
    // here its rows are seeded directly).
    makeObject('OpportunityLineItem', 'standard', '00k', [
      idField('Line Item ID'),
      ref('OpportunityId', 'Opportunity', 'Opportunity', {
        label: 'Opportunity ID',
        nillable: false,
        childRelationshipName: 'OpportunityLineItems',
      }),
      field('Name', 'string', { length: 376, nameField: true, label: 'Opportunity Product Name' }),
      field('Quantity', 'double'),
      field('UnitPrice', 'currency', { label: 'Sales Price' }),
      field('TotalPrice', 'currency', { label: 'Total Price' }),
      ...sys(),
    ]),
    makeObject('CaseComment', 'standard', '00a', [
      idField('Case Comment ID'),
      ref('ParentId', 'Case', 'Parent', { label: 'Parent Case ID', nillable: false, childRelationshipName: 'CaseComments' }),
      field('CommentBody', 'textarea', { length: 4000, label: 'Body' }),
      field('IsPublished', 'boolean', { label: 'Published' }),
      ...sys(),
    ]),
    makeObject('OpenActivity', 'standard', '00T', [
      idField('Activity ID'),
      field('WhatId', 'reference', {
        referenceTo: ['Account', 'Opportunity'],
        relationshipName: 'What',
        label: 'Related To ID',
        childRelationshipName: 'OpenActivities',
      }),
      field('WhoId', 'reference', {
        referenceTo: ['Contact', 'Lead'],
        relationshipName: 'Who',
        label: 'Name ID',
        childRelationshipName: 'OpenActivities',
      }),
      field('Subject', 'string'),
      field('ActivityDate', 'date', { label: 'Due Date' }),
      field('Status', 'string', { length: 40 }),
      ...sys(),
    ]),
    makeObject('User', 'setup', '005', [
      idField('User ID'),
      field('Username', 'string', { length: 80, nillable: false, unique: true }),
      field('FirstName', 'string', { length: 40 }),
      field('LastName', 'string', { length: 80, nillable: false }),
      field('Name', 'string', fullName),
      field('Email', 'email', { length: 128, nillable: false }),
      field('Alias', 'string', { length: 8, nillable: false }),
      field('IsActive', 'boolean', { label: 'Active' }),
      field('Country', 'string', { length: 80 }),
      field('TimeZoneSidKey', 'picklist', { picklistValues: ['Europe/Berlin', 'America/New_York', 'GMT'] }),
      field('LocaleSidKey', 'picklist', { picklistValues: ['de_DE', 'en_US', 'fr_FR', 'en_GB'] }),
      field('LanguageLocaleKey', 'picklist', { picklistValues: ['en_US', 'de', 'fr'] }),
      pick('UserType', ['Standard', 'PowerPartner', 'CsnOnly'], { ...readOnly }),
      ...sys(),
    ]),
    makeObject(
      'Organization',
      'setup',
      '00D',
      [
        idField('Organization ID'),
        field('Name', 'string', { ...readOnly, length: 80 }),
        field('InstanceName', 'string', { ...readOnly, length: 5 }),
        field('IsSandbox', 'boolean', readOnly),
        field('TrialExpirationDate', 'datetime', readOnly),
        field('NamespacePrefix', 'string', { ...readOnly, length: 15 }),
        pick('OrganizationType', ['Developer Edition', 'Enterprise Edition', 'Unlimited Edition'], readOnly),
        field('Country', 'string', { ...readOnly, length: 80 }),
        field('DefaultLocaleSidKey', 'string', readOnly),
        field('TimeZoneSidKey', 'string', readOnly),
        ...sys(),
      ],
      { labelPlural: 'Organizations' },
    ),
    makeObject('PermissionSet', 'setup', '0PS', [
      idField('Permission Set ID'),
      field('Name', 'string', { length: 80, nillable: false }),
      field('Label', 'string', { length: 80, nillable: false }),
      field('NamespacePrefix', 'string', { ...readOnly, length: 15 }),
      field('IsOwnedByProfile', 'boolean', readOnly),
      ...sys(),
    ]),
    makeObject('PermissionSetAssignment', 'setup', '0Pa', [
      idField('Permission Set Assignment ID'),
      ref('AssigneeId', 'User', 'Assignee', { nillable: false, childRelationshipName: 'PermissionSetAssignments' }),
      ref('PermissionSetId', 'PermissionSet', 'PermissionSet', { nillable: false, childRelationshipName: 'Assignments' }),
      ...sys(),
    ]),
    makeObject('CustomPermission', 'setup', '0CP', [
      idField('Custom Permission ID'),
      field('DeveloperName', 'string', { length: 80, nillable: false }),
      field('MasterLabel', 'string', { length: 80, nillable: false }),
      field('NamespacePrefix', 'string', { ...readOnly, length: 15 }),
      field('Description', 'textarea', { length: 255 }),
      ...sys(),
    ]),
    makeObject('SetupEntityAccess', 'setup', '0J0', [
      idField('Setup Entity Access ID'),
      ref('ParentId', 'PermissionSet', 'Parent', { nillable: false, childRelationshipName: 'SetupEntityAccessItems' }),
      field('SetupEntityId', 'reference', { nillable: false, referenceTo: ['CustomPermission', 'ApexClass'] }),
      pick('SetupEntityType', ['CustomPermission', 'ApexClass', 'ApexPage', 'TabSet'], readOnly),
      ...sys(),
    ]),
    // Tooling / metadata objects (Tooling API reference: FieldDefinition, EntityDefinition).
    makeObject(
      'EntityDefinition',
      'setup',
      null,
      [
        field('Id', 'id', readOnly),
        field('DurableId', 'string', readOnly),
        field('QualifiedApiName', 'string', readOnly),
        field('DeveloperName', 'string', readOnly),
        field('NamespacePrefix', 'string', readOnly),
        field('Label', 'string', readOnly),
        field('KeyPrefix', 'string', readOnly),
        field('IsCustomizable', 'boolean', readOnly),
      ],
      { labelPlural: 'Entity Definitions' },
    ),
    makeObject(
      'FieldDefinition',
      'setup',
      null,
      [
        field('Id', 'id', readOnly),
        field('DurableId', 'string', readOnly),
        field('QualifiedApiName', 'string', readOnly),
        field('DeveloperName', 'string', readOnly),
        field('NamespacePrefix', 'string', readOnly),
        field('Label', 'string', readOnly),
        field('DataType', 'string', readOnly),
        field('Length', 'int', readOnly),
        field('EntityDefinitionId', 'reference', {
          ...readOnly,
          referenceTo: ['EntityDefinition'],
          relationshipName: 'EntityDefinition',
        }),
        pick('SecurityClassification', [...SECURITY_CLASSIFICATIONS], { ...readOnly, label: 'Data Sensitivity Level' }),
        field('ComplianceGroup', 'multipicklist', {
          ...readOnly,
          picklistValues: ['CCPA', 'COPPA', 'GDPR', 'HIPAA', 'PCI', 'PersonalInfo', 'PII'],
          label: 'Compliance Categorization',
        }),
        pick('BusinessStatus', ['Active', 'DeprecateCandidate', 'Hidden'], { ...readOnly, label: 'Field Usage' }),
        field('BusinessOwnerId', 'reference', { ...readOnly, referenceTo: ['User', 'Group'], label: 'Data Owner' }),
      ],
      { labelPlural: 'Field Definitions' },
    ),
    makeObject(
      'PlatformEventChannel',
      'setup',
      '0YL',
      [
        field('Id', 'id', readOnly),
        field('DeveloperName', 'string', readOnly),
        field('MasterLabel', 'string', readOnly),
        field('NamespacePrefix', 'string', readOnly),
        field('ChannelType', 'string', readOnly),
        field('FullName', 'string', readOnly),
      ],
      { toolingOnly: true },
    ),
    makeObject(
      'PlatformEventChannelMember',
      'setup',
      '0v8',
      [
        field('Id', 'id', readOnly),
        field('DeveloperName', 'string', readOnly),
        field('NamespacePrefix', 'string', readOnly),
        field('EventChannel', 'string', readOnly),
        field('SelectedEntity', 'string', readOnly),
        field('FilterExpression', 'textarea', readOnly),
        field('FullName', 'string', readOnly),
      ],
      { toolingOnly: true },
    ),
  ];
}

// ---------------------------------------------------------------------------------------------
// Package definition: force-app first, built-in fallback.

const xml = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
});

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

type Xml = Record<string, unknown>;
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));
const bool = (v: unknown): boolean => String(v) === 'true';

/** Metadata API CustomField XML → describe field (Metadata API Developer Guide, CustomField; FieldType enum). */
export function fieldFromXml(doc: Xml, objectName: string): FieldDef {
  const name = String(doc.fullName);
  const t = String(doc.type ?? '');
  const len = Number(doc.length ?? 0);
  const precision = Number(doc.precision ?? 18);
  const scale = Number(doc.scale ?? 0);
  const required = bool(doc.required);
  const common: FieldOpts = {
    label: str(doc.label) ?? name,
    nillable: !required,
    unique: bool(doc.unique),
    externalId: bool(doc.externalId),
    securityClassification: str(doc.securityClassification) ?? null,
    complianceGroup: str(doc.complianceGroup) ?? null,
    origin: 'force-app',
  };
  const valueSet = doc.valueSet as Xml | undefined;
  const pickValues = asArray((valueSet?.valueSetDefinition as Xml | undefined)?.value as Xml | Xml[] | undefined);
  const picklistValues = (): string[] => pickValues.map((v) => String(v.fullName));
  const pickDefault = pickValues.find((v) => bool(v.default));
  const picklistOpts: FieldOpts = {
    restrictedPicklist: bool(valueSet?.restricted),
    ...(pickDefault ? { defaultValue: String(pickDefault.fullName), defaultedOnCreate: true } : {}),
  };
  switch (t) {
    case 'Text':
      return field(name, 'string', { ...common, length: len || 255 });
    case 'EncryptedText':
      return field(name, 'string', { ...common, length: len || 175, extraTypeInfo: null });
    case 'TextArea':
      return field(name, 'textarea', { ...common, length: 255 });
    case 'LongTextArea':
      return field(name, 'textarea', { ...common, length: len || 32768, extraTypeInfo: 'plaintextarea' });
    case 'Html':
      return field(name, 'textarea', { ...common, length: len || 32768, htmlFormatted: true, extraTypeInfo: 'richtextarea' });
    case 'Checkbox':
      return field(name, 'boolean', { ...common, nillable: false, defaultValue: bool(doc.defaultValue) });
    case 'Number':
      return field(name, 'double', { ...common, precision, scale });
    case 'Currency':
      return field(name, 'currency', { ...common, precision, scale: Number(doc.scale ?? 2) });
    case 'Percent':
      return field(name, 'percent', { ...common, precision, scale });
    case 'Date':
      return field(name, 'date', common);
    case 'DateTime':
      return field(name, 'datetime', common);
    case 'Email':
      return field(name, 'email', common);
    case 'Phone':
      return field(name, 'phone', common);
    case 'Url':
      return field(name, 'url', common);
    case 'Picklist':
      return field(name, 'picklist', { ...common, ...picklistOpts, picklistValues: picklistValues() });
    case 'MultiselectPicklist':
      return field(name, 'multipicklist', { ...common, ...picklistOpts, picklistValues: picklistValues() });
    case 'AutoNumber':
      return field(name, 'string', { ...common, ...readOnly, autoNumber: true, length: 30 });
    case 'Lookup':
    case 'MasterDetail': {
      // Metadata `relationshipName` names the parent's child list (`Requests` → `Requests__r`);
      // the child-to-parent path is the field name with `__r` (SOQL guide, "Relationship Names").
      const rel = str(doc.relationshipName);
      return field(name, 'reference', {
        ...common,
        nillable: t === 'Lookup' ? !required : false,
        referenceTo: [String(doc.referenceTo)],
        relationshipName: name.replace(/__c$/, '__r'),
        childRelationshipName: rel ? `${rel}__r` : null,
      });
    }
    default:
      throw new Error(`force-app field ${objectName}.${name}: type '${t}' is not modelled by the emulator`);
  }
}

function objectKind(name: string): ObjectKind {
  if (name.endsWith('__e')) return 'event';
  if (name.endsWith('__mdt')) return 'mdt';
  return 'custom';
}

/** System fields of custom objects, platform events and custom metadata types. */
function systemFieldsFor(kind: ObjectKind, nameField: FieldDef | null): FieldDef[] {
  if (kind === 'event') {
    return [
      field('ReplayId', 'string', { ...readOnly, label: 'Replay ID' }),
      field('CreatedDate', 'datetime', { ...readOnly, nillable: false, defaultedOnCreate: true }),
      field('CreatedById', 'reference', {
        ...readOnly,
        nillable: false,
        referenceTo: ['User'],
        relationshipName: 'CreatedBy',
        defaultedOnCreate: true,
      }),
      field('EventUuid', 'string', { ...readOnly, length: 36, label: 'Event UUID' }),
    ];
  }
  if (kind === 'mdt') {
    return [
      idField('Custom Metadata Record ID'),
      field('DeveloperName', 'string', { length: 40, nillable: false, label: 'Custom Metadata Record Name' }),
      field('MasterLabel', 'string', { length: 40, nillable: false, nameField: true, label: 'Label' }),
      field('Label', 'string', { ...readOnly, length: 40 }),
      field('Language', 'picklist', { ...readOnly, picklistValues: ['en_US'] }),
      field('NamespacePrefix', 'string', { ...readOnly, length: 15 }),
      field('QualifiedApiName', 'string', { ...readOnly, length: 70 }),
      field('SystemModstamp', 'datetime', { ...readOnly, nillable: false }),
    ];
  }
  return [idField('Record ID'), owner(), nameField ?? field('Name', 'string', { length: 80, nameField: true }), ...sys()];
}

function parseChannels(root: string): ChannelDef[] {
  const channels = new Map<string, ChannelDef>();
  for (const file of walk(root)) {
    if (file.endsWith('.platformEventChannel-meta.xml')) {
      const doc = (xml.parse(readFileSync(file, 'utf8')) as Xml).PlatformEventChannel as Xml;
      const name = basename(file).replace('.platformEventChannel-meta.xml', '');
      channels.set(name, { name, label: str(doc.label) ?? name, members: channels.get(name)?.members ?? [] });
    }
  }
  for (const file of walk(root)) {
    if (file.endsWith('.platformEventChannelMember-meta.xml')) {
      const doc = (xml.parse(readFileSync(file, 'utf8')) as Xml).PlatformEventChannelMember as Xml;
      const member: ChannelMemberDef = {
        fullName: basename(file).replace('.platformEventChannelMember-meta.xml', ''),
        eventChannel: String(doc.eventChannel),
        selectedEntity: String(doc.selectedEntity),
        filterExpression: str(doc.filterExpression) ?? null,
      };
      const ch = channels.get(member.eventChannel) ?? { name: member.eventChannel, label: member.eventChannel, members: [] };
      ch.members.push(member);
      channels.set(member.eventChannel, ch);
    }
  }
  return [...channels.values()];
}

function parseMdtRecords(root: string): MdtRecord[] {
  const out: MdtRecord[] = [];
  for (const file of walk(root)) {
    if (!file.endsWith('.md-meta.xml')) continue;
    const [type, developerName] = basename(file).replace('.md-meta.xml', '').split('.');
    const doc = (xml.parse(readFileSync(file, 'utf8')) as Xml).CustomMetadata as Xml;
    const values: MdtRecord['values'] = {};
    for (const v of asArray(doc.values as Xml | Xml[] | undefined)) {
      const raw = v.value;
      // <value xsi:nil="true"/> parses to '' with attributes ignored.
      values[String(v.field)] = raw === undefined || raw === '' ? null : String(raw);
    }
    out.push({
      type: `${type}__mdt`,
      developerName,
      label: str(doc.label) ?? developerName,
      protected: bool(doc.protected),
      values,
    });
  }
  return out;
}

/** Reads `force-app/` (if present) and fills what it lacks from the built-in definition. */
export function loadPackageDefinition(forceAppDir: string): PackageDefinition {
  const objects = new Map<string, ObjectDef>();
  const standardObjectFields = new Map<string, FieldDef[]>();
  const sources = { forceApp: [] as string[], builtIn: [] as string[] };
  const files = walk(forceAppDir);
  const objectDirs = new Map<string, string[]>();
  for (const file of files) {
    const m = /[\\/]objects[\\/]([^\\/]+)[\\/](.+)$/.exec(file);
    if (m) objectDirs.set(m[1], [...(objectDirs.get(m[1]) ?? []), file]);
  }
  for (const [objName, objFiles] of objectDirs) {
    const fieldDefs = objFiles
      .filter((f) => f.endsWith('.field-meta.xml'))
      .map((f) => fieldFromXml((xml.parse(readFileSync(f, 'utf8')) as Xml).CustomField as Xml, objName));
    const objFile = objFiles.find((f) => f.endsWith('.object-meta.xml'));
    if (!/__(c|e|mdt)$/.test(objName)) {
      // A standard object folder: the package only adds fields to it.
      standardObjectFields.set(
        objName,
        fieldDefs.filter((f) => f.custom),
      );
      continue;
    }
    if (!objFile) continue;
    const doc = (xml.parse(readFileSync(objFile, 'utf8')) as Xml).CustomObject as Xml;
    const kind = objectKind(objName);
    const nf = doc.nameField as Xml | undefined;
    const nameField = nf
      ? String(nf.type) === 'AutoNumber'
        ? field('Name', 'string', { ...readOnly, autoNumber: true, nameField: true, length: 80, label: str(nf.label) ?? 'Name' })
        : field('Name', 'string', { length: 80, nameField: true, label: str(nf.label) ?? 'Name', nillable: false })
      : null;
    const obj = makeObject(objName, kind, null, [...systemFieldsFor(kind, nameField), ...fieldDefs], {
      label: str(doc.label),
      labelPlural: str(doc.pluralLabel),
      origin: 'force-app',
    });
    objects.set(objName, obj);
    sources.forceApp.push(objName);
  }
  for (const [objName, fieldNames] of Object.entries(CUSTOM_SCHEMA)) {
    if (objects.has(objName)) continue;
    const kind = objectKind(objName);
    const nameField = kind === 'custom' ? field('Name', 'string', { ...readOnly, autoNumber: true, nameField: true, length: 80 }) : null;
    const obj = makeObject(objName, kind, null, [...systemFieldsFor(kind, nameField), ...fieldNames.map((f) => builtInField(objName, f))], {
      origin: 'built-in',
    });
    objects.set(objName, obj);
    sources.builtIn.push(objName);
  }
  for (const std of STAMPED_OBJECTS) {
    const fields = standardObjectFields.get(std) ?? [];
    if (!fields.some((f) => f.name === DATA_JURISDICTION_FIELD)) {
      fields.push(field(DATA_JURISDICTION_FIELD, 'string', { length: 20, label: 'Data Jurisdiction', origin: 'built-in' }));
      sources.builtIn.push(`${std}.${DATA_JURISDICTION_FIELD}`);
    }
    standardObjectFields.set(std, fields);
  }
  let mdtRecords = parseMdtRecords(forceAppDir);
  const mdtTypesFromForceApp = new Set(mdtRecords.map((r) => r.type));
  for (const r of builtInMdtRecords()) {
    if (!mdtTypesFromForceApp.has(r.type)) mdtRecords = [...mdtRecords, r];
  }
  let channels = parseChannels(forceAppDir);
  if (channels.length === 0) {
    channels = builtInChannels();
    sources.builtIn.push('channels');
  } else sources.forceApp.push('channels');
  const perms = parsePermissions(forceAppDir);
  if (perms.permissionSets.length) sources.forceApp.push('permissionsets');
  return {
    objects: [...objects.values()],
    standardObjectFields,
    mdtRecords,
    channels,
    permissionSets: perms.permissionSets,
    customPermissions: perms.customPermissions,
    countryNames: parseCountryNames(forceAppDir),
    sources,
  };
}

function parsePermissions(root: string): { permissionSets: PermissionSetDef[]; customPermissions: string[] } {
  const permissionSets: PermissionSetDef[] = [];
  const customPermissions: string[] = [];
  for (const file of walk(root)) {
    if (file.endsWith('.permissionset-meta.xml')) {
      const doc = (xml.parse(readFileSync(file, 'utf8')) as Xml).PermissionSet as Xml;
      permissionSets.push({
        name: basename(file).replace('.permissionset-meta.xml', ''),
        label: str(doc.label) ?? basename(file),
        perms: asArray(doc.customPermissions as Xml | Xml[] | undefined)
          .filter((c) => bool(c.enabled))
          .map((c) => String(c.name)),
        objects: asArray(doc.objectPermissions as Xml | Xml[] | undefined).map((o) => ({
          object: String(o.object),
          read: bool(o.allowRead) || bool(o.viewAllRecords),
          create: bool(o.allowCreate),
          edit: bool(o.allowEdit) || bool(o.modifyAllRecords),
          delete: bool(o.allowDelete) || bool(o.modifyAllRecords),
        })),
        fields: asArray(doc.fieldPermissions as Xml | Xml[] | undefined).map((f) => ({
          field: String(f.field),
          read: bool(f.readable) || bool(f.editable),
          edit: bool(f.editable),
        })),
        mdt: asArray(doc.customMetadataTypeAccesses as Xml | Xml[] | undefined)
          .filter((m) => bool(m.enabled))
          .map((m) => String(m.name)),
      });
    } else if (file.endsWith('.customPermission-meta.xml')) {
      customPermissions.push(basename(file).replace('.customPermission-meta.xml', ''));
    }
  }
  return { permissionSets, customPermissions };
}

/** Reads the `'name' => 'XX'` pairs of the package's CountryCodes Apex class, if it exists. */
function parseCountryNames(root: string): Record<string, string> | null {
  const file = walk(root).find((f) => basename(f) === 'CountryCodes.cls');
  if (!file) return null;
  const out: Record<string, string> = {};
  for (const m of readFileSync(file, 'utf8').matchAll(/'([^']+)'\s*=>\s*'([A-Z]{2})'/g)) out[m[1]] = m[2];
  return Object.keys(out).length ? out : null;
}

const LONG_TEXT =
  /^(Question|Answer|SanitizedPrompt|SanitizedAnswer|Details|PromptTemplate|FieldClasses|Timings|Fields|RelatedRecords|Signature|PublicKey|Reason)__c$/;

/** Field types for the built-in fallback, chosen to match what the package intends. */
function builtInField(objName: string, name: string): FieldDef {
  const o: FieldOpts = { origin: 'built-in' };
  if (name === 'Status__c') {
    const values = objName === 'AiQuarantine__c' ? QUARANTINE_STATUSES : objName.endsWith('__e') ? REQUEST_STATUSES : REQUEST_STATUSES;
    if (objName.endsWith('__e')) return field(name, 'string', { ...o, length: 40 });
    return field(name, 'picklist', {
      ...o,
      picklistValues: [...values],
      defaultedOnCreate: true,
      defaultValue: values[0],
    });
  }
  if (/At__c$/.test(name)) return field(name, 'datetime', o);
  if (/(Ms|Sequence|Priority)__c$/.test(name)) return field(name, 'double', { ...o, precision: 18, scale: 0 });
  if (name === 'Active__c') return field(name, 'boolean', o);
  if (LONG_TEXT.test(name)) return field(name, 'textarea', { ...o, length: 131072, extraTypeInfo: 'plaintextarea' });
  if (/^(ExternalId|EntryKey|CheckpointKey)__c$/.test(name) && objName.endsWith('__c')) {
    return field(name, 'string', { ...o, length: 255, externalId: true, unique: true });
  }
  if (/(Hash|Hmac|Root)__c$/.test(name)) return field(name, 'string', { ...o, length: 128 });
  return field(name, 'string', { ...o, length: 255 });
}

/** Demo-org defaults until force-app ships records: EU and US jurisdictions, residency by country. */
function builtInMdtRecords(): MdtRecord[] {
  const eu = 'AT;BE;BG;HR;CY;CZ;DK;EE;FI;FR;DE;GR;HU;IE;IT;LV;LT;LU;MT;NL;PL;PT;RO;SK;SI;ES;SE';
  const rules: MdtRecord[] = [
    ['Account', 'BillingCountry'],
    ['Contact', 'MailingCountry'],
    ['Lead', 'Country'],
    ['Opportunity', 'Account.BillingCountry'],
    ['Case', 'Account.BillingCountry'],
  ].map(([obj, country]) => ({
    type: 'ResidencyRule__mdt',
    developerName: `${obj}Country`,
    label: `${obj} by country`,
    protected: false,
    values: {
      ObjectApiName__c: obj,
      JurisdictionField__c: DATA_JURISDICTION_FIELD,
      CountryField__c: country,
      Priority__c: '10',
      Active__c: 'true',
    },
  }));
  return [
    {
      type: 'Jurisdiction__mdt',
      developerName: 'EU',
      label: 'European Union',
      protected: false,
      values: { Countries__c: eu, Active__c: 'true' },
    },
    {
      type: 'Jurisdiction__mdt',
      developerName: 'US',
      label: 'United States',
      protected: false,
      values: { Countries__c: 'US', Active__c: 'true' },
    },
    ...rules,
  ];
}

function builtInChannels(): ChannelDef[] {
  return ['EU', 'US'].map((j) => ({
    name: channelName(j),
    label: `Sovra ${j} requests`,
    members: [
      {
        fullName: `${channelName(j).replace('__chn', '_chn')}_AiRequest_e`,
        eventChannel: channelName(j),
        selectedEntity: 'AiRequest__e',
        filterExpression: `Jurisdiction__c = '${j}'`,
      },
    ],
  }));
}
