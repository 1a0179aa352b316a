/**
 * REST API resources under `/services/data/vXX.X/` (REST API Developer Guide; shapes in
 * salesforce-wire.md §2 and test/emulator/README.md). Each handler returns status + JSON;
 * errors are thrown as SalesforceApiError and rendered as `[{"message","errorCode"[,"fields"]}]`.
 */
import type { FieldDef, ObjectDef } from './metadata.js';
import { eventSchema, schemaId, type Access, type Org, type Rec, type WriteContext } from './org.js';
import { childRelationships, runQuery } from './query.js';
import { SalesforceApiError, normalizeId, notFound, randomLocator } from './util.js';

export interface RestResult {
  status: number;
  body?: unknown;
}

export interface RestRequest {
  org: Org;
  /** The emulator's base URL (instance URL). */
  baseUrl: string;
  userId: string;
  version: string;
  method: string;
  /** Path segments after `/services/data/vXX.X/`. */
  parts: string[];
  query: URLSearchParams;
  /** The user's object/field security (null: unrestricted). */
  access: Access | null;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

interface Cursor {
  records: Rec[];
  totalSize: number;
  batch: number;
  tooling: boolean;
  touched: number;
}

/** Open query cursors per org (real ones expire after 15 min of inactivity). */
const cursors = new WeakMap<Org, Map<string, Cursor>>();

const RELEASES: [string, string][] = [
  ['31.0', "Summer '14"],
  ['32.0', "Winter '15"],
  ['33.0', "Spring '15"],
  ['34.0', "Summer '15"],
  ['35.0', "Winter '16"],
  ['36.0', "Spring '16"],
  ['37.0', "Summer '16"],
  ['38.0', "Winter '17"],
  ['39.0', "Spring '17"],
  ['40.0', "Summer '17"],
  ['41.0', "Winter '18"],
  ['42.0', "Spring '18"],
  ['43.0', "Summer '18"],
  ['44.0', "Winter '19"],
  ['45.0', "Spring '19"],
  ['46.0', "Summer '19"],
  ['47.0', "Winter '20"],
  ['48.0', "Spring '20"],
  ['49.0', "Summer '20"],
  ['50.0', "Winter '21"],
  ['51.0', "Spring '21"],
  ['52.0', "Summer '21"],
  ['53.0', "Winter '22"],
  ['54.0', "Spring '22"],
  ['55.0', "Summer '22"],
  ['56.0', "Winter '23"],
  ['57.0', "Spring '23"],
  ['58.0', "Summer '23"],
  ['59.0', "Winter '24"],
  ['60.0', "Spring '24"],
  ['61.0', "Summer '24"],
  ['62.0', "Winter '25"],
  ['63.0', "Spring '25"],
  ['64.0', "Summer '25"],
  ['65.0', "Winter '26"],
  ['66.0', "Spring '26"],
];
export const SUPPORTED_VERSIONS = RELEASES.map(([v]) => v);

/** `GET /services/data/` — unauthenticated (REST API Developer Guide, "Versions"). */
export function versionsBody(): unknown {
  return RELEASES.map(([version, label]) => ({ label, url: `/services/data/v${version}`, version }));
}

export function handleRest(r: RestRequest): RestResult {
  const [head, ...rest] = r.parts;
  switch (head) {
    case undefined:
    case '':
      return get(r, () => ({ ...resourcesBody(r.version), identity: `${r.baseUrl}/id/${r.org.orgId}/${r.userId}` }));
    case 'limits':
      return get(r, () => limitsBody(r.org));
    case 'sobjects':
      return sobjects(r, rest);
    case 'query':
    case 'queryAll':
      return query(r, rest, head === 'queryAll', false);
    case 'tooling':
      if (rest[0] === 'query') return query(r, rest.slice(1), false, true);
      if (rest[0] === 'sobjects' && rest.length === 1) return get(r, () => describeGlobal(r.org, r.version, true, r.access));
      throw notFound();
    case 'event':
      if (rest[0] === 'eventSchema' && rest.length === 2) {
        const obj = [...r.org.objects.values()].find((o) => o.kind === 'event' && schemaId(o) === rest[1]);
        if (!obj) throw notFound();
        return get(r, () => eventSchema(obj, payloadFormat(r)));
      }
      throw notFound();
    case 'composite':
      if (rest[0] === 'sobjects') return collections(r, rest.slice(1));
      throw notFound();
    default:
      throw notFound();
  }
}

function payloadFormat(r: RestRequest): 'EXPANDED' | 'COMPACT' {
  const v = r.query.get('payloadFormat');
  if (v === null || v === 'EXPANDED' || v === 'COMPACT') return v ?? 'EXPANDED';
  // Documented as a 400 for an invalid payloadFormat; the body text is emulator wording.
  throw new SalesforceApiError(400, 'INVALID_INPUT', `Invalid payloadFormat '${v}'. Valid values are EXPANDED and COMPACT.`);
}

function get(r: RestRequest, f: () => unknown): RestResult {
  if (r.method !== 'GET' && r.method !== 'HEAD') throw methodNotAllowed(r.method, 'GET,HEAD');
  return { status: 200, body: f() };
}

function methodNotAllowed(m: string, allowed: string): SalesforceApiError {
  return new SalesforceApiError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${m}' not allowed. Allowed are ${allowed}`);
}

function resourcesBody(v: string): Rec {
  const base = `/services/data/v${v}`;
  return Object.fromEntries(
    [
      'tooling',
      'metadata',
      'eclair',
      'folders',
      'prechatForms',
      'chatter',
      'tabs',
      'appMenu',
      'quickActions',
      'queryAll',
      'commerce',
      'wave',
      'iot',
      'analytics',
      'search',
      'identity',
      'composite',
      'parameterizedSearch',
      'fingerprint',
      'theme',
      'nouns',
      'event',
      'serviceTemplates',
      'recent',
      'connect',
      'licensing',
      'limits',
      'process',
      'async-queries',
      'query',
      'match',
      'emailConnect',
      'compactLayouts',
      'knowledgeManagement',
      'sobjects',
      'actions',
      'support',
    ].map((k) => [k, `${base}/${k}`]),
  );
}

function limitsBody(org: Org): Rec {
  const lim = (max: number, used = 0): Rec => ({ Max: max, Remaining: Math.max(0, max - used) });
  return {
    ConcurrentAsyncGetReportInstances: lim(200),
    ConcurrentSyncReportRuns: lim(20),
    DailyApiRequests: lim(org.apiRequestLimit, org.apiCalls),
    DailyAsyncApexExecutions: lim(250000),
    DailyBulkApiBatches: lim(15000),
    DailyBulkV2QueryFileStorageMB: lim(976562),
    DailyBulkV2QueryJobs: lim(10000),
    DailyDurableGenericStreamingApiEvents: lim(1000000),
    DailyDurableStreamingApiEvents: lim(1000000),
    DailyGenericStreamingApiEvents: lim(10000),
    DailyStandardVolumePlatformEvents: lim(10000),
    DailyStreamingApiEvents: lim(1000000),
    DataStorageMB: lim(1024),
    DurableStreamingApiConcurrentClients: lim(2000),
    FileStorageMB: lim(2048),
    HourlyPublishedPlatformEvents: lim(250000, org.events.length),
    HourlyPublishedStandardVolumePlatformEvents: lim(1000),
    MassEmail: lim(5000),
    MonthlyPlatformEventsUsageEntitlement: lim(1500000),
    SingleEmail: lim(5000),
    StreamingApiConcurrentClients: lim(2000),
  };
}

// ------------------------------------------------------------------------------ describe

export function describeObject(org: Org, o: ObjectDef, version: string, access: Access | null = null): Rec {
  const base = `/services/data/v${version}/sobjects/${o.name}`;
  const isData =
    o.kind !== 'event' && o.kind !== 'mdt' && !o.toolingOnly && !['Organization', 'FieldDefinition', 'EntityDefinition'].includes(o.name);
  return {
    actionOverrides: [],
    activateable: false,
    childRelationships: childRelationships(org, o),
    compactLayoutable: isData,
    createable: isData || o.kind === 'event',
    custom: o.custom,
    customSetting: false,
    deepCloneable: false,
    defaultImplementation: null,
    deletable: isData,
    deprecatedAndHidden: false,
    extendedBy: null,
    extendsInterfaces: null,
    feedEnabled: false,
    fields: o.fields
      .filter((f) => !access || access.fieldRead(o, f))
      .map((f) => {
        const d = describeField(f);
        // FLS shows in describe: a read-only field is neither createable nor updateable for this user.
        if (access && !access.fieldEdit(o, f)) Object.assign(d, { createable: false, updateable: false });
        return d;
      }),
    hasSubtypes: false,
    implementedBy: null,
    implementsInterfaces: null,
    isInterface: false,
    isSubtype: false,
    keyPrefix: o.keyPrefix,
    label: o.label,
    labelPlural: o.labelPlural,
    layoutable: isData,
    listviewable: null,
    lookupLayoutable: null,
    mergeable: false,
    mruEnabled: isData,
    name: o.name,
    namedLayoutInfos: [],
    networkScopeFieldName: null,
    queryable: o.kind !== 'event',
    recordTypeInfos: [],
    replicateable: isData,
    retrieveable: o.kind !== 'event',
    searchLayoutable: isData,
    searchable: isData,
    sobjectDescribeOption: 'FULL',
    supportedScopes: isData ? [{ label: 'All', name: 'everything' }] : [],
    triggerable: isData || o.kind === 'event',
    undeletable: isData,
    updateable: isData,
    urls: { rowTemplate: `${base}/{ID}`, describe: `${base}/describe`, sobject: base },
  };
}

/** One describe field entry, attribute set as in the recorded User describe (salesforce-wire.md §2.6). */
export function describeField(f: FieldDef): Rec {
  const text = ['string', 'textarea', 'picklist', 'multipicklist', 'phone', 'email', 'url'].includes(f.type);
  const soapType: Record<string, string> = {
    id: 'tns:ID',
    reference: 'tns:ID',
    string: 'xsd:string',
    textarea: 'xsd:string',
    picklist: 'xsd:string',
    multipicklist: 'xsd:string',
    phone: 'xsd:string',
    email: 'xsd:string',
    url: 'xsd:string',
    boolean: 'xsd:boolean',
    datetime: 'xsd:dateTime',
    date: 'xsd:date',
    double: 'xsd:double',
    currency: 'xsd:double',
    percent: 'xsd:double',
    int: 'xsd:int',
  };
  const longText = f.type === 'textarea' && f.length > 255;
  return {
    aggregatable: !longText,
    aiPredictionField: false,
    autoNumber: f.autoNumber,
    byteLength: text || f.type === 'id' || f.type === 'reference' ? f.length * 3 : 0,
    calculated: f.calculated,
    calculatedFormula: null,
    cascadeDelete: false,
    caseSensitive: false,
    compoundFieldName: null,
    controllerName: null,
    createable: f.createable,
    custom: f.custom,
    defaultValue: f.type === 'boolean' ? f.defaultValue === true : f.defaultValue,
    defaultValueFormula: null,
    defaultedOnCreate: f.defaultedOnCreate,
    dependentPicklist: false,
    deprecatedAndHidden: false,
    digits: f.type === 'int' ? 9 : 0,
    displayLocationInDecimal: false,
    encrypted: false,
    externalId: f.externalId,
    extraTypeInfo: f.extraTypeInfo,
    filterable: !longText,
    filteredLookupInfo: null,
    formulaTreatNullNumberAsZero: false,
    groupable: !longText && !['double', 'currency', 'percent', 'datetime'].includes(f.type),
    highScaleNumber: false,
    htmlFormatted: f.htmlFormatted,
    idLookup: f.type === 'id' || f.externalId || f.unique,
    inlineHelpText: null,
    label: f.label,
    length: text || f.type === 'id' || f.type === 'reference' ? f.length : 0,
    mask: null,
    maskType: null,
    name: f.name,
    nameField: f.nameField,
    namePointing: f.type === 'reference' && f.referenceTo.length > 1,
    nillable: f.nillable,
    permissionable: f.nillable && f.type !== 'id' && !f.nameField,
    picklistValues: f.picklistValues.map((value) => ({
      active: true,
      defaultValue: f.defaultValue === value,
      label: value,
      validFor: null,
      value,
    })),
    polymorphicForeignKey: f.type === 'reference' && f.referenceTo.length > 1,
    precision: ['double', 'currency', 'percent'].includes(f.type) ? f.precision : 0,
    queryByDistance: false,
    referenceTargetField: null,
    referenceTo: f.referenceTo,
    relationshipName: f.relationshipName,
    relationshipOrder: null,
    restrictedDelete: false,
    restrictedPicklist: f.restrictedPicklist,
    scale: ['double', 'currency', 'percent'].includes(f.type) ? f.scale : 0,
    searchPrefilterable: false,
    soapType: soapType[f.type] ?? 'xsd:string',
    sortable: !longText,
    type: f.type,
    unique: f.unique,
    updateable: f.updateable,
    writeRequiresMasterRead: false,
  };
}

function describeGlobal(org: Org, version: string, tooling: boolean, access: Access | null = null): Rec {
  return {
    encoding: 'UTF-8',
    maxBatchSize: 200,
    sobjects: [...org.objects.values()]
      .filter((o) => (tooling || !o.toolingOnly) && (!access || access.objectRead(o)))
      .map((o) => {
        const d = describeObject(org, o, version, access);
        return {
          activateable: false,
          createable: d.createable,
          custom: o.custom,
          customSetting: false,
          deletable: d.deletable,
          deprecatedAndHidden: false,
          feedEnabled: false,
          keyPrefix: o.keyPrefix,
          label: o.label,
          labelPlural: o.labelPlural,
          layoutable: d.layoutable,
          mergeable: false,
          mruEnabled: d.mruEnabled,
          name: o.name,
          queryable: d.queryable,
          replicateable: d.replicateable,
          retrieveable: d.retrieveable,
          searchable: d.searchable,
          triggerable: d.triggerable,
          undeletable: d.undeletable,
          updateable: d.updateable,
          urls: d.urls,
        };
      }),
  };
}

// ------------------------------------------------------------------------------ sObject rows

function recordBody(org: Org, o: ObjectDef, rec: Rec, version: string, fields: string[] | null, access: Access | null): Rec {
  const out: Rec = { attributes: { type: o.name, url: `/services/data/v${version}/sobjects/${o.name}/${String(rec.Id)}` } };
  const list = fields ?? o.fields.filter((f) => !access || access.fieldRead(o, f)).map((f) => f.name);
  for (const name of list) {
    const f = o.fieldIndex.get(name.trim().toLowerCase());
    if (!f || (access && !access.fieldRead(o, f)))
      throw new SalesforceApiError(400, 'INVALID_FIELD', `No such column '${name}' on sobject of type ${o.name}`);
    out[f.name] = rec[f.name] ?? null;
  }
  return out;
}

function asObject(body: unknown): Rec {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new SalesforceApiError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object');
  }
  return body as Rec;
}

