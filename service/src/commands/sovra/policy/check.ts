import { Messages } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { checkResidencyFile, type GateFinding, type OrgResidency } from '../../../config/index.js';
import { STAMPED_OBJECTS } from '../../../shared/schema.js';
import { orgFromFlag } from '../audit/verify.js';
import { queryAll, resolveNamespace } from '../org/setup.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('sovra', 'policy.check');

export type PolicyCheckResult = {
  passed: boolean;
  /** The org compared with the config (`--target-org`), if any. */
  org?: { username: string; jurisdictions: number; rules: number };
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
    'target-org': Flags.string({ char: 'o', summary: messages.getMessage('flags.target-org.summary') }),
    namespace: Flags.string({ summary: messages.getMessage('flags.namespace.summary') }),
  };

  public async run(): Promise<PolicyCheckResult> {
    const { flags } = await this.parse(PolicyCheck);
    this.spinner.start(`Checking ${flags.config}`);
    let org: OrgResidency | undefined;
    let orgInfo: PolicyCheckResult['org'];
    if (flags['target-org']) {
      this.spinner.status = `reading residency metadata from ${flags['target-org']}`;
      const conn = (await orgFromFlag(flags['target-org'])).getConnection();
      const ns = await resolveNamespace(conn, flags.namespace);
      if (!ns) throw messages.createError('error.noPackage', [flags['target-org']]);
      const n = ns.names;
      const jur = await queryAll(
        conn,
        `SELECT DeveloperName, ${n.name('Countries__c')}, ${n.name('Active__c')} FROM ${n.name('Jurisdiction__mdt')}`,
      );
      const rules = await queryAll(
        conn,
        `SELECT ${n.name('ObjectApiName__c')}, ${n.name('Active__c')} FROM ${n.name('ResidencyRule__mdt')}`,
      );
      org = {
        jurisdictions: jur.map((r) => ({
          id: String(r.DeveloperName).toUpperCase(),
          countries: String(r[n.name('Countries__c')] ?? '')
            .split(/[;,\s]+/)
            .filter((c) => /^[A-Za-z]{2}$/.test(c))
            .map((c) => c.toUpperCase()),
          active: r[n.name('Active__c')] !== false,
        })),
        rules: rules.map((r) => ({ object: String(r[n.name('ObjectApiName__c')] ?? ''), active: r[n.name('Active__c')] !== false })),
        stampedObjects: STAMPED_OBJECTS,
      };
      orgInfo = { username: conn.getUsername() ?? flags['target-org'], jurisdictions: jur.length, rules: rules.length };
    }
    const gate = await checkResidencyFile(flags.config, { dns: !flags['no-dns'], org });
    const result: PolicyCheckResult = orgInfo ? { ...gate, org: orgInfo } : gate;
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
