import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { parseCidr, type Cidr } from '../config/cidr.js';
import { clientAddress, createGeofence, createGeofenceDecider, type GeofenceAuditEvent, type GeofenceConfig } from './geofence.js';
import { createMetrics } from './metrics.js';

const EU = ['AT', 'BE', 'DE', 'FR', 'IE', 'IT', 'NL', 'ES'];
const cfg = (over: Partial<GeofenceConfig> = {}): GeofenceConfig => ({
  enabled: true,
  allowCidrs: [],
  denyCidrs: [],
  allowPrivate: true,
  trustedProxies: [],
  ...over,
});
const cidrs = (...c: string[]): Cidr[] => c.map((x) => parseCidr(x)!);

describe('client address', () => {
  it('is the socket peer when the peer is not a trusted proxy, whatever X-Forwarded-For says', () => {
    expect(clientAddress('8.8.8.8', '85.214.132.117', cidrs('10.0.0.0/8'))).toBe('8.8.8.8');
    expect(clientAddress('::ffff:8.8.8.8', undefined, [])).toBe('8.8.8.8');
  });
  it('walks X-Forwarded-For from the right past trusted proxies only', () => {
    const trusted = cidrs('10.0.0.0/8');
    // The client put a fake German address first; the proxy appended the real peer.
    expect(clientAddress('10.0.0.2', '85.214.132.117, 8.8.8.8', trusted)).toBe('8.8.8.8');
    expect(clientAddress('10.0.0.2', '8.8.8.8, 10.0.0.7', trusted)).toBe('8.8.8.8');
    expect(clientAddress('10.0.0.2', ['212.27.48.10', '10.0.0.9'], trusted)).toBe('212.27.48.10');
    expect(clientAddress('10.0.0.2', '[2a01:4f8::1]:443', trusted)).toBe('2a01:4f8::1');
  });
});

describe('geo-fence decisions with the bundled GeoLite2 data', () => {
  const decide = createGeofenceDecider({ jurisdiction: 'EU', jurisdictionCountries: EU, config: cfg() });
  it.each([
    ['85.214.132.117', true, 'DE'],
    ['212.27.48.10', true, 'FR'],
    ['193.0.6.139', true, 'NL'],
    ['18.200.0.1', true, 'IE'],
    ['2a01:4f8::1', true, 'DE'],
    ['8.8.8.8', false, 'US'],
    ['81.2.69.142', false, 'GB'],
    ['133.242.0.1', false, 'JP'],
    ['5.255.255.5', false, 'RU'],
  ])('%s is allowed=%s (%s)', (ip, allowed, country) => {
    const d = decide(ip);
    expect(d).toMatchObject({ allowed, country, reason: allowed ? 'country_allowed' : 'country_not_allowed' });
  });
  it('refuses an address whose country is unknown', () => {
    expect(decide('9.9.9.9')).toMatchObject({ allowed: false, reason: 'country_unknown' });
  });
  it('applies deny lists before allow lists and countries', () => {
    const d = createGeofenceDecider({
      jurisdiction: 'EU',
      jurisdictionCountries: EU,
      config: cfg({ denyCidrs: ['85.214.0.0/16'], allowCidrs: ['8.8.8.0/24', '85.214.132.0/24'] }),
    });
    expect(d('85.214.132.117').reason).toBe('deny_cidr');
    expect(d('8.8.8.8')).toMatchObject({ allowed: true, reason: 'allow_cidr' });
  });
  it('narrows countries and private networks per config', () => {
    const d = createGeofenceDecider({
      jurisdiction: 'EU',
      jurisdictionCountries: EU,
      config: cfg({ countries: ['DE'], allowPrivate: false }),
    });
    expect(d('212.27.48.10').allowed).toBe(false);
    expect(d('85.214.132.117').allowed).toBe(true);
    expect(d('127.0.0.1')).toMatchObject({ allowed: false, reason: 'private_not_allowed' });
  });
  it('lets everything through when disabled', () => {
    const d = createGeofenceDecider({ jurisdiction: 'EU', jurisdictionCountries: EU, config: cfg({ enabled: false }) });
    expect(d('8.8.8.8')).toMatchObject({ allowed: true, reason: 'disabled' });
  });
});

describe('geo-fence middleware', () => {
  let server: Server;
  let url: string;
  const audits: GeofenceAuditEvent[] = [];
  const metrics = createMetrics({ processMetrics: false });
  beforeAll(async () => {
    const app = express();
    app.use(
      createGeofence({
        jurisdiction: 'EU',
        jurisdictionCountries: EU,
        config: cfg({ trustedProxies: ['127.0.0.1/32'], denyCidrs: ['203.0.113.0/24'] }),
        metrics,
        audit: (e) => {
          audits.push(e);
        },
      }),
    );
    app.get('/x', (_req, res) => {
      res.json({ client: res.locals.sovraClient });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((ok) => server.once('listening', ok));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });

  it('passes allowed callers on with their address and country', async () => {
    const res = await fetch(url, { headers: { 'x-forwarded-for': '85.214.132.117' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ client: { address: '85.214.132.117', country: 'DE' } });
    const local = await fetch(url);
    expect(local.status).toBe(200);
  });

  it('refuses with 403, a reason, and an audit event', async () => {
    const res = await fetch(url, { headers: { 'x-forwarded-for': '8.8.8.8' } });
    expect(res.status).toBe(403);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { error: { type: string; code: string; message: string; fix: string } };
    expect(body.error).toMatchObject({ type: 'forbidden', code: 'GEOFENCE_COUNTRY_NOT_ALLOWED' });
    expect(body.error.fix).toContain('EU');
    const spoofed = await fetch(url, { headers: { 'x-forwarded-for': '203.0.113.50' } });
    expect(((await spoofed.json()) as { error: { code: string } }).error.code).toBe('GEOFENCE_DENY_CIDR');
    await new Promise((ok) => setTimeout(ok, 10));
    expect(audits.map((a) => [a.reason, a.clientAddress, a.country ?? null])).toEqual([
      ['country_not_allowed', '8.8.8.8', 'US'],
      ['deny_cidr', '203.0.113.50', null],
    ]);
    const text = await metrics.metrics();
    expect(text).toContain('sovra_geofence_refusals_total{jurisdiction="EU",reason="country_not_allowed"} 1');
  });
});
