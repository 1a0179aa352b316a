/**
 * `sovra status` against a real running sidecar (the composition root on the org emulator,
 * a loopback model server), spawned as a user runs it; and its failures: nothing listening,
 * and something that is not a sidecar.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { startSidecar, type Sidecar } from '../../service/src/sidecar/index.js';
import { type RunningEmulator } from '../emulator/index.js';
import { ensureBuilt } from '../support/cli.js';
import { demoConfig, startDemoOrg } from '../support/demoConfig.js';
import { startLoopbackUpstream, type LoopbackUpstream } from './models-upstream.js';

const ROOT = resolve('.');
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(
  JSON.parse(readFileSync(join(ROOT, 'test/fixtures/schemas/status.schema.json'), 'utf8')),
);

let emu: RunningEmulator;
let upstream: LoopbackUpstream;
let sidecar: Sidecar;
let notSidecar: http.Server;
let dir: string;

function sovra(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, SF_DISABLE_TELEMETRY: 'true', SF_AUTOUPDATE_DISABLE: 'true', NODE_OPTIONS: '' };
  return new Promise((res) => {
    execFile(process.execPath, ['bin/run.js', ...args], { env, cwd: ROOT, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
      res({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sovra-status-'));
  emu = await startDemoOrg({ cometdTimeoutMs: 2_000 });
  upstream = await startLoopbackUpstream(() => ({ kind: 'completion', content: 'ok' }));
  sidecar = await startSidecar({
    config: demoConfig({
      jurisdiction: 'EU',
      dir,
      emu,
      modelPath: resolve('..', 'shared/models/stories260K.gguf'),
      endpoint: { kind: 'loopback', port: upstream.port, id: 'eu-fast', model: 'loopback-model' },
      port: 0,
    }),
    port: 0,
    flushIdleMs: 200,
  });
  notSidecar = http.createServer((_req, res) => res.setHeader('content-type', 'application/json').end('{"hello":"world"}'));
  await new Promise<void>((r) => notSidecar.listen(0, '127.0.0.1', r));
}, 120_000);

afterAll(async () => {
  await sidecar?.stop();
  await upstream?.close();
  await emu?.close();
  await new Promise((r) => notSidecar?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('sovra status', () => {
  it('shows the running sidecar: subscription and replayId, outbox, endpoints, API usage', async () => {
    const deadline = Date.now() + 20_000;
    let result: Record<string, unknown> | undefined;
    // The intake subscribes shortly after start; wait until the sidecar reports it.
    while (Date.now() < deadline) {
      const r = await sovra(['status', '--url', sidecar.url, '--json']);
      expect(r.code).toBe(0);
      result = JSON.parse(r.stdout).result;
      const t = (result!.tenants as { intake?: { subscription: string } }[])[0];
      if (t?.intake?.subscription === 'subscribed') break;
      await new Promise((w) => setTimeout(w, 500));
    }
    if (!validate(result)) throw new Error(JSON.stringify(validate.errors));
    expect(result).toMatchObject({ jurisdiction: 'EU', region: 'eu-central-1', channel: 'SovraEU__chn', healthy: true });
    const tenant = (result!.tenants as Record<string, unknown>[])[0]!;
    expect(tenant).toMatchObject({ connected: true, intake: { subscription: 'subscribed' }, outbox: { dead: 0 } });
    expect((tenant.apiUsage as { apiCalls: number }).apiCalls).toBeGreaterThan(0);
    expect((result!.endpoints as { endpointId: string }[]).map((e) => e.endpointId)).toEqual(['eu-fast']);

    const human = await sovra(['status', '--url', sidecar.url]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/jurisdiction EU, region eu-central-1: healthy/);
    expect(human.stdout).toMatch(/SovraEU__chn subscribed/);
    expect(human.stdout).toMatch(/eu-fast/);
  });

  it('fails with a fix when nothing answers', async () => {
    const r = await sovra(['status', '--url', 'http://127.0.0.1:9', '--timeout', '2', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.message).toMatch(/No sidecar answered at http:\/\/127\.0\.0\.1:9/);
    expect(out.actions.join(' ')).toMatch(/--url/);
  });

  it('refuses an answer that is not a Sovra status', async () => {
    const { port } = notSidecar.address() as AddressInfo;
    const r = await sovra(['status', '--url', `http://127.0.0.1:${port}`, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).message).toMatch(/did not return a Sovra status \(jurisdiction: /);
  });
});
