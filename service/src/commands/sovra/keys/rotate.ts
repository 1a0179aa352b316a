import { Messages } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { loadConfig } from '../../../config/index.js';
import { openKeyAdministration } from '../../../sidecar/index.js';
import { toSfError } from '../../../shared/cliErrors.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('sovra', 'keys.rotate');

export type KeysRotateResult = {
  jurisdiction: string;
  provider: 'local' | 'pkcs11';
  /** KEK version now used for new data. */
  kekVersion: number;
  previousKekVersion: number;
  /** Data keys re-wrapped under the new KEK. */
  rewrapped: number;
  /** The signing key new audit checkpoints are signed with. */
  signingKeyId: string;
  /** Whether an audit listener recorded the rotation. */
  audited: boolean;
};

export default class KeysRotate extends SfCommand<KeysRotateResult> {
  public static override readonly summary = messages.getMessage('summary');
  public static override readonly description = messages.getMessage('description');
  public static override readonly examples = messages.getMessages('examples');

  public static override readonly flags = {
    config: Flags.file({ char: 'c', summary: messages.getMessage('flags.config.summary'), required: true, exists: true }),
    jurisdiction: Flags.string({ char: 'j', summary: messages.getMessage('flags.jurisdiction.summary') }),
  };

  public async run(): Promise<KeysRotateResult> {
    const { flags } = await this.parse(KeysRotate);
    try {
      const cfg = loadConfig(flags.config);
      const jurisdiction = flags.jurisdiction ?? cfg.deployment.jurisdiction;
      const jc = cfg.jurisdictions[jurisdiction];
      if (!jc) throw messages.createError('error.unknownJurisdiction', [jurisdiction, Object.keys(cfg.jurisdictions).join(', ')]);
      const admin = await openKeyAdministration(cfg, jurisdiction);
      const keys = admin.keys;
      try {
        const r = await keys.rotate();
        this.log(
          messages.getMessage('info.rotated', [
            jurisdiction,
            keys.provider,
            r.kekVersion,
            r.previousKekVersion,
            r.rewrapped,
            r.signingKeyId,
          ]),
        );
        const audited = r.audit.recorded > 0 && r.audit.failed === 0;
        if (!audited) this.warn(messages.getMessage('warning.notAudited'));
        return {
          jurisdiction,
          provider: keys.provider,
          kekVersion: r.kekVersion,
          previousKekVersion: r.previousKekVersion,
          rewrapped: r.rewrapped,
          signingKeyId: r.signingKeyId,
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
