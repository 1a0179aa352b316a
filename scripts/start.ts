/**
 * `npm start`: Sovra on its embedded defaults, with nothing to configure.
 *
 * Starts the org emulator with the demo org, an EU and a US sidecar on the embedded model
 * (each with its own store and key store), sends a handful of realistic requests the way
 * Salesforce would, prints what happened to each, verifies the audit chains from the
 * sidecars' stores and from the org's own records, and keeps serving until stopped.
 *
 *   npm start                      demo, then serve (first lines: SOVRA_EMULATOR_URL, SOVRA_GATEWAY_URL, SOVRA_GATEWAY_KEY)
 *   npm start -- --once            demo, then exit (0 when every request ended as expected and the audit verifies)
 *   npm start -- --once --json     the same, as one JSON object
 *   npm start -- --config <file>   the sidecar against real orgs from a config
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { recordToCheckpoint, recordToEntry, verifyChain, type ParsedEntry } from '../service/src/audit/index.js';
import { hashGatewayKey } from '../service/src/http/gateway/index.js';
import type { RequestOutcome } from '../service/src/pipeline/index.js';
import { configureLogging } from '../service/src/shared/log.js';
import { serveConfigFile, startSidecar, type Sidecar } from '../service/src/sidecar/index.js';
import { DEMO } from '../test/emulator/index.js';
import { demoConfig, startDemoOrg } from '../test/support/demoConfig.js';

const DEFAULT_MODEL = resolve('..', 'shared/models/stories260K.gguf');

interface DemoRequest {
  name: string;
  expect: RequestOutcome['status'];
  /** Creates the request in the org and returns its AiRequest__c id. */
  submit(): string;
  /** Runs before the request is submitted (e.g. take the EU endpoint down). */
  before?: () => Promise<void>;
  after?: () => Promise<void>;
}

interface DemoResult {
  name: string;
  jurisdiction: string | null;
  endpoint: string | null;
  state: string;
  reason: string | null;
  expected: string;
  maskedPrompt: string | null;
  answer: string | null;
}

