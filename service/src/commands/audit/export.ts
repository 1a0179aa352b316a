import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Messages, SfError } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { buildEvidencePack, chainIdFor, evidencePackCsv } from '../../audit/index.js';
import { chainsOf, openLocalAudit } from '../../audit/local.js';
import { loadConfig } from '../../config/index.js';
import { isSovraError } from '../../shared/errors.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('sovra', 'audit.export');

export type AuditExportResult = {
  ok: boolean;
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
    config: Flags.file({ char: 'c', summary: messages.getMessage('flags.config.summary'), required: true, exists: true }),
    from: Flags.string({ summary: messages.getMessage('flags.from.summary'), required: true }),
    to: Flags.string({ summary: messages.getMessage('flags.to.summary'), required: true }),
    format: Flags.option({ options: ['json', 'csv'] as const, default: 'json', summary: messages.getMessage('flags.format.summary') })(),
    output: Flags.string({ char: 'o', summary: messages.getMessage('flags.output.summary'), required: true }),
    tenant: Flags.string({ char: 't', summary: messages.getMessage('flags.tenant.summary') }),
    jurisdiction: Flags.string({ char: 'j', summary: messages.getMessage('flags.jurisdiction.summary') }),
  };

  public async run(): Promise<AuditExportResult> {
    const { flags } = await this.parse(AuditExport);
    try {
      const from = parseDate('--from', flags.from, false);
      const to = parseDate('--to', flags.to, true);
      if (from > to) throw messages.createError('error.badPeriod', [flags.from, flags.to]);
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
        const out = resolve(flags.output);
        const files: string[] = [];
        if (flags.format === 'json') {
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
        const v = pack.verification;
        if (!v.ok) {
          process.exitCode = 1;
          this.warn(messages.getMessage('warning.unverified', [v.issues.length]));
        }
        this.log(messages.getMessage('info.written', [pack.entries.length, pack.checkpoints.length, files.join(', ')]));
        return {
          ok: v.ok,
          format: flags.format,
          files,
          tenant: head.tenant,
          jurisdiction: ctx.jurisdiction,
          chainId,
          period: pack.period,
          entries: pack.entries.length,
          checkpoints: pack.checkpoints.length,
          verification: { ok: v.ok, issues: v.issues.length, verifiedThrough: v.verifiedThrough },
        };
      } finally {
        await ctx.close();
      }
    } catch (err) {
      if (isSovraError(err)) throw new SfError(err.message, err.code, err.fix ? [err.fix] : [], err);
      throw err;
    }
  }
}
