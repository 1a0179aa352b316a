/**
 * The sweep: `AiRequest__c` rows still Queued for this jurisdiction after a minimum age, so
 * no request waits forever for an event that was lost (sidecar down longer than the replay
 * window, a dropped connection, an event published while the channel filter changed).
 * One query per page of 200 (keyset on Id); the claims make finding known work harmless.
 */
import { soqlString, type SalesforceConnection } from '../salesforce/index.js';

export interface SweptRequest {
  id: string;
  externalId: string | null;
  createdDate: string | null;
}

export interface SweepOptions {
  jurisdiction: string;
  /** Only requests created before this instant. */
  olderThan: Date;
  /** Upper bound on rows per sweep (pages of 200). */
  maxRows?: number;
}

const PAGE = 200;

export async function sweepQueued(sf: SalesforceConnection, o: SweepOptions): Promise<SweptRequest[]> {
  const n = sf.names;
  const max = o.maxRows ?? 2_000;
  const out: SweptRequest[] = [];
  // SOQL datetime literals are unquoted ISO 8601 in UTC (SOQL reference, "Date Formats").
  const cutoff = o.olderThan.toISOString().replace(/\.\d{3}Z$/, 'Z');
  let after: string | null = null;
  while (out.length < max) {
    // Keyset paging on (CreatedDate, Id) so rows claimed meanwhile do not shift the pages.
    const soql: string =
      `SELECT Id, ${n.name('ExternalId__c')}, CreatedDate FROM ${n.name('AiRequest__c')}` +
      ` WHERE ${n.name('Status__c')} = 'Queued' AND ${n.name('Jurisdiction__c')} = ${soqlString(o.jurisdiction)}` +
      ` AND CreatedDate < ${cutoff}${after ? ` AND Id > ${soqlString(after)}` : ''}` +
      ` ORDER BY Id LIMIT ${PAGE}`;
    const rows = await sf.query(soql, { operation: 'sweep AiRequest__c' });
    for (const r of rows) {
      if (typeof r.Id !== 'string') continue;
      out.push({
        id: r.Id,
        externalId: typeof r.ExternalId__c === 'string' ? r.ExternalId__c : null,
        createdDate: typeof r.CreatedDate === 'string' ? r.CreatedDate : null,
      });
    }
    if (rows.length < PAGE) break;
    after = String(rows[rows.length - 1].Id);
  }
  return out;
}
