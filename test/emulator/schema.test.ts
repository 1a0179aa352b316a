// The emulator is held to the package: every custom object, event and metadata type it serves
// has exactly the fields force-app defines (with their classification), the emulated Apex
// publishes the same AiRequest__e fields AiRequestPublisher.cls sets, stamping and the audit
// guard follow the package's handlers, and the demo data's numbers carry valid checksums.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isValidIBAN } from 'ibantools';
import { CUSTOM_SCHEMA } from '../../service/src/shared/schema.js';
import { DEFAULT_FORCE_APP_DIR, DEMO, startEmulator, type RunningEmulator } from './index.js';
import { iban, luhn } from './seed/demo.js';

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** Object folder → field names, read straight from force-app (independently of the emulator's loader). */
function forceAppFields(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of walk(DEFAULT_FORCE_APP_DIR)) {
    const m = /[\\/]objects[\\/]([^\\/]+)[\\/]fields[\\/]([^\\/]+)\.field-meta\.xml$/.exec(f);
    if (m) out.set(m[1], [...(out.get(m[1]) ?? []), m[2]]);
  }
  return out;
}

describe('schema parity with force-app', () => {
  it('serves exactly the custom fields force-app defines for every package object (AiRequest__c included)', () => {
    const pkg = forceAppFields();
    const org = emu.admin.org();
    const requestFields = (pkg.get('AiRequest__c') ?? [...CUSTOM_SCHEMA.AiRequest__c]).sort();
    const served = (name: string): string[] =>
      org
        .findObject(name)!
        .fields.filter((f) => f.custom)
        .map((f) => f.name)
        .sort();
    expect(served('AiRequest__c')).toEqual(requestFields);
    for (const [obj, fields] of pkg) {
      if (!/__(c|e|mdt)$/.test(obj)) {
        // Standard objects: the package adds fields to them.
        for (const f of fields) expect(org.findObject(obj)!.fieldIndex.has(f.toLowerCase())).toBe(true);
        continue;
      }
      expect({ obj, fields: served(obj) }).toEqual({ obj, fields: [...fields].sort() });
    }
    // Objects force-app does not define yet fall back to schema.ts.
    for (const [obj, fields] of Object.entries(CUSTOM_SCHEMA)) {
      if (!pkg.has(obj)) expect(served(obj)).toEqual([...fields].sort());
    }
  });

  it('carries the package fields’ types, lengths and data classification into describe and FieldDefinition', () => {
    for (const file of walk(DEFAULT_FORCE_APP_DIR).filter((f) => /objects[\\/]AiAuditEntry__c[\\/]fields[\\/]/.test(f))) {
      const xml = readFileSync(file, 'utf8');
      const name = basename(file).replace('.field-meta.xml', '');
      const sc = /<securityClassification>([^<]+)</.exec(xml)?.[1] ?? null;
      const cg = /<complianceGroup>([^<]+)</.exec(xml)?.[1] ?? null;
      const row = emu.admin.query(
        `SELECT SecurityClassification, ComplianceGroup FROM FieldDefinition WHERE EntityDefinition.QualifiedApiName = 'AiAuditEntry__c' AND QualifiedApiName = '${name}'`,
      )[0];
      expect({ name, sc: row.SecurityClassification, cg: row.ComplianceGroup }).toEqual({ name, sc, cg });
      const len = /<length>(\d+)</.exec(xml)?.[1];
      const f = emu.admin.org().findObject('AiAuditEntry__c')!.fieldIndex.get(name.toLowerCase())!;
      if (len && /<type>(Text|LongTextArea)</.test(xml)) expect(f.length).toBe(Number(len));
    }
  });

  it('applies the sovra__ prefix in a namespaced org, channels and permissions included', () => {
    const o = emu.admin.org(DEMO.secondOrgKey);
    expect(o.findObject('sovra__AiRequest__c')!.fields.map((f) => f.name)).toContain('sovra__ExternalId__c');
    expect(o.findObject('AiRequest__c')).toBeNull();
    expect(o.channels.map((c) => c.name)).toContain('sovra__SovraEU__chn');
    expect(o.channels.flatMap((c) => c.members.map((m) => m.selectedEntity))).toContain('sovra__AiRequest__e');
    expect(emu.admin.names(DEMO.secondOrgKey).channelPath('EU')).toBe('/event/sovra__SovraEU__chn');
    expect(o.customPermissionsOf(emu.admin.userId('grace.lee@northwind-health.example.com', DEMO.secondOrgKey))).toEqual(
      expect.arrayContaining(['sovra__AiInference', 'sovra__AiJurisdictionUS']),
    );
  });
});

