/**
 * One connection per tenant: the only place the sidecar speaks to an org.
 *
 * Guarantees:
 *  - a JWT bearer session (auth.ts) renewed when Salesforce answers INVALID_SESSION_ID: the
 *    flow is re-run once (single-flight across concurrent calls) and the call retried once;
 *  - API usage read from `Sforce-Limit-Info: api-usage=N/M` on every response (jsforce
 *    parses it into `conn.limitInfo`, lib/connection.js `request`) and exposed for metrics;
 *  - backpressure before the org's daily limit: calls slow down as usage enters the band
 *    below `1 - apiReserve`, and past it only a probe call a minute is let through, so the
 *    reserve is left to the org's other integrations (callers get a retryable error);
 *  - every API name goes through `apiNames(ns)`, and every failure through the taxonomy.
 */
import type { Connection } from '@salesforce/core';
import { readSecret } from '../config/secrets.js';
import type { TenantConfig } from '../config/schema.js';
import { SovraError } from '../shared/errors.js';
import { log } from '../shared/log.js';
import { apiNames, type ApiNames } from '../shared/schema.js';
import { type JwtLogin, jwtAuthInfo, jwtConnection, sessionOf } from './auth.js';
import { isRetryableRecordCode, isSessionExpired, toSalesforceError } from './errors.js';

/** Composite sObject collections take at most 200 records a call. */
export const COLLECTION_MAX = 200;
/** Ids per `WHERE Id IN (…)` query, keeping the URL far below Salesforce's 16 KB limit. */
const IDS_PER_QUERY = 200;

export interface ApiUsage {
  used: number;
  limit: number;
  /** Epoch ms of the response that carried it. */
  at: number;
}

export type BackpressureState = 'normal' | 'slow' | 'reserve';

export interface SalesforceMetrics {
  tenant: string;
  /** REST calls this connection made (each counts against the org's daily limit). */
  apiCalls: number;
  /** Calls refused locally to keep the API reserve free. */
  reserveRefusals: number;
  sessionRenewals: number;
  usage: ApiUsage | null;
  backpressure: BackpressureState;
}

export interface SObjectRecord {
  Id?: string;
  [field: string]: unknown;
}

export interface SaveError {
  statusCode: string;
  fields: string[];
}
/** The per-record result of a collections call, in request order. Messages are dropped: they may quote values. */
export type SaveOutcome = { ok: true; id: string | null; created?: boolean } | { ok: false; retryable: boolean; errors: SaveError[] };

export interface HttpCall {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Relative to the versioned base (`/query?q=…`) or to the instance (`/services/…`). */
  url: string;
  body?: unknown;
}