const args = parseArgs({
  options: {
    once: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    config: { type: 'string' },
    port: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  allowPositionals: false,
  strict: true,
}).values;

function usage(): string {
  return [
    'Usage: npm start [-- --once] [--json] [--port <n>]    demo on the org emulator (no configuration needed)',
    '       npm start -- --config <file> [--port <n>]      the sidecar against real orgs',
    'Model: the embedded endpoints read ../shared/models/stories260K.gguf; set SOVRA_MODEL_PATH=/path/to/model.gguf to use another GGUF model.',
  ].join('\n');
}

function out(line: string): void {
  if (!args.json) process.stdout.write(`${line}\n`);
}

async function waitForSignal(): Promise<void> {
  await new Promise<void>((r) => {
    process.once('SIGINT', () => r());
    process.once('SIGTERM', () => r());
  });
}

async function demo(): Promise<number> {
  const modelPath = process.env.SOVRA_MODEL_PATH ? resolve(process.env.SOVRA_MODEL_PATH) : DEFAULT_MODEL;
  if (!existsSync(modelPath)) {
    process.stderr.write(
      `No model file at ${modelPath}.\nSet SOVRA_MODEL_PATH=/path/to/model.gguf (any GGUF model), or place the tiny test model at ../shared/models/stories260K.gguf.\n`,
    );
    return 1;
  }
  configureLogging({ level: 'warn', defaultMeta: { service: 'sovra-demo' } });
  const dir = mkdtempSync(join(tmpdir(), 'sovra-demo-'));
  const emu = await startDemoOrg({ cometdTimeoutMs: 20_000 });
  const gatewayKey = `sk-sovra-demo-${randomBytes(24).toString('base64url')}`;
  const port = args.port !== undefined ? Number(args.port) : 0;

  const outcomes = new Map<string, RequestOutcome>();
  const waiters = new Map<string, (o: RequestOutcome) => void>();
  const onOutcome = (_t: string, o: RequestOutcome): void => {
    outcomes.set(o.requestId, o);
    waiters.get(o.requestId)?.(o);
  };
  const start = (j: 'EU' | 'US', extra: { endpointDown?: boolean; port?: number } = {}): Promise<Sidecar> =>
    startSidecar({
      config: demoConfig({
        jurisdiction: j,
        dir,
        emu,
        modelPath,
        // "Down": an OpenAI-compatible endpoint on the discard port, where nothing answers.
        endpoint: extra.endpointDown ? { kind: 'loopback', port: 9, timeoutMs: 2000 } : { kind: 'embedded', modelPath },
        gatewayKeySha: j === 'EU' ? hashGatewayKey(gatewayKey) : undefined,
        port: extra.port ?? 0,
      }),
      onOutcome,
      intake: { sweepIntervalMs: 2_000, sweepMinAgeMs: 3_000, batchWindowMs: 20 },
      flushIdleMs: 200,
    });

  let eu = await start('EU', { port });
  // The EU sidecar is restarted for the endpoint-down request: it keeps its port, so the
  // printed SOVRA_GATEWAY_URL stays valid.
  const euPort = Number(new URL(eu.url).port);
  const us = await start('US');
  if (!args.once) {
    out(`SOVRA_EMULATOR_URL=${emu.url}`);
    out(`SOVRA_GATEWAY_URL=${eu.url}/v1`);
    out(`SOVRA_GATEWAY_KEY=${gatewayKey}`);
  }
  out('');
  out(`Sovra demo — org emulator at ${emu.url}; EU sidecar ${eu.url} (eu-central-1), US sidecar ${us.url} (us-east-1); model ${modelPath}`);

  const admin = emu.admin;
  const rec = (sobject: string, match: (r: Record<string, unknown>) => boolean): string => {
    const r = admin.records(sobject, DEMO.orgKey).find(match);
    if (!r) throw new Error(`demo record of ${sobject} is missing from the seed`);
    return String(r.Id);
  };
  const submit = (recordId: string, action: string, username: string, question?: string): string => {
    const o = admin.submitAiRequest({ recordId, action, question }, { org: DEMO.orgKey, username });
    if (!o.accepted || !o.requestId) throw new Error(`the org refused the demo request (${action}): ${o.message}`);
    return o.requestId;
  };
  // A request row created directly through the API by the user (bypassing the Apex service's
  // checks), as a custom integration or a forged client could: the sidecar must still decide.
  const insertAs = (username: string, fields: Record<string, unknown>): string =>
    admin.insert(
      'AiRequest__c',
      {
        Status__c: 'Queued',
        ExternalId__c: `demo-${randomBytes(6).toString('hex')}`,
        RequestedBy__c: admin.userId(username, DEMO.orgKey),
        ...fields,
      },
      { org: DEMO.orgKey, username },
    );

  const requests: DemoRequest[] = [
    {
      name: 'EU opportunity summary',
      expect: 'Completed',
      submit: () =>
        submit(
          rec('Opportunity', (r) => String(r.Name).startsWith('Müller')),
          'OpportunitySummary',
          DEMO.users.euSales,
        ),
    },
    {
      name: 'US case reply draft',
      expect: 'Completed',
      submit: () =>
        submit(
          rec(
            'Case',
            (r) =>
              String(r.Subject ?? '') !== '' &&
              admin.record('Account', String(r.AccountId), DEMO.orgKey)?.BillingCountry === 'United States',
          ),
          'CaseReplyDraft',
          DEMO.users.usSales,
        ),
    },
    {
      name: 'record with no known jurisdiction',
      expect: 'Quarantined',
      submit: () =>
        insertAs(DEMO.users.admin, {
          RecordId__c: rec('Account', (r) => r.BillingCountry === 'Canada'),
          ObjectApiName__c: 'Account',
          Action__c: 'AccountSummary',
          Jurisdiction__c: 'EU',
        }),
    },
    {
      name: 'user without the right',
      expect: 'Blocked',
      submit: () =>
        insertAs(DEMO.users.euNoSovra, {
          RecordId__c: rec('Account', (r) => String(r.Name).startsWith('Müller')),
          ObjectApiName__c: 'Account',
          Action__c: 'AccountSummary',
          Jurisdiction__c: 'EU',
        }),
    },
    {
      name: 'EU record while the EU endpoint is down',
      expect: 'Failed',
      before: async () => {
        await eu.stop();
        eu = await start('EU', { endpointDown: true, port: euPort });
      },
      submit: () =>
        submit(
          rec('Account', (r) => String(r.Name).startsWith('Lumière')),
          'AccountSummary',
          DEMO.users.euSales,
        ),
      after: async () => {
        await eu.drain(10_000);
        await eu.stop();
        eu = await start('EU', { port: euPort });
      },
    },
  ];

  const results: DemoResult[] = [];
  for (const r of requests) {
    await r.before?.();
    const id = r.submit();
    const outcome =
      outcomes.get(id) ??
      (await new Promise<RequestOutcome | undefined>((resolveOutcome) => {
        const timer = setTimeout(() => resolveOutcome(undefined), 90_000);
        waiters.set(id, (o) => {
          clearTimeout(timer);
          resolveOutcome(o);
        });
      }));
    waiters.delete(id);
    await r.after?.();
    const res: DemoResult = {
      name: r.name,
      jurisdiction: outcome?.jurisdiction ?? null,
      endpoint: outcome?.endpoint ?? null,
      state: outcome?.status ?? 'NoAnswer',
      reason: outcome ? outcome.reason : 'No sidecar finished the request within 90 s.',
      expected: r.expect,
      maskedPrompt: outcome?.sanitizedPrompt ?? null,
      answer: outcome?.answer ?? null,
    };
    results.push(res);
    out('');
    out(`▸ ${res.name}`);
    out(`  state:        ${res.state}${res.state === r.expect ? '' : `  (expected ${r.expect})`}`);
    out(`  jurisdiction: ${res.jurisdiction ?? '—'}   endpoint: ${res.endpoint ?? '— (nothing sent)'}`);
    if (res.reason) out(`  reason:       ${res.reason}`);
    if (res.maskedPrompt) out(`  masked prompt (what the model saw):\n${indent(res.maskedPrompt)}`);
    if (res.answer) out(`  answer (tokens restored, written to AiRequest__c):\n${indent(res.answer)}`);
  }

  // Everything the sidecars committed reaches the org; then the chains are verified twice:
  // from each sidecar's store, and from the AiAuditEntry__c / AiAuditCheckpoint__c records alone.
  for (const sc of [eu, us]) await sc.tenants.get('demo')!.audit.checkpointIfDue({ force: true });
  await Promise.all([eu.drain(20_000), us.drain(20_000)]);
  const names = admin.names(DEMO.orgKey);
  let verified = true;
  let entries = 0;
  out('');
  out('Audit chains:');
  for (const sc of [eu, us]) {
    const rt = sc.tenants.get('demo')!;
    const local = await rt.audit.verify();
    const ofChain = (r: Record<string, unknown>): boolean => r[names.name('ChainId__c')] === rt.audit.chainId;
    const orgEntries: ParsedEntry[] = admin
      .records('AiAuditEntry__c', DEMO.orgKey)
      .filter(ofChain)
      .map((r) => recordToEntry(r, names));
    const checkpoints = admin
      .records('AiAuditCheckpoint__c', DEMO.orgKey)
      .filter(ofChain)
      .map((r) => recordToCheckpoint(r, names));
    const fromOrg = await verifyChain(orgEntries, { chainId: rt.audit.chainId, checkpoints, trustedKeys: await sc.keys.publicKeys() });
    verified = verified && local.ok && fromOrg.ok;
    entries += local.entries;
    out(
      `  ${rt.audit.chainId}: store ${local.ok ? 'verified' : 'BROKEN'} (${local.entries} entries, ${local.checkpoints} signed checkpoints); org records ${fromOrg.ok ? 'verified' : 'BROKEN'} (${fromOrg.entries} entries)`,
    );
    for (const i of [...local.issues, ...fromOrg.issues].slice(0, 5)) out(`    ${i.kind} at ${i.sequence}: ${i.detail}`);
  }
  const orgId = admin.orgs().find((o) => o.key === DEMO.orgKey)!.orgId;
  const apiCalls = admin.apiUsage()[orgId] ?? 0;
  out(`  Salesforce API calls used by the sidecars: ${apiCalls}`);
  const allAsExpected = results.every((r) => r.state === r.expected);

  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({
        requests: results.map((r) => ({
          name: r.name,
          jurisdiction: r.jurisdiction,
          endpoint: r.endpoint,
          state: r.state,
          reason: r.reason,
        })),
        audit: { verified, entries },
        apiCalls,
      })}\n`,
    );
  }

  if (args.once) {
    await Promise.allSettled([eu.stop(), us.stop()]);
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
    return allAsExpected && verified ? 0 : 1;
  }
  out('');
  out(`Serving. Send your own requests: insert AiRequest__c rows through ${emu.url}/services/data (POST /__admin/session for a token),`);
  out(
    `or call the gateway: curl ${eu.url}/v1/chat/completions -H "Authorization: Bearer $SOVRA_GATEWAY_KEY" …  Health: ${eu.url}/healthz, metrics: ${eu.url}/metrics. Ctrl-C stops.`,
  );
  await waitForSignal();
  await Promise.allSettled([eu.stop(), us.stop()]);
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
  return 0;
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `    │ ${l}`)
    .join('\n');
}

async function main(): Promise<number> {
  if (args.help) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  return args.config ? serveConfigFile(args.config, { port: args.port !== undefined ? Number(args.port) : undefined }) : demo();
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`Sovra failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
