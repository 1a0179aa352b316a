import { Messages } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { soqlString } from '../../../salesforce/index.js';
import { CUSTOM_SCHEMA, QUARANTINE_STATUSES, type ApiNames } from '../../../shared/schema.js';
import { packageMissing, queryAll, resolveNamespace, type SObjectRow } from '../org/setup.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('sovra', 'quarantine.list');

export type QuarantineItem = {
  id: string;
  name: string;
  status: string | null;
  recordId: string | null;
  objectApiName: string | null;
  requestId: string | null;
  reason: string | null;
  detectedJurisdiction: string | null;
  expectedJurisdiction: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  createdDate: string | null;
};

export type QuarantineListResult = {
  total: number;
  filters: { status: string | null; jurisdiction: string | null };
  items: QuarantineItem[];
};

/** Every field of AiQuarantine__c but its key (the schema module holds the names). */
export const QUARANTINE_FIELDS = CUSTOM_SCHEMA.AiQuarantine__c.filter((f) => f !== 'ExternalId__c');

export function quarantineSelect(names: ApiNames): string {
  return `SELECT Id, Name, CreatedDate, ${QUARANTINE_FIELDS.map((f) => names.name(f)).join(', ')} FROM ${names.name('AiQuarantine__c')}`;
}

export function toItem(r: SObjectRow, names: ApiNames): QuarantineItem {
  const s = (f: string): string | null => {
    const v = r[names.name(f)] ?? r[f];
    return typeof v === 'string' && v !== '' ? v : null;
  };
  return {
    id: String(r.Id),
    name: String(r.Name ?? r.Id),
    status: s('Status__c'),
    recordId: s('RecordId__c'),
    objectApiName: s('ObjectApiName__c'),
    requestId: s('RequestId__c'),
    reason: s('Reason__c'),
    detectedJurisdiction: s('DetectedJurisdiction__c'),
    expectedJurisdiction: s('ExpectedJurisdiction__c'),
    resolvedBy: s('ResolvedBy__c'),
    resolvedAt: s('ResolvedAt__c'),
    createdDate: s('CreatedDate'),
  };
}

export default class QuarantineList extends SfCommand<QuarantineListResult> {
  public static override readonly summary = messages.getMessage('summary');
  public static override readonly description = messages.getMessage('description');
  public static override readonly examples = messages.getMessages('examples');

  public static override readonly flags = {
    'target-org': Flags.requiredOrg(),
    'api-version': Flags.orgApiVersion(),
    status: Flags.option({ options: QUARANTINE_STATUSES, summary: messages.getMessage('flags.status.summary') })(),
    jurisdiction: Flags.string({ char: 'j', summary: messages.getMessage('flags.jurisdiction.summary') }),
    limit: Flags.integer({ summary: messages.getMessage('flags.limit.summary'), min: 1, max: 50_000, default: 2000 }),
    namespace: Flags.string({ summary: messages.getMessage('flags.namespace.summary') }),
  };

  public async run(): Promise<QuarantineListResult> {
    const { flags } = await this.parse(QuarantineList);
    const org = flags['target-org'];
    const conn = org.getConnection(flags['api-version']);
    const jurisdiction = flags.jurisdiction?.toUpperCase() ?? null;
    if (jurisdiction !== null && !/^[A-Z][A-Z0-9]{1,9}$/.test(jurisdiction))
      throw messages.createError('error.badJurisdiction', [flags.jurisdiction]);
    const resolved = await resolveNamespace(conn, flags.namespace);
    if (!resolved) throw packageMissing(org.getUsername() ?? '', flags.namespace);
    const { names } = resolved;
    const where: string[] = [];
    if (flags.status) where.push(`${names.name('Status__c')} = ${soqlString(flags.status)}`);
    if (jurisdiction) {
      where.push(
        `(${names.name('DetectedJurisdiction__c')} = ${soqlString(jurisdiction)} OR ${names.name('ExpectedJurisdiction__c')} = ${soqlString(jurisdiction)})`,
      );
    }
    const soql = `${quarantineSelect(names)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY CreatedDate DESC LIMIT ${flags.limit}`;
    this.spinner.start(messages.getMessage('info.loading'));
    const rows = await queryAll(conn, soql);
    this.spinner.stop(String(rows.length));
    const items = rows.map((r) => toItem(r, names));
    if (items.length === 0) this.log(messages.getMessage('info.none'));
    else {
      this.table({
        data: items.map((i) => ({
          id: i.id,
          name: i.name,
          status: i.status ?? '',
          record: `${i.objectApiName ?? ''} ${i.recordId ?? ''}`.trim(),
          detected: i.detectedJurisdiction ?? '?',
          expected: i.expectedJurisdiction ?? '',
          reason: i.reason ?? '',
          created: i.createdDate ?? '',
        })),
      });
      this.log(messages.getMessage('info.count', [items.length]));
    }
    return { total: items.length, filters: { status: flags.status ?? null, jurisdiction }, items };
  }
}
