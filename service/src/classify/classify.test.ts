import { describe, expect, it } from '@jest/globals';
import { classifyField, createClassifier } from './index.js';
import type { FieldDefinitionRow } from './index.js';
import { isSovraError } from '../shared/errors.js';

const def = (field: string, extra: Partial<FieldDefinitionRow> = {}): FieldDefinitionRow => ({ object: 'Contact', field, ...extra });

describe('classifyField', () => {
  it('drops Restricted and MissionCritical fields from the org classification', () => {
    for (const c of ['Restricted', 'MissionCritical']) {
      const r = classifyField({ object: 'Account', field: 'Secret__c', definition: def('Secret__c', { securityClassification: c }) });
      expect(r).toMatchObject({ classification: c, handling: 'drop', source: 'org' });
    }
  });

  it('tokenizes fields in a compliance group and keeps the groups', () => {
    const r = classifyField({
      object: 'Contact',
      field: 'Nickname__c',
      definition: def('Nickname__c', { securityClassification: 'Internal', complianceGroup: 'PII;GDPR;PII' }),
    });
    expect(r).toEqual({ classification: 'Internal', complianceGroups: ['PII', 'GDPR'], handling: 'tokenize', pii: true, source: 'org' });
  });

  it('allows Public and Internal fields without personal data', () => {
    expect(
      classifyField({
        object: 'Opportunity',
        field: 'StageName',
        definition: { object: 'Opportunity', field: 'StageName', securityClassification: 'Public' },
      }),
    ).toMatchObject({
      handling: 'allow',
      pii: false,
    });
    expect(
      classifyField({
        object: 'Case',
        field: 'Status',
        definition: { object: 'Case', field: 'Status', securityClassification: 'internal' },
      }).handling,
    ).toBe('allow');
  });

  it('tokenizes Confidential fields', () => {
    expect(
      classifyField({
        object: 'Opportunity',
        field: 'Amount',
        definition: { object: 'Opportunity', field: 'Amount', securityClassification: 'Confidential' },
      }).handling,
    ).toBe('tokenize');
  });

  it('treats Email, Phone and address types and person fields as PII even when the org says Public', () => {
    for (const [field, dataType] of [
      ['Work_Email__c', 'Email'],
      ['Cell__c', 'Phone'],
      ['Home__c', 'Address'],
      ['X__c', 'email'],
    ]) {
      const r = classifyField({ object: 'Contact', field, definition: def(field, { securityClassification: 'Public', dataType }) });
      expect(r).toMatchObject({ handling: 'tokenize', pii: true, source: 'org' });
    }
    expect(classifyField({ object: 'Contact', field: 'LastName' })).toMatchObject({
      classification: 'Unclassified',
      handling: 'tokenize',
      pii: true,
      source: 'type',
    });
    expect(classifyField({ object: 'Lead', field: 'Name', definition: { object: 'Lead', field: 'Name', dataType: 'Name' } }).pii).toBe(
      true,
    );
    // An Account's or Opportunity's Name is a record name, not a person.
    expect(classifyField({ object: 'Opportunity', field: 'Name' }).pii).toBe(false);
  });

  it('never allows an unclassified field: drop by default, tokenize when configured', () => {
    expect(classifyField({ object: 'Case', field: 'Foo__c' })).toEqual({
      classification: 'Unclassified',
      complianceGroups: [],
      handling: 'drop',
      pii: false,
      source: 'default',
    });
    expect(classifyField({ object: 'Case', field: 'Foo__c', unclassifiedHandling: 'tokenize' }).handling).toBe('tokenize');
    expect(
      classifyField({
        object: 'Case',
        field: 'Foo__c',
        definition: { object: 'Case', field: 'Foo__c', securityClassification: '', dataType: 'Text(80)' },
      }).handling,
    ).toBe('drop');
  });

  it('applies FieldPolicy__mdt over the org, and config over both', () => {
    const definition = def('Description', { securityClassification: 'Public' });
    const policy = { object: 'Contact', field: 'Description', classification: 'Confidential', handling: null };
    expect(classifyField({ object: 'Contact', field: 'Description', definition, policy })).toMatchObject({
      classification: 'Confidential',
      handling: 'tokenize',
      source: 'policy',
    });
    expect(classifyField({ object: 'Contact', field: 'Description', definition, policy, override: { handling: 'allow' } })).toMatchObject({
      classification: 'Confidential',
      handling: 'allow',
      source: 'config',
    });
    expect(classifyField({ object: 'Contact', field: 'Description', definition, override: { classification: 'Internal' } })).toMatchObject({
      handling: 'allow',
      source: 'config',
    });
  });

  it('drops a field a row still classifies Restricted, whatever handling the row names', () => {
    const r = classifyField({
      object: 'Contact',
      field: 'Ssn__c',
      policy: { object: 'Contact', field: 'Ssn__c', classification: 'Restricted', handling: 'allow' },
    });
    expect(r.handling).toBe('drop');
    const r2 = classifyField({
      object: 'Contact',
      field: 'Ssn__c',
      definition: def('Ssn__c', { securityClassification: 'Restricted' }),
      override: { handling: 'tokenize' },
    });
    expect(r2.handling).toBe('drop');
  });

  it('rejects malformed rows with a validation error naming the row', () => {
    const bad = [
      () => classifyField({ object: 'A', field: 'B', definition: { object: 'A', field: 'B', securityClassification: 'TopSecret' } }),
      () => classifyField({ object: 'A', field: 'B', policy: { object: 'A', field: 'B', handling: 'mask' } }),
      () => classifyField({ object: 'A', field: 'B', override: {} }),
    ];
    for (const f of bad) {
      try {
        f();
        throw new Error('no error');
      } catch (e) {
        expect(isSovraError(e) && e.kind === 'validation').toBe(true);
        expect((e as Error).message).toMatch(/A\.B|FieldDefinition|FieldPolicy|config/);
      }
    }
  });
});

