// REST conformance: jsforce (the sidecar's client) against the emulator — query with parent
// paths, filters, date literals and pagination; CRUD; upsert; Composite sObject collections;
// describe; limits and the Sforce-Limit-Info header; real error bodies; API accounting and
// faults; tenant separation and the namespaced org.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jsforce from 'jsforce';
import { DEMO, startEmulator, type RunningEmulator } from './index.js';

let emu: RunningEmulator;
let conn: jsforce.Connection;

const connect = (org?: string, username?: string): jsforce.Connection => {
  const s = emu.admin.session({ org, username });
  return new jsforce.Connection({ instanceUrl: s.instanceUrl, accessToken: s.accessToken, version: '62.0' });
};

async function rawGet(
  path: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const r = await fetch(emu.url + path, { headers: { Authorization: `Bearer ${token}`, ...headers } });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : null };
}

beforeAll(async () => {
  emu = await startEmulator();
  conn = connect();
});
afterAll(async () => {
  await emu.close();
});

describe('versions and resources', () => {
  it('lists versions without authentication, as jsforce/@salesforce/core expect', async () => {
    const r = await fetch(`${emu.url}/services/data/`);
    const body = (await r.json()) as { version: string; url: string; label: string }[];
    expect(r.status).toBe(200);
    expect(body[0]).toEqual({ label: "Summer '14", url: '/services/data/v31.0', version: '31.0' });
    expect(body.map((v) => v.version)).toContain('62.0');
  });
});

