// The SOQL subset and channel filter expressions, below the HTTP layer: parse errors point at
// the column, date literals cover the documented ranges, filters follow the Platform Events
// filter semantics (case-insensitive trimmed text, null checkbox = false).
import { describe, expect, it } from '@jest/globals';
import { evalFilter } from './cometd.js';
import { loadPackageDefinition } from './metadata.js';
import { Org } from './org.js';
import { dateLiteralRange, parseCondition, parseSoql } from './soql.js';
import { EmulatorClock, SalesforceApiError } from './util.js';
import { DEFAULT_FORCE_APP_DIR } from './index.js';

describe('parseSoql', () => {
  it('parses the clauses Sovra uses', () => {
    const q = parseSoql(
      "SELECT Id, Account.BillingCountry, (SELECT Id FROM Contacts WHERE Email != null) FROM Contact WHERE (Name LIKE 'a%' OR NOT Id IN ('001')) AND CreatedDate >= LAST_N_DAYS:30 AND Birthdate < 2000-01-01 AND LastModifiedDate > 2024-01-01T00:00:00Z ORDER BY Name DESC NULLS LAST, Id LIMIT 10 OFFSET 5",
    );
    expect(q.from).toBe('Contact');
    expect(q.select.map((s) => s.type)).toEqual(['field', 'field', 'subquery']);
    expect(q.orderBy).toEqual([
      expect.objectContaining({ path: ['Name'], desc: true, nullsLast: true }),
      expect.objectContaining({ path: ['Id'], desc: false, nullsLast: false }),
    ]);
    expect([q.limit, q.offset]).toEqual([10, 5]);
    expect(parseSoql('SELECT COUNT() FROM Case').countOnly).toBe(true);
  });

  it('reports the column of a syntax error like the real API', () => {
    let err: unknown;
    try {
      parseSoql('SELECT Id FROM Account WHERE Name = ');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SalesforceApiError);
    expect((err as SalesforceApiError).errorCode).toBe('MALFORMED_QUERY');
    expect((err as SalesforceApiError).message).toContain('ERROR at Row:1:Column:36\nunexpected token: <EOF>');
    expect(() => parseSoql('SELECT Id FROM Account LIMIT x')).toThrow(/unexpected token: x/);
  });
});

describe('dateLiteralRange', () => {
  const now = Date.UTC(2025, 4, 15, 13, 30); // Thu 15 May 2025 13:30 UTC
  const day = (y: number, m: number, d: number): number => Date.UTC(y, m - 1, d);
  it('covers today and the n-day windows as documented (LAST_N_DAYS includes today)', () => {
    expect(dateLiteralRange('TODAY', 0, now)).toEqual([day(2025, 5, 15), day(2025, 5, 16)]);
    expect(dateLiteralRange('YESTERDAY', 0, now)).toEqual([day(2025, 5, 14), day(2025, 5, 15)]);
    expect(dateLiteralRange('LAST_N_DAYS', 7, now)).toEqual([day(2025, 5, 8), day(2025, 5, 16)]);
    expect(dateLiteralRange('NEXT_N_DAYS', 2, now)).toEqual([day(2025, 5, 16), day(2025, 5, 18)]);
    expect(dateLiteralRange('THIS_MONTH', 0, now)).toEqual([day(2025, 5, 1), day(2025, 6, 1)]);
    expect(dateLiteralRange('LAST_YEAR', 0, now)).toEqual([day(2024, 1, 1), day(2025, 1, 1)]);
    expect(dateLiteralRange('THIS_WEEK', 0, now)).toEqual([day(2025, 5, 11), day(2025, 5, 18)]);
  });
});

describe('channel filter expressions', () => {
  const org = new Org({ key: 't', name: 'T' }, loadPackageDefinition(DEFAULT_FORCE_APP_DIR), new EmulatorClock());
  const ev = org.findObject('AiRequest__e')!;
  const f = (expr: string, payload: Record<string, unknown>): boolean => evalFilter(org, ev, parseCondition(expr), payload);
  it('compares text case-insensitively after trimming, supports IN / NOT IN / LIKE / AND / OR', () => {
    expect(f("Jurisdiction__c = 'EU'", { Jurisdiction__c: ' eu ' })).toBe(true);
    expect(f("Jurisdiction__c = 'EU'", { Jurisdiction__c: 'US' })).toBe(false);
    expect(f("Jurisdiction__c IN ('EU', 'UK')", { Jurisdiction__c: 'uk' })).toBe(true);
    expect(f("Jurisdiction__c NOT IN ('EU', 'UK')", { Jurisdiction__c: 'US' })).toBe(true);
    expect(
      f("Action__c LIKE 'Account%' AND (Jurisdiction__c = 'EU' OR Jurisdiction__c = 'UK')", {
        Action__c: 'AccountSummary',
        Jurisdiction__c: 'UK',
      }),
    ).toBe(true);
    expect(f("Jurisdiction__c = 'EU'", { Jurisdiction__c: null })).toBe(false);
    expect(f('Jurisdiction__c != null', { Jurisdiction__c: null })).toBe(false);
  });
});
