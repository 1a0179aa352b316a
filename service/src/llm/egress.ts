/**
 * The egress guard: the only way a model call leaves the process. For every outbound request
 * it
 *  - accepts only host names listed for the jurisdiction (or IP literals),
 *  - resolves the host once (or takes the endpoint's pinned addresses) and checks EVERY
 *    resolved address against the jurisdiction's allowed networks — one address outside
 *    refuses the call, so a DNS answer that drifts out of the jurisdiction cannot slip through,
 *  - connects to exactly the addresses it checked (a custom `lookup` on the socket: there is
 *    no second DNS lookup between check and connect),
 *  - follows no redirect (a 3xx answer is a refusal),
 *  - ignores HTTP(S)_PROXY/NO_PROXY in the environment; only `egress.proxy` from config is used.
 * A refusal is a typed `egress_refused` error, reported to the injected `onRefusal` callback
 * (the audit trail) before it is thrown. It is never retried anywhere else.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import tls from 'node:tls';
import { parseCidr, type Cidr } from '../config/cidr.js';
import { SovraError, egressRefused, timeoutError, upstreamError } from '../shared/errors.js';

/** Resolves a host name to all its addresses (injected in tests: no network). */
export type Resolver = (hostname: string) => Promise<string[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

export type EgressRefusalReason =
  | 'host_not_allowed'
  | 'address_outside_networks'
  | 'no_address'
  | 'dns_failure'
  | 'redirect'
  | 'proxy_outside_networks'
  | 'scheme_not_allowed';

/** What the audit trail records about a refused connection: names and addresses, never content. */
export interface EgressRefusalEvent {
  kind: 'egress_refused';
  jurisdiction: string;
  endpointId: string;
  host: string;
  reason: EgressRefusalReason;
  /** The resolved addresses that were checked (all of them), and those outside the networks. */
  addresses: string[];
  outside: string[];
  at: string;
}

export interface EgressPolicy {
  /** CIDRs outbound model calls may reach. */
  networks: string[];
  /** Host names outbound model calls may name. */
  hosts: string[];
  /** Explicit egress proxy URL; without it no proxy is ever used. */
  proxy?: string;
}

export interface EgressGuardOptions extends EgressPolicy {
  jurisdiction: string;
  resolve?: Resolver;
  /** Called with every refusal before the typed error is thrown (wire it to the audit stage). */
  onRefusal?: (event: EgressRefusalEvent) => void;
}

export interface EgressRequest {
  endpointId: string;
  url: URL;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Connect to these addresses instead of resolving the host (each is still checked). */
  pinnedAddresses?: string[];
  signal?: AbortSignal;
  /** Time allowed until the response headers arrive. */
  timeoutMs: number;
  /** Name of the provider, for error messages. */
  provider: string;
}

export interface EgressResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body stream; the caller reads or destroys it. */
  body: IncomingMessage;
  /** The address the socket is connected to (checked). */
  remoteAddress: string | undefined;
}

export interface EgressGuard {
  readonly jurisdiction: string;
  /** Resolves (or takes the pinned addresses) and checks every address; returns them. */
  check(endpointId: string, host: string, pinnedAddresses?: string[]): Promise<string[]>;
  request(req: EgressRequest): Promise<EgressResponse>;
  /** Closes pooled connections. */
  close(): void;
}

