import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Messages } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { art30Record, buildEvidencePack, chainIdFor, evidencePackCsv, verifyChain, type EvidencePack } from '../../../audit/index.js';
import { chainsOf, openLocalAudit } from '../../../audit/local.js';
import { loadConfig } from '../../../config/index.js';
import { toSfError } from '../../../shared/cliErrors.js';
import { packageMissing, resolveNamespace } from '../org/setup.js';
import { loadOrgChains, loadTrustedKeys, orgFlags, orgFromFlag, parseChainFlag } from './verify.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('sovra', 'audit.export');

export type AuditExportResult = {
  ok: boolean;
  /** Where the entries came from: the deployment's store (--config) or the org's records (--target-org). */
  source?: 'local-store' | 'org';
  format: 'json' | 'csv';
  /** Files written. */
  files: string[];
  tenant: string;
  jurisdiction: string;
  chainId: string;
  period: { from: string; to: string };
  entries: number;
  checkpoints: number;
  verification: { ok: boolean; issues: number; verifiedThrough: number };
};

function parseDate(flag: string, v: string, endOfDay: boolean): Date {
  const d = /^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(`${v}T${endOfDay ? '23:59:59.999' : '00:00:00.000'}Z`) : new Date(v);
  if (Number.isNaN(d.getTime())) throw messages.createError('error.badDate', [flag, v]);
  return d;
}

export default class AuditExport extends SfCommand<AuditExportResult> {
  public static override readonly summary = messages.getMessage('summary');
  public static override readonly description = messages.getMessage('description');
  public static override readonly examples = messages.getMessages('examples');

  public static override readonly flags = {
    config: Flags.file({ char: 'c', summary: messages.getMessage('flags.config.summary'), exists: true }),
    from: Flags.string({ summary: messages.getMessage('flags.from.summary'), required: true }),
    to: Flags.string({ summary: messages.getMessage('flags.to.summary'), required: true }),
    format: Flags.option({ options: ['json', 'csv'] as const, default: 'json', summary: messages.getMessage('flags.format.summary') })(),
    output: Flags.string({ char: 'o', summary: messages.getMessage('flags.output.summary'), required: true }),
    tenant: Flags.string({ char: 't', summary: messages.getMessage('flags.tenant.summary') }),
    jurisdiction: Flags.string({ char: 'j', summary: messages.getMessage('flags.jurisdiction.summary') }),
    ...orgFlags,
    // No -o here: it is --output's.
    'target-org': Flags.string({ summary: messages.getMessage('flags.target-org.summary') }),
    chain: Flags.string({ summary: messages.getMessage('flags.chain.summary') }),
  };

  public async run(): Promise<AuditExportResult> {
    const { flags } = await this.parse(AuditExport);
    try {
      const from = parseDate('--from', flags.from, false);
      const to = parseDate('--to', flags.to, true);
      if (from > to) throw messages.createError('error.badPeriod', [flags.from, flags.to]);
      if (flags['target-org']) return await this.fromOrg(flags, from, to);
      if (flags.chain || flags['public-keys']) throw messages.createError('error.orgOnly');
      if (!flags.config) throw messages.createError('error.noSource');
      const cfg = loadConfig(flags.config);
      const ctx = await openLocalAudit(cfg, flags.jurisdiction);
      try {
        const heads = await chainsOf(ctx.store, ctx.jurisdiction, flags.tenant);
        if (heads.length === 0) throw messages.createError('error.noChains', [ctx.jurisdiction, flags.tenant ?? '*']);
        if (heads.length > 1) throw messages.createError('error.manyTenants', [heads.map((h) => h.tenant).join(', ')]);
        const head = heads[0]!;
        const chainId = chainIdFor(head.tenant, ctx.jurisdiction);
        let started = false;
        const pack = await buildEvidencePack(ctx.store.forTenant(head.tenant), {
          chainId,
          jurisdiction: ctx.jurisdiction,
          from,
          to,
          trustedKeys: ctx.trustedKeys,
          endpointRegions: ctx.endpointRegions,
          onProgress: (done, total) => {
            if (!started) {
              this.progress.start(total, {}, { title: messages.getMessage('info.progress') });
              started = true;
            }
            this.progress.update(done);
          },
        });
        if (started) this.progress.finish();
        return this.report(pack, { source: 'local-store', format: flags.format, output: flags.output, tenant: head.tenant, chainId });
      } finally {
        await ctx.close();
      }
    } catch (err) {
      throw toSfError(err);
    }
  }

