import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Messages, Org, type Connection } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import {
  recordToCheckpoint,
  recordToEntry,
  verifyChain,
  verifyLocalChain,
  type ParsedCheckpoint,
  type ParsedEntry,
  type VerifyIssue,
  type VerifyResult,
} from '../../../audit/index.js';
import { chainsOf, openLocalAudit } from '../../../audit/local.js';
import { loadConfig } from '../../../config/index.js';
import { createKeyService } from '../../../keys/index.js';
import type { PublicKeyInfo } from '../../../keys/types.js';
import { soqlString } from '../../../salesforce/index.js';
import { toSfError } from '../../../shared/cliErrors.js';
import { configureLogging } from '../../../shared/log.js';
import { CUSTOM_SCHEMA, type ApiNames } from '../../../shared/schema.js';
import { packageMissing, queryAll, resolveNamespace } from '../org/setup.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('sovra', 'audit.verify');

export type AuditVerifyResult = {
  ok: boolean;
  source: 'local-store' | 'org';
  /** The jurisdiction verified (org source without --chain: every jurisdiction found, comma-separated). */
  jurisdiction: string;
  chains: (VerifyResult & { tenant: string })[];
  issues: number;
  /** Org source: the org read and where the trusted public keys came from. */
  org?: { username: string; orgId: string; namespace: string };
  trust?: { source: 'public-keys' | 'config'; file: string; keys: number };
};

// ------------------------------------------------------------------ shared with `audit export`

/** `tenant:J` → its parts (the chain id format of `chainIdFor`). */
export function parseChainFlag(v: string): { tenant: string; jurisdiction: string; chainId: string } {
  const m = /^([a-z0-9][a-z0-9-]{0,62}):([A-Z][A-Z0-9]{1,9})$/.exec(v.trim());
  if (!m) throw messages.createError('error.badChain', [v]);
  return { tenant: m[1]!, jurisdiction: m[2]!, chainId: `${m[1]}:${m[2]}` };
}

export interface OrgChain {
  chainId: string;
  entries: ParsedEntry[];
  checkpoints: ParsedCheckpoint[];
}

/** The org's audit records, grouped by the chain they claim (ChainId__c), read page by page. */
export async function loadOrgChains(
  conn: Connection,
  names: ApiNames,
  chainId: string | undefined,
  onProgress?: (what: 'entries' | 'checkpoints', fetched: number, total: number) => void,
): Promise<Map<string, OrgChain>> {
  const where = chainId ? ` WHERE ${names.name('ChainId__c')} = ${soqlString(chainId)}` : '';
  const select = (obj: 'AiAuditEntry__c' | 'AiAuditCheckpoint__c'): string =>
    `SELECT Id, ${CUSTOM_SCHEMA[obj].map((f) => names.name(f)).join(', ')} FROM ${names.name(obj)}${where}`;
  const entryRows = await queryAll(conn, select('AiAuditEntry__c'), { onPage: (f, t) => onProgress?.('entries', f, t) });
  const cpRows = await queryAll(conn, select('AiAuditCheckpoint__c'), { onPage: (f, t) => onProgress?.('checkpoints', f, t) });
  const chains = new Map<string, OrgChain>();
  const of = (id: unknown): OrgChain => {
    const key = typeof id === 'string' ? id : '';
    let c = chains.get(key);
    if (!c) chains.set(key, (c = { chainId: key, entries: [], checkpoints: [] }));
    return c;
  };
  for (const r of entryRows) of(r[names.name('ChainId__c')]).entries.push(recordToEntry(r, names));
  for (const r of cpRows) of(r[names.name('ChainId__c')]).checkpoints.push(recordToCheckpoint(r, names));
  return chains;
}

function checkKey(k: PublicKeyInfo, file: string): PublicKeyInfo {
  let type: string | undefined;
  try {
    type = createPublicKey(k.publicKeyPem).asymmetricKeyType;
  } catch {
    type = undefined;
  }
  if (type !== 'ed25519') throw messages.createError('error.badKeyFile', [file, `key ${k.keyId} is not an Ed25519 public key`]);
  return k;
}

/**
 * Public keys the auditor trusts, from outside the org: a key read from the same records
 * (AiAuditCheckpoint__c.PublicKey__c) would let whoever rewrote the records re-sign them.
 * `--public-keys`: JSON (an evidence pack from `audit export`, or an array of
 * {keyId, algorithm, jurisdiction, publicKeyPem}) or PEM blocks (trusted for --chain's
 * jurisdiction). `--config`: the jurisdictions' key services.
 */
