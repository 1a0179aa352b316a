import { Messages } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { loadConfig } from '../../../config/index.js';
import { openKeyAdministration } from '../../../sidecar/index.js';
import { toSfError } from '../../../shared/cliErrors.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('sovra', 'keys.destroy');

export type KeysDestroyResult = {
  tenant: string;
  jurisdiction: string;
  provider: 'local' | 'pkcs11';
  /** Data keys destroyed now (0 when the tenant had none left). */
  destroyedKeys: number;
  destroyedAt: string;
  /** Whether an audit listener recorded the destroy. */
  audited: boolean;
};

export default class KeysDestroy extends SfCommand<KeysDestroyResult> {
  public static override readonly summary = messages.getMessage('summary');
  public static override readonly description = messages.getMessage('description');
  public static override readonly examples = messages.getMessages('examples');

  public static override readonly flags = {
    config: Flags.file({ char: 'c', summary: messages.getMessage('flags.config.summary'), required: true, exists: true }),
    jurisdiction: Flags.string({ char: 'j', summary: messages.getMessage('flags.jurisdiction.summary') }),
    tenant: Flags.string({ char: 't', summary: messages.getMessage('flags.tenant.summary'), required: true }),
    'no-prompt': Flags.boolean({ summary: messages.getMessage('flags.no-prompt.summary'), default: false }),
  };

  public async run(): Promise<KeysDestroyResult> {
    const { flags } = await this.parse(KeysDestroy);
    try {
      const cfg = loadConfig(flags.config);
      const jurisdiction = flags.jurisdiction ?? cfg.deployment.jurisdiction;
      const jc = cfg.jurisdictions[jurisdiction];
      if (!jc) throw messages.createError('error.unknownJurisdiction', [jurisdiction, Object.keys(cfg.jurisdictions).join(', ')]);
      if (!cfg.tenants.some((t) => t.id === flags.tenant)) this.warn(messages.getMessage('warning.unknownTenant', [flags.tenant]));
      if (!flags['no-prompt']) {
        if (this.jsonEnabled() || !process.stdin.isTTY) throw messages.createError('error.promptRequired');
        const yes = await this.confirm({
          message: messages.getMessage('prompt.confirm', [flags.tenant, jurisdiction]),
          defaultAnswer: false,
        });
        if (!yes) throw messages.createError('error.declined');
      }
      const admin = await openKeyAdministration(cfg, jurisdiction);
      const keys = admin.keys;
      try {
        const r = await keys.destroyTenant(flags.tenant);
        this.log(messages.getMessage('info.destroyed', [r.destroyedKeys, r.tenant, jurisdiction, r.destroyedAt, jurisdiction]));
        const audited = r.audit.recorded > 0 && r.audit.failed === 0;
        if (!audited) this.warn(messages.getMessage('warning.notAudited'));
        return {
          tenant: r.tenant,
          jurisdiction,
          provider: keys.provider,
          destroyedKeys: r.destroyedKeys,
          destroyedAt: r.destroyedAt,
          audited,
        };
      } finally {
        await admin.close();
      }
    } catch (err) {
      throw toSfError(err);
    }
  }
}