describe('query', () => {
  it('returns parent paths as nested records with attributes, and stamps jurisdictions', async () => {
    const res = await conn.query<Record<string, unknown>>(
      "SELECT Id, Name, Email, Account.Name, Account.BillingCountry, DataJurisdiction__c FROM Contact WHERE Account.BillingCountry IN ('Germany', 'DE') ORDER BY LastName",
    );
    expect(res.totalSize).toBe(2);
    expect(res.done).toBe(true);
    const [first] = res.records;
    expect(first.attributes).toEqual({ type: 'Contact', url: `/services/data/v62.0/sobjects/Contact/${String(first.Id)}` });
    expect(first.Name).toBe('Jörg Hoffmann');
    expect((first.Account as Record<string, unknown>).attributes).toMatchObject({ type: 'Account' });
    expect(res.records.map((r) => r.DataJurisdiction__c)).toEqual(['EU', 'EU']);
    expect(String(first.Id)).toHaveLength(18);
  });

  it('supports LIKE, NOT, OR, date literals, COUNT(), OFFSET and child subqueries', async () => {
    const like = await conn.query<{ Name: string }>("SELECT Name FROM Account WHERE Name LIKE '%gmbh' OR (NOT Name LIKE '%a%')");
    expect(like.records.map((r) => r.Name)).toEqual(['Müller Maschinenbau GmbH']);
    const recent = await conn.query('SELECT COUNT() FROM Case WHERE CreatedDate = LAST_N_DAYS:7');
    expect(recent.totalSize).toBe(5);
    expect(recent.records).toEqual([]);
    const old = await conn.query<{ Subject: string }>('SELECT Subject FROM Case WHERE CreatedDate < LAST_N_DAYS:30 ORDER BY CreatedDate');
    expect(old.records.map((r) => r.Subject)).toEqual(['POS terminal offline', 'Change of bank details']);
    const today = await conn.query('SELECT Id FROM Case WHERE CreatedDate = TODAY');
    expect(today.totalSize).toBe(1);
    const paged = await conn.query<{ Name: string }>('SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 1');
    expect(paged.records.map((r) => r.Name)).toEqual(['Granite Peak Health Inc.', 'Lumière Énergie SA']);
    const nested = await conn.query<{ Name: string; Contacts: { totalSize: number; records: { LastName: string }[] } | null }>(
      "SELECT Name, (SELECT LastName FROM Contacts) FROM Account WHERE BillingCountry = 'Ireland'",
    );
    expect(nested.records[0].Contacts).toMatchObject({ totalSize: 1, done: true, records: [{ LastName: "O'Brien" }] });
    const agg = await conn.query<Record<string, unknown>>(
      'SELECT DataJurisdiction__c, COUNT(Id) n FROM Account GROUP BY DataJurisdiction__c ORDER BY DataJurisdiction__c',
    );
    expect(agg.records.map((r) => [r.DataJurisdiction__c, r.n])).toEqual([
      [null, 1],
      ['EU', 5],
      ['UK', 1],
      ['US', 2],
    ]);
    expect(agg.records[0].attributes).toEqual({ type: 'AggregateResult' });
  });

  it('checks custom permissions with the semi-join the sidecar uses', async () => {
    const q = (username: string): string =>
      `SELECT Id FROM SetupEntityAccess WHERE SetupEntityId IN (SELECT Id FROM CustomPermission WHERE DeveloperName = 'AiInference') AND ParentId IN (SELECT PermissionSetId FROM PermissionSetAssignment WHERE Assignee.Username = '${username}')`;
    expect((await conn.query(q(DEMO.users.euSales))).totalSize).toBe(1);
    expect((await conn.query(q(DEMO.users.euNoSovra))).totalSize).toBe(0);
  });

  it('pages through nextRecordsUrl (batchSize honoured, locator shape 01g…-N)', async () => {
    const token = emu.admin.session().accessToken;
    const first = await rawGet(
      `/services/data/v62.0/query?q=${encodeURIComponent("SELECT Id FROM FieldDefinition WHERE EntityDefinition.QualifiedApiName = 'Account'")}`,
      token,
      {
        'Sforce-Query-Options': 'batchSize=200',
      },
    );
    expect(first.status).toBe(200);
    const body = first.body as { totalSize: number; done: boolean; records: unknown[]; nextRecordsUrl?: string };
    expect(body.done).toBe(true); // fewer than 200 Account fields
    // A small batch size on the org forces pages.
    emu.admin.org().queryBatchSize = 3;
    try {
      const res = await conn.query<{ Name: string }>('SELECT Name FROM Account ORDER BY Name');
      expect(res.done).toBe(false);
      expect(res.records).toHaveLength(3);
      const raw = await rawGet(`/services/data/v62.0/query?q=${encodeURIComponent('SELECT Name FROM Account ORDER BY Name')}`, token);
      expect((raw.body as { nextRecordsUrl: string }).nextRecordsUrl).toMatch(/^\/services\/data\/v62\.0\/query\/01g[0-9A-Za-z]{15}-3$/);
      const all = await conn.query<{ Name: string }>('SELECT Name FROM Account ORDER BY Name').run({ autoFetch: true, maxFetch: 100 });
      expect(all.records).toHaveLength(9);
      expect(all.done).toBe(true);
      const more = await conn.queryMore<{ Name: string }>(res.nextRecordsUrl!);
      expect(more.records[0].Name).toBe(all.records[3].Name);
    } finally {
      emu.admin.org().queryBatchSize = 2000;
    }
  });

  it('queries FieldDefinition classification with its real restrictions, also via Tooling', async () => {
    const fd = await conn.query<Record<string, unknown>>(
      "SELECT QualifiedApiName, SecurityClassification, ComplianceGroup FROM FieldDefinition WHERE EntityDefinition.QualifiedApiName = 'Contact' AND QualifiedApiName IN ('Email', 'Birthdate', 'Title') LIMIT 1",
    );
    // LIMIT is silently ignored on FieldDefinition.
    expect(fd.records.map((r) => [r.QualifiedApiName, r.SecurityClassification, r.ComplianceGroup]).sort()).toEqual([
      ['Birthdate', 'Restricted', 'GDPR;PII'],
      ['Email', 'Confidential', 'GDPR;PII'],
      ['Title', null, null],
    ]);
    const tooling = await conn.tooling.query<Record<string, unknown>>(
      "SELECT QualifiedApiName, SecurityClassification FROM FieldDefinition WHERE EntityDefinition.QualifiedApiName = 'AiRequest__c' AND QualifiedApiName = 'Question__c'",
    );
    expect(tooling.records).toHaveLength(1);
    await expect(conn.query('SELECT QualifiedApiName FROM FieldDefinition')).rejects.toMatchObject({
      errorCode: 'EXTERNAL_OBJECT_UNSUPPORTED_EXCEPTION',
      message: 'FieldDefinition: a filter on a reified column is required.',
    });
    await expect(
      conn.query(
        "SELECT QualifiedApiName FROM FieldDefinition WHERE EntityDefinition.QualifiedApiName = 'Account' OR QualifiedApiName = 'Name'",
      ),
    ).rejects.toMatchObject({ errorCode: 'MALFORMED_QUERY' });
  });

  it('answers bad SOQL with the real error codes and caret messages', async () => {
    await expect(conn.query('SELECT Foo FROM Account')).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD',
      message: expect.stringContaining("ERROR at Row:1:Column:8\nNo such column 'Foo' on entity 'Account'."),
    });
    await expect(conn.query('SELECT Id FROM Nope__c')).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE',
      message: expect.stringContaining("sObject type 'Nope__c' is not supported."),
    });
    await expect(conn.query('SELECT FROM Account')).rejects.toMatchObject({ errorCode: 'MALFORMED_QUERY' });
    await expect(conn.query('SELECT Id FROM ScratchOrgInfo LIMIT 1')).rejects.toMatchObject({ errorCode: 'INVALID_TYPE' });
  });
});

