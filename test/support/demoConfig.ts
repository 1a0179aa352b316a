/**
 * A deployment config for one jurisdiction against the org emulator's demo org, validated by
 * the real schema — shared by `npm start` (scripts/start.ts) and the pipeline benchmark.
 * The JWT private key travels as `{ env: SOVRA_DEMO_JWT_KEY }`, as a secret would in production.
 */
import { join } from 'node:path';
import { EU_MEMBER_STATES } from '../../service/src/config/countries.js';
import { validateConfig, type SovraConfig } from '../../service/src/config/index.js';
import { DEMO, generateJwtKeyPair, startEmulator, type RunningEmulator } from '../emulator/index.js';

export const DEMO_KEY_ENV = 'SOVRA_DEMO_JWT_KEY';

export type DemoEndpoint =
  | { kind: 'embedded'; modelPath: string; maxTokens?: number }
  /** An OpenAI-compatible server on loopback (a real one, or a port where nothing listens). */
  | { kind: 'loopback'; port: number; id?: string; model?: string; timeoutMs?: number; maxRetries?: number };

export interface DemoConfigOptions {
  jurisdiction: 'EU' | 'US';
  /** Folder for the keyrings and the SQLite store. */
  dir: string;
  emu: RunningEmulator;
  /** The model of this deployment; the other jurisdiction is only declared (embedded). */
  endpoint: DemoEndpoint;
  /** A model file for the declared, unused other jurisdiction. */
  modelPath: string;
  gatewayKeySha?: string;
  port?: number;
  intake?: { sweepIntervalSeconds?: number; sweepMinAgeSeconds?: number; batchSize?: number; concurrency?: number };
  auditCheckpointEvery?: number;
  /** A PostgreSQL store (replicas) instead of the SQLite file; the URL comes from this env variable. */
  postgresUrlEnv?: string;
}

const REGION = { EU: 'eu-central-1', US: 'us-east-1' } as const;

export function demoConfig(o: DemoConfigOptions): SovraConfig {
  const info = o.emu.admin.orgs().find((x) => x.key === DEMO.orgKey)!;
  const j = o.jurisdiction;
  const region = REGION[j];
  const lower = j.toLowerCase();
  const endpoint =
    o.endpoint.kind === 'embedded'
      ? {
          id: `${lower}-embedded`,
          provider: 'embedded',
          region,
          model: 'stories260K',
          modelPath: o.endpoint.modelPath,
          maxTokens: o.endpoint.maxTokens ?? 48,
        }
      : {
          id: o.endpoint.id ?? `${lower}-gpu`,
          provider: 'openai-compatible',
          region,
          model: o.endpoint.model ?? 'llama-3.1-8b',
          baseUrl: `http://127.0.0.1:${o.endpoint.port}/v1`,
          timeoutMs: o.endpoint.timeoutMs ?? 5000,
          maxRetries: o.endpoint.maxRetries ?? 1,
        };
  const declared = (x: 'EU' | 'US'): Record<string, unknown> => ({
    id: `${x.toLowerCase()}-embedded`,
    provider: 'embedded',
    region: REGION[x],
    model: 'stories260K',
    modelPath: o.modelPath,
  });
  const loopback = o.endpoint.kind === 'loopback';
  const raw = {
    deployment: { name: `sovra-demo-${lower}`, jurisdiction: j, region },
    jurisdictions: {
      EU: {
        countries: [...EU_MEMBER_STATES],
        endpoints: j === 'EU' ? [endpoint] : [declared('EU')],
        egress: { networks: j === 'EU' && loopback ? ['127.0.0.1/32'] : [], hosts: [] },
        keys: { provider: 'local', region: REGION.EU, path: join(o.dir, 'eu.keyring') },
      },
      US: {
        countries: ['US'],
        endpoints: j === 'US' ? [endpoint] : [declared('US')],
        egress: { networks: j === 'US' && loopback ? ['127.0.0.1/32'] : [], hosts: [] },
        keys: { provider: 'local', region: REGION.US, path: join(o.dir, 'us.keyring') },
      },
    },
    tenants: [
      {
        id: 'demo',
        orgId: info.orgId,
        loginUrl: o.emu.url,
        auth: { clientId: DEMO.clientId, username: DEMO.integrationUser, privateKey: { env: DEMO_KEY_ENV } },
        namespace: info.namespace,
        jurisdictions: ['EU', 'US'],
        gatewayKeys: o.gatewayKeySha ? [{ id: 'demo-key', sha256: o.gatewayKeySha }] : [],
      },
    ],
    store: o.postgresUrlEnv
      ? { kind: 'postgres', url: { env: o.postgresUrlEnv }, region, leaseSeconds: 30 }
      : { kind: 'sqlite', path: join(o.dir, `sovra-${lower}.db`), region },
    http: { host: '127.0.0.1', port: o.port ?? 0, geofence: { enabled: true, allowPrivate: true } },
    intake: { sweepIntervalSeconds: 2, sweepMinAgeSeconds: 3, ...o.intake },
    audit: { checkpointEvery: o.auditCheckpointEvery ?? 20, checkpointIntervalSeconds: 60 },
    log: { level: 'warn' },
  };
  return validateConfig(raw, `demo:${j}`, o.dir, { ...process.env, SOVRA_MODEL_PATH: '' });
}

/**
 * The org emulator with the demo org, a fresh JWT key registered on its connected app, and the
 * private key in DEMO_KEY_ENV, where the tenant of `demoConfig` reads it.
 */
export async function startDemoOrg(options: { cometdTimeoutMs: number }): Promise<RunningEmulator> {
  const emu = await startEmulator({ cometdTimeoutMs: options.cometdTimeoutMs });
  const { privateKeyPem, publicKeyPem } = generateJwtKeyPair();
  emu.admin.registerCertificate(DEMO.clientId, publicKeyPem, DEMO.orgKey);
  process.env[DEMO_KEY_ENV] = privateKeyPem;
  return emu;
}
