/**
 * Runs a parsed SOQL query against an org and shapes the result as the REST API does
 * (REST API Developer Guide, "Query"; salesforce-wire.md §2.2): each record carries
 * `attributes {type,url}`, parent paths become nested records (or null), child subqueries
 * become `{totalSize,done,records}`, `COUNT()` yields only `totalSize`, aggregates come back
 * as `AggregateResult` rows with `expr0…` or their alias.
 */
import type { FieldDef, ObjectDef } from './metadata.js';
import type { Access, Org, Rec } from './org.js';
import { type Cond, type Query, type SelectItem, type Value, dateLiteralRange, parseSoql, soqlError } from './soql.js';
import { SalesforceApiError, normalizeId } from './util.js';

export interface QueryOptions {
  version: string;
  tooling: boolean;
  includeDeleted: boolean;
  /** The querying user's object/field security (null or absent: system mode). */
  access?: Access | null;
}

export interface QueryResult {
  totalSize: number;
  records: Rec[];
}

const FIELD_DEFINITION_FILTERS = ['entitydefinition.qualifiedapiname', 'entitydefinitionid', 'durableid', 'entitydefinition.durableid'];

export function runQuery(org: Org, text: string, opts: QueryOptions): QueryResult {
  const q = parseSoql(text);
  return execute(org, q, opts, null);
}