  /** The pack from the org's AiAuditEntry__c / AiAuditCheckpoint__c records, checked against keys from outside the org. */
  private async fromOrg(
    flags: {
      'target-org'?: string;
      'api-version'?: string;
      chain?: string;
      'public-keys'?: string;
      config?: string;
      namespace?: string;
      tenant?: string;
      jurisdiction?: string;
      format: 'json' | 'csv';
      output: string;
    },
    from: Date,
    to: Date,
  ): Promise<AuditExportResult> {
    if (flags.tenant || flags.jurisdiction) throw messages.createError('error.useChain');
    if (!flags['public-keys'] && !flags.config) throw messages.createError('error.noTrust');
    const wanted = flags.chain ? parseChainFlag(flags.chain) : undefined;
    const org = await orgFromFlag(flags['target-org']!);
    const conn = org.getConnection(flags['api-version']);
    const username = org.getUsername() ?? flags['target-org']!;
    const resolved = await resolveNamespace(conn, flags.namespace);
    if (!resolved) throw packageMissing(username, flags.namespace);
    let started = false;
    const chains = await loadOrgChains(conn, resolved.names, wanted?.chainId, (what, done, total) => {
      if (what !== 'entries') return;
      if (!started) {
        this.progress.start(total, {}, { title: messages.getMessage('info.progress'), format: '%s | {bar} | {value}/{total} entries' });
        started = true;
      }
      this.progress.update(done);
    });
    if (started) this.progress.finish();
    if (!wanted && chains.size > 1) throw messages.createError('error.manyChains', [[...chains.keys()].join(', ')]);
    const chain = wanted ? chains.get(wanted.chainId) : [...chains.values()][0];
    if (!chain || chain.entries.length === 0) throw messages.createError('error.noOrgChain', [username, flags.chain ?? '*']);
    const { tenant, jurisdiction, chainId } = parseChainFlag(chain.chainId);
    const trust = await loadTrustedKeys({ publicKeys: flags['public-keys'], config: flags.config }, [jurisdiction], jurisdiction);
    // The whole chain is verified: a period is only as trustworthy as the links that lead to it.
    const verification = await verifyChain(chain.entries, { chainId, checkpoints: chain.checkpoints, trustedKeys: trust.keys });
    if (chain.checkpoints.length === 0) {
      verification.issues.push({
        kind: 'checkpoint-missing',
        sequence: 1,
        toSequence: verification.toSeq,
        detail: 'no signed checkpoint covers this chain',
      });
      verification.counts['checkpoint-missing'] += 1;
      verification.ok = false;
    }
    const inPeriod = chain.entries
      .flatMap((p) => (p.ok && p.record.chainId === chainId ? [p.record] : []))
      .filter((e) => {
        const t = Date.parse(e.occurredAt);
        return t >= from.getTime() && t <= to.getTime();
      })
      .sort((a, b) => a.seq - b.seq);
    const seqFrom = inPeriod[0]?.seq ?? null;
    const seqTo = inPeriod[inPeriod.length - 1]?.seq ?? null;
    const checkpoints = chain.checkpoints
      .flatMap((c) => (c.ok ? [c.checkpoint] : []))
      .filter((c) => seqFrom !== null && seqTo !== null && c.toSeq >= seqFrom && c.fromSeq <= seqTo)
      .sort((a, b) => a.fromSeq - b.fromSeq);
    let endpointRegions: Record<string, string> | undefined;
    if (flags.config) {
      const jc = loadConfig(flags.config).jurisdictions[jurisdiction];
      endpointRegions = jc ? Object.fromEntries(jc.endpoints.map((e) => [e.id, e.region])) : undefined;
    }
    const pack: EvidencePack = {
      format: 'sovra.evidence-pack.v1',
      generatedAt: new Date().toISOString(),
      tenant,
      chainId,
      jurisdiction,
      period: { from: from.toISOString(), to: to.toISOString() },
      sequenceRange: { from: seqFrom, to: seqTo },
      entries: inPeriod,
      checkpoints,
      publicKeys: trust.keys,
      verification,
      art30: art30Record(tenant, { from, to, jurisdiction, endpointRegions }, inPeriod),
    };
    return this.report(pack, { source: 'org', format: flags.format, output: flags.output, tenant, chainId });
  }

  /** Writes the pack, warns when it does not verify (exit code 1), and returns the command's result. */
  private report(
    pack: EvidencePack,
    o: { source: 'local-store' | 'org'; format: 'json' | 'csv'; output: string; tenant: string; chainId: string },
  ): AuditExportResult {
    const files = this.write(pack, o.format, o.output);
    const v = pack.verification;
    if (!v.ok) {
      process.exitCode = 1;
      this.warn(messages.getMessage('warning.unverified', [v.issues.length]));
    }
    this.log(messages.getMessage('info.written', [pack.entries.length, pack.checkpoints.length, files.join(', ')]));
    return {
      ok: v.ok,
      source: o.source,
      format: o.format,
      files,
      tenant: o.tenant,
      jurisdiction: pack.jurisdiction,
      chainId: o.chainId,
      period: pack.period,
      entries: pack.entries.length,
      checkpoints: pack.checkpoints.length,
      verification: { ok: v.ok, issues: v.issues.length, verifiedThrough: v.verifiedThrough },
    };
  }

  private write(pack: EvidencePack, format: 'json' | 'csv', output: string): string[] {
    const out = resolve(output);
    const files: string[] = [];
    if (format === 'json') {
      writeFileSync(out, JSON.stringify(pack, null, 2) + '\n', { mode: 0o600 });
      files.push(out);
    } else {
      mkdirSync(out, { recursive: true });
      for (const [name, content] of Object.entries(evidencePackCsv(pack))) {
        const p = join(out, name);
        writeFileSync(p, content, { mode: 0o600 });
        files.push(p);
      }
    }
    return files;
  }
}
