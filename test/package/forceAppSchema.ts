/**
 * Reads Sovra's Salesforce schema straight from the package source in `force-app/` (source format,
 * organised by feature): custom objects, platform events and custom metadata types with their
 * fields, the DataJurisdiction__c fields on standard objects, custom metadata records, custom
 * permissions, permission sets, and platform-event channels with their filtered members.
 *
 * The contract test holds `service/src/shared/schema.ts` against this, and the org emulator can
 * load its objects from the same files, so sidecar, emulator and package cannot drift apart.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { XMLParser } from 'fast-xml-parser';

export type FieldKind =
  | 'Text'
  | 'LongTextArea'
  | 'TextArea'
  | 'Number'
  | 'DateTime'
  | 'Date'
  | 'Checkbox'
  | 'Picklist'
  | 'Lookup'
  | 'MasterDetail'
  | (string & {});

export interface FieldDef {
  readonly name: string;
  readonly type: FieldKind;
  readonly label: string;
  readonly description?: string;
  readonly length?: number;
  readonly precision?: number;
  readonly scale?: number;
  readonly externalId: boolean;
  readonly unique: boolean;
  readonly caseSensitive: boolean;
  readonly referenceTo?: string;
  readonly picklistValues?: readonly string[];
  readonly restrictedPicklist?: boolean;
  readonly securityClassification?: string;
  readonly complianceGroup?: readonly string[];
  readonly fieldManageability?: string;
  /** Path of the source file, relative to the package root. */
  readonly file: string;
}

export type ObjectKind = 'object' | 'event' | 'metadata' | 'standard';

export interface ObjectDef {
  readonly name: string;
  readonly kind: ObjectKind;
  readonly label?: string;
  readonly sharingModel?: string;
  readonly visibility?: string;
  readonly publishBehavior?: string;
  readonly eventType?: string;
  readonly fields: Readonly<Record<string, FieldDef>>;
}

export interface CustomMetadataRecord {
  readonly type: string;
  readonly name: string;
  readonly label: string;
  readonly protected: boolean;
  readonly values: Readonly<Record<string, string | number | boolean | null>>;
}

export interface ObjectPermission {
  readonly object: string;
  readonly allowCreate: boolean;
  readonly allowRead: boolean;
  readonly allowEdit: boolean;
  readonly allowDelete: boolean;
  readonly viewAllRecords: boolean;
  readonly modifyAllRecords: boolean;
}

export interface PermissionSetDef {
  readonly name: string;
  readonly label: string;
  readonly customPermissions: readonly string[];
  readonly classes: readonly string[];
  readonly objects: Readonly<Record<string, ObjectPermission>>;
  readonly fields: Readonly<Record<string, { readable: boolean; editable: boolean }>>;
}

export interface ChannelMemberDef {
  readonly name: string;
  readonly eventChannel: string;
  readonly selectedEntity: string;
  readonly filterExpression?: string;
}

export interface ForceAppSchema {
  readonly root: string;
  readonly objects: Readonly<Record<string, ObjectDef>>;
  readonly customMetadata: readonly CustomMetadataRecord[];
  readonly customPermissions: readonly string[];
  readonly permissionSets: Readonly<Record<string, PermissionSetDef>>;
  readonly channels: readonly string[];
  readonly channelMembers: readonly ChannelMemberDef[];
  readonly apexClasses: readonly string[];
  readonly triggers: readonly string[];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  trimValues: true,
  isArray: (name) =>
    ['fields', 'values', 'value', 'customPermissions', 'classAccesses', 'objectPermissions', 'fieldPermissions'].includes(name),
});

