/**
 * Real local upstreams for the e2e suites and the gateway benchmark: llama.cpp's own
 * `llama-server` (built from the source node-llama-cpp ships by scripts/ci/llama-server.sh,
 * cached outside the repository) serving the tiny real model, and a TCP proxy that counts
 * connections and records the bytes that pass, so a test can prove no byte reached a server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import net, { type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';

export const MODEL_PATH = resolve(new URL('../../../shared/models/stories260K.gguf', import.meta.url).pathname);

/** Where scripts/ci/llama-server.sh puts the binary. */
export function llamaServerPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SOVRA_LLAMA_SERVER) return env.SOVRA_LLAMA_SERVER;
  const cache = env.SOVRA_CACHE ?? join(env.HOME ?? homedir(), '.cache', 'sovra');
  return join(cache, 'llama-server', 'bin', 'llama-server');
}

export function requireLlamaServer(): string {
  const bin = llamaServerPath();
  if (!existsSync(bin)) {
    throw new Error(
      `llama-server is not built at ${bin}. Run scripts/ci/llama-server.sh once (about 6.5 minutes on 2 cores; CI runs it before npm test), or set SOVRA_LLAMA_SERVER to a llama-server binary.`,
    );
  }
  return bin;
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address() as AddressInfo;
  await new Promise((ok) => srv.close(ok));
  return port;
}

export interface LlamaServer {
  port: number;
  url: string;
  baseUrl: string;
  stop(): Promise<void>;
}

export async function startLlamaServer(options: { threads?: number; contextSize?: number; parallel?: number } = {}): Promise<LlamaServer> {
  const bin = requireLlamaServer();
  const port = await freePort();
  const args = [
    '-m',
    MODEL_PATH,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '-t',
    String(options.threads ?? 1),
    '-c',
    String(options.contextSize ?? 512),
    '-np',
    String(options.parallel ?? 1),
    '--offline',
    '--no-webui',
  ];
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`llama-server exited (${child.exitCode}): ${log}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`llama-server did not become healthy in 30 s: ${log}`);
    }
    await new Promise((ok) => setTimeout(ok, 100));
  }
  return {
    port,
    url,
    baseUrl: `${url}/v1`,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

export interface CountingProxy {
  port: number;
  baseUrl: string;
  connections: number;
  /** Bytes sent by clients through the proxy (requests), as text. */
  received: string;
  reset(): void;
  close(): Promise<void>;
}

/** A TCP proxy to 127.0.0.1:targetPort that counts connections and records request bytes. */
export async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0, received: '' };
  const server = net.createServer((client) => {
    state.connections += 1;
    sockets.add(client);
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    client.on('data', (d: Buffer) => {
      state.received += d.toString('utf8');
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', () => {
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    get connections() {
      return state.connections;
    },
    get received() {
      return state.received;
    },
    reset() {
      state.connections = 0;
      state.received = '';
    },
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}
