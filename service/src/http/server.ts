/**
 * The sidecar's HTTP face: `/healthz` (the process is alive), `/readyz` (each dependency —
 * store, org connections, model endpoints — says whether it is ready, and why not),
 * `/metrics` (Prometheus), and the gateway mounted by the caller. Errors become responses
 * only through `toHttpError`.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { SovraError, toHttpError } from '../shared/errors.js';
import { log } from '../shared/log.js';

export interface ReadinessResult {
  ready: boolean;
  /** Why it is not ready, and what to do about it. */
  detail?: string;
}

export interface ReadinessCheck {
  name: string;
  check(): Promise<ReadinessResult>;
}

export interface HttpFaceOptions {
  host: string;
  port: number;
  service: { name: string; jurisdiction: string; region: string; version: string };
  readiness: ReadinessCheck[];
  /** Prometheus text exposition; content type and body. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** Routers mounted under a path, e.g. the gateway at `/v1`. */
  mounts?: { path: string; router: Router }[];
  /** Milliseconds a readiness check may take before it counts as not ready. */
  checkTimeoutMs?: number;
}

export interface HttpFace {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

async function runCheck(c: ReadinessCheck, timeoutMs: number): Promise<ReadinessResult & { name: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<ReadinessResult>((resolve) => {
      timer = setTimeout(() => resolve({ ready: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
    });
    return { name: c.name, ...(await Promise.race([c.check(), timeout])) };
  } catch (err) {
    const e = err instanceof SovraError ? err.reason : 'check failed';
    return { name: c.name, ready: false, detail: e };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export function createHttpApp(options: HttpFaceOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', ...options.service });
  });

  app.get('/readyz', async (_req, res) => {
    const results = await Promise.all(options.readiness.map((c) => runCheck(c, options.checkTimeoutMs ?? 2000)));
    const ready = results.every((r) => r.ready);
    res.status(ready ? 200 : 503).json({ ready, checks: results });
  });

  if (options.metrics) {
    const metrics = options.metrics;
    app.get('/metrics', async (_req, res, next) => {
      try {
        const m = await metrics();
        res.set('Content-Type', m.contentType).send(m.body);
      } catch (err) {
        next(err);
      }
    });
  }

  for (const m of options.mounts ?? []) app.use(m.path, m.router);

  app.use((_req, _res, next) => {
    next(
      new SovraError('not_found', 'No such route.', {
        code: 'NOT_FOUND',
        fix: 'See README.md for the sidecar routes: /healthz, /readyz, /metrics, /v1/chat/completions.',
      }),
    );
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const { status, body } = toHttpError(err);
    if (status >= 500) log().error('http request failed', { code: body.error.code, error: err });
    res.status(status).set('Cache-Control', 'no-store').json(body);
  });
  return app;
}

export async function startHttpFace(options: HttpFaceOptions): Promise<HttpFace> {
  const app = createHttpApp(options);
  const server = app.listen(options.port, options.host);
  await once(server, 'listening');
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