describe('emulated Apex', () => {
  it('publishes AiRequest__e with the fields AiRequestPublisher.cls sets (or schema.ts lists)', () => {
    const apexFile = walk(DEFAULT_FORCE_APP_DIR).find((f) => basename(f) === 'AiRequestPublisher.cls');
    let mapping: Record<string, string>;
    if (apexFile) {
      const src = readFileSync(apexFile, 'utf8');
      const block = /new\s+AiRequest__e\s*\(([\s\S]*?)\)\s*\)/.exec(src)?.[1] ?? '';
      mapping = Object.fromEntries([...block.matchAll(/(\w+__c)\s*=\s*r\.(\w+)/g)].map((m) => [m[1], m[2]]));
      expect(Object.keys(mapping).length).toBeGreaterThan(0);
    } else {
      mapping = Object.fromEntries(CUSTOM_SCHEMA.AiRequest__e.map((f) => [f, f === 'RequestId__c' ? 'Id' : f]));
    }
    const accountId = emu.admin.query("SELECT Id FROM Account WHERE Name = 'Lumière Énergie SA'")[0].Id as string;
    const out = emu.admin.submitAiRequest({ recordId: accountId, action: 'AccountSummary' }, { username: DEMO.users.euSales });
    expect(out).toMatchObject({ accepted: true, jurisdiction: 'EU', status: 'Queued' });
    const req = emu.admin.record('AiRequest__c', out.requestId!)!;
    const event = emu.admin.events().at(-1)!;
    expect(event.eventName).toBe('AiRequest__e');
    const customPayload = Object.keys(event.payload).filter((k) => k.endsWith('__c'));
    expect(customPayload.sort()).toEqual(Object.keys(mapping).sort());
    for (const [eventField, requestField] of Object.entries(mapping)) {
      expect({ eventField, value: event.payload[eventField] }).toEqual({ eventField, value: req[requestField] });
    }
  });

  it('refuses submissions the way AiRequestService does', () => {
    const de = emu.admin.query("SELECT Id FROM Account WHERE Name = 'Müller Maschinenbau GmbH'")[0].Id as string;
    const ca = emu.admin.query("SELECT Id FROM Account WHERE Name = 'Maple Ridge Credit Union'")[0].Id as string;
    expect(emu.admin.submitAiRequest({ recordId: de, action: 'AccountSummary' }, { username: DEMO.users.euNoSovra }).message).toBe(
      'You need the custom permission AiInference to run AI actions. Ask your admin for the Sovra User permission set.',
    );
    expect(emu.admin.submitAiRequest({ recordId: de, action: 'AccountSummary' }, { username: DEMO.users.usSales }).message).toBe(
      'You are not entitled to AI processing of EU records (custom permission AiJurisdictionEU).',
    );
    expect(emu.admin.submitAiRequest({ recordId: ca, action: 'AccountSummary' }, { username: DEMO.users.admin }).message).toMatch(
      /has no data jurisdiction/,
    );
    expect(emu.admin.submitAiRequest({ recordId: de, action: 'Nope' }, { username: DEMO.users.admin }).message).toMatch(
      /does not exist or is inactive/,
    );
  });

  it('stamps DataJurisdiction__c like DataJurisdictionStamper', () => {
    const as = { username: DEMO.users.admin };
    const fr = emu.admin.insert('Contact', { LastName: 'Martin', MailingCountry: 'France' }, as);
    expect(emu.admin.record('Contact', fr)!.DataJurisdiction__c).toBe('EU');
    emu.admin.update('Contact', fr, { MailingCountry: 'UK' }, as);
    expect(emu.admin.record('Contact', fr)!.DataJurisdiction__c).toBe('UK');
    emu.admin.update('Contact', fr, { MailingCountry: 'Canada' }, as);
    expect(emu.admin.record('Contact', fr)!.DataJurisdiction__c).toBeNull();
    emu.admin.update('Contact', fr, { DataJurisdiction__c: ' us ' }, as);
    expect(emu.admin.record('Contact', fr)!.DataJurisdiction__c).toBe('US');
    expect(() => emu.admin.update('Contact', fr, { DataJurisdiction__c: 'XX' }, as)).toThrow(/'XX' is not an active Sovra jurisdiction/);
    const acc = emu.admin.insert('Account', { Name: 'Nordic Test AB', BillingCountry: 'Sweden' }, as);
    const cs = emu.admin.insert('Case', { Subject: 'x', AccountId: acc }, as);
    expect(emu.admin.record('Case', cs)!.DataJurisdiction__c).toBe('EU');
  });

  it('refuses every update and delete of audit entries like AuditImmutabilityHandler', () => {
    const id = emu.admin.insert('AiAuditEntry__c', { EntryKey__c: 'k-1', EventType__c: 'Completed' });
    expect(() => emu.admin.update('AiAuditEntry__c', id, { Reason__c: 'edited' })).toThrow(
      'Sovra audit records are immutable: they can be inserted, never changed or deleted.',
    );
    expect(() => emu.admin.delete('AiAuditEntry__c', id)).toThrow(/immutable/);
  });
});

describe('demo data', () => {
  it('carries valid IBANs, Luhn-valid cards and jurisdictions for every country', () => {
    expect(iban('DE', '370400440532013000')).toBe('DE89370400440532013000');
    expect(luhn('411111111111111')).toBe('4111111111111111');
    const text = [...emu.admin.records('Case'), ...emu.admin.records('Contact'), ...emu.admin.records('Lead')]
      .map((r) => String(r.Description ?? ''))
      .join('\n');
    const ibans = text.match(/\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b/g) ?? [];
    expect(ibans.length).toBeGreaterThanOrEqual(6);
    for (const i of ibans) expect({ i, valid: isValidIBAN(i.replace(/ /g, '')) }).toEqual({ i, valid: true });
    const cards = (text.match(/\b(?:\d[ -]?){13,19}\b/g) ?? [])
      .map((c) => c.replace(/[ -]/g, ''))
      .filter((c) => /^[345]/.test(c) && c.length >= 15);
    expect(cards.length).toBeGreaterThanOrEqual(4);
    const luhnOk = (n: string): boolean => luhn(n.slice(0, -1)) === n;
    for (const c of cards) expect({ c, ok: luhnOk(c) }).toEqual({ c, ok: true });
    const byCountry = Object.fromEntries(emu.admin.records('Account').map((a) => [a.Name, a.DataJurisdiction__c]));
    expect(byCountry).toMatchObject({
      'Müller Maschinenbau GmbH': 'EU',
      'Lumière Énergie SA': 'EU',
      'Van der Berg Logistiek B.V.': 'EU',
      'Shannon Medical Devices Ltd': 'EU',
      'Thames Capital Partners Ltd': 'UK',
      'Granite Peak Health Inc.': 'US',
      'Maple Ridge Credit Union': null,
    });
  });
});