function inTransaction<T>(r: RestRequest, f: (ctx: WriteContext) => T): T {
  const { org } = r;
  const ctx = org.newContext(r.userId, false, r.access);
  try {
    const out = f(ctx);
    org.commit(ctx);
    return out;
  } catch (e) {
    org.rollback(ctx);
    throw e;
  }
}

function sobjects(r: RestRequest, rest: string[]): RestResult {
  const { org, version } = r;
  if (rest.length === 0) return get(r, () => describeGlobal(org, version, false, r.access));
  const o = org.findObject(rest[0]);
  if (!o || o.toolingOnly || (r.access && !r.access.objectRead(o))) throw notFound();
  if (rest.length === 1) {
    if (r.method === 'GET') {
      const basic = (describeGlobal(org, version, true, r.access).sobjects as Rec[]).find((x) => x.name === o.name);
      return { status: 200, body: { objectDescribe: basic, recentItems: [] } };
    }
    if (r.method !== 'POST') throw methodNotAllowed(r.method, 'GET,POST');
    const body = asObject(r.body);
    if (o.kind === 'event') {
      const uuid = inTransaction(r, (ctx) => org.insert(o.name, body, ctx));
      // 201 + OPERATION_ENQUEUED carrying the EventUuid (Platform Events Developer Guide, v55.0+).
      const errors = Number(version) >= 55 ? [{ statusCode: 'OPERATION_ENQUEUED', message: uuid, fields: [] }] : [];
      return { status: 201, body: { id: org.newId('e00'), success: true, errors } };
    }
    const id = inTransaction(r, (ctx) => org.insert(o.name, body, ctx));
    return { status: 201, body: { id, success: true, errors: [] } };
  }
  if (rest[1] === 'describe' && rest.length === 2) return get(r, () => describeObject(org, o, version, r.access));
  if (rest[1] === 'eventSchema' && rest.length === 2 && o.kind === 'event') return get(r, () => eventSchema(o, payloadFormat(r)));
  if (rest.length === 2) {
    const id = rest[1];
    switch (r.method) {
      case 'GET': {
        const rec = org.existing(o, id);
        const fields = r.query.get('fields');
        return { status: 200, body: recordBody(org, o, rec, version, fields ? fields.split(',') : null, r.access) };
      }
      case 'PATCH':
        inTransaction(r, (ctx) => org.update(o.name, id, asObject(r.body), ctx));
        return { status: 204 };
      case 'DELETE':
        inTransaction(r, (ctx) => org.delete(o.name, id, ctx));
        return { status: 204 };
      default:
        throw methodNotAllowed(r.method, 'GET,PATCH,DELETE');
    }
  }
  if (rest.length === 3) {
    const [, extField, value] = rest;
    const f = o.fieldIndex.get(extField.toLowerCase());
    if (!f || !(f.externalId || f.name === 'Id')) {
      throw new SalesforceApiError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${extField}`);
    }
    if (r.method === 'GET') {
      const hits = [...org.table(o.name).values()].filter(
        (x) => !x.IsDeleted && String(x[f.name] ?? '').toLowerCase() === value.toLowerCase(),
      );
      if (hits.length === 0) throw notFound();
      if (hits.length > 1) return { status: 300, body: hits.map((h) => `/services/data/v${version}/sobjects/${o.name}/${String(h.Id)}`) };
      return { status: 200, body: recordBody(org, o, hits[0], version, null, r.access) };
    }
    if (r.method === 'PATCH') {
      const res = inTransaction(r, (ctx) => org.upsert(o.name, f.name, value, asObject(r.body), ctx));
      // v46.0+: 201 on insert and 200 on update, both with a body (REST API Guide, "Upsert").
      return { status: res.created ? 201 : 200, body: { id: res.id, success: true, errors: [], created: res.created } };
    }
    throw methodNotAllowed(r.method, 'GET,PATCH');
  }
  throw notFound();
}

// ------------------------------------------------------------------------------ query

function query(r: RestRequest, rest: string[], all: boolean, tooling: boolean): RestResult {
  if (r.method !== 'GET') throw methodNotAllowed(r.method, 'GET');
  const { org, version } = r;
  let map = cursors.get(org);
  if (!map) cursors.set(org, (map = new Map()));
  const base = tooling ? `/services/data/v${version}/tooling/query` : `/services/data/v${version}/${all ? 'queryAll' : 'query'}`;
  if (rest.length === 1 && rest[0]) {
    const m = /^(.+)-(\d+)$/.exec(rest[0]);
    const cursor = m ? map.get(m[1]) : undefined;
    if (!m || !cursor) throw new SalesforceApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    cursor.touched = Date.now();
    return { status: 200, body: page(map, m[1], cursor, Number(m[2]), base) };
  }
  const q = r.query.get('q');
  if (q === null) throw new SalesforceApiError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
  const res = runQuery(org, q, { version, tooling, includeDeleted: all, access: r.access });
  const opt = String(r.headers['sforce-query-options'] ?? '');
  const bm = /batchSize=(\d+)/i.exec(opt);
  // batchSize is a hint: 200..2000 (REST API Guide, "Query Options Header").
  const batch = bm ? Math.min(2000, Math.max(200, Number(bm[1]))) : org.queryBatchSize;
  const locator = randomLocator();
  const cursor: Cursor = { records: res.records, totalSize: res.totalSize, batch, tooling, touched: Date.now() };
  if (res.records.length > batch) map.set(locator, cursor);
  return { status: 200, body: page(map, locator, cursor, 0, base) };
}

function page(map: Map<string, Cursor>, locator: string, c: Cursor, pos: number, base: string): Rec {
  const records = c.records.slice(pos, pos + c.batch);
  const next = pos + c.batch;
  const done = next >= c.records.length;
  if (done) map.delete(locator);
  const out: Rec = { totalSize: c.totalSize, done };
  if (!done) out.nextRecordsUrl = `${base}/${locator}-${next}`;
  out.records = records;
  return out;
}

// ------------------------------------------------------------------------------ collections

type SaveResult = Rec;

function errorItem(e: unknown): SaveResult {
  if (e instanceof SalesforceApiError) {
    return { success: false, errors: [{ statusCode: e.errorCode, message: e.message, fields: e.fields ?? [] }] };
  }
  throw e;
}

const ROLLED_BACK: SaveResult = {
  success: false,
  errors: [
    {
      statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
      message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
      fields: [],
    },
  ],
};

/**
 * Runs each item in its own transaction, or all in one with allOrNone (failed items keep
 * their own error, the rest get ALL_OR_NONE_OPERATION_ROLLED_BACK). HTTP 200 either way.
 */
function runItems<T>(r: RestRequest, items: T[], allOrNone: boolean, op: (item: T, ctx: WriteContext) => SaveResult): SaveResult[] {
  const { org, userId, access } = r;
  if (!allOrNone) {
    return items.map((item) => {
      const ctx = org.newContext(userId, false, access);
      try {
        const out = op(item, ctx);
        org.commit(ctx);
        return out;
      } catch (e) {
        org.rollback(ctx);
        return errorItem(e);
      }
    });
  }
  const ctx = org.newContext(userId, false, access);
  const results = items.map((item) => {
    try {
      return op(item, ctx);
    } catch (e) {
      return errorItem(e);
    }
  });
  if (results.some((x) => x.success === false)) {
    org.rollback(ctx);
    return results.map((x) => (x.success === false ? x : ROLLED_BACK));
  }
  org.commit(ctx);
  return results;
}

function collectionBody(r: RestRequest): { allOrNone: boolean; records: Rec[] } {
  const body = asObject(r.body);
  const records = body.records;
  if (!Array.isArray(records)) throw new SalesforceApiError(400, 'JSON_PARSER_ERROR', 'records: expected an array of sObjects');
  if (records.length > 200) {
    throw new SalesforceApiError(400, 'EXCEEDED_ID_LIMIT', 'record limit reached. cannot submit more than 200 records into this call');
  }
  return { allOrNone: body.allOrNone === true, records: records.map((x) => asObject(x)) };
}

function typeOf(rec: Rec): string {
  const t = (rec.attributes as Rec | undefined)?.type;
  if (typeof t !== 'string' || !t) {
    throw new SalesforceApiError(400, 'INVALID_TYPE', 'Must send a concrete entity type.');
  }
  return t;
}

function stripMeta(rec: Rec): Rec {
  const { attributes: _a, id: _id, Id: _Id, ...rest } = rec;
  void _a;
  void _id;
  void _Id;
  return rest;
}

function collections(r: RestRequest, rest: string[]): RestResult {
  const { org } = r;
  if (rest.length === 0) {
    switch (r.method) {
      case 'POST': {
        const { allOrNone, records } = collectionBody(r);
        return {
          status: 200,
          body: runItems(r, records, allOrNone, (rec, ctx) => {
            if (rec.id !== undefined || rec.Id !== undefined) {
              throw new SalesforceApiError(400, 'INVALID_FIELD', 'The Id field should not be specified in the sobject data.');
            }
            const o = org.findObject(typeOf(rec));
            if (!o) throw new SalesforceApiError(400, 'INVALID_TYPE', `sObject type '${typeOf(rec)}' is not supported.`);
            const id = org.insert(o.name, stripMeta(rec), ctx);
            return { id: o.kind === 'event' ? org.newId('e00') : id, success: true, errors: [] };
          }),
        };
      }
      case 'PATCH': {
        const { allOrNone, records } = collectionBody(r);
        return {
          status: 200,
          body: runItems(r, records, allOrNone, (rec, ctx) => {
            const id = rec.id ?? rec.Id;
            if (typeof id !== 'string') throw new SalesforceApiError(400, 'MISSING_ARGUMENT', 'Id not specified in an update call', []);
            org.update(typeOf(rec), id, stripMeta(rec), ctx);
            return { id: normalizeId(id) ?? id, success: true, errors: [] };
          }),
        };
      }
      case 'DELETE': {
        const ids = (r.query.get('ids') ?? '').split(',').filter(Boolean);
        if (ids.length === 0) throw new SalesforceApiError(400, 'REQUIRED_FIELD_MISSING', 'At least 1 Id is required.');
        if (ids.length > 200)
          throw new SalesforceApiError(
            400,
            'EXCEEDED_ID_LIMIT',
            'record limit reached. cannot submit more than 200 records into this call',
          );
        return {
          status: 200,
          body: runItems(r, ids, r.query.get('allOrNone') === 'true', (id, ctx) => {
            org.delete(null, id, ctx);
            return { id: normalizeId(id) ?? id, success: true, errors: [] };
          }),
        };
      }
      default:
        throw methodNotAllowed(r.method, 'POST,PATCH,DELETE');
    }
  }
  const o = org.findObject(rest[0]);
  if (!o || (r.access && !r.access.objectRead(o))) throw notFound();
  if (rest.length === 1 && r.method === 'POST') {
    // Retrieve many: {ids, fields} → array of records or null (REST API Guide, "SObject Collections Retrieve").
    const body = asObject(r.body);
    const ids = Array.isArray(body.ids) ? body.ids.map(String) : [];
    const fields = Array.isArray(body.fields) ? body.fields.map(String) : null;
    if (!fields?.length) throw new SalesforceApiError(400, 'REQUIRED_FIELD_MISSING', 'At least 1 field is required.');
    return {
      status: 200,
      body: ids.map((id) => {
        const rec = org.get(o.name, id);
        return rec ? recordBody(org, o, rec, r.version, fields, r.access) : null;
      }),
    };
  }
  if (rest.length === 2 && r.method === 'PATCH') {
    const extField = rest[1];
    const f = o.fieldIndex.get(extField.toLowerCase());
    if (!f || !(f.externalId || f.name === 'Id')) {
      throw new SalesforceApiError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${extField}`);
    }
    const { allOrNone, records } = collectionBody(r);
    return {
      status: 200,
      body: runItems(r, records, allOrNone, (rec, ctx) => {
        const value = Object.entries(rec).find(([k]) => k.toLowerCase() === f.name.toLowerCase())?.[1];
        if (value === undefined || value === null || value === '') {
          throw new SalesforceApiError(400, 'MISSING_ARGUMENT', `${f.name} not specified`, [f.name]);
        }
        const res = org.upsert(o.name, f.name, String(value), stripMeta(rec), ctx);
        return { id: res.id, success: true, errors: [], created: res.created };
      }),
    };
  }
  throw notFound();
}
