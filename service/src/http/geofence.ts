/**
 * Geo-fencing of the HTTP face. The client address is the socket's peer, or — only when that
 * peer is a configured trusted proxy — the right-most untrusted hop of X-Forwarded-For (so a
 * client cannot pick its own address by sending the header). Then, in order:
 *   1. in a deny CIDR → refused;
 *   2. in an allow CIDR → allowed;
 *   3. private/loopback (no country) → allowed only with `allowPrivate`;
 *   4. its country (MaxMind-format database, bundled GeoLite2 by default) must be one of the
 *      allowed countries (default: the deployment jurisdiction's); unknown country → refused.
 * A refusal is 403 with the reason (through `toHttpError`), counted and audited.
 */
import { isIP } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isPrivateAddress, parseCidr, type Cidr } from '../config/cidr.js';
import type { ParsedConfig } from '../config/schema.js';
import { SovraError, toHttpError } from '../shared/errors.js';
import { geoLookup, type GeoLookup } from '../shared/geo.js';
import { log } from '../shared/log.js';
import type { SovraMetrics } from './metrics.js';

export type GeofenceConfig = ParsedConfig['http']['geofence'];

export type GeofenceReason =
  | 'disabled'
  | 'deny_cidr'
  | 'allow_cidr'
  | 'private_allowed'
  | 'private_not_allowed'
  | 'country_allowed'
  | 'country_not_allowed'
  | 'country_unknown'
  | 'client_address_invalid';

export interface GeofenceDecision {
  allowed: boolean;
  reason: GeofenceReason;
  /** The client address the decision was made on. */
  client: string;
  country?: string;
}

export interface GeofenceAuditEvent {
  kind: 'geofence_refused';
  jurisdiction: string;
  reason: GeofenceReason;
  clientAddress: string;
  country?: string;
  path: string;
  at: string;
}

export interface GeofenceOptions {
  /** The deployment's jurisdiction and its member countries. */
  jurisdiction: string;
  jurisdictionCountries: readonly string[];
  config: GeofenceConfig;
  /** Country lookup; default: `config.database` or the bundled GeoLite2 country data. */
  geo?: GeoLookup;
  metrics?: SovraMetrics;
  /** Every refusal, for the audit trail. */
  audit?: (event: GeofenceAuditEvent) => void | Promise<void>;
}

/** What the middleware leaves on `res.locals.sovraClient` for later handlers. */
export interface ClientInfo {
  address: string;
  country?: string;
}

function normalise(ip: string): string {
  const s = ip.trim().replace(/^\[|\](:\d+)?$/g, '');
  if (s.toLowerCase().startsWith('::ffff:') && isIP(s.slice(7)) === 4) return s.slice(7);
  // "1.2.3.4:5678" as some proxies write it
  const v4port = s.match(/^(\d+\.\d+\.\d+\.\d+):\d+$/);
  return v4port ? v4port[1]! : s;
}

/**
 * The client address: the peer, unless the peer is a trusted proxy, in which case the
 * X-Forwarded-For chain is walked from the right past every trusted proxy.
 */
export function clientAddress(remote: string, forwardedFor: string | string[] | undefined, trusted: readonly Cidr[]): string {
  let addr = normalise(remote);
  if (trusted.length === 0 || forwardedFor === undefined) return addr;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h.length > 0);
  const isTrusted = (a: string): boolean => isIP(a) !== 0 && trusted.some((c) => c.contains(a));
  while (isTrusted(addr) && hops.length > 0) addr = normalise(hops.pop()!);
  return addr;
}

export function createGeofenceDecider(
  options: Omit<GeofenceOptions, 'metrics' | 'audit'>,
): (remote: string, forwardedFor?: string | string[]) => GeofenceDecision {
  const cfg = options.config;
  const parse = (list: readonly string[]): Cidr[] => list.map((c) => parseCidr(c)).filter((c): c is Cidr => c !== undefined);
  const deny = parse(cfg.denyCidrs);
  const allow = parse(cfg.allowCidrs);
  const trusted = parse(cfg.trustedProxies);
  const countries = new Set((cfg.countries ?? options.jurisdictionCountries).map((c) => c.toUpperCase()));
  const geo = cfg.enabled ? (options.geo ?? geoLookup(cfg.database)) : undefined;
  return (remote, forwardedFor) => {
    const client = clientAddress(remote, forwardedFor, trusted);
    if (!cfg.enabled) return { allowed: true, reason: 'disabled', client };
    if (isIP(client) === 0) return { allowed: false, reason: 'client_address_invalid', client };
    if (deny.some((c) => c.contains(client))) return { allowed: false, reason: 'deny_cidr', client };
    if (allow.some((c) => c.contains(client))) return { allowed: true, reason: 'allow_cidr', client };
    if (isPrivateAddress(client))
      return { allowed: cfg.allowPrivate, reason: cfg.allowPrivate ? 'private_allowed' : 'private_not_allowed', client };
    const country = geo!.country(client);
    if (country === undefined) return { allowed: false, reason: 'country_unknown', client };
    return { allowed: countries.has(country), reason: countries.has(country) ? 'country_allowed' : 'country_not_allowed', client, country };
  };
}

const MESSAGES: Record<GeofenceReason, string> = {
  disabled: '',
  allow_cidr: '',
  private_allowed: '',
  country_allowed: '',
  deny_cidr: 'Calls from this network are denied by the deployment.',
  private_not_allowed: 'Calls from private networks are not allowed by this deployment.',
  country_not_allowed: 'Calls from this country are not allowed by this deployment.',
  country_unknown: 'The country of the calling address is unknown, so the call is refused.',
  client_address_invalid: 'The calling address could not be determined, so the call is refused.',
};

export function geofenceError(d: GeofenceDecision, jurisdiction: string): SovraError {
  const details: Record<string, unknown> = { reason: d.reason, jurisdiction };
  if (d.country) details.country = d.country;
  return new SovraError('forbidden', MESSAGES[d.reason], {
    code: `GEOFENCE_${d.reason.toUpperCase()}`,
    fix: `Call from inside ${jurisdiction}, or ask the operator to add your network to http.geofence.allowCidrs.`,
    details,
    retryable: false,
  });
}

/** Express middleware enforcing the geo-fence; refused calls end here with 403. */
export function createGeofence(options: GeofenceOptions): RequestHandler {
  const decide = createGeofenceDecider(options);
  return (req: Request, res: Response, next: NextFunction): void => {
    const d = decide(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for']);
    if (d.allowed) {
      const info: ClientInfo = { address: d.client };
      if (d.country) info.country = d.country;
      res.locals.sovraClient = info;
      next();
      return;
    }
    options.metrics?.geofenceRefusals.inc({ jurisdiction: options.jurisdiction, reason: d.reason });
    options.metrics?.blocked.inc({ jurisdiction: options.jurisdiction, reason: `geofence_${d.reason}` });
    log().warn('geofence refused a call', { reason: d.reason, country: d.country ?? null });
    if (options.audit) {
      const ev: GeofenceAuditEvent = {
        kind: 'geofence_refused',
        jurisdiction: options.jurisdiction,
        reason: d.reason,
        clientAddress: d.client,
        path: req.path,
        at: new Date().toISOString(),
      };
      if (d.country) ev.country = d.country;
      Promise.resolve()
        .then(() => options.audit!(ev))
        .catch(() => log().error('geofence audit failed', { reason: d.reason }));
    }
    const { status, body } = toHttpError(geofenceError(d, options.jurisdiction));
    res.status(status).set('cache-control', 'no-store').json(body);
  };
}