function resolveObject(org: Org, q: Query, opts: QueryOptions): ObjectDef {
  const obj = org.findObject(q.from);
  const toolingObjects = [
    'FieldDefinition',
    'EntityDefinition',
    'PlatformEventChannel',
    'PlatformEventChannelMember',
    'CustomPermission',
    'PermissionSet',
    'User',
  ];
  if (
    !obj ||
    (obj.toolingOnly && !opts.tooling) ||
    (opts.tooling && !toolingObjects.includes(obj.name)) ||
    (opts.access && !opts.access.objectRead(obj))
  ) {
    throw soqlError(
      q.text,
      q.fromPos,
      'INVALID_TYPE',
      `sObject type '${q.from}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }
  return obj;
}

interface Resolved {
  field: FieldDef | null;
  /** Relationship hops: [field on the current object, target object]. */
  hops: { ref: FieldDef; relName: string }[];
  obj: ObjectDef;
}

/** Resolves `Account.Owner.Name` against the schema, or throws INVALID_FIELD like the real API. */
function resolvePath(org: Org, root: ObjectDef, path: string[], q: Query, pos: number, access: Access | null | undefined): Resolved {
  let obj = root;
  const hops: Resolved['hops'] = [];
  const parts = path[0].toLowerCase() === root.name.toLowerCase() && path.length > 1 ? path.slice(1) : path;
  for (let i = 0; i < parts.length - 1; i++) {
    const ref = obj.fields.find((f) => f.relationshipName?.toLowerCase() === parts[i].toLowerCase());
    const target = ref ? org.findObject(ref.referenceTo[0] ?? '') : null;
    if (!ref || !target || (access && (!access.fieldRead(obj, ref) || !access.objectRead(target)))) {
      throw soqlError(
        q.text,
        pos,
        'INVALID_FIELD',
        `Didn't understand relationship '${parts[i]}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    hops.push({ ref, relName: ref.relationshipName! });
    obj = target;
  }
  const last = parts[parts.length - 1];
  const field = obj.fieldIndex.get(last.toLowerCase());
  if (!field || (access && !access.fieldRead(obj, field))) {
    throw soqlError(
      q.text,
      pos,
      'INVALID_FIELD',
      `No such column '${last}' on entity '${obj.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }
  return { field, hops, obj };
}

function readResolved(org: Org, rec: Rec, r: Resolved): unknown {
  let cur: Rec | undefined = rec;
  for (const h of r.hops) {
    const id = cur?.[h.ref.name];
    if (typeof id !== 'string') return null;
    const target = lookupRef(org, h.ref, id);
    if (!target) return null;
    cur = target;
  }
  return cur && r.field ? (cur[r.field.name] ?? null) : null;
}

function lookupRef(org: Org, ref: FieldDef, id: string): Rec | undefined {
  const target = org.findObject(ref.referenceTo[0] ?? '');
  if (target && !target.keyPrefix) return org.table(target.name).get(id);
  return org.getById(id)?.rec;
}

function execute(org: Org, q: Query, opts: QueryOptions, parentFilter: ((r: Rec) => boolean) | null): QueryResult {
  const obj = resolveObject(org, q, opts);
  const isFieldDef = obj.name === 'FieldDefinition';
  if (isFieldDef) checkFieldDefinitionRestrictions(q);
  // Validate selected fields first: errors point at the first bad column.
  const selectors = q.select.map((s) => compileSelect(org, obj, s, q, opts));
  const where = q.where ? compileCond(org, obj, q.where, q, opts) : null;
  let rows = [...org.table(obj.name).values()].filter((r) => (opts.includeDeleted || !r.IsDeleted) && (!parentFilter || parentFilter(r)));
  if (where) rows = rows.filter((r) => where(r));
  const order = q.orderBy.map((o) => ({ ...o, r: resolvePath(org, obj, o.path, q, o.pos, opts.access) }));
  if (order.length) {
    rows.sort((a, b) => {
      for (const o of order) {
        const c = compareForSort(readResolved(org, a, o.r), readResolved(org, b, o.r), o.nullsLast, o.desc);
        if (c !== 0) return c;
      }
      return 0;
    });
  }
  if (q.countOnly) {
    return { totalSize: rows.length, records: [] };
  }
  if (q.select.some((s) => s.type === 'count') || q.groupBy.length) {
    return aggregate(org, obj, q, rows, opts.access);
  }
  // FieldDefinition silently ignores LIMIT/OFFSET (Tooling API, "SOQL limitations on FieldDefinition").
  if (!isFieldDef) {
    if (q.offset !== null) {
      if (q.offset > 2000) throw new SalesforceApiError(400, 'NUMBER_OUTSIDE_VALID_RANGE', `Maximum SOQL offset allowed is 2000`);
      rows = rows.slice(q.offset);
    }
    if (q.limit !== null) rows = rows.slice(0, q.limit);
  }
  const records = rows.map((r) => {
    const out: Rec = { attributes: attributesOf(obj, r, opts.version) };
    for (const s of selectors) s(r, out);
    return out;
  });
  return { totalSize: records.length, records };
}

function checkFieldDefinitionRestrictions(q: Query): void {
  const paths: string[] = [];
  const walk = (c: Cond): void => {
    if (c.type === 'or') throw soqlError(q.text, 0, 'MALFORMED_QUERY', 'Disjunctions not supported');
    if (c.type === 'not') throw soqlError(q.text, 0, 'MALFORMED_QUERY', 'Negation not supported');
    if (c.type === 'and') return c.items.forEach(walk);
    if (c.op !== '=' && c.op !== 'IN' && c.op !== 'LIKE')
      throw soqlError(q.text, c.pos, 'MALFORMED_QUERY', 'Only equals comparisons permitted');
    paths.push(c.path.join('.').toLowerCase());
  };
  if (q.where) walk(q.where);
  if (q.countOnly || q.groupBy.length || q.select.some((s) => s.type === 'count')) {
    throw new SalesforceApiError(
      400,
      'MALFORMED_QUERY',
      'The requested operation is not yet supported by this SObject storage type, contact salesforce.com support for more information.',
    );
  }
  if (!paths.some((p) => FIELD_DEFINITION_FILTERS.includes(p))) {
    // Real org (SOAP capture on salesforce.stackexchange #73572): EXTERNAL_OBJECT_UNSUPPORTED_EXCEPTION.
    throw new SalesforceApiError(
      400,
      'EXTERNAL_OBJECT_UNSUPPORTED_EXCEPTION',
      'FieldDefinition: a filter on a reified column is required.',
    );
  }
}

function attributesOf(obj: ObjectDef, r: Rec, version: string): Rec {
  const id = r.Id ?? r.DurableId;
  const a: Rec = { type: obj.name };
  if (id !== undefined && id !== null && !(obj.name === 'FieldDefinition' || obj.name === 'EntityDefinition')) {
    a.url = `/services/data/v${version}/sobjects/${obj.name}/${String(id)}`;
  } else if (r.DurableId) {
    a.url = `/services/data/v${version}/sobjects/${obj.name}/${String(r.DurableId)}`;
  }
  return a;
}

type Selector = (r: Rec, out: Rec) => void;

function compileSelect(org: Org, obj: ObjectDef, s: SelectItem, q: Query, opts: QueryOptions): Selector {
  if (s.type === 'count') {
    if (s.path) resolvePath(org, obj, s.path, q, s.pos, opts.access);
    return () => undefined;
  }
  if (s.type === 'subquery') {
    const sub = s.query;
    const rel = findChildRelationship(org, obj, sub.from);
    if (!rel || (opts.access && (!opts.access.objectRead(rel.child) || !opts.access.fieldRead(rel.child, rel.field)))) {
      throw soqlError(
        q.text,
        sub.fromPos,
        'INVALID_TYPE',
        `Didn't understand relationship '${sub.from}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    const childQuery: Query = { ...sub, from: rel.child.name };
    // Validate now so errors surface even for parents without children.
    compileChildValidation(org, rel.child, childQuery, opts);
    return (r, out) => {
      const res = execute(org, childQuery, opts, (c) => c[rel.field.name] === r.Id);
      out[sub.from] = res.records.length ? { totalSize: res.totalSize, done: true, records: res.records } : null;
    };
  }
  const resolved = resolvePath(org, obj, s.path, q, s.pos, opts.access);
  return (r, out) => {
    let target = out;
    let cur: Rec | undefined = r;
    for (const h of resolved.hops) {
      const id: unknown = cur?.[h.ref.name];
      const next: Rec | undefined = typeof id === 'string' ? lookupRef(org, h.ref, id) : undefined;
      if (!(h.relName in target)) {
        if (!next) {
          target[h.relName] = null;
          return;
        }
        const nextObj = org.getById(String(next.Id))?.obj ?? org.findObject(h.ref.referenceTo[0] ?? '')!;
        target[h.relName] = { attributes: attributesOf(nextObj, next, opts.version) };
      }
      const nested = target[h.relName];
      if (nested === null || typeof nested !== 'object') return;
      target = nested as Rec;
      cur = next;
    }
    target[resolved.field!.name] = cur ? (cur[resolved.field!.name] ?? null) : null;
  };
}

function compileChildValidation(org: Org, child: ObjectDef, q: Query, opts: QueryOptions): void {
  for (const s of q.select) compileSelect(org, child, s, q, opts);
  if (q.where) compileCond(org, child, q.where, q, opts);
}

function findChildRelationship(org: Org, parent: ObjectDef, relName: string): { child: ObjectDef; field: FieldDef } | null {
  for (const o of org.objects.values()) {
    for (const f of o.fields) {
      if (f.childRelationshipName?.toLowerCase() === relName.toLowerCase() && f.referenceTo.includes(parent.name)) {
        return { child: o, field: f };
      }
    }
  }
  return null;
}

/** Child relationships of an object, for describe. */
export function childRelationships(org: Org, parent: ObjectDef): Rec[] {
  const out: Rec[] = [];
  for (const o of org.objects.values()) {
    for (const f of o.fields) {
      if (f.type === 'reference' && f.referenceTo.includes(parent.name)) {
        out.push({
          cascadeDelete: false,
          childSObject: o.name,
          deprecatedAndHidden: false,
          field: f.name,
          junctionIdListNames: [],
          junctionReferenceTo: [],
          relationshipName: f.childRelationshipName,
          restrictedDelete: false,
        });
      }
    }
  }
  return out;
}

function compareForSort(a: unknown, b: unknown, nullsLast: boolean, desc: boolean): number {
  const an = a === null || a === undefined;
  const bn = b === null || b === undefined;
  if (an || bn) {
    if (an && bn) return 0;
    return (an ? -1 : 1) * (nullsLast ? -1 : 1);
  }
  let c: number;
  if (typeof a === 'number' && typeof b === 'number') c = a - b;
  else if (typeof a === 'boolean' && typeof b === 'boolean') c = Number(a) - Number(b);
  else c = String(a).toLowerCase().localeCompare(String(b).toLowerCase());
  return desc ? -c : c;
}

type Pred = (r: Rec) => boolean;

function compileCond(org: Org, obj: ObjectDef, c: Cond, q: Query, opts: QueryOptions): Pred {
  if (c.type === 'and') {
    const ps = c.items.map((i) => compileCond(org, obj, i, q, opts));
    return (r) => ps.every((p) => p(r));
  }
  if (c.type === 'or') {
    const ps = c.items.map((i) => compileCond(org, obj, i, q, opts));
    return (r) => ps.some((p) => p(r));
  }
  if (c.type === 'not') {
    const p = compileCond(org, obj, c.item, q, opts);
    return (r) => !p(r);
  }
  const resolved = resolvePath(org, obj, c.path, q, c.pos, opts.access);
  const f = resolved.field!;
  let semi: Set<string> | null = null;
  if (c.value.kind === 'subquery') {
    const sub = c.value.query;
    if (sub.select.length !== 1 || sub.select[0].type !== 'field') {
      throw soqlError(q.text, sub.fromPos, 'MALFORMED_QUERY', 'semi join sub-selects can only select one field');
    }
    const res = execute(org, sub, { ...opts, includeDeleted: false }, null);
    const key = (sub.select[0] as { path: string[] }).path;
    semi = new Set(
      res.records.map((r) => {
        let v: unknown = r;
        for (const k of key)
          v = v && typeof v === 'object' ? (v as Rec)[Object.keys(v as Rec).find((x) => x.toLowerCase() === k.toLowerCase()) ?? k] : null;
        return String(v);
      }),
    );
  }
  return (r) => {
    const v = readResolved(org, r, resolved);
    return matches(f, v, c.op, c.value, semi, org.clock.now());
  };
}

/** Evaluates one comparison the way SOQL does (string equality is case-insensitive). */
export function matches(f: FieldDef | null, v: unknown, op: string, value: Value, semi: Set<string> | null, now: number): boolean {
  if (semi) {
    const hit = v !== null && v !== undefined && semi.has(String(v));
    return op === 'IN' ? hit : !hit;
  }
  const isNull = v === null || v === undefined;
  if (value.kind === 'null') {
    if (op === '=') return isNull || (f?.type === 'boolean' && v === false && false);
    if (op === '!=') return !isNull;
    return false;
  }
  if (op === 'IN' || op === 'NOT IN') {
    const items = value.kind === 'list' ? value.items : [value];
    const hit = items.some((i) => !isNull && cmpEq(f, v, i, now));
    return op === 'IN' ? hit : !hit;
  }
  if (op === 'INCLUDES' || op === 'EXCLUDES') {
    const have = new Set(
      String(v ?? '')
        .split(';')
        .map((s) => s.trim().toLowerCase()),
    );
    const items = value.kind === 'list' ? value.items : [value];
    const hit = items.some((i) => i.kind === 'string' && i.v.split(';').every((p) => have.has(p.trim().toLowerCase())));
    return op === 'INCLUDES' ? hit : !hit;
  }
  if (isNull) return op === '!=';
  if (op === 'LIKE') {
    if (value.kind !== 'string') return false;
    const re = new RegExp(
      `^${value.v
        .split('')
        .map((ch) => (ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('')}$`,
      'is',
    );
    return re.test(String(v));
  }
  if (value.kind === 'dateLiteral') {
    const ms = toMs(f, v);
    if (ms === null) return false;
    const [start, end] = dateLiteralRange(value.name, value.n, now);
    switch (op) {
      case '=':
        return ms >= start && ms < end;
      case '!=':
        return ms < start || ms >= end;
      case '<':
        return ms < start;
      case '<=':
        return ms < end;
      case '>':
        return ms >= end;
      case '>=':
        return ms >= start;
      default:
        return false;
    }
  }
  const c = compare(f, v, value);
  if (c === null) return op === '!=';
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    default:
      return false;
  }
}

function cmpEq(f: FieldDef | null, v: unknown, i: Value, now: number): boolean {
  void now;
  return compare(f, v, i) === 0;
}

function toMs(f: FieldDef | null, v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const s = f?.type === 'date' || /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v.slice(0, 10)}T00:00:00Z` : v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : ms;
}

function compare(f: FieldDef | null, v: unknown, value: Value): number | null {
  switch (value.kind) {
    case 'string': {
      if (f && (f.type === 'id' || f.type === 'reference') && typeof v === 'string') {
        const a = normalizeId(v);
        const b = normalizeId(value.v);
        if (a && b) return a === b ? 0 : a < b ? -1 : 1;
      }
      const a = String(v).toLowerCase();
      const b = value.v.toLowerCase();
      return a === b ? 0 : a < b ? -1 : 1;
    }
    case 'number': {
      const n = typeof v === 'number' ? v : Number(v);
      return Number.isNaN(n) ? null : n - value.v;
    }
    case 'boolean':
      return (v === true) === value.v ? 0 : 1;
    case 'date': {
      const ms = toMs(f, v);
      if (ms === null) return null;
      const day = Date.parse(`${value.v}T00:00:00Z`);
      if (f?.type === 'datetime') return ms - day;
      return ms - day;
    }
    case 'datetime': {
      const ms = toMs(f, v);
      return ms === null ? null : ms - value.v;
    }
    default:
      return null;
  }
}

function aggregate(org: Org, obj: ObjectDef, q: Query, rows: Rec[], access: Access | null | undefined): QueryResult {
  const groups = new Map<string, Rec[]>();
  const groupResolved = q.groupBy.map((g) => resolvePath(org, obj, g.path, q, g.pos, access));
  for (const r of rows) {
    const key = JSON.stringify(groupResolved.map((g) => readResolved(org, r, g)));
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  if (!q.groupBy.length && groups.size === 0) groups.set('[]', []);
  const records: Rec[] = [];
  for (const [key, members] of groups) {
    const out: Rec = { attributes: { type: 'AggregateResult' } };
    const keyVals = JSON.parse(key) as unknown[];
    let expr = 0;
    q.select.forEach((s) => {
      if (s.type === 'count') {
        const name = s.alias ?? `expr${expr++}`;
        if (s.path) {
          const r = resolvePath(org, obj, s.path, q, s.pos, access);
          out[name] = members.filter((m) => readResolved(org, m, r) !== null).length;
        } else out[name] = members.length;
      } else if (s.type === 'field') {
        const gi = q.groupBy.findIndex((g) => g.path.join('.').toLowerCase() === s.path.join('.').toLowerCase());
        if (gi < 0) {
          throw soqlError(q.text, s.pos, 'MALFORMED_QUERY', `Field must be grouped or aggregated: ${s.path.join('.')}`);
        }
        out[s.path[s.path.length - 1]] = keyVals[gi];
      }
    });
    records.push(out);
  }
  return { totalSize: records.length, records };
}
