import { Messages } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { checkResidencyFile, type GateFinding } from '../../config/index.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('sovra', 'policy.check');

export type PolicyCheckResult = {
  passed: boolean;
  file: string;
  findings: GateFinding[];
  checked: { jurisdictions: number; endpoints: number; tenants: number; resolvedHosts: number };
};

export default class PolicyCheck extends SfCommand<PolicyCheckResult> {
  public static override readonly summary = messages.getMessage('summary');
  public static override readonly description = messages.getMessage('description');
  public static override readonly examples = messages.getMessages('examples');

  public static override readonly flags = {
    config: Flags.file({ char: 'c', summary: messages.getMessage('flags.config.summary'), required: true }),
    'no-dns': Flags.boolean({ summary: messages.getMessage('flags.no-dns.summary'), default: false }),
  };

  public async run(): Promise<PolicyCheckResult> {
    const { flags } = await this.parse(PolicyCheck);
    this.spinner.start(`Checking ${flags.config}`);
    const result = await checkResidencyFile(flags.config, { dns: !flags['no-dns'] });
    this.spinner.stop(result.passed ? 'passed' : `${result.findings.length} finding(s)`);
    if (!result.passed) {
      const listing = result.findings
        .map((f) => `  ✗ ${f.path || '(file)'} [${f.rule}] ${f.message}\n    rule: ${f.ruleText}\n    fix:  ${f.fix}`)
        .join('\n');
      const error = messages.createError('error.failed', [flags.config, result.findings.length, listing]);
      error.setData(result);
      error.code = 'RESIDENCY_GATE_FAILED';
      throw error;
    }
    const c = result.checked;
    this.log(messages.getMessage('info.passed', [flags.config, c.jurisdictions, c.endpoints, c.tenants, c.resolvedHosts]));
    return result;
  }
}
