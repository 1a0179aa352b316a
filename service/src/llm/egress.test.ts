import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { SovraError } from '../shared/errors.js';
import { startLoopbackUpstream, type LoopbackUpstream } from '../../../test/e2e/models-upstream.js';
import { createEgressGuard, type EgressRefusalEvent, type Resolver } from './egress.js';

function fakeDns(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const fn = (async (host: string) => {
    calls.push(host);
    const a = table[host];
    if (!a) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return a;
  }) as Resolver & { calls: string[] };
  fn.calls = calls;
  return fn;
}

async function readAll(body: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}

async function expectRefused(p: Promise<unknown>, reason: string): Promise<SovraError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SovraError);
  const e = err as SovraError;
  expect(e.kind).toBe('egress_refused');
  expect(e.details.reason).toBe(reason);
  return e;
}

describe('egress guard', () => {
  let upstream: LoopbackUpstream;
  beforeAll(async () => {
    upstream = await startLoopbackUpstream(() => ({ kind: 'json', body: { ok: true } }));
  });
  afterAll(async () => upstream.close());
  afterEach(() => {
    upstream.requests.length = 0;
    upstream.connections = 0;
  });

  const base = { jurisdiction: 'EU', networks: ['127.0.0.0/8'], hosts: ['llm.eu.test'] };
  const req = (url: string, extra: Partial<Parameters<ReturnType<typeof createEgressGuard>['request']>[0]> = {}) => ({
    endpointId: 'eu-a',
    provider: 'openai-compatible',
    url: new URL(url),
    method: 'GET' as const,
    timeoutMs: 2_000,
    ...extra,
  });

  it('resolves an allowed host once, checks the address and connects to exactly that address', async () => {
    const dns = fakeDns({ 'llm.eu.test': ['127.0.0.1'] });
    const guard = createEgressGuard({ ...base, resolve: dns });
    try {
      const res = await guard.request(req(`http://llm.eu.test:${upstream.port}/v1/models`));
      expect(res.status).toBe(200);
      await readAll(res.body);
      expect(res.remoteAddress).toBe('127.0.0.1');
      expect(dns.calls).toEqual(['llm.eu.test']);
      expect(upstream.requests[0]!.headers.host).toBe(`llm.eu.test:${upstream.port}`);
    } finally {
      guard.close();
    }
  });

  it('refuses when any resolved address leaves the allowed networks, and reports it', async () => {
    const events: EgressRefusalEvent[] = [];
    const dns = fakeDns({ 'llm.eu.test': ['127.0.0.1', '3.5.140.2'] });
    const guard = createEgressGuard({ ...base, resolve: dns, onRefusal: (e) => events.push(e) });
    const e = await expectRefused(guard.request(req(`http://llm.eu.test:${upstream.port}/v1/models`)), 'address_outside_networks');
    expect(e.code).toBe('EGRESS_ADDRESS_OUTSIDE_NETWORKS');
    expect(e.message).toContain('3.5.140.2');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ jurisdiction: 'EU', endpointId: 'eu-a', host: 'llm.eu.test', outside: ['3.5.140.2'] });
    expect(upstream.connections).toBe(0);
    guard.close();
  });

  it('refuses a DNS answer that changed to an outside address after an allowed call', async () => {
    const table: Record<string, string[]> = { 'llm.eu.test': ['127.0.0.1'] };
    const guard = createEgressGuard({ ...base, resolve: fakeDns(table) });
    const ok = await guard.request(req(`http://llm.eu.test:${upstream.port}/v1/models`));
    await readAll(ok.body);
    const before = upstream.requests.length;
    table['llm.eu.test'] = ['52.95.110.1'];
    await expectRefused(guard.request(req(`http://llm.eu.test:${upstream.port}/v1/models`)), 'address_outside_networks');
    expect(upstream.requests.length).toBe(before);
    guard.close();
  });

  it('refuses host names not listed for the jurisdiction without resolving them', async () => {
    const dns = fakeDns({ 'llm.us.test': ['127.0.0.1'] });
    const guard = createEgressGuard({ ...base, resolve: dns });
    await expectRefused(guard.request(req(`http://llm.us.test:${upstream.port}/v1/models`)), 'host_not_allowed');
    expect(dns.calls).toEqual([]);
    expect(upstream.connections).toBe(0);
    guard.close();
  });

  it('checks IP literals against the networks too', async () => {
    const guard = createEgressGuard({ ...base, networks: ['10.20.0.0/16'] });
    await expectRefused(guard.request(req(`http://127.0.0.1:${upstream.port}/v1/models`)), 'address_outside_networks');
    expect(upstream.connections).toBe(0);
    guard.close();
  });

  it('uses pinned addresses instead of DNS, and checks them', async () => {
    const dns = fakeDns({});
    const guard = createEgressGuard({ ...base, resolve: dns });
    const res = await guard.request(req(`http://llm.eu.test:${upstream.port}/v1/models`, { pinnedAddresses: ['127.0.0.1'] }));
    await readAll(res.body);
    expect(res.status).toBe(200);
    await expectRefused(
      guard.request(req(`http://llm.eu.test:${upstream.port}/v1/models`, { pinnedAddresses: ['192.0.2.1'] })),
      'address_outside_networks',
    );
    expect(dns.calls).toEqual([]);
    guard.close();
  });

  it('refuses a redirect and never follows it', async () => {
    const target = await startLoopbackUpstream();
    const redirecting = await startLoopbackUpstream(() => ({ kind: 'redirect', status: 307, location: `${target.url}/v1/models` }));
    const events: EgressRefusalEvent[] = [];
    const guard = createEgressGuard({ ...base, onRefusal: (e) => events.push(e) });
    try {
      await expectRefused(guard.request(req(`${redirecting.url}/v1/chat/completions`, { method: 'POST', body: '{}' })), 'redirect');
      expect(events.map((e) => e.reason)).toEqual(['redirect']);
      expect(target.connections).toBe(0);
    } finally {
      guard.close();
      await target.close();
      await redirecting.close();
    }
  });

  it('times out a model server that does not answer', async () => {
    const hanging = await startLoopbackUpstream(() => ({ kind: 'hang' }));
    const guard = createEgressGuard(base);
    try {
      const err = await guard
        .request(req(`${hanging.url}/v1/chat/completions`, { method: 'POST', body: '{}', timeoutMs: 100 }))
        .catch((e: unknown) => e);
      expect((err as SovraError).kind).toBe('timeout');
      expect((err as SovraError).code).toBe('UPSTREAM_TIMEOUT');
    } finally {
      guard.close();
      await hanging.close();
    }
  });

  it('resends once on a fresh connection when a pooled keep-alive socket was closed by the server', async () => {
    // Each connection answers its first request and drops the connection on the second one,
    // as a server does that closes idle keep-alive sockets just as they are reused.
    let connections = 0;
    const srv = net.createServer((sock) => {
      connections += 1;
      let served = 0;
      sock.on('data', () => {
        served += 1;
        if (served === 1)
          sock.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n{}');
        else sock.destroy();
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
    const port = (srv.address() as AddressInfo).port;
    const guard = createEgressGuard(base);
    try {
      for (let i = 0; i < 3; i++) {
        const res = await guard.request(req(`http://127.0.0.1:${port}/v1/models`));
        expect(res.status).toBe(200);
        await readAll(res.body);
      }
      expect(connections).toBe(3);
    } finally {
      guard.close();
      await new Promise((ok) => srv.close(ok));
    }
  });

  describe('proxies', () => {
    let proxy: http.Server;
    let proxyPort: number;
    const proxied: string[] = [];
    beforeAll(async () => {
      proxy = http.createServer((req, res) => {
        proxied.push(req.url ?? '');
        const target = new URL(req.url ?? '');
        const fwd = http.request(
          { host: '127.0.0.1', port: target.port, path: target.pathname, method: req.method, headers: req.headers },
          (r) => {
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
          },
        );
        req.pipe(fwd);
      });
      proxy.on('connection', (s: Socket) => s.on('error', () => undefined));
      await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
      proxyPort = (proxy.address() as AddressInfo).port;
    });
    afterAll(async () => {
      proxy.closeAllConnections();
      await new Promise((ok) => proxy.close(ok));
    });

    it('ignores HTTP_PROXY from the environment', async () => {
      proxied.length = 0;
      const saved = process.env.HTTP_PROXY;
      process.env.HTTP_PROXY = `http://127.0.0.1:${proxyPort}`;
      const guard = createEgressGuard(base);
      try {
        const res = await guard.request(req(`${upstream.url}/v1/models`));
        await readAll(res.body);
        expect(res.status).toBe(200);
        expect(proxied).toEqual([]);
      } finally {
        guard.close();
        if (saved === undefined) delete process.env.HTTP_PROXY;
        else process.env.HTTP_PROXY = saved;
      }
    });

    it('uses the configured egress proxy, and refuses one outside the networks', async () => {
      proxied.length = 0;
      const guard = createEgressGuard({ ...base, proxy: `http://127.0.0.1:${proxyPort}` });
      const res = await guard.request(req(`http://127.0.0.1:${upstream.port}/v1/models`));
      await readAll(res.body);
      expect(res.status).toBe(200);
      expect(proxied).toEqual([`http://127.0.0.1:${upstream.port}/v1/models`]);
      guard.close();

      const outside = createEgressGuard({ ...base, networks: ['127.0.0.1/32'], hosts: [], proxy: `http://127.0.0.2:${proxyPort}` });
      await expectRefused(outside.request(req(`http://127.0.0.1:${upstream.port}/v1/models`)), 'proxy_outside_networks');
      outside.close();
    });
  });
});