export async function loadTrustedKeys(
  opts: { publicKeys?: string; config?: string },
  jurisdictions: readonly string[],
  pemJurisdiction: string | undefined,
): Promise<{ keys: PublicKeyInfo[]; source: 'public-keys' | 'config'; file: string }> {
  if (opts.publicKeys) {
    const file = opts.publicKeys;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw messages.createError('error.badKeyFile', [file, err instanceof Error ? err.message : String(err)]);
    }
    const trimmed = text.trim();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(trimmed);
      } catch {
        throw messages.createError('error.badKeyFile', [file, 'it is not valid JSON']);
      }
      const list = Array.isArray(parsed) ? parsed : (parsed as { publicKeys?: unknown }).publicKeys;
      if (!Array.isArray(list) || list.length === 0) throw messages.createError('error.badKeyFile', [file, 'it holds no publicKeys']);
      const keys = list.map((k: unknown, i: number) => {
        const o = k as Partial<PublicKeyInfo> | null;
        if (
          !o ||
          typeof o.keyId !== 'string' ||
          o.algorithm !== 'Ed25519' ||
          typeof o.jurisdiction !== 'string' ||
          typeof o.publicKeyPem !== 'string'
        ) {
          throw messages.createError('error.badKeyFile', [
            file,
            `publicKeys[${i}] needs keyId, algorithm Ed25519, jurisdiction and publicKeyPem`,
          ]);
        }
        return checkKey({ keyId: o.keyId, algorithm: 'Ed25519', jurisdiction: o.jurisdiction, publicKeyPem: o.publicKeyPem }, file);
      });
      return { keys, source: 'public-keys', file };
    }
    const pems = trimmed.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
    if (pems.length === 0) throw messages.createError('error.badKeyFile', [file, 'it holds neither JSON nor a PEM public key']);
    if (!pemJurisdiction) throw messages.createError('error.pemNeedsChain', [file]);
    const keys = pems.map((pem, i) =>
      checkKey({ keyId: `${file}#${i + 1}`, algorithm: 'Ed25519', jurisdiction: pemJurisdiction, publicKeyPem: `${pem}\n` }, file),
    );
    return { keys, source: 'public-keys', file };
  }
  if (!opts.config) throw messages.createError('error.noTrust');
  // Key services log their routine steps; keep them off stdout, where --json is written.
  configureLogging({ level: 'warn', stream: process.stderr });
  const cfg = loadConfig(opts.config);
  const keys: PublicKeyInfo[] = [];
  for (const j of jurisdictions) {
    const jc = cfg.jurisdictions[j];
    if (!jc) throw messages.createError('error.configLacks', [opts.config, j]);
    const ks = await createKeyService(j, jc.keys, { baseDir: cfg.baseDir });
    try {
      keys.push(...(await ks.publicKeys()));
    } finally {
      await ks.close();
    }
  }
  return { keys, source: 'config', file: opts.config };
}

/** Resolves an explicitly named org (never the CLI's default: without --target-org the command reads the local store). */
export async function orgFromFlag(aliasOrUsername: string): Promise<Org> {
  try {
    return await Org.create({ aliasOrUsername });
  } catch (err) {
    throw messages.createError('error.noOrg', [aliasOrUsername, err instanceof Error ? err.message : String(err)]);
  }
}

export const orgFlags = {
  'target-org': Flags.string({ char: 'o', summary: messages.getMessage('flags.target-org.summary') }),
  'api-version': Flags.orgApiVersion(),
  chain: Flags.string({ summary: messages.getMessage('flags.chain.summary') }),
  'public-keys': Flags.file({ summary: messages.getMessage('flags.public-keys.summary'), exists: true }),
  namespace: Flags.string({ summary: messages.getMessage('flags.namespace.summary') }),
};

export default class AuditVerify extends SfCommand<AuditVerifyResult> {
  public static override readonly summary = messages.getMessage('summary');
  public static override readonly description = messages.getMessage('description');
  public static override readonly examples = messages.getMessages('examples');

  public static override readonly flags = {
    config: Flags.file({ char: 'c', summary: messages.getMessage('flags.config.summary'), exists: true }),
    tenant: Flags.string({ char: 't', summary: messages.getMessage('flags.tenant.summary') }),
    jurisdiction: Flags.string({ char: 'j', summary: messages.getMessage('flags.jurisdiction.summary') }),
    ...orgFlags,
  };

  public async run(): Promise<AuditVerifyResult> {
    const { flags } = await this.parse(AuditVerify);
    try {
      if (flags['target-org']) return await this.fromOrg(flags);
      if (flags.chain || flags['public-keys']) throw messages.createError('error.orgOnly');
      if (!flags.config) throw messages.createError('error.noSource');
      const cfg = loadConfig(flags.config);
      const ctx = await openLocalAudit(cfg, flags.jurisdiction);
      try {
        const heads = await chainsOf(ctx.store, ctx.jurisdiction, flags.tenant);
        if (heads.length === 0) throw messages.createError('error.noChains', [ctx.jurisdiction, flags.tenant ?? '*']);
        const chains: AuditVerifyResult['chains'] = [];
        for (const h of heads) {
          this.spinner.start(messages.getMessage('info.verifying', [h.chainId, h.lastSeq]));
          const r = await verifyLocalChain(ctx.store.forTenant(h.tenant), h.chainId, ctx.trustedKeys);
          this.spinner.stop(r.ok ? 'ok' : 'FAILED');
          chains.push({ ...r, tenant: h.tenant });
          this.report(r);
        }
        const issues = chains.reduce((n, c) => n + c.issues.length, 0);
        const ok = issues === 0;
        if (!ok) process.exitCode = 1;
        this.log(ok ? messages.getMessage('info.allHold', [chains.length]) : messages.getMessage('info.failed', [issues, chains.length]));
        return { ok, source: 'local-store', jurisdiction: ctx.jurisdiction, chains, issues };
      } finally {
        await ctx.close();
      }
    } catch (err) {
      throw toSfError(err);
    }
  }

