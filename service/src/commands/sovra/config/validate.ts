import { Messages } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { ConfigError, loadConfig, type ConfigIssue } from '../../../config/index.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('sovra', 'config.validate');

export type ConfigValidateResult = {
  valid: boolean;
  file: string;
  deployment?: { name: string; jurisdiction: string; region: string };
  jurisdictions?: string[];
  endpoints?: number;
  tenants?: number;
  issues: ConfigIssue[];
};

export default class ConfigValidate extends SfCommand<ConfigValidateResult> {
  public static override readonly summary = messages.getMessage('summary');
  public static override readonly description = messages.getMessage('description');
  public static override readonly examples = messages.getMessages('examples');

  public static override readonly flags = {
    config: Flags.file({ char: 'c', summary: messages.getMessage('flags.config.summary'), required: true, exists: false }),
  };

  public async run(): Promise<ConfigValidateResult> {
    const { flags } = await this.parse(ConfigValidate);
    try {
      const cfg = loadConfig(flags.config);
      const endpoints = Object.values(cfg.jurisdictions).reduce((n, j) => n + j.endpoints.length, 0);
      this.log(
        messages.getMessage('info.valid', [
          flags.config,
          cfg.deployment.name,
          cfg.deployment.jurisdiction,
          cfg.deployment.region,
          Object.keys(cfg.jurisdictions).length,
          endpoints,
          cfg.tenants.length,
        ]),
      );
      return {
        valid: true,
        file: flags.config,
        deployment: { ...cfg.deployment },
        jurisdictions: Object.keys(cfg.jurisdictions),
        endpoints,
        tenants: cfg.tenants.length,
        issues: [],
      };
    } catch (err) {
      if (err instanceof ConfigError) {
        const error = messages.createError('error.invalid', [err.message]);
        error.setData({ valid: false, file: flags.config, issues: err.issues } satisfies ConfigValidateResult);
        error.code = 'CONFIG_INVALID';
        throw error;
      }
      throw err;
    }
  }
}