function stripBrackets(host: string): string {
  return host.replace(/^\[|\]$/g, '');
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

type LookupFunction = NonNullable<http.RequestOptions['lookup']>;

/** A `lookup` that answers only with the already-checked addresses: no second resolution. */
function fixedLookup(addresses: string[]): LookupFunction {
  const fn = (_host: string, options: LookupOptions | number | LookupCallback, cb?: LookupCallback): void => {
    const callback = (typeof options === 'function' ? options : cb) as LookupCallback;
    const opts = typeof options === 'object' ? options : {};
    const wanted = typeof opts.family === 'number' && opts.family !== 0 ? opts.family : undefined;
    const list = addresses.map((address) => ({ address, family: isIP(address) })).filter((a) => (wanted ? a.family === wanted : true));
    if (list.length === 0) {
      const err: NodeJS.ErrnoException = new Error('no checked address for the requested family');
      err.code = 'ENOTFOUND';
      callback(err, '', 0);
      return;
    }
    if (opts.all) callback(null, list);
    else callback(null, list[0]!.address, list[0]!.family);
  };
  return fn as unknown as LookupFunction;
}

export function createEgressGuard(options: EgressGuardOptions): EgressGuard {
  const { jurisdiction } = options;
  const networks: Cidr[] = options.networks.map((n) => {
    const c = parseCidr(n);
    if (!c) {
      throw new SovraError('validation', `Egress network '${n}' of jurisdiction ${jurisdiction} is not a CIDR.`, {
        code: 'EGRESS_NETWORK_INVALID',
        fix: 'Write networks like 10.20.0.0/16 or 2001:db8::/32.',
      });
    }
    return c;
  });
  const hosts = new Set(options.hosts.map((h) => h.toLowerCase()));
  const resolve = options.resolve ?? systemResolver;
  const proxy = options.proxy ? new URL(options.proxy) : undefined;
  // One keep-alive pool per guard; sockets in it were connected to checked addresses.
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });

  const refuse = (
    endpointId: string,
    host: string,
    reason: EgressRefusalReason,
    addresses: string[],
    outside: string[],
    message: string,
    fix: string,
  ): SovraError => {
    const event: EgressRefusalEvent = {
      kind: 'egress_refused',
      jurisdiction,
      endpointId,
      host,
      reason,
      addresses,
      outside,
      at: new Date().toISOString(),
    };
    try {
      options.onRefusal?.(event);
    } catch {
      // The refusal itself must stand even if reporting it failed; the error below carries it.
    }
    return egressRefused(message, {
      code: `EGRESS_${reason.toUpperCase()}`,
      fix,
      details: { jurisdiction, endpointId, host, reason, addresses, outside },
      retryable: false,
    });
  };

  const inNetworks = (ip: string): boolean => networks.some((n) => n.contains(ip));

  async function check(endpointId: string, rawHost: string, pinnedAddresses?: string[], asProxy = false): Promise<string[]> {
    const outsideReason: EgressRefusalReason = asProxy ? 'proxy_outside_networks' : 'address_outside_networks';
    const host = stripBrackets(rawHost).toLowerCase();
    let addresses: string[];
    if (isIP(host) !== 0) {
      addresses = [host];
    } else {
      if (!hosts.has(host)) {
        throw refuse(
          endpointId,
          host,
          asProxy ? 'proxy_outside_networks' : 'host_not_allowed',
          [],
          [],
          asProxy
            ? `The egress proxy host '${host}' of jurisdiction ${jurisdiction} is not among its allowed hosts.`
            : `Endpoint '${endpointId}' names host '${host}', which jurisdiction ${jurisdiction} does not allow.`,
          `List it under jurisdictions.${jurisdiction}.egress.hosts if it really runs inside ${jurisdiction}.`,
        );
      }
      if (pinnedAddresses && pinnedAddresses.length > 0) {
        addresses = [...pinnedAddresses];
      } else {
        try {
          addresses = await resolve(host);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EAI_AGAIN') {
            throw upstreamError(`The host of endpoint '${endpointId}' could not be resolved right now (EAI_AGAIN).`, {
              code: 'UPSTREAM_DNS_TEMPORARY',
              details: { endpointId, host },
              retryable: true,
            });
          }
          throw refuse(
            endpointId,
            host,
            'dns_failure',
            [],
            [],
            `The host '${host}' of endpoint '${endpointId}' does not resolve (${code ?? 'error'}).`,
            'Check the endpoint baseUrl and DNS, or pin its addresses with pinnedAddresses.',
          );
        }
      }
    }
    if (addresses.length === 0) {
      throw refuse(
        endpointId,
        host,
        'no_address',
        [],
        [],
        `The host '${host}' of endpoint '${endpointId}' resolved to no address.`,
        'Check DNS or pin the addresses.',
      );
    }
    const outside = addresses.filter((a) => isIP(a) === 0 || !inNetworks(a));
    if (outside.length > 0) {
      throw refuse(
        endpointId,
        host,
        outsideReason,
        addresses,
        outside,
        asProxy
          ? `The egress proxy of jurisdiction ${jurisdiction} resolves to ${outside.join(', ')}, outside its allowed networks; the call was not made.`
          : `Endpoint '${endpointId}' resolves to ${outside.join(', ')}, outside the allowed networks of jurisdiction ${jurisdiction}; the call was not made.`,
        `If that address really is inside ${jurisdiction}, add its network to jurisdictions.${jurisdiction}.egress.networks; otherwise fix the DNS record.`,
      );
    }
    return addresses;
  }

  function combineSignals(timeoutMs: number, signal?: AbortSignal): { signal: AbortSignal; timedOut: () => boolean; clear: () => void } {
    const ctl = new AbortController();
    let timed = false;
    const timer = setTimeout(() => {
      timed = true;
      ctl.abort(new Error('timeout'));
    }, timeoutMs);
    const onAbort = (): void => ctl.abort(signal?.reason);
    if (signal) {
      if (signal.aborted) ctl.abort(signal.reason);
      else signal.addEventListener('abort', onAbort, { once: true });
    }
    return {
      signal: ctl.signal,
      timedOut: () => timed,
      clear: () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      },
    };
  }

  async function openTunnel(target: URL, proxyAddresses: string[], signal: AbortSignal): Promise<Socket> {
    const port = Number(target.port || 443);
    return new Promise<Socket>((resolvePromise, reject) => {
      const req = http.request({
        host: stripBrackets(proxy!.hostname),
        port: Number(proxy!.port || 80),
        method: 'CONNECT',
        path: `${stripBrackets(target.hostname)}:${port}`,
        headers: { host: `${target.hostname}:${port}` },
        agent: false,
        lookup: fixedLookup(proxyAddresses),
        signal,
      });
      req.once('connect', (res, socket) => {
        if (res.statusCode !== 200) {
          socket.destroy();
          reject(new Error(`proxy CONNECT answered ${res.statusCode ?? 0}`));
          return;
        }
        resolvePromise(socket);
      });
      req.once('error', reject);
      req.end();
    });
  }

  async function request(req: EgressRequest): Promise<EgressResponse> {
    const { url, endpointId } = req;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw refuse(
        endpointId,
        url.hostname,
        'scheme_not_allowed',
        [],
        [],
        `Endpoint '${endpointId}' uses ${url.protocol}, which is not http(s).`,
        'Use an http(s) baseUrl.',
      );
    }
    const isHttps = url.protocol === 'https:';
    const ctl = combineSignals(req.timeoutMs, req.signal);
    const headers: Record<string, string> = { ...(req.headers ?? {}) };
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));

    let options: https.RequestOptions;
    try {
      options = await connectOptions();
    } catch (err) {
      ctl.clear();
      throw err;
    }
    async function connectOptions(): Promise<https.RequestOptions> {
      if (proxy) {
        // The target is named to the proxy, which resolves it; the host must still be allowed, and
        // the proxy itself must sit inside the jurisdiction's networks.
        const targetHost = stripBrackets(url.hostname).toLowerCase();
        if (isIP(targetHost) !== 0) await check(endpointId, targetHost);
        else if (!hosts.has(targetHost)) await check(endpointId, targetHost); // throws host_not_allowed
        const proxyAddresses = await check(endpointId, proxy.hostname, undefined, true);
        if (isHttps) {
          let socket: Socket;
          try {
            socket = await openTunnel(url, proxyAddresses, ctl.signal);
          } catch (err) {
            throw networkError(err, req, ctl.timedOut());
          }
          const tlsSocket = tls.connect({ socket, servername: stripBrackets(url.hostname) });
          return {
            agent: false,
            createConnection: () => tlsSocket,
            hostname: url.hostname,
            port: url.port || 443,
            path: url.pathname + url.search,
          };
        } else {
          return {
            agent: false,
            hostname: proxy.hostname,
            port: proxy.port || 80,
            path: url.href,
            lookup: fixedLookup(proxyAddresses),
          };
          headers.host = url.host;
        }
      } else {
        const addresses = await check(endpointId, url.hostname, req.pinnedAddresses);
        return {
          agent: isHttps ? httpsAgent : httpAgent,
          hostname: url.hostname,
          port: url.port || (isHttps ? 443 : 80),
          path: url.pathname + url.search,
          lookup: fixedLookup(addresses),
          servername: isIP(stripBrackets(url.hostname)) === 0 ? stripBrackets(url.hostname) : undefined,
        };
      }
    }

    const lib = isHttps ? https : http;
    // A pooled keep-alive socket the server closed while idle fails before any response byte;
    // that request never reached the server, so it is sent once more on a fresh connection
    // (to the same checked address).
    const send = (retryStale: boolean): Promise<EgressResponse> =>
      new Promise<EgressResponse>((resolvePromise, reject) => {
        const r = lib.request({ ...options, method: req.method, headers, signal: ctl.signal }, (res) => {
          ctl.clear();
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400) {
            res.resume();
            reject(
              refuse(
                endpointId,
                url.hostname,
                'redirect',
                [],
                [],
                `Endpoint '${endpointId}' answered with a redirect (HTTP ${status}); Sovra follows no redirect out of a model call.`,
                'Point baseUrl at the final address of the model server (a redirect could lead outside the jurisdiction).',
              ),
            );
            return;
          }
          resolvePromise({ status, headers: res.headers, body: res, remoteAddress: res.socket?.remoteAddress });
        });
        r.once('error', (err) => {
          const code = (err as NodeJS.ErrnoException).code;
          if (retryStale && r.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE') && !ctl.signal.aborted) {
            resolvePromise(send(false));
            return;
          }
          ctl.clear();
          reject(networkError(err, req, ctl.timedOut()));
        });
        if (req.body !== undefined) r.write(req.body);
        r.end();
      });
    return send(true);
  }

  return {
    jurisdiction,
    check,
    request,
    close(): void {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

function networkError(err: unknown, req: EgressRequest, timedOut: boolean): SovraError {
  if (err instanceof SovraError) return err;
  if (timedOut) {
    return timeoutError(`Model endpoint '${req.endpointId}' (${req.provider}) did not answer within ${req.timeoutMs} ms.`, {
      code: 'UPSTREAM_TIMEOUT',
      fix: 'Raise timeoutMs for this endpoint or check the model server load.',
      details: { endpointId: req.endpointId, provider: req.provider, timeoutMs: req.timeoutMs },
      retryable: true,
    });
  }
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).name;
  if (code === 'ABORT_ERR' || (err as Error).name === 'AbortError') {
    return new SovraError('unavailable', `The call to model endpoint '${req.endpointId}' was cancelled.`, {
      code: 'UPSTREAM_CANCELLED',
      details: { endpointId: req.endpointId, provider: req.provider },
      retryable: false,
      cause: err,
    });
  }
  return upstreamError(`Model endpoint '${req.endpointId}' (${req.provider}) could not be reached (${code}).`, {
    code: 'UPSTREAM_UNREACHABLE',
    fix: 'Check that the model server is running and reachable from the sidecar.',
    details: { endpointId: req.endpointId, provider: req.provider, net: code },
    retryable: true,
    cause: err,
  });
}