  private async fromOrg(flags: {
    'target-org'?: string;
    'api-version'?: string;
    chain?: string;
    'public-keys'?: string;
    config?: string;
    namespace?: string;
    tenant?: string;
    jurisdiction?: string;
  }): Promise<AuditVerifyResult> {
    if (flags.tenant || flags.jurisdiction) throw messages.createError('error.useChain');
    if (!flags['public-keys'] && !flags.config) throw messages.createError('error.noTrust');
    const wanted = flags.chain ? parseChainFlag(flags.chain) : undefined;
    const org = await orgFromFlag(flags['target-org']!);
    const conn = org.getConnection(flags['api-version']);
    const username = org.getUsername() ?? flags['target-org']!;
    const resolved = await resolveNamespace(conn, flags.namespace);
    if (!resolved) throw packageMissing(username, flags.namespace);
    this.spinner.start(messages.getMessage('info.reading', [username]));
    const chainsFound = await loadOrgChains(conn, resolved.names, wanted?.chainId, (what, fetched, total) => {
      this.spinner.status = `${what} ${fetched}/${total}`;
    });
    this.spinner.stop();
    if (wanted && !chainsFound.has(wanted.chainId))
      chainsFound.set(wanted.chainId, { chainId: wanted.chainId, entries: [], checkpoints: [] });
    if (chainsFound.size === 0) throw messages.createError('error.noOrgChains', [username, flags.chain ?? '*']);
    const jurisdictions = [...new Set([...chainsFound.keys()].map((c) => c.split(':')[1] ?? '').filter((j) => j !== ''))].sort();
    const trust = await loadTrustedKeys({ publicKeys: flags['public-keys'], config: flags.config }, jurisdictions, wanted?.jurisdiction);
    const chains: AuditVerifyResult['chains'] = [];
    for (const c of [...chainsFound.values()].sort((a, b) => a.chainId.localeCompare(b.chainId))) {
      this.spinner.start(messages.getMessage('info.verifying', [c.chainId || '(no chain id)', c.entries.length]));
      const r = await verifyChain(c.entries, { chainId: c.chainId, checkpoints: c.checkpoints, trustedKeys: trust.keys });
      // A chain with entries but no checkpoint proves nothing about deletions at its end.
      if (c.entries.length > 0 && c.checkpoints.length === 0) {
        r.issues.push({ kind: 'checkpoint-missing', sequence: 1, toSequence: r.toSeq, detail: 'no signed checkpoint covers this chain' });
        r.counts['checkpoint-missing'] += 1;
        r.ok = false;
      }
      if (c.entries.length === 0 && c.checkpoints.length === 0) {
        r.issues.push({ kind: 'deleted', sequence: null, detail: `the org holds no record of chain ${c.chainId}` });
        r.counts.deleted += 1;
        r.ok = false;
      }
      this.spinner.stop(r.ok ? 'ok' : 'FAILED');
      chains.push({ ...r, tenant: c.chainId.split(':')[0] ?? '' });
      this.report(r);
    }
    const issues = chains.reduce((n, c) => n + c.issues.length, 0);
    const ok = issues === 0;
    if (!ok) process.exitCode = 1;
    this.log(
      ok
        ? messages.getMessage('info.allHoldOrg', [chains.length, trust.keys.length, trust.file])
        : messages.getMessage('info.failed', [issues, chains.length]),
    );
    return {
      ok,
      source: 'org',
      jurisdiction: wanted?.jurisdiction ?? jurisdictions.join(','),
      chains,
      issues,
      org: { username, orgId: org.getOrgId(), namespace: resolved.ns },
      trust: { source: trust.source, file: trust.file, keys: trust.keys.length },
    };
  }

  private report(r: VerifyResult): void {
    this.log(messages.getMessage('info.chain', [r.chainId, r.entries, r.checkpoints, r.verifiedThrough]));
    if (r.issues.length > 0) {
      this.table({
        data: r.issues.map((i: VerifyIssue) => ({
          kind: i.kind,
          sequence: i.toSequence !== undefined ? `${i.sequence}..${i.toSequence}` : String(i.sequence ?? '-'),
          detail: i.detail,
        })),
      });
    }
  }
}
