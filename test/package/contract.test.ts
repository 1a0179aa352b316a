/**
 * Contract between the sidecar and the package: every object, field, event, metadata type, custom
 * permission, permission set and channel that `service/src/shared/schema.ts` names exists in
 * `force-app/` with a type the sidecar can write and read; and the package keeps the promises the
 * rest of Sovra relies on (fail-closed permissions, insert-only audit objects, protected metadata,
 * filtered channels, shipped jurisdictions and actions that are internally consistent).
 */
import { describe, it, expect } from '@jest/globals';
import {
  CUSTOM_SCHEMA,
  CUSTOM_PERMISSIONS,
  PERMISSION_SETS,
  REQUEST_STATUSES,
  QUARANTINE_STATUSES,
  SECURITY_CLASSIFICATIONS,
  FIELD_HANDLINGS,
  STAMPED_OBJECTS,
  DATA_JURISDICTION_FIELD,
  channelName,
  jurisdictionPermission,
  jurisdictionPermissionSet,
} from '../../service/src/shared/schema.js';
import { readForceAppSchema, type FieldDef } from './forceAppSchema.js';

const schema = readForceAppSchema('force-app');
const JURISDICTIONS = ['EU', 'US', 'UK'];
const EU_MEMBER_STATES = 'AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK'.split(' ');

type Expectation = { type: string | string[]; length?: number; externalIdUnique?: boolean; picklist?: readonly string[] };

/** The types the sidecar relies on, per field. Anything not listed must at least exist. */
const EXPECTED: Record<string, Record<string, Expectation>> = {
  AiRequest__c: {
    RecordId__c: { type: 'Text', length: 18 },
    ObjectApiName__c: { type: 'Text' },
    Action__c: { type: 'Text' },
    Question__c: { type: 'LongTextArea' },
    Status__c: { type: 'Picklist', picklist: REQUEST_STATUSES },
    Jurisdiction__c: { type: 'Text' },
    RequestedBy__c: { type: 'Lookup' },
    Answer__c: { type: 'LongTextArea' },
    StartedAt__c: { type: 'DateTime' },
    CompletedAt__c: { type: 'DateTime' },
    LatencyMs__c: { type: 'Number' },
    ModelMs__c: { type: 'Number' },
    ExternalId__c: { type: 'Text', length: 64, externalIdUnique: true },
  },
  AiAuditEntry__c: {
    EntryKey__c: { type: 'Text', externalIdUnique: true },
    Sequence__c: { type: 'Number' },
    PrevHash__c: { type: 'Text', length: 64 },
    EntryHash__c: { type: 'Text', length: 64 },
    PromptHmac__c: { type: 'Text', length: 64 },
    AnswerHmac__c: { type: 'Text', length: 64 },
    SanitizedPrompt__c: { type: 'LongTextArea' },
    SanitizedAnswer__c: { type: 'LongTextArea' },
    Details__c: { type: 'LongTextArea' },
    OccurredAt__c: { type: 'DateTime' },
  },
  AiAuditCheckpoint__c: {
    CheckpointKey__c: { type: 'Text', externalIdUnique: true },
    FromSequence__c: { type: 'Number' },
    ToSequence__c: { type: 'Number' },
    MerkleRoot__c: { type: 'Text', length: 64 },
    LastEntryHash__c: { type: 'Text', length: 64 },
    PublicKey__c: { type: 'LongTextArea' },
    SignedAt__c: { type: 'DateTime' },
  },
  AiQuarantine__c: {
    ExternalId__c: { type: 'Text', externalIdUnique: true },
    Status__c: { type: 'Picklist', picklist: QUARANTINE_STATUSES },
    ResolvedBy__c: { type: 'Lookup' },
    ResolvedAt__c: { type: 'DateTime' },
  },
  Jurisdiction__mdt: { Countries__c: { type: ['Text', 'LongTextArea'] }, Active__c: { type: 'Checkbox' } },
  ResidencyRule__mdt: { Priority__c: { type: 'Number' }, Active__c: { type: 'Checkbox' } },
  FieldPolicy__mdt: {
    Classification__c: { type: 'Picklist', picklist: SECURITY_CLASSIFICATIONS },
    Handling__c: { type: 'Picklist', picklist: FIELD_HANDLINGS },
  },
  AiAction__mdt: {
    PromptTemplate__c: { type: 'LongTextArea' },
    MaxClassification__c: { type: 'Picklist', picklist: SECURITY_CLASSIFICATIONS },
    Purpose__c: { type: 'Picklist', picklist: ['infer', 'train', 'export'] },
    AutoRunOn__c: { type: 'Picklist', picklist: ['Insert', 'Update'] },
    Active__c: { type: 'Checkbox' },
  },
};

