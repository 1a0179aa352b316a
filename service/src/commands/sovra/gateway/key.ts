import { randomBytes } from 'node:crypto';
import { Messages } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { generateGatewayKey } from '../../../http/gateway/index.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('sovra', 'gateway.key');

export type GatewayKeyResult = {
  tenant: string;
  id: string;
  /** The key itself: shown once, never stored by Sovra. */
  key: string;
  /** What goes into tenants[].gatewayKeys[].sha256. */
  sha256: string;
};

export default class GatewayKey extends SfCommand<GatewayKeyResult> {
  public static override readonly summary = messages.getMessage('summary');
  public static override readonly description = messages.getMessage('description');
  public static override readonly examples = messages.getMessages('examples');

  public static override readonly flags = {
    tenant: Flags.string({ char: 't', summary: messages.getMessage('flags.tenant.summary'), required: true }),
    id: Flags.string({ summary: messages.getMessage('flags.id.summary') }),
  };

  public async run(): Promise<GatewayKeyResult> {
    const { flags } = await this.parse(GatewayKey);
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(flags.tenant)) throw messages.createError('error.badTenant', [flags.tenant]);
    const id = flags.id ?? `key-${randomBytes(4).toString('hex')}`;
    const { key, sha256 } = generateGatewayKey();
    this.log(messages.getMessage('info.created', [id, flags.tenant, key, flags.tenant, id, sha256]));
    return { tenant: flags.tenant, id, key, sha256 };
  }
}