describe('sObject CRUD and upsert', () => {
  it('creates, reads, updates and deletes with the real status codes and bodies', async () => {
    const created = await conn.sobject('Lead').create({ LastName: 'Nowak', Company: 'Nowak Sp. z o.o.', Country: 'Poland' });
    expect(created).toMatchObject({ success: true, errors: [] });
    const id = created.id!;
    const lead = await conn.sobject('Lead').retrieve(id);
    expect(lead).toMatchObject({ Id: id, LastName: 'Nowak', Status: 'Open - Not Contacted', DataJurisdiction__c: 'EU' });
    const updated = await conn.sobject('Lead').update({ Id: id, Country: 'United States' });
    expect(updated).toEqual({ id, success: true, errors: [] });
    expect((await conn.sobject('Lead').retrieve(id)).DataJurisdiction__c).toBe('US');
    await conn.sobject('Lead').destroy(id);
    await expect(conn.sobject('Lead').retrieve(id)).rejects.toMatchObject({ errorCode: 'ENTITY_IS_DELETED' });
    const all = await conn.query<{ IsDeleted: boolean }>(`SELECT IsDeleted FROM Lead WHERE Id = '${id}'`, { scanAll: true });
    expect(all.records).toEqual([expect.objectContaining({ IsDeleted: true })]);
  });

  it('refuses bad writes with REQUIRED_FIELD_MISSING, STRING_TOO_LONG, INVALID_FIELD and NOT_FOUND', async () => {
    await expect(conn.sobject('Contact').create({ FirstName: 'No' })).rejects.toMatchObject({
      errorCode: 'REQUIRED_FIELD_MISSING',
      data: { message: 'Required fields are missing: [LastName]', errorCode: 'REQUIRED_FIELD_MISSING', fields: ['LastName'] },
    });
    await expect(conn.sobject('Account').create({ Name: 'x'.repeat(256) })).rejects.toMatchObject({ errorCode: 'STRING_TOO_LONG' });
    await expect(conn.sobject('Account').create({ Name: 'A', Bogus__c: 1 })).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD',
      data: { message: "No such column 'Bogus__c' on sobject of type Account" },
    });
    await expect(conn.sobject('Account').retrieve('001000000000000AAA')).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
    await expect(conn.sobject('Account').create({ Name: 'A', DataJurisdiction__c: 'XX' })).rejects.toMatchObject({
      errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
    });
  });

  it('applies picklist defaults and refuses values outside a restricted picklist', async () => {
    const created = await conn.sobject('AiRequest__c').create({ Action__c: 'AccountSummary', ExternalId__c: 'req-default-1' });
    expect((await conn.sobject('AiRequest__c').retrieve(created.id!)).Status__c).toBe('Queued');
    await expect(conn.sobject('AiRequest__c').create({ Status__c: 'Sleeping' })).rejects.toMatchObject({
      errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
      data: { message: 'Status: bad value for restricted picklist field: Sleeping', fields: ['Status__c'] },
    });
    const d = await conn.sobject('AiRequest__c').describe();
    expect(d.fields.find((f) => f.name === 'Status__c')).toMatchObject({
      type: 'picklist',
      restrictedPicklist: true,
      defaultValue: 'Queued',
    });
  });

  it('upserts by external id: 201 created, then 200 updated', async () => {
    const extId = 'req-upsert-0001';
    const first = await conn
      .sobject('AiRequest__c')
      .upsert({ ExternalId__c: extId, Action__c: 'AccountSummary', Status__c: 'Processing' }, 'ExternalId__c');
    expect(first).toMatchObject({ success: true, created: true });
    const second = await conn.sobject('AiRequest__c').upsert({ ExternalId__c: extId, Status__c: 'Completed' }, 'ExternalId__c');
    expect(second).toMatchObject({ success: true, created: false, id: (first as { id: string }).id });
    const rows = emu.admin.query(`SELECT Status__c FROM AiRequest__c WHERE ExternalId__c = '${extId}'`);
    expect(rows).toEqual([expect.objectContaining({ Status__c: 'Completed' })]);
  });

  it('describes fields with their real attributes', async () => {
    const d = await conn.sobject('Contact').describe();
    const email = d.fields.find((f) => f.name === 'Email')!;
    expect(email).toMatchObject({
      type: 'email',
      length: 80,
      byteLength: 240,
      soapType: 'xsd:string',
      nillable: true,
      createable: true,
      custom: false,
    });
    const acc = d.fields.find((f) => f.name === 'AccountId')!;
    expect(acc).toMatchObject({ type: 'reference', referenceTo: ['Account'], relationshipName: 'Account', soapType: 'tns:ID' });
    expect(d.keyPrefix).toBe('003');
    const account = await conn.sobject('Account').describe();
    expect(account.childRelationships).toEqual(
      expect.arrayContaining([expect.objectContaining({ childSObject: 'Contact', field: 'AccountId', relationshipName: 'Contacts' })]),
    );
    const req = await conn.sobject('AiRequest__c').describe();
    expect(req.custom).toBe(true);
    expect(req.fields.find((f) => f.name === 'ExternalId__c')).toMatchObject({ externalId: true, custom: true });
  });
});

