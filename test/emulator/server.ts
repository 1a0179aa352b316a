/**
 * The emulator's HTTP face: routes OAuth, REST, CometD, identity and the `/__admin` routes
 * to the orgs. Counts API calls per org the way an org counts them toward its daily limit
 * (REST/SOAP calls count; OAuth token requests, the unauthenticated versions list and
 * Streaming/CometD traffic do not — "API Request Limits and Allocations"), applies injected
 * faults and latency, and stamps `Sforce-Limit-Info: api-usage=N/M` on REST responses.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CometdServer } from './cometd.js';
import { newAccessToken, tokenResponse, verifyJwtAssertion, type Session } from './oauth.js';
import { FAULT_KINDS, type FaultKind, type Org, type Rec } from './org.js';
import { handleRest, versionsBody } from './rest.js';
import { type EmulatorClock, SalesforceApiError, notFound } from './util.js';

export interface ServerOptions {
  cometdTimeoutMs: number;
  cometdClientExpiryMs: number;
  cometdClientLimit: number;
}

const JSON_TYPE = 'application/json;charset=UTF-8';
const MAX_BODY = 50 * 1024 * 1024;

export class EmulatorServer {
  readonly sessions = new Map<string, Session>();
  readonly cometd: CometdServer;
  private server: Server | null = null;
  baseUrl = '';

  constructor(
    readonly orgs: Org[],
    readonly clock: EmulatorClock,
    opts: ServerOptions,
  ) {
    this.cometd = new CometdServer(
      { timeoutMs: opts.cometdTimeoutMs, clientExpiryMs: opts.cometdClientExpiryMs, clientLimit: opts.cometdClientLimit },
      (t) => this.session(t),
    );
    for (const o of orgs) this.cometd.attach(o);
  }

  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    const server = createServer((req, res) => {
      this.route(req, res).catch((e: unknown) => {
        if (!res.headersSent) sendJson(res, 500, [{ message: `Emulator error: ${(e as Error).message}`, errorCode: 'UNKNOWN_EXCEPTION' }]);
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    this.baseUrl = `http://${host}:${addr.port}`;
    return this.baseUrl;
  }

  async close(): Promise<void> {
    this.cometd.close();
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  org(ref?: string): Org {
    if (ref === undefined || ref === '') return this.orgs[0];
    const o = this.orgs.find((x) => x.key === ref || x.orgId === ref || x.orgId.slice(0, 15) === ref.slice(0, 15));
    if (!o) throw new Error(`No org '${ref}'. Known: ${this.orgs.map((x) => `${x.key} (${x.orgId})`).join(', ')}`);
    return o;
  }

  session(token: string | null): Session | null {
    if (!token) return null;
    const s = this.sessions.get(token);
    return s && !s.expired ? s : null;
  }

  /** Issues a session for a user, as a successful login would. */
  issueSession(org: Org, userId: string): Session {
    const s: Session = { token: newAccessToken(org), org, userId, issuedAt: this.clock.now(), expired: false };
    this.sessions.set(s.token, s);
    return s;
  }

  /** Expires every session of an org (session timeout / admin revoke). */
  expireSessions(org?: Org): void {
    for (const s of this.sessions.values()) if (!org || s.org === org) s.expired = true;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (process.env.EMU_DEBUG) process.stderr.write(`${Date.now() % 100000} ${req.method} ${req.url}\n`);
    const path = url.pathname;
    const body = await readBody(req);
    if (path === '/services/oauth2/token') return this.token(req, res, body);
    if (path.startsWith('/__admin/')) return this.admin(req, res, path.slice('/__admin/'.length), url.searchParams, body);
    const token = bearer(req);
    const cm = /^\/cometd(?:\/(?:replay\/)?(\d+\.\d+))?\/?$/.exec(path);
    if (cm) {
      const s = this.session(token);
      if (s?.org.latencyMs) await sleep(s.org.latencyMs);
      return this.cometd.handle(req, res, cm[1] ?? null, body, token);
    }
    if (path === '/services/data' || path === '/services/data/') {
      return sendJson(res, 200, versionsBody());
    }
    if (path === '/services/oauth2/userinfo' || /^\/id\/[^/]+\/[^/]+\/?$/.test(path)) {
      const s = this.session(token);
      if (!s) return sendJson(res, 403, 'Bad_OAuth_Token', { 'content-type': 'text/plain' });
      return sendJson(res, 200, path.startsWith('/id/') ? this.identity(s) : this.userinfo(s));
    }
    const dm = /^\/services\/data\/v(\d+\.\d+)(?:\/(.*))?$/.exec(path);
    if (!dm) return sendJson(res, 404, notFound().body());
    const s = this.session(token);
    if (!s) {
      // Recorded 401 (salesforce-wire.md §2.1): body + `WWW-Authenticate: Token`.
      return sendJson(res, 401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }], {
        'www-authenticate': 'Token',
      });
    }
    const org = s.org;
    if (org.latencyMs) await sleep(org.latencyMs);
    const fault = org.takeFault(['503', 'INVALID_SESSION_ID', 'REQUEST_LIMIT_EXCEEDED']);
    const limitHeader = (): Record<string, string> => ({ 'sforce-limit-info': `api-usage=${org.apiCalls}/${org.apiRequestLimit}` });
    if (fault === '503') {
      return sendJson(res, 503, [
        { message: 'Server is temporarily unavailable. Please try again later.', errorCode: 'SERVER_UNAVAILABLE' },
      ]);
    }
    if (fault === 'INVALID_SESSION_ID') {
      return sendJson(res, 401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }], {
        'www-authenticate': 'Token',
      });
    }
    if (fault === 'REQUEST_LIMIT_EXCEEDED' || org.apiCalls >= org.apiRequestLimit) {
      return sendJson(res, 403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }], limitHeader());
    }
    org.apiCalls++;
    let parsed: unknown = undefined;
    if (body.length) {
      try {
        parsed = JSON.parse(body);
      } catch {
        return sendJson(
          res,
          400,
          [{ message: `Unexpected character: was expecting a JSON value`, errorCode: 'JSON_PARSER_ERROR' }],
          limitHeader(),
        );
      }
    }
    try {
      const out = handleRest({
        org,
        baseUrl: this.baseUrl,
        userId: s.userId,
        version: dm[1],
        method: req.method ?? 'GET',
        parts: (dm[2] ?? '')
          .split('/')
          .filter((p, i, a) => p !== '' || i < a.length - 1)
          .map(decodeURIComponent),
        query: url.searchParams,
        access: org.accessFor(s.userId),
        body: parsed,
        headers: req.headers,
      });
      if (out.status === 204) {
        res.writeHead(204, limitHeader());
        res.end();
        return;
      }
      return sendJson(res, out.status, out.body, limitHeader());
    } catch (e) {
      if (e instanceof SalesforceApiError) return sendJson(res, e.status, e.body(), limitHeader());
      throw e;
    }
  }

  private token(req: IncomingMessage, res: ServerResponse, body: string): void {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'invalid_request', error_description: 'must use HTTP POST' });
    const form = new URLSearchParams(body);
    const grant = form.get('grant_type');
    if (grant !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      return sendJson(res, 400, { error: 'unsupported_grant_type', error_description: 'grant type not supported' });
    }
    const assertion = form.get('assertion');
    if (!assertion) return sendJson(res, 400, { error: 'invalid_grant', error_description: 'invalid assertion' });
    // Real time, not the test clock: clients sign `exp` with the wall clock.
    const v = verifyJwtAssertion(assertion, this.orgs, this.baseUrl, Date.now());
    if ('body' in v) return sendJson(res, v.status, v.body);
    const s = this.issueSession(v.org, String(v.user.Id));
    return sendJson(res, 200, tokenResponse(this.baseUrl, v.org, s.userId, s.token, s.issuedAt));
  }

  private identity(s: Session): Rec {
    const u = s.org.table('User').get(s.userId) ?? {};
    const v = '66.0';
    const b = this.baseUrl;
    return {
      id: `${b}/id/${s.org.orgId}/${s.userId}`,
      asserted_user: true,
      user_id: s.userId,
      organization_id: s.org.orgId,
      username: u.Username,
      nick_name: String(u.Username ?? '').split('@')[0],
      display_name: u.Name,
      email: u.Email,
      email_verified: true,
      first_name: u.FirstName,
      last_name: u.LastName,
      timezone: u.TimeZoneSidKey,
      active: u.IsActive,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_US',
      utcOffset: 0,
      last_modified_date: u.LastModifiedDate,
      is_app_installed: true,
      urls: {
        enterprise: `${b}/services/Soap/c/{version}/${s.org.orgId.slice(0, 15)}`,
        partner: `${b}/services/Soap/u/{version}/${s.org.orgId.slice(0, 15)}`,
        rest: `${b}/services/data/v{version}/`,
        sobjects: `${b}/services/data/v{version}/sobjects/`,
        search: `${b}/services/data/v{version}/search/`,
        query: `${b}/services/data/v{version}/query/`,
        tooling_rest: `${b}/services/data/v{version}/tooling/`,
        profile: `${b}/${s.userId}`,
        custom_domain: b,
      },
      latest_api_version: v,
    };
  }

  private userinfo(s: Session): Rec {
    const u = s.org.table('User').get(s.userId) ?? {};
    return {
      sub: `${this.baseUrl}/id/${s.org.orgId}/${s.userId}`,
      user_id: s.userId,
      organization_id: s.org.orgId,
      preferred_username: u.Username,
      nickname: String(u.Username ?? '').split('@')[0],
      name: u.Name,
      email: u.Email,
      email_verified: true,
      given_name: u.FirstName,
      family_name: u.LastName,
      zoneinfo: u.TimeZoneSidKey,
      active: u.IsActive,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_US',
      utcOffset: 0,
      updated_at: u.LastModifiedDate,
    };
  }

  /** `/__admin/*`: JSON in and out; `"org"` (key or id) selects the org, the first one by default. */
  private admin(req: IncomingMessage, res: ServerResponse, route: string, qs: URLSearchParams, body: string): void {
    let input: Rec = {};
    if (body) {
      try {
        const v: unknown = JSON.parse(body);
        if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
        input = v as Rec;
      } catch {
        return sendJson(res, 400, { error: 'Body must be a JSON object' });
      }
    }
    const orgRef = typeof input.org === 'string' ? input.org : (qs.get('org') ?? undefined);
    try {
      const org = this.org(orgRef);
      const m = req.method ?? 'GET';
      switch (`${m} ${route}`) {
        case 'POST session': {
          const username =
            typeof input.username === 'string' ? input.username : (integrationUsers.get(org) ?? String(org.users()[0].Username));
          const u = org.userByUsername(username);
          if (!u) return sendJson(res, 404, { error: `No user '${username}' in org ${org.key}` });
          const s = this.issueSession(org, String(u.Id));
          return sendJson(res, 200, {
            access_token: s.token,
            instance_url: this.baseUrl,
            org_id: org.orgId,
            user_id: s.userId,
            username: u.Username,
          });
        }
        case 'POST faults': {
          const kind = input.kind as FaultKind;
          const count = input.count === undefined ? 1 : input.count;
          if (!FAULT_KINDS.includes(kind)) return sendJson(res, 400, { error: `kind must be one of ${FAULT_KINDS.join(', ')}` });
          if (typeof count !== 'number') return sendJson(res, 400, { error: 'count must be a positive integer' });
          org.addFault(kind, count);
          if (kind === 'DROP_COMETD') this.cometd.dropPending(org);
          return sendJson(res, 200, { org: org.orgId, faults: org.faults });
        }
        case 'GET api-usage':
          return sendJson(res, 200, Object.fromEntries(this.orgs.map((o) => [o.orgId, o.apiCalls])));
        case 'GET orgs':
          return sendJson(
            res,
            200,
            this.orgs.map((o) => ({
              key: o.key,
              orgId: o.orgId,
              name: o.name,
              namespace: o.namespace,
              users: o.users().map((u) => ({ id: u.Id, username: u.Username })),
              connectedApps: o.connectedApps.map((a) => ({ name: a.name, clientId: a.clientId })),
            })),
          );
        case 'GET records': {
          const sobject = qs.get('sobject');
          const obj = sobject ? org.findObject(sobject) : null;
          if (!obj) return sendJson(res, 400, { error: `Query parameter sobject must name an sObject of org ${org.key}` });
          return sendJson(
            res,
            200,
            [...org.table(obj.name).values()].filter((r) => !r.IsDeleted),
          );
        }
        case 'GET events':
          org.pruneEvents();
          return sendJson(res, 200, org.events);
        case 'POST events': {
          if (typeof input.event !== 'string') return sendJson(res, 400, { error: 'event (the platform event API name) is required' });
          const users = org.users();
          const e = org.publishEvent(org.ns(input.event), (input.payload as Rec) ?? {}, String(users[0].Id));
          return sendJson(res, 200, e);
        }
        case 'POST clock': {
          const ms = input.advanceMs;
          if (typeof ms !== 'number' || ms < 0) return sendJson(res, 400, { error: 'advanceMs must be a non-negative number' });
          this.clock.advance(ms);
          return sendJson(res, 200, { now: new Date(this.clock.now()).toISOString() });
        }
        case 'POST latency': {
          const ms = input.ms;
          if (typeof ms !== 'number' || ms < 0) return sendJson(res, 400, { error: 'ms must be a non-negative number' });
          org.latencyMs = ms;
          return sendJson(res, 200, { org: org.orgId, latencyMs: ms });
        }
        case 'POST certificates': {
          const app = org.connectedApps.find((a) => a.clientId === input.clientId);
          if (!app) return sendJson(res, 404, { error: `No connected app with clientId '${String(input.clientId)}' in org ${org.key}` });
          if (typeof input.certificate !== 'string' || !input.certificate.includes('-----BEGIN')) {
            return sendJson(res, 400, { error: 'certificate must be a PEM certificate or public key' });
          }
          app.certificates.push(input.certificate);
          return sendJson(res, 200, { clientId: app.clientId, certificates: app.certificates.length });
        }
        case 'POST expire-sessions':
          this.expireSessions(org);
          return sendJson(res, 200, { org: org.orgId });
        case 'POST cometd/expire':
          this.cometd.expireClients(org);
          return sendJson(res, 200, { org: org.orgId });
        default:
          return sendJson(res, 404, { error: `No admin route ${m} /__admin/${route}` });
      }
    } catch (e) {
      return sendJson(res, 400, { error: (e as Error).message });
    }
  }
}

/** The username `POST /__admin/session` uses by default, per org. */
export const integrationUsers = new WeakMap<Org, string>();

function bearer(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  const m = h ? /^(?:OAuth|Bearer)\s+(.+)$/i.exec(h) : null;
  return m ? m[1].trim() : null;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' && headers['content-type'] === 'text/plain' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': JSON_TYPE, ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
