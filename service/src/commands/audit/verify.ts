import { Messages, SfError } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { verifyLocalChain, type VerifyIssue, type VerifyResult } from '../../audit/index.js';
import { chainsOf, openLocalAudit } from '../../audit/local.js';
import { loadConfig } from '../../config/index.js';
import { isSovraError } from '../../shared/errors.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('sovra', 'audit.verify');

export type AuditVerifyResult = {
  ok: boolean;
  source: 'local-store';
  jurisdiction: string;
  chains: (VerifyResult & { tenant: string })[];
  issues: number;
};

export default class AuditVerify extends SfCommand<AuditVerifyResult> {
  public static override readonly summary = messages.getMessage('summary');
  public static override readonly description = messages.getMessage('description');
  public static override readonly examples = messages.getMessages('examples');

  public static override readonly flags = {
    config: Flags.file({ char: 'c', summary: messages.getMessage('flags.config.summary'), required: true, exists: true }),
    tenant: Flags.string({ char: 't', summary: messages.getMessage('flags.tenant.summary') }),
    jurisdiction: Flags.string({ char: 'j', summary: messages.getMessage('flags.jurisdiction.summary') }),
  };

  public async run(): Promise<AuditVerifyResult> {
    const { flags } = await this.parse(AuditVerify);
    try {
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
      if (isSovraError(err)) throw new SfError(err.message, err.code, err.fix ? [err.fix] : [], err);
      throw err;
    }
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