describe('Composite sObject collections', () => {
  it('creates, updates, upserts and deletes up to 200 records with per-item SaveResults', async () => {
    const created = await conn
      .sobject('Account')
      .create([{ Name: 'Coll A', BillingCountry: 'FR' }, { Name: 'Coll B', BillingCountry: 'US' }, { Name: '' }], { allOrNone: false });
    expect(created[0]).toMatchObject({ success: true, errors: [] });
    expect(created[1]).toMatchObject({ success: true });
    expect(created[2]).toEqual({
      success: false,
      errors: [{ statusCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [Name]', fields: ['Name'] }],
    });
    const ids = created.filter((c) => c.success).map((c) => c.id!);
    const upd = await conn.sobject('Account').update(ids.map((Id) => ({ Id, Industry: 'Energy' })));
    expect(upd.every((u) => u.success)).toBe(true);
    const ups = await conn.sobject('AiQuarantine__c').upsert(
      [
        { ExternalId__c: 'q-1', Status__c: 'Open' },
        { ExternalId__c: 'q-2', Status__c: 'Open' },
      ],
      'ExternalId__c',
    );
    expect(ups).toEqual([
      expect.objectContaining({ success: true, created: true }),
      expect.objectContaining({ success: true, created: true }),
    ]);
    const del = await conn.sobject('Account').destroy(ids);
    expect(del.map((d) => d.success)).toEqual([true, true]);
  });

  it('rolls everything back with allOrNone and marks the others ALL_OR_NONE_OPERATION_ROLLED_BACK', async () => {
    const before = emu.admin.records('Account').length;
    const res = await conn.sobject('Account').create([{ Name: 'Ok 1' }, { Name: 'x'.repeat(300) }, { Name: 'Ok 2' }], { allOrNone: true });
    expect(res[1]).toMatchObject({ success: false, errors: [{ statusCode: 'STRING_TOO_LONG' }] });
    for (const i of [0, 2]) {
      expect(res[i]).toEqual({
        success: false,
        errors: [
          {
            statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
            message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
            fields: [],
          },
        ],
      });
    }
    expect(emu.admin.records('Account')).toHaveLength(before);
  });

  it('refuses more than 200 records in one call', async () => {
    const records = Array.from({ length: 201 }, (_, i) => ({ attributes: { type: 'Account' }, Name: `Bulk ${i}` }));
    await expect(
      conn.request({
        method: 'POST',
        url: '/services/data/v62.0/composite/sobjects',
        body: JSON.stringify({ allOrNone: false, records }),
        headers: { 'content-type': 'application/json' },
      }),
    ).rejects.toMatchObject({ errorCode: 'EXCEEDED_ID_LIMIT' });
  });
});

describe('limits, accounting and faults', () => {
  it('counts REST calls per org and reports them in Sforce-Limit-Info and /limits', async () => {
    const s = emu.admin.session();
    emu.admin.resetApiUsage();
    const a = await rawGet('/services/data/v62.0/limits', s.accessToken);
    expect(a.headers.get('sforce-limit-info')).toBe('api-usage=1/15000');
    expect((a.body as Record<string, { Max: number; Remaining: number }>).DailyApiRequests).toEqual({ Max: 15000, Remaining: 14999 });
    await rawGet('/services/data/', s.accessToken); // versions: not counted
    await fetch(`${emu.url}/services/oauth2/token`, { method: 'POST', body: 'grant_type=password' }); // OAuth: not counted
    const usage = (await (await fetch(`${emu.url}/__admin/api-usage`)).json()) as Record<string, number>;
    expect(usage[s.orgId]).toBe(1);
    expect(usage[emu.admin.org(DEMO.secondOrgKey).orgId]).toBe(0);
  });

  it('injects 503, INVALID_SESSION_ID and REQUEST_LIMIT_EXCEEDED through the HTTP admin route', async () => {
    const post = (body: unknown): Promise<Response> =>
      fetch(`${emu.url}/__admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ kind: '503', count: 1 })).status).toBe(200);
    expect((await post({ kind: 'INVALID_SESSION_ID', count: 1 })).status).toBe(200);
    expect((await post({ kind: 'REQUEST_LIMIT_EXCEEDED', count: 1 })).status).toBe(200);
    expect((await post({ kind: 'NOPE', count: 1 })).status).toBe(400);
    const token = emu.admin.session().accessToken;
    const q = `/services/data/v62.0/query?q=${encodeURIComponent('SELECT Id FROM Account LIMIT 1')}`;
    const r1 = await rawGet(q, token);
    expect(r1.status).toBe(503);
    const r2 = await rawGet(q, token);
    expect(r2).toMatchObject({ status: 401, body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }] });
    const r3 = await rawGet(q, token);
    expect(r3).toMatchObject({ status: 403, body: [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }] });
    expect((await rawGet(q, token)).status).toBe(200);
  });

  it('adds the configured latency to REST calls', async () => {
    emu.admin.setLatency(150);
    try {
      const t = Date.now();
      await conn.query('SELECT Id FROM Account WITH SECURITY_ENFORCED LIMIT 1');
      expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    } finally {
      emu.admin.setLatency(0);
    }
  });

  it('returns 401 INVALID_SESSION_ID for an unknown or expired token, and enforces the daily limit', async () => {
    const bad = new jsforce.Connection({ instanceUrl: emu.url, accessToken: '00Dxx!nope', version: '62.0' });
    await expect(bad.query('SELECT Id FROM Account')).rejects.toMatchObject({ errorCode: 'INVALID_SESSION_ID' });
    const c = connect(DEMO.secondOrgKey);
    emu.admin.setApiLimit(emu.admin.apiUsage()[emu.admin.org(DEMO.secondOrgKey).orgId] + 1, DEMO.secondOrgKey);
    await c.query('SELECT Id FROM Account');
    await expect(c.query('SELECT Id FROM Account')).rejects.toMatchObject({ errorCode: 'REQUEST_LIMIT_EXCEEDED' });
    emu.admin.setApiLimit(15000, DEMO.secondOrgKey);
  });

  it('issues sessions through POST /__admin/session for the default integration user or a named one', async () => {
    const r = await fetch(`${emu.url}/__admin/session`, { method: 'POST', body: JSON.stringify({ org: DEMO.secondOrgKey }) });
    const s = (await r.json()) as { access_token: string; instance_url: string };
    expect(s.instance_url).toBe(emu.url);
    const c = new jsforce.Connection({ instanceUrl: s.instance_url, accessToken: s.access_token, version: '62.0' });
    const who = await c.query<{ Username: string }>(
      `SELECT Username FROM User WHERE Id = '${emu.admin.userId(DEMO.secondIntegrationUser, DEMO.secondOrgKey)}'`,
    );
    expect(who.records[0].Username).toBe(DEMO.secondIntegrationUser);
    const unknown = await fetch(`${emu.url}/__admin/session`, { method: 'POST', body: JSON.stringify({ username: 'nobody@example.com' }) });
    expect(unknown.status).toBe(404);
  });
});

describe('object and field security from the package permission sets (opt-in)', () => {
  beforeAll(() => emu.admin.setFieldSecurity(true));
  afterAll(() => emu.admin.setFieldSecurity(false));

  it('gives the integration user exactly what SovraIntegration grants', async () => {
    const integ = connect();
    // Read-only DataJurisdiction__c: readable, not writable (the FLS message).
    const acc = await integ.query<{ DataJurisdiction__c: string }>(
      "SELECT DataJurisdiction__c FROM Account WHERE BillingCountry = 'France'",
    );
    expect(acc.records[0].DataJurisdiction__c).toBe('EU');
    await expect(integ.sobject('Account').create({ Name: 'X', DataJurisdiction__c: 'EU' })).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
      data: { fields: ['DataJurisdiction__c'] },
    });
    // AiRequest__c: edit, no create (users create requests through the package's Apex).
    await expect(integ.sobject('AiRequest__c').create({ Action__c: 'AccountSummary' })).rejects.toMatchObject({
      errorCode: 'INSUFFICIENT_ACCESS_OR_READONLY',
    });
    const de = emu.admin.query("SELECT Id FROM Account WHERE Name = 'Müller Maschinenbau GmbH'")[0].Id as string;
    const out = emu.admin.submitAiRequest({ recordId: de, action: 'AccountSummary' }, { username: DEMO.users.euSales });
    expect(out.accepted).toBe(true);
    await integ.sobject('AiRequest__c').update({ Id: out.requestId!, Status__c: 'Processing' });
    const d = await integ.sobject('AiQuarantine__c').describe();
    expect(d.fields.find((f) => f.name === 'ResolvedBy__c')).toMatchObject({ createable: false, updateable: false });
  });

  it('hides package objects and fields from users without a Sovra permission set', async () => {
    const plain = connect(undefined, DEMO.users.euNoSovra);
    await expect(plain.query('SELECT Id FROM AiRequest__c')).rejects.toMatchObject({ errorCode: 'INVALID_TYPE' });
    await expect(plain.query('SELECT DataJurisdiction__c FROM Account')).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD',
      message: expect.stringContaining("No such column 'DataJurisdiction__c' on entity 'Account'"),
    });
    const d = await plain.sobject('Account').describe();
    expect(d.fields.map((f) => f.name)).not.toContain('DataJurisdiction__c');
    await expect(plain.sobject('AiRequest__c').describe()).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
    // A System Administrator sees everything.
    const admin = connect(undefined, DEMO.users.admin);
    expect((await admin.query('SELECT Id, Answer__c FROM AiRequest__c')).done).toBe(true);
  });
});

describe('tenants', () => {
  it('keeps orgs apart and applies the namespace prefix in the namespaced org', async () => {
    const nw = connect(DEMO.secondOrgKey);
    const accounts = await nw.query<{ Name: string; sovra__DataJurisdiction__c: string }>(
      'SELECT Name, sovra__DataJurisdiction__c FROM Account',
    );
    expect(accounts.records).toEqual([expect.objectContaining({ Name: 'Northwind Clinic Seattle', sovra__DataJurisdiction__c: 'US' })]);
    await expect(nw.query('SELECT Id FROM AiRequest__c')).rejects.toMatchObject({ errorCode: 'INVALID_TYPE' });
    const req = await nw.sobject('sovra__AiRequest__c').describe();
    expect(req.fields.map((f) => f.name)).toContain('sovra__Status__c');
    const cp = await nw.query<{ NamespacePrefix: string }>(
      "SELECT NamespacePrefix FROM CustomPermission WHERE DeveloperName = 'AiInference'",
    );
    expect(cp.records[0].NamespacePrefix).toBe('sovra');
    const demoIds = new Set(emu.admin.records('Account').map((a) => a.Id));
    expect(demoIds.has(emu.admin.records('Account', DEMO.secondOrgKey)[0].Id)).toBe(false);
  });
});
