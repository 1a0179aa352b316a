import { Messages } from '@salesforce/core';
import { SfCommand } from '@salesforce/sf-plugins-core';
import { resolveFlags, resolveQuarantine, type QuarantineResolveResult } from './release.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('sovra', 'quarantine.purge');

export default class QuarantinePurge extends SfCommand<QuarantineResolveResult> {
  public static override readonly summary = messages.getMessage('summary');
  public static override readonly description = messages.getMessage('description');
  public static override readonly examples = messages.getMessages('examples');
  public static override readonly flags = resolveFlags;

  public async run(): Promise<QuarantineResolveResult> {
    const { flags } = await this.parse(QuarantinePurge);
    return resolveQuarantine(this, flags, 'purge');
  }
}