/** Every file below `dir`, recursively. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) {
      out.push(...listFiles(full));
    } else {
      out.push(full);
    }
  }
  return out.sort();
}

function readXml(file: string): Record<string, unknown> {
  return parser.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object') {
    const t = (v as Record<string, unknown>)['#text'];
    return t === undefined ? undefined : String(t);
  }
  return String(v);
}

const bool = (v: unknown): boolean => text(v) === 'true';
const num = (v: unknown): number | undefined => (text(v) === undefined ? undefined : Number(text(v)));

function asArray<T>(v: T | T[] | undefined): T[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function parseField(file: string, root: string): FieldDef {
  const f = readXml(file)['CustomField'] as Record<string, unknown>;
  const valueSet = f['valueSet'] as Record<string, unknown> | undefined;
  const definition = valueSet?.['valueSetDefinition'] as Record<string, unknown> | undefined;
  const values = asArray(definition?.['value'] as Record<string, unknown>[] | undefined).map((v) => text(v['fullName']) ?? '');
  const name = text(f['fullName']) ?? basename(file).replace('.field-meta.xml', '');
  return {
    name,
    type: text(f['type']) ?? 'Unknown',
    label: text(f['label']) ?? '',
    description: text(f['description']),
    length: num(f['length']),
    precision: num(f['precision']),
    scale: num(f['scale']),
    externalId: bool(f['externalId']),
    unique: bool(f['unique']),
    caseSensitive: bool(f['caseSensitive']),
    referenceTo: text(f['referenceTo']),
    picklistValues: valueSet ? values : undefined,
    restrictedPicklist: valueSet ? bool(valueSet['restricted']) : undefined,
    securityClassification: text(f['securityClassification']),
    complianceGroup: text(f['complianceGroup'])?.split(';'),
    fieldManageability: text(f['fieldManageability']),
    file: relative(root, file),
  };
}

function scalar(v: Record<string, unknown>): string | number | boolean | null {
  if (v['@xsi:nil'] === 'true') return null;
  const type = v['@xsi:type'];
  const raw = text(v) ?? '';
  if (type === 'xsd:boolean') return raw === 'true';
  if (type === 'xsd:double' || type === 'xsd:int') return Number(raw);
  return raw;
}

/** Reads the whole package source below `root` (default `force-app`). */
export function readForceAppSchema(root = 'force-app'): ForceAppSchema {
  const files = listFiles(root);
  const objects: Record<string, { kind: ObjectKind; meta: Record<string, unknown>; fields: Record<string, FieldDef> }> = {};
  const customMetadata: CustomMetadataRecord[] = [];
  const customPermissions: string[] = [];
  const permissionSets: Record<string, PermissionSetDef> = {};
  const channels: string[] = [];
  const channelMembers: ChannelMemberDef[] = [];
  const apexClasses: string[] = [];
  const triggers: string[] = [];

  const objectEntry = (name: string) => {
    if (!objects[name]) {
      const kind: ObjectKind = name.endsWith('__e')
        ? 'event'
        : name.endsWith('__mdt')
          ? 'metadata'
          : name.endsWith('__c')
            ? 'object'
            : 'standard';
      objects[name] = { kind, meta: {}, fields: {} };
    }
    return objects[name];
  };

  for (const file of files) {
    const parts = relative(root, file).split(sep);
    const name = basename(file);
    const objIdx = parts.lastIndexOf('objects');
    if (objIdx >= 0 && name.endsWith('.object-meta.xml')) {
      objectEntry(parts[objIdx + 1]).meta = readXml(file)['CustomObject'] as Record<string, unknown>;
    } else if (objIdx >= 0 && parts[objIdx + 2] === 'fields' && name.endsWith('.field-meta.xml')) {
      const field = parseField(file, root);
      objectEntry(parts[objIdx + 1]).fields[field.name] = field;
    } else if (name.endsWith('.md-meta.xml')) {
      const doc = readXml(file)['CustomMetadata'] as Record<string, unknown>;
      const [type, record] = name.replace('.md-meta.xml', '').split('.');
      const values: Record<string, string | number | boolean | null> = {};
      for (const v of asArray(doc['values'] as Record<string, unknown>[])) {
        const value = asArray(v['value'] as Record<string, unknown>[])[0] ?? { '@xsi:nil': 'true' };
        values[text(v['field']) ?? ''] = scalar(value);
      }
      customMetadata.push({
        type: `${type}__mdt`,
        name: record,
        label: text(doc['label']) ?? '',
        protected: bool(doc['protected']),
        values,
      });
    } else if (name.endsWith('.customPermission-meta.xml')) {
      customPermissions.push(name.replace('.customPermission-meta.xml', ''));
    } else if (name.endsWith('.permissionset-meta.xml')) {
      const ps = readXml(file)['PermissionSet'] as Record<string, unknown>;
      const psName = name.replace('.permissionset-meta.xml', '');
      const objectPerms: Record<string, ObjectPermission> = {};
      for (const o of asArray(ps['objectPermissions'] as Record<string, unknown>[])) {
        const object = text(o['object']) ?? '';
        objectPerms[object] = {
          object,
          allowCreate: bool(o['allowCreate']),
          allowRead: bool(o['allowRead']),
          allowEdit: bool(o['allowEdit']),
          allowDelete: bool(o['allowDelete']),
          viewAllRecords: bool(o['viewAllRecords']),
          modifyAllRecords: bool(o['modifyAllRecords']),
        };
      }
      const fieldPerms: Record<string, { readable: boolean; editable: boolean }> = {};
      for (const f of asArray(ps['fieldPermissions'] as Record<string, unknown>[])) {
        fieldPerms[text(f['field']) ?? ''] = { readable: bool(f['readable']), editable: bool(f['editable']) };
      }
      permissionSets[psName] = {
        name: psName,
        label: text(ps['label']) ?? '',
        customPermissions: asArray(ps['customPermissions'] as Record<string, unknown>[])
          .filter((c) => bool(c['enabled']))
          .map((c) => text(c['name']) ?? ''),
        classes: asArray(ps['classAccesses'] as Record<string, unknown>[])
          .filter((c) => bool(c['enabled']))
          .map((c) => text(c['apexClass']) ?? ''),
        objects: objectPerms,
        fields: fieldPerms,
      };
    } else if (name.endsWith('.platformEventChannel-meta.xml')) {
      channels.push(name.replace('.platformEventChannel-meta.xml', ''));
    } else if (name.endsWith('.platformEventChannelMember-meta.xml')) {
      const m = readXml(file)['PlatformEventChannelMember'] as Record<string, unknown>;
      channelMembers.push({
        name: name.replace('.platformEventChannelMember-meta.xml', ''),
        eventChannel: text(m['eventChannel']) ?? '',
        selectedEntity: text(m['selectedEntity']) ?? '',
        filterExpression: text(m['filterExpression']),
      });
    } else if (name.endsWith('.cls') && !parts.includes('lwc')) {
      apexClasses.push(name.replace('.cls', ''));
    } else if (name.endsWith('.trigger')) {
      triggers.push(name.replace('.trigger', ''));
    }
  }

  const out: Record<string, ObjectDef> = {};
  for (const [name, o] of Object.entries(objects)) {
    out[name] = {
      name,
      kind: o.kind,
      label: text(o.meta['label']),
      sharingModel: text(o.meta['sharingModel']),
      visibility: text(o.meta['visibility']),
      publishBehavior: text(o.meta['publishBehavior']),
      eventType: text(o.meta['eventType']),
      fields: o.fields,
    };
  }
  return { root, objects: out, customMetadata, customPermissions, permissionSets, channels, channelMembers, apexClasses, triggers };
}
