/**
 * The Salesforce org emulator — public API. Start it in-process with `startEmulator()`
 * (ephemeral port by default) and drive it through the real clients (jsforce,
 * @salesforce/core, faye) at `url`; steer it through `admin` (orgs, sessions, data, events,
 * faults, API usage, clock, hooks). See test/emulator/README.md for every endpoint and the
 * source of its shape.
 */
import { createSign, generateKeyPairSync } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiNames, type ApiNames } from '../../service/src/shared/schema.js';
import { loadPackageDefinition, type PackageDefinition } from './metadata.js';
import type { AiRequestOutcome, FaultKind, Org, Rec, StoredEvent, WriteHook } from './org.js';
import { runQuery } from './query.js';
import { buildOrg, loadSeedFile, validateSeed, type SeedData } from './seed.js';
import { demoSeed } from './seed/demo.js';
import { EmulatorServer, integrationUsers } from './server.js';
import { EmulatorClock, SalesforceApiError } from './util.js';

export type { SeedData, SeedOrg, SeedUser, SeedRecord, SeedConnectedApp } from './seed.js';
export type { AiRequestOutcome, FaultKind, Org, Rec, StoredEvent, WriteHook } from './org.js';
export { FAULT_KINDS } from './org.js';
export { demoSeed, DEMO } from './seed/demo.js';
export { SalesforceApiError } from './util.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_FORCE_APP_DIR = resolve(HERE, '../../force-app');

export interface EmulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  host?: string;
  /** Seed data or a path to a JSON seed file; the demo orgs by default. */
  seed?: SeedData | string;
  /** Where the package source lives (default: the repository's force-app/). */
  forceAppDir?: string;
  /** `/meta/connect` hold time (advice.timeout). Salesforce: 110000 ms. Use ~1000 ms in tests. */
  cometdTimeoutMs?: number;
  /** Drop CometD clients that do not reconnect within this long. Salesforce: 40000 ms. */
  cometdClientExpiryMs?: number;
  /** Concurrent CometD clients per org before `403::Organization concurrent user limit exceeded` (2000). */
  cometdClientLimit?: number;
  /** Object/field security from the package's permission sets in every org (overrides the seed; off by default). */
  enforceFieldSecurity?: boolean;
}

export interface OrgInfo {
  key: string;
  orgId: string;
  name: string;
  namespace: string;
}

export interface SessionInfo {
  accessToken: string;
  instanceUrl: string;
  orgId: string;
  userId: string;
  username: string;
}

export interface AsUser {
  /** Org key or id; the first (default) org otherwise. */
  org?: string;
  /** Username acting; the org's integration user otherwise. */
  username?: string;
}

/** Steering handle for tests and tools (the HTTP `/__admin` routes offer the same). */
export interface EmulatorAdmin {
  readonly clock: EmulatorClock;
  readonly packageDefinition: PackageDefinition;
  orgs(): OrgInfo[];
  /** The org object itself (schema, tables, events) for deep inspection. */
  org(ref?: string): Org;
  /** API names for an org (schema.ts `apiNames` with the org's namespace). */
  names(org?: string): ApiNames;
  userId(username: string, org?: string): string;
  /** An access token for a seeded user, as `POST /__admin/session`. */
  session(opts?: AsUser): SessionInfo;
  /** Registers a PEM certificate or public key on a connected app (JWT bearer). */
  registerCertificate(clientId: string, pem: string, org?: string): void;
  connectedApp(org?: string): { clientId: string; name: string };
  records(sobject: string, org?: string): Rec[];
  record(sobject: string, id: string, org?: string): Rec | undefined;
  /** SOQL as the REST API runs it (no API call counted). */
  query(soql: string, org?: string): Rec[];
  /** Writes as a user would through the API, with emulated Apex; throws SalesforceApiError. */
  insert(sobject: string, fields: Rec, as?: AsUser): string;
  update(sobject: string, id: string, fields: Rec, as?: AsUser): void;
  delete(sobject: string, id: string, as?: AsUser): void;
  publishEvent(event: string, payload: Rec, as?: AsUser): StoredEvent;
  /** Emulates a user running an AI action (AiRequestService.submit): request row + AiRequest__e. */
  submitAiRequest(submission: { recordId: string; action: string; question?: string }, as?: AsUser): AiRequestOutcome;
  events(org?: string): StoredEvent[];
  fault(kind: FaultKind, count?: number, org?: string): void;
  clearFaults(org?: string): void;
  setLatency(ms: number, org?: string): void;
  apiUsage(): Record<string, number>;
  resetApiUsage(org?: string): void;
  setApiLimit(limit: number, org?: string): void;
  advanceClock(ms: number): void;
  setEventRetention(ms: number, org?: string): void;
  expireSessions(org?: string): void;
  expireCometdClients(org?: string): void;
  cometdClients(org?: string): number;
  setApexEmulation(on: boolean, org?: string): void;
  /** Object/field security from the package's permission sets for API users (off by default). */
  setFieldSecurity(on: boolean, org?: string): void;
  setFieldClassification(
    object: string,
    field: string,
    c: { securityClassification?: string | null; complianceGroup?: string | null },
    org?: string,
  ): void;
  /** Called after every insert/update/delete; returns an unsubscribe function. */
  onWrite(hook: WriteHook, org?: string): () => void;
}