export interface ConnectOptions {
  tenant: TenantConfig;
  /** Folder of the config file (relative secret paths resolve against it). */
  baseDir: string;
  env?: NodeJS.ProcessEnv;
  /** Pin the REST API version (e.g. '62.0'); otherwise the org's latest. */
  apiVersion?: string;
  /** Longest pause per call while usage is in the slow band. */
  maxSlowdownMs?: number;
  /** While past the reserve, one probe call per this interval refreshes the usage figure. */
  reserveProbeMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class SalesforceConnection {
  readonly tenantId: string;
  readonly names: ApiNames;
  private conn: Connection;
  private readonly login: JwtLogin;
  private readonly reserve: number;
  private readonly maxSlowdownMs: number;
  private readonly reserveProbeMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private renewing: Promise<void> | undefined;
  private lastProbeAt = 0;
  private usageSeen: ApiUsage | null = null;
  private readonly renewListeners = new Set<(accessToken: string) => void>();
  private counters = { apiCalls: 0, reserveRefusals: 0, sessionRenewals: 0 };

  private constructor(conn: Connection, login: JwtLogin, options: ConnectOptions) {
    this.conn = conn;
    this.login = login;
    this.tenantId = options.tenant.id;
    this.names = apiNames(options.tenant.namespace);
    this.reserve = options.tenant.apiReserve;
    this.maxSlowdownMs = options.maxSlowdownMs ?? 2_000;
    this.reserveProbeMs = options.reserveProbeMs ?? 60_000;
    this.sleep = options.sleep ?? realSleep;
    this.now = options.now ?? Date.now;
  }

  /** Logs in with the JWT bearer flow (key via readSecret) and opens the tenant's connection. */
  static async connect(options: ConnectOptions): Promise<SalesforceConnection> {
    const t = options.tenant;
    const login: JwtLogin = {
      username: t.auth.username,
      clientId: t.auth.clientId,
      privateKey: readSecret(t.auth.privateKey, options.baseDir, options.env),
      loginUrl: t.loginUrl,
    };
    const { connection, session } = await jwtConnection(login, options.apiVersion);
    if (!sameOrg(session.orgId, t.orgId)) {
      throw new SovraError('forbidden', `Tenant ${t.id} logged into org ${session.orgId}, not its configured org ${t.orgId}.`, {
        code: 'SF_ORG_MISMATCH',
        fix: 'Check tenants[].orgId, loginUrl and auth.username: a tenant must only ever reach its own org.',
        details: { tenant: t.id, orgId: session.orgId },
        retryable: false,
      });
    }
    log().info('salesforce connected', { tenant: t.id, orgId: session.orgId, apiVersion: connection.getApiVersion() });
    return new SalesforceConnection(connection, login, options);
  }

  /** The jsforce Connection (for the streaming client); REST calls go through `request`. */
  get jsforce(): Connection {
    return this.conn;
  }
  get accessToken(): string {
    return this.conn.accessToken ?? '';
  }
  get apiVersion(): string {
    return this.conn.getApiVersion();
  }

  metrics(): SalesforceMetrics {
    return { tenant: this.tenantId, ...this.counters, usage: this.usageSeen, backpressure: this.backpressure().state };
  }

  /** Calls `fn` with the new token after every session renewal (the streaming client re-handshakes). */
  onSessionRenewed(fn: (accessToken: string) => void): () => void {
    this.renewListeners.add(fn);
    return () => this.renewListeners.delete(fn);
  }

  /**
   * Re-runs the JWT flow unless the session was already renewed since `staleToken` was used.
   * Concurrent callers share one renewal.
   */
  async renewSession(staleToken?: string): Promise<void> {
    if (staleToken !== undefined && this.conn.accessToken !== staleToken) return;
    this.renewing ??= (async () => {
      try {
        const session = sessionOf(await jwtAuthInfo(this.login));
        this.conn.accessToken = session.accessToken;
        this.conn.instanceUrl = session.instanceUrl;
        this.counters.sessionRenewals += 1;
        log().info('salesforce session renewed', { tenant: this.tenantId });
        for (const fn of this.renewListeners) fn(session.accessToken);
      } finally {
        this.renewing = undefined;
      }
    })();
    await this.renewing;
  }

  /** Where usage stands against the tenant's reserve, and the pause the next call takes. */
  backpressure(): { state: BackpressureState; delayMs: number; ratio: number | null } {
    const u = this.usageSeen;
    if (!u || u.limit <= 0) return { state: 'normal', delayMs: 0, ratio: null };
    const ratio = u.used / u.limit;
    const hard = 1 - this.reserve;
    const soft = Math.max(0, hard - Math.max(this.reserve, 0.05));
    if (ratio >= hard) return { state: 'reserve', delayMs: this.reserveProbeMs, ratio };
    if (ratio <= soft) return { state: 'normal', delayMs: 0, ratio };
    return { state: 'slow', delayMs: Math.round((this.maxSlowdownMs * (ratio - soft)) / (hard - soft)), ratio };
  }

  private async admit(operation: string): Promise<void> {
    const bp = this.backpressure();
    if (bp.state === 'slow') await this.sleep(bp.delayMs);
    if (bp.state === 'reserve') {
      const now = this.now();
      if (now - this.lastProbeAt < this.reserveProbeMs) {
        this.counters.reserveRefusals += 1;
        throw new SovraError('unavailable', `Salesforce call '${operation}' held back: the org's API usage reached the tenant's reserve.`, {
          code: 'SF_API_RESERVE',
          fix: "Work resumes as the org's 24-hour API usage falls; lower tenants[].apiReserve or raise the org limit to go faster.",
          details: {
            tenant: this.tenantId,
            used: this.usageSeen?.used ?? null,
            limit: this.usageSeen?.limit ?? null,
            retryAfterMs: this.reserveProbeMs,
          },
          retryable: true,
        });
      }
      this.lastProbeAt = now;
    }
  }

  private noteUsage(): void {
    const u = this.conn.limitInfo?.apiUsage;
    if (u && Number.isFinite(u.used) && Number.isFinite(u.limit)) this.usageSeen = { used: u.used, limit: u.limit, at: this.now() };
  }

  /**
   * One REST call: backpressure, the call, usage, and one retry after renewing an expired
   * session. `operation` names the call in errors and must carry no values.
   */
  async request<T>(call: HttpCall, operation: string): Promise<T> {
    await this.admit(operation);
    for (let attempt = 0; ; attempt += 1) {
      const token = this.conn.accessToken ?? undefined;
      this.counters.apiCalls += 1;
      try {
        const body = await this.conn.request<T>({
          method: call.method,
          url: call.url,
          ...(call.body === undefined ? {} : { body: JSON.stringify(call.body), headers: { 'content-type': 'application/json' } }),
        });
        this.noteUsage();
        return body;
      } catch (err) {
        this.noteUsage();
        if (attempt === 0 && isSessionExpired(err)) {
          await this.renewSession(token);
          continue;
        }
        throw toSalesforceError(err, operation);
      }
    }
  }

  private dataPath(rest: string): string {
    return `/services/data/v${this.conn.getApiVersion()}${rest}`;
  }

  /** Runs SOQL and follows `nextRecordsUrl` to the end (or `maxRecords`); keys lose the namespace. */
  async query<T extends SObjectRecord = SObjectRecord>(
    soql: string,
    options: { maxRecords?: number; operation?: string } = {},
  ): Promise<T[]> {
    const operation = options.operation ?? `query ${fromObject(soql)}`;
    const out: T[] = [];
    let page = await this.request<QueryPage>({ method: 'GET', url: this.dataPath(`/query?q=${encodeURIComponent(soql)}`) }, operation);
    for (;;) {
      if (!page || !Array.isArray(page.records)) throw badResponse(operation);
      for (const r of page.records) out.push(this.clean(r) as T);
      if (options.maxRecords !== undefined && out.length >= options.maxRecords) return out.slice(0, options.maxRecords);
      if (page.done || !page.nextRecordsUrl) return out;
      if (!page.nextRecordsUrl.startsWith('/services/data/')) throw badResponse(operation);
      page = await this.request<QueryPage>({ method: 'GET', url: page.nextRecordsUrl }, operation);
    }
  }

  /** AiRequest__c rows by record id (missing ids are simply absent). `fields` are unprefixed. */
  async retrieveRequests(ids: readonly string[], fields: readonly string[]): Promise<SObjectRecord[]> {
    for (const id of ids) assertRecordId(id);
    return this.queryIn('AiRequest__c', 'Id', ids, fields);
  }

  /** AiRequest__c rows by `ExternalId__c`. */
  async retrieveRequestsByExternalId(externalIds: readonly string[], fields: readonly string[]): Promise<SObjectRecord[]> {
    return this.queryIn('AiRequest__c', 'ExternalId__c', externalIds, fields);
  }

  /** `SELECT fields FROM sobject WHERE key IN (values)`, chunked; names unprefixed. */
  async queryIn(sobject: string, key: string, values: readonly string[], fields: readonly string[]): Promise<SObjectRecord[]> {
    const n = this.names;
    const select = [...new Set(['Id', ...fields])].map((f) => n.name(assertApiName(f))).join(', ');
    const out: SObjectRecord[] = [];
    const unique = [...new Set(values)];
    for (let i = 0; i < unique.length; i += IDS_PER_QUERY) {
      const chunk = unique.slice(i, i + IDS_PER_QUERY);
      const soql = `SELECT ${select} FROM ${n.name(assertApiName(sobject))} WHERE ${n.name(assertApiName(key))} IN (${chunk.map(soqlString).join(', ')})`;
      out.push(...(await this.query(soql, { operation: `query ${sobject} by ${key}` })));
    }
    return out;
  }

  /** Upserts by external id through collections (PATCH /composite/sobjects/{type}/{field}): a retry never duplicates. */
  upsert(sobject: string, externalIdField: string, records: readonly SObjectRecord[]): Promise<SaveOutcome[]> {
    const type = this.names.name(assertApiName(sobject));
    const field = this.names.name(assertApiName(externalIdField));
    return this.collections(`upsert ${sobject}`, records, (chunk) => ({
      method: 'PATCH',
      url: this.dataPath(`/composite/sobjects/${type}/${field}`),
      body: { allOrNone: false, records: chunk.map((r) => this.outgoing(type, r, false)) },
    }));
  }

  /** Inserts through collections (POST /composite/sobjects). */
  create(sobject: string, records: readonly SObjectRecord[]): Promise<SaveOutcome[]> {
    const type = this.names.name(assertApiName(sobject));
    return this.collections(`create ${sobject}`, records, (chunk) => ({
      method: 'POST',
      url: this.dataPath('/composite/sobjects'),
      body: { allOrNone: false, records: chunk.map((r) => this.outgoing(type, r, false)) },
    }));
  }

  /** Updates by Id through collections (PATCH /composite/sobjects). */
  update(sobject: string, records: readonly SObjectRecord[]): Promise<SaveOutcome[]> {
    const type = this.names.name(assertApiName(sobject));
    for (const r of records) assertRecordId(r.Id);
    return this.collections(`update ${sobject}`, records, (chunk) => ({
      method: 'PATCH',
      url: this.dataPath('/composite/sobjects'),
      body: { allOrNone: false, records: chunk.map((r) => this.outgoing(type, r, true)) },
    }));
  }

  /** Publishes platform events (e.g. AiResult__e) through collections: many events, one call. */
  publish(event: string, events: readonly SObjectRecord[]): Promise<SaveOutcome[]> {
    if (!event.endsWith('__e')) {
      throw new SovraError('validation', `'${event}' is not a platform event API name.`, {
        code: 'SF_NOT_AN_EVENT',
        fix: 'Publish only *__e events.',
      });
    }
    return this.create(event, events);
  }

  private async collections(
    operation: string,
    records: readonly SObjectRecord[],
    build: (chunk: readonly SObjectRecord[]) => HttpCall,
  ): Promise<SaveOutcome[]> {
    const out: SaveOutcome[] = [];
    for (let i = 0; i < records.length; i += COLLECTION_MAX) {
      const chunk = records.slice(i, i + COLLECTION_MAX);
      let results: SaveResultWire[];
      try {
        results = await this.request<SaveResultWire[]>(build(chunk), operation);
      } catch (err) {
        if (err instanceof SovraError && i > 0) err.details.recordsDone = i;
        throw err;
      }
      if (!Array.isArray(results) || results.length !== chunk.length) throw badResponse(operation);
      for (const r of results) out.push(toOutcome(r));
    }
    return out;
  }

  /** Applies the namespace to custom field names and adds `attributes.type`. */
  private outgoing(type: string, rec: SObjectRecord, withId: boolean): Record<string, unknown> {
    const body: Record<string, unknown> = { attributes: { type } };
    for (const [k, v] of Object.entries(rec)) {
      if (k === 'attributes') continue;
      if (k === 'Id') {
        if (withId) body.id = v;
        continue;
      }
      body[this.names.name(assertApiName(k))] = v;
    }
    return body;
  }

  private clean(rec: unknown): unknown {
    if (Array.isArray(rec)) return rec.map((r) => this.clean(r));
    if (rec === null || typeof rec !== 'object') return rec;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rec as Record<string, unknown>)) {
      if (k === 'attributes') continue;
      out[this.names.strip(k)] = v !== null && typeof v === 'object' ? this.clean(v) : v;
    }
    return out;
  }
}