/** Types the sidecar can write a string/number/boolean/date into and read back. */
const EVENT_FIELD_TYPES = ['Text', 'Number', 'Checkbox', 'DateTime', 'Date', 'LongTextArea'];

function field(object: string, name: string): FieldDef | undefined {
  return schema.objects[object]?.fields[name];
}

describe('contract: schema.ts ⇔ force-app', () => {
  it.each(Object.entries(CUSTOM_SCHEMA))('%s exists with every field the sidecar names', (object, fields) => {
    const def = schema.objects[object];
    expect(def).toBeDefined();
    const missing = fields.filter((f) => !def?.fields[f]);
    expect(missing).toEqual([]);
    if (object.endsWith('__e')) {
      for (const f of fields) {
        expect({ field: `${object}.${f}`, type: EVENT_FIELD_TYPES.includes(field(object, f)!.type) }).toEqual({
          field: `${object}.${f}`,
          type: true,
        });
      }
    }
  });

  it('fields have the types the sidecar writes and reads', () => {
    const problems: string[] = [];
    for (const [object, fields] of Object.entries(EXPECTED)) {
      for (const [name, want] of Object.entries(fields)) {
        const f = field(object, name);
        if (!f) {
          problems.push(`${object}.${name} missing`);
          continue;
        }
        const types = Array.isArray(want.type) ? want.type : [want.type];
        if (!types.includes(f.type)) problems.push(`${object}.${name} is ${f.type}, expected ${types.join('|')}`);
        if (want.length !== undefined && f.length !== want.length)
          problems.push(`${object}.${name} length ${f.length}, expected ${want.length}`);
        if (want.externalIdUnique && !(f.externalId && f.unique)) problems.push(`${object}.${name} must be a unique external id`);
        if (want.picklist && JSON.stringify(f.picklistValues) !== JSON.stringify(want.picklist)) {
          problems.push(`${object}.${name} values ${JSON.stringify(f.picklistValues)}, expected ${JSON.stringify(want.picklist)}`);
        }
        if (f.type === 'Number' && f.scale !== 0 && object !== 'ResidencyRule__mdt') problems.push(`${object}.${name} must have scale 0`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('sequence numbers are Number(18,0)', () => {
    for (const [o, f] of [
      ['AiAuditEntry__c', 'Sequence__c'],
      ['AiAuditCheckpoint__c', 'FromSequence__c'],
      ['AiAuditCheckpoint__c', 'ToSequence__c'],
    ] as const) {
      expect({ f: `${o}.${f}`, precision: field(o, f)?.precision, scale: field(o, f)?.scale }).toEqual({
        f: `${o}.${f}`,
        precision: 18,
        scale: 0,
      });
    }
  });

  it('every field the sidecar writes fits in its Salesforce field', () => {
    // Identifiers of 18 characters, hashes of 64 hex characters, UUIDs of 36.
    expect(field('AiRequest__e', 'RequestId__c')?.length).toBeGreaterThanOrEqual(18);
    expect(field('AiRequest__e', 'ExternalId__c')?.length).toBeGreaterThanOrEqual(36);
    expect(field('AiQuarantine__c', 'RequestId__c')?.length).toBeGreaterThanOrEqual(36);
    expect(field('AiAuditEntry__c', 'RequestId__c')?.length).toBeGreaterThanOrEqual(36);
  });

  it('DataJurisdiction__c is on every stamped standard object', () => {
    for (const o of STAMPED_OBJECTS) {
      const f = field(o, DATA_JURISDICTION_FIELD);
      expect({ o, type: f?.type }).toEqual({ o, type: 'Text' });
    }
  });

  it('the package classifies its own object fields (SecurityClassification, ComplianceGroup on personal data)', () => {
    const problems: string[] = [];
    for (const o of Object.values(schema.objects)) {
      if (o.kind !== 'object' && o.kind !== 'standard') continue;
      for (const f of Object.values(o.fields)) {
        if (!f.securityClassification || !(SECURITY_CLASSIFICATIONS as readonly string[]).includes(f.securityClassification)) {
          problems.push(`${o.name}.${f.name} has no valid securityClassification`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(field('AiRequest__c', 'Answer__c')?.complianceGroup).toEqual(['GDPR', 'PII']);
    expect(field('AiAuditEntry__c', 'SanitizedPrompt__c')?.securityClassification).toBe('Confidential');
  });

  it('events publish after commit, are high volume, and AiResult__e carries no answer', () => {
    for (const e of ['AiRequest__e', 'AiResult__e']) {
      expect(schema.objects[e]?.publishBehavior).toBe('PublishAfterCommit');
      expect(schema.objects[e]?.eventType).toBe('HighVolume');
    }
    expect(Object.keys(schema.objects['AiResult__e']!.fields).sort()).toEqual([...CUSTOM_SCHEMA.AiResult__e].sort());
  });

  it('custom metadata types are protected and their records too', () => {
    for (const t of ['Jurisdiction__mdt', 'ResidencyRule__mdt', 'FieldPolicy__mdt', 'AiAction__mdt']) {
      expect({ t, visibility: schema.objects[t]?.visibility }).toEqual({ t, visibility: 'Protected' });
    }
    expect(schema.customMetadata.length).toBeGreaterThan(30);
    expect(schema.customMetadata.filter((r) => !r.protected).map((r) => `${r.type}.${r.name}`)).toEqual([]);
  });

  it('one filtered channel per shipped jurisdiction, on AiRequest__e', () => {
    for (const j of JURISDICTIONS) {
      expect(schema.channels).toContain(channelName(j));
      const members = schema.channelMembers.filter((m) => m.eventChannel === channelName(j));
      expect(members).toEqual([
        {
          name: `Sovra${j}_chn_AiRequest_e`,
          eventChannel: channelName(j),
          selectedEntity: 'AiRequest__e',
          filterExpression: `Jurisdiction__c = '${j}'`,
        },
      ]);
    }
  });

  it('custom permissions and permission sets exist as named', () => {
    const perms = [...Object.values(CUSTOM_PERMISSIONS), ...JURISDICTIONS.map(jurisdictionPermission)];
    expect(perms.filter((p) => !schema.customPermissions.includes(p))).toEqual([]);
    const sets = [...Object.values(PERMISSION_SETS), ...JURISDICTIONS.map(jurisdictionPermissionSet)];
    expect(sets.filter((s) => !schema.permissionSets[s])).toEqual([]);
    for (const j of JURISDICTIONS) {
      expect(schema.permissionSets[jurisdictionPermissionSet(j)]!.customPermissions).toEqual([jurisdictionPermission(j)]);
    }
  });
});

describe('contract: permissions fail closed', () => {
  const sets = Object.values(schema.permissionSets);

  it('nobody, admins included, may edit or delete audit entries or checkpoints', () => {
    for (const ps of sets) {
      for (const o of ['AiAuditEntry__c', 'AiAuditCheckpoint__c']) {
        const p = ps.objects[o];
        expect({
          ps: ps.name,
          o,
          edit: p?.allowEdit ?? false,
          del: p?.allowDelete ?? false,
          modifyAll: p?.modifyAllRecords ?? false,
        }).toEqual({
          ps: ps.name,
          o,
          edit: false,
          del: false,
          modifyAll: false,
        });
      }
      const editableAuditFields = Object.entries(ps.fields).filter(
        ([f, p]) => f.startsWith('AiAudit') && p.editable && ps.name !== 'SovraIntegration',
      );
      expect({ ps: ps.name, editableAuditFields }).toEqual({ ps: ps.name, editableAuditFields: [] });
    }
  });

  it('training export is separate from inference', () => {
    expect(schema.permissionSets.SovraUser!.customPermissions).not.toContain('AiTrainingExport');
    expect(schema.permissionSets.SovraTrainingExport!.customPermissions).not.toContain('AiInference');
    expect(sets.filter((ps) => ps.customPermissions.includes('AiInference') && ps.customPermissions.includes('AiTrainingExport'))).toEqual(
      [],
    );
  });

  it('users create requests but never edit, delete or see others’ answers', () => {
    const p = schema.permissionSets.SovraUser!.objects.AiRequest__c!;
    expect(p).toMatchObject({ allowCreate: true, allowRead: true, allowEdit: false, allowDelete: false, viewAllRecords: false });
    expect(schema.permissionSets.SovraUser!.fields['AiRequest__c.Answer__c']).toEqual({ readable: true, editable: false });
    expect(schema.objects.AiRequest__c!.sharingModel).toBe('Private');
  });

  it('no set grants a jurisdiction it does not name', () => {
    for (const ps of sets) {
      const js = ps.customPermissions.filter((p) => p.startsWith('AiJurisdiction'));
      expect({ ps: ps.name, js }).toEqual({
        ps: ps.name,
        js: ps.name.startsWith('SovraJurisdiction') ? [`AiJurisdiction${ps.name.slice(17)}`] : [],
      });
    }
  });

  it('field permissions name fields that exist', () => {
    const problems: string[] = [];
    for (const ps of sets) {
      for (const f of Object.keys(ps.fields)) {
        const [o, n] = f.split('.');
        if (!field(o!, n!)) problems.push(`${ps.name}: ${f}`);
      }
      for (const c of ps.classes) if (!schema.apexClasses.includes(c)) problems.push(`${ps.name}: class ${c}`);
    }
    expect(problems).toEqual([]);
  });
});

describe('contract: shipped custom metadata', () => {
  const records = (type: string) => schema.customMetadata.filter((r) => r.type === type);

  it('ships EU (27 member states), US and UK (GB) jurisdictions', () => {
    const byName = Object.fromEntries(records('Jurisdiction__mdt').map((r) => [r.name, r.values]));
    expect(String(byName.EU!.Countries__c).split(';').sort()).toEqual([...EU_MEMBER_STATES].sort());
    expect(byName.US!.Countries__c).toBe('US');
    expect(byName.UK!.Countries__c).toBe('GB');
    const all = records('Jurisdiction__mdt').flatMap((r) => String(r.values.Countries__c).split(';'));
    expect(new Set(all).size).toBe(all.length);
    for (const code of all) expect(code).toMatch(/^[A-Z]{2}$/);
  });

  it('ships residency rules for the five stamped objects', () => {
    const rules = Object.fromEntries(records('ResidencyRule__mdt').map((r) => [r.values.ObjectApiName__c, r.values]));
    expect(rules.Account).toMatchObject({
      JurisdictionField__c: 'DataJurisdiction__c',
      CountryField__c: 'BillingCountry',
      Active__c: true,
    });
    expect(rules.Contact).toMatchObject({ CountryField__c: 'MailingCountry' });
    expect(rules.Lead).toMatchObject({ CountryField__c: 'Country' });
    expect(rules.Opportunity).toMatchObject({ CountryField__c: 'Account.BillingCountry' });
    expect(rules.Case).toMatchObject({ CountryField__c: 'Account.BillingCountry' });
  });

  it('field policies use known classes and handlings', () => {
    const policies = records('FieldPolicy__mdt');
    expect(policies.length).toBeGreaterThanOrEqual(20);
    for (const p of policies) {
      expect(SECURITY_CLASSIFICATIONS).toContain(p.values.Classification__c);
      expect(FIELD_HANDLINGS).toContain(p.values.Handling__c);
    }
    expect(policies.find((p) => p.name === 'ContactEmail')?.values.Handling__c).toBe('tokenize');
  });

  it('AI actions are consistent: every placeholder is a listed field, relationship or {{Question}}', () => {
    const actions = records('AiAction__mdt');
    expect(actions.map((a) => a.values.ObjectApiName__c).sort()).toEqual(
      expect.arrayContaining(['Account', 'Contact', 'Opportunity', 'Case']),
    );
    const problems: string[] = [];
    for (const a of actions) {
      const v = a.values;
      const fields = String(v.Fields__c ?? '')
        .split(',')
        .map((s) => s.trim());
      for (const f of fields)
        if (!/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*){0,5}$/.test(f)) problems.push(`${a.name}: bad field path ${f}`);
      const related = String(v.RelatedRecords__c ?? '')
        .split(';')
        .filter((s) => s.trim());
      const relNames: string[] = [];
      for (const r of related) {
        const m = /^\s*([A-Za-z][A-Za-z0-9_]*)\(([A-Za-z][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z][A-Za-z0-9_]*)*)\)(?:\[(\d+)\])?\s*$/.exec(r);
        if (!m) problems.push(`${a.name}: bad related entry ${r}`);
        else {
          relNames.push(m[1]!);
          if (m[3] && (Number(m[3]) < 1 || Number(m[3]) > 50)) problems.push(`${a.name}: row cap ${m[3]} outside 1..50`);
        }
      }
      const placeholders = [...String(v.PromptTemplate__c).matchAll(/\{\{([^}]+)\}\}/g)].map((m) => m[1]!);
      for (const p of placeholders) {
        if (p !== 'Question' && !fields.includes(p) && !relNames.includes(p))
          problems.push(`${a.name}: placeholder {{${p}}} not in Fields__c/RelatedRecords__c`);
      }
      if (!SECURITY_CLASSIFICATIONS.includes(v.MaxClassification__c as never)) problems.push(`${a.name}: MaxClassification__c`);
      if (!['infer', 'train', 'export'].includes(String(v.Purpose__c))) problems.push(`${a.name}: Purpose__c`);
      if (v.AutoRunOn__c !== null && !['Insert', 'Update'].includes(String(v.AutoRunOn__c))) problems.push(`${a.name}: AutoRunOn__c`);
      if (!schema.customPermissions.includes(String(v.RequiredPermission__c))) problems.push(`${a.name}: RequiredPermission__c`);
    }
    expect(problems).toEqual([]);
    expect(actions.some((a) => String(a.values.PromptTemplate__c).includes('{{Question}}'))).toBe(true);
  });
});

describe('contract: the org emulator reads its schema from these same files', () => {
  it('takes every object, field, record, channel and permission from force-app, none built in', async () => {
    const { loadPackageDefinition } = await import('../emulator/metadata.js');
    const def = loadPackageDefinition('force-app');
    expect(def.sources.builtIn).toEqual([]);
    for (const o of Object.values(schema.objects).filter((x) => x.kind !== 'standard')) {
      const emulated = def.objects.find((x) => x.name === o.name);
      expect({ o: o.name, found: !!emulated }).toEqual({ o: o.name, found: true });
      const emulatedFields = new Set(emulated!.fields.map((f) => f.name));
      expect({ o: o.name, missing: Object.keys(o.fields).filter((f) => !emulatedFields.has(f)) }).toEqual({ o: o.name, missing: [] });
    }
    for (const o of STAMPED_OBJECTS) {
      expect(def.standardObjectFields.get(o)?.some((f) => f.name === DATA_JURISDICTION_FIELD && f.origin === 'force-app')).toBe(true);
    }
    expect(def.mdtRecords.length).toBe(schema.customMetadata.length);
    expect(def.channels.map((c) => c.name).sort()).toEqual([...schema.channels].sort());
    expect(def.customPermissions.sort()).toEqual([...schema.customPermissions].sort());
    expect(def.countryNames?.germany).toBe('DE');
  });
});