export interface RunningEmulator {
  url: string;
  admin: EmulatorAdmin;
  close(): Promise<void>;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const seed = typeof opts.seed === 'string' ? loadSeedFile(opts.seed) : validateSeed(opts.seed ?? demoSeed());
  const pkg = loadPackageDefinition(opts.forceAppDir ?? DEFAULT_FORCE_APP_DIR);
  const clock = new EmulatorClock();
  const orgs = seed.orgs.map((s) => {
    const org = buildOrg(
      opts.enforceFieldSecurity === undefined ? s : { ...s, enforceFieldSecurity: opts.enforceFieldSecurity },
      pkg,
      clock,
    );
    integrationUsers.set(org, s.integrationUser ?? s.users[0].username);
    return org;
  });
  const server = new EmulatorServer(orgs, clock, {
    cometdTimeoutMs: opts.cometdTimeoutMs ?? 110_000,
    cometdClientExpiryMs: opts.cometdClientExpiryMs ?? 40_000,
    cometdClientLimit: opts.cometdClientLimit ?? 2000,
  });
  const url = await server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  const org = (ref?: string): Org => server.org(ref);
  const userOf = (as?: AsUser): { o: Org; userId: string } => {
    const o = org(as?.org);
    const username = as?.username ?? integrationUsers.get(o)!;
    const u = o.userByUsername(username);
    if (!u) throw new Error(`No user '${username}' in org ${o.key}`);
    return { o, userId: String(u.Id) };
  };
  const write = <T>(as: AsUser | undefined, f: (o: Org, ctx: ReturnType<Org['newContext']>) => T): T => {
    const { o, userId } = userOf(as);
    const ctx = o.newContext(userId);
    try {
      const out = f(o, ctx);
      o.commit(ctx);
      return out;
    } catch (e) {
      o.rollback(ctx);
      throw e;
    }
  };
  const admin: EmulatorAdmin = {
    clock,
    packageDefinition: pkg,
    orgs: () => orgs.map((o) => ({ key: o.key, orgId: o.orgId, name: o.name, namespace: o.namespace })),
    org,
    names: (ref) => apiNames(org(ref).namespace),
    userId: (username, ref) => {
      const u = org(ref).userByUsername(username);
      if (!u) throw new Error(`No user '${username}' in org ${org(ref).key}`);
      return String(u.Id);
    },
    session: (as) => {
      const { o, userId } = userOf(as);
      const s = server.issueSession(o, userId);
      return { accessToken: s.token, instanceUrl: url, orgId: o.orgId, userId, username: String(o.table('User').get(userId)?.Username) };
    },
    registerCertificate: (clientId, pem, ref) => {
      const app = org(ref).connectedApps.find((a) => a.clientId === clientId);
      if (!app) throw new Error(`No connected app with clientId '${clientId}' in org ${org(ref).key}`);
      if (!pem.includes('-----BEGIN')) throw new Error('registerCertificate needs a PEM certificate or public key');
      app.certificates.push(pem);
    },
    connectedApp: (ref) => {
      const app = org(ref).connectedApps[0];
      if (!app) throw new Error(`Org ${org(ref).key} has no connected app`);
      return { clientId: app.clientId, name: app.name };
    },
    records: (sobject, ref) => {
      const o = org(ref);
      const obj = o.findObject(o.ns(sobject));
      if (!obj) throw new Error(`No sObject '${sobject}' in org ${o.key}`);
      return [...o.table(obj.name).values()].filter((r) => !r.IsDeleted).map((r) => ({ ...r }));
    },
    record: (sobject, id, ref) => {
      const o = org(ref);
      const r = o.get(o.ns(sobject), id);
      return r ? { ...r } : undefined;
    },
    query: (soql, ref) => runQuery(org(ref), soql, { version: '62.0', tooling: false, includeDeleted: false }).records,
    insert: (sobject, fields, as) => write(as, (o, ctx) => o.insert(o.ns(sobject), fields, ctx)),
    update: (sobject, id, fields, as) => write(as, (o, ctx) => o.update(o.ns(sobject), id, fields, ctx)),
    delete: (sobject, id, as) => write(as, (o, ctx) => o.delete(o.ns(sobject), id, ctx)),
    submitAiRequest: (submission, as) => {
      const { o, userId } = userOf(as);
      return o.submitAiRequest(userId, submission);
    },
    publishEvent: (event, payload, as) => {
      const { o, userId } = userOf(as);
      return o.publishEvent(o.ns(event), payload, userId);
    },
    events: (ref) => {
      const o = org(ref);
      o.pruneEvents();
      return [...o.events];
    },
    fault: (kind, count = 1, ref) => {
      const o = org(ref);
      o.addFault(kind, count);
      if (kind === 'DROP_COMETD') server.cometd.dropPending(o);
    },
    clearFaults: (ref) => {
      org(ref).faults.length = 0;
    },
    setLatency: (ms, ref) => {
      if (!(ms >= 0)) throw new Error('latency must be a non-negative number of ms');
      org(ref).latencyMs = ms;
    },
    apiUsage: () => Object.fromEntries(orgs.map((o) => [o.orgId, o.apiCalls])),
    resetApiUsage: (ref) => {
      for (const o of ref === undefined ? orgs : [org(ref)]) o.apiCalls = 0;
    },
    setApiLimit: (limit, ref) => {
      if (!Number.isInteger(limit) || limit < 0) throw new Error('API limit must be a non-negative integer');
      org(ref).apiRequestLimit = limit;
    },
    advanceClock: (ms) => clock.advance(ms),
    setEventRetention: (ms, ref) => {
      if (!(ms > 0)) throw new Error('retention must be a positive number of ms');
      org(ref).eventRetentionMs = ms;
    },
    expireSessions: (ref) => server.expireSessions(ref === undefined ? undefined : org(ref)),
    expireCometdClients: (ref) => server.cometd.expireClients(ref === undefined ? undefined : org(ref)),
    cometdClients: (ref) => server.cometd.clientCount(ref === undefined ? undefined : org(ref)),
    setApexEmulation: (on, ref) => {
      org(ref).apexEmulation = on;
    },
    setFieldSecurity: (on, ref) => {
      org(ref).fieldSecurity = on;
    },
    setFieldClassification: (object, field, c, ref) => {
      const o = org(ref);
      o.setFieldClassification(o.ns(object), field, c);
    },
    onWrite: (hook, ref) => {
      const o = org(ref);
      o.hooks.add(hook);
      return () => o.hooks.delete(hook);
    },
  };
  return { url, admin, close: () => server.close() };
}

/** A fresh RSA key pair for JWT bearer tests (never commit keys). */
export function generateJwtKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * Signs a JWT bearer assertion (RS256) as jsforce/@salesforce/core do: claims iss (client id),
 * sub (username), aud (login URL), exp. Defaults: aud = https://login.salesforce.com,
 * exp = now + 300 s (pass jsforce's ms-based `Date.now() + 300` to mimic it).
 */
export function signJwtAssertion(
  claims: { iss: string; sub: string; aud?: string; exp?: number } & Record<string, unknown>,
  privateKeyPem: string,
): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = {
    aud: 'https://login.salesforce.com',
    exp: Math.floor(Date.now() / 1000) + 300,
    iat: Math.floor(Date.now() / 1000),
    ...claims,
  };
  const signingInput = `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc(body)}`;
  return `${signingInput}.${createSign('RSA-SHA256').update(signingInput).sign(privateKeyPem).toString('base64url')}`;
}

export { isSalesforceError };
function isSalesforceError(e: unknown): e is SalesforceApiError {
  return e instanceof SalesforceApiError;
}