interface QueryPage {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: unknown[];
}

interface SaveResultWire {
  id?: string | null;
  success: boolean;
  created?: boolean;
  errors?: { statusCode?: string; message?: string; fields?: string[] }[];
}

function toOutcome(r: SaveResultWire): SaveOutcome {
  if (r && r.success === true) return { ok: true, id: r.id ?? null, ...(r.created === undefined ? {} : { created: r.created }) };
  const errors: SaveError[] = (r?.errors ?? []).map((e) => ({
    statusCode: String(e.statusCode ?? 'UNKNOWN'),
    fields: Array.isArray(e.fields) ? e.fields.map(String) : [],
  }));
  if (errors.length === 0) errors.push({ statusCode: 'UNKNOWN', fields: [] });
  return { ok: false, retryable: errors.every((e) => isRetryableRecordCode(e.statusCode)), errors };
}

function badResponse(operation: string): SovraError {
  return new SovraError('upstream', `Salesforce answered '${operation}' with an unexpected body.`, {
    code: 'SF_BAD_RESPONSE',
    fix: 'Check that the instance URL is a Salesforce org (and the API version is supported).',
    details: { operation },
    retryable: true,
  });
}

function sameOrg(a: string, b: string): boolean {
  return a.slice(0, 15) === b.slice(0, 15);
}

function fromObject(soql: string): string {
  const m = /\bFROM\s+([A-Za-z0-9_]+)/i.exec(soql);
  return m ? m[1] : 'unknown';
}

const API_NAME = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/;
function assertApiName(name: string): string {
  if (!API_NAME.test(name)) {
    throw new SovraError('validation', `'${name.slice(0, 80)}' is not a Salesforce API name.`, {
      code: 'SF_BAD_API_NAME',
      fix: 'Use names from shared/schema.ts.',
    });
  }
  return name;
}

export function assertRecordId(id: unknown): string {
  if (typeof id !== 'string' || !/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(id)) {
    throw new SovraError('validation', 'A Salesforce record id must be 15 or 18 letters and digits.', {
      code: 'SF_BAD_RECORD_ID',
      fix: 'Pass ids read from the org.',
    });
  }
  return id;
}

/** A SOQL string literal (SOQL reference, "Quoted String Escape Sequences"). */
export function soqlString(value: string): string {
  const escaped = value.replace(
    /[\\'"\n\r\t\b\f]/g,
    (c) => ({ '\\': '\\\\', "'": "\\'", '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' })[c] ?? c,
  );
  return `'${escaped}'`;
}