describe('createClassifier', () => {
  const rows: FieldDefinitionRow[] = [
    { object: 'Contact', field: 'Email', securityClassification: 'Confidential', complianceGroup: 'PII', dataType: 'Email' },
    { object: 'Contact', field: 'Department', securityClassification: 'Internal', dataType: 'Text(80)' },
    { object: 'Contact', field: 'HealthNotes__c', securityClassification: 'Restricted', complianceGroup: 'HIPAA' },
  ];

  it('loads FieldDefinition rows once per tenant and object, shares concurrent loads, and refreshes after the TTL', async () => {
    const calls: string[] = [];
    let t = 0;
    const c = createClassifier({
      loadFieldDefinitions: async (tenant, object) => {
        calls.push(`${tenant}/${object}`);
        return rows;
      },
      ttlMs: 1000,
      now: () => t,
    });
    const [a, b] = await Promise.all([
      c.classify('00D1', 'Contact', ['Email']),
      c.classify('00D1', 'Contact', ['Department', 'HealthNotes__c', 'Foo__c']),
    ]);
    expect(a.Email).toMatchObject({ handling: 'tokenize', pii: true, complianceGroups: ['PII'] });
    expect(b.Department.handling).toBe('allow');
    expect(b.HealthNotes__c.handling).toBe('drop');
    expect(b.Foo__c).toMatchObject({ classification: 'Unclassified', handling: 'drop' });
    await c.classify('00D2', 'Contact', ['Email']);
    expect(calls).toEqual(['00D1/Contact', '00D2/Contact']);
    t = 2000;
    await c.classify('00D1', 'Contact', ['Email']);
    expect(calls).toHaveLength(3);
    c.invalidate('00D1');
    await c.classify('00D1', 'Contact', ['Email']);
    expect(calls).toHaveLength(4);
  });

  it('does not cache a failed load and fails the request instead of allowing fields', async () => {
    let fail = true;
    const c = createClassifier({
      loadFieldDefinitions: async () => {
        if (fail) throw new Error('INVALID_SESSION_ID');
        return rows;
      },
    });
    await expect(c.classify('00D1', 'Contact', ['Department'])).rejects.toThrow('INVALID_SESSION_ID');
    fail = false;
    expect((await c.classify('00D1', 'Contact', ['Department'])).Department.handling).toBe('allow');
  });

  it('applies policies and overrides case-insensitively and validates its options', async () => {
    const c = createClassifier({
      loadFieldDefinitions: async () => rows,
      policies: [{ object: 'contact', field: 'department', classification: 'Confidential', handling: '' }],
      overrides: { 'Contact.Foo__c': { handling: 'allow' } },
      unclassifiedHandling: 'tokenize',
    });
    const r = await c.classify('00D1', 'Contact', ['Department', 'Foo__c', 'Bar__c']);
    expect(r.Department).toMatchObject({ handling: 'tokenize', source: 'policy' });
    expect(r.Foo__c).toMatchObject({ handling: 'allow', source: 'config' });
    expect(r.Bar__c.handling).toBe('tokenize');
    expect(() => createClassifier({ loadFieldDefinitions: async () => [], unclassifiedHandling: 'allow' as 'drop' })).toThrow(
      /is not allowed/,
    );
    expect(() => createClassifier({ loadFieldDefinitions: async () => [], overrides: { Email: { handling: 'drop' } } })).toThrow(
      /Object\.Field/,
    );
  });
});
