import { describe, expect, it } from '@jest/globals';
import { EU_MEMBER_STATES } from '../config/countries.js';
import { createJurisdictionResolver, normaliseCountry, type JurisdictionResolverOptions } from './index.js';

const rules = [
  { object: 'Account', jurisdictionField: 'DataJurisdiction__c', countryField: 'BillingCountry', priority: 1 },
  { object: 'Opportunity', jurisdictionField: 'DataJurisdiction__c', countryField: 'Account.BillingCountry', priority: 1 },
  { object: 'Contact', countryField: 'MailingCountry', priority: 1 },
  { object: 'Lead', countryField: 'Country', active: false },
];
const base: JurisdictionResolverOptions = {
  deploymentJurisdiction: 'EU',
  configJurisdictions: [
    { id: 'EU', countries: EU_MEMBER_STATES },
    { id: 'US', countries: ['US'] },
    { id: 'UK', countries: ['GB'] },
  ],
  orgJurisdictions: [{ id: 'EU', countries: ['DE', 'FR'] }],
  rules,
};
const eu = createJurisdictionResolver(base);

describe('jurisdiction', () => {
  it('resolves an EU record when the stamp and the country agree', () => {
    const d = eu.resolve({
      object: 'Account',
      values: { DataJurisdiction__c: 'EU', BillingCountry: 'Germany' },
      requestedJurisdiction: 'EU',
    });
    expect(d).toEqual({
      status: 'resolved',
      jurisdiction: 'EU',
      evidence: [
        { field: 'DataJurisdiction__c', says: 'EU', jurisdiction: 'EU' },
        { field: 'BillingCountry', says: 'DE', jurisdiction: 'EU' },
      ],
    });
  });

  it('names the deciding fields to fetch, parent paths included', () => {
    expect(eu.decidingFields('Opportunity')).toEqual(['DataJurisdiction__c', 'Account.BillingCountry']);
    expect(eu.decidingFields('Lead')).toEqual([]);
  });

  it.each([
    ['DE', 'DE'],
    ['de', 'DE'],
    ['Deutschland', 'DE'],
    ['Allemagne', 'DE'],
    ['  France ', 'FR'],
    ['United States', 'US'],
    ['USA', 'US'],
    ['United Kingdom', 'GB'],
    ['UK', 'GB'],
    ['Österreich', 'AT'],
    ['Nederland', 'NL'],
    ['Atlantis', undefined],
    ['', undefined],
    [42, undefined],
  ])('normalises the country %p to %p', (value, code) => {
    expect(normaliseCountry(value)).toBe(code);
  });

  it('quarantines when nothing says where the record belongs', () => {
    const d = eu.resolve({ object: 'Account', values: { DataJurisdiction__c: null, BillingCountry: null } });
    expect(d).toMatchObject({ status: 'quarantine', code: 'JURISDICTION_UNKNOWN', expected: 'EU', detected: null });
  });

  it('quarantines an unrecognised country value without echoing it', () => {
    const d = eu.resolve({ object: 'Contact', values: { MailingCountry: 'Hans Müller Land' } });
    expect(d).toMatchObject({ status: 'quarantine', code: 'JURISDICTION_UNKNOWN' });
    expect(JSON.stringify(d)).not.toContain('Müller');
  });

  it('quarantines a country that belongs to no known jurisdiction', () => {
    expect(eu.resolve({ object: 'Contact', values: { MailingCountry: 'Canada' } })).toMatchObject({
      status: 'quarantine',
      code: 'JURISDICTION_UNKNOWN',
      detected: 'CA',
    });
  });

  it('quarantines when the stamp and the country disagree', () => {
    const d = eu.resolve({ object: 'Account', values: { DataJurisdiction__c: 'EU', BillingCountry: 'US' } });
    expect(d).toMatchObject({ status: 'quarantine', code: 'JURISDICTION_CONFLICT', detected: 'EU/US' });
  });

  it('quarantines when the event says EU but the record says US', () => {
    const d = eu.resolve({
      object: 'Opportunity',
      values: { DataJurisdiction__c: 'US', 'Account.BillingCountry': 'United States' },
      requestedJurisdiction: 'EU',
    });
    expect(d).toMatchObject({ status: 'quarantine', code: 'REQUEST_MISMATCH', detected: 'US', expected: 'EU' });
  });

  it("quarantines a consistent record that is not this deployment's", () => {
    const d = eu.resolve({ object: 'Account', values: { DataJurisdiction__c: 'UK', BillingCountry: 'GB' } });
    expect(d).toMatchObject({ status: 'quarantine', code: 'NOT_THIS_DEPLOYMENT', detected: 'UK' });
  });

  it('quarantines an unknown jurisdiction id in the stamp', () => {
    expect(eu.resolve({ object: 'Account', values: { DataJurisdiction__c: 'APAC', BillingCountry: 'DE' } })).toMatchObject({
      code: 'JURISDICTION_UNKNOWN',
      detected: 'APAC',
    });
  });

  it('quarantines objects without an active rule', () => {
    expect(eu.resolve({ object: 'Lead', values: { Country: 'DE' } })).toMatchObject({ code: 'NO_RULE' });
  });

  it('fails closed when the org maps a country to another jurisdiction than the config does', () => {
    const r = createJurisdictionResolver({ ...base, orgJurisdictions: [{ id: 'US', countries: ['US', 'IE'] }] });
    expect(r.resolve({ object: 'Contact', values: { MailingCountry: 'Ireland' } })).toMatchObject({
      code: 'MAPPING_CONFLICT',
      detected: 'IE',
    });
    expect(r.resolve({ object: 'Contact', values: { MailingCountry: 'Germany' } })).toMatchObject({
      status: 'resolved',
      jurisdiction: 'EU',
    });
  });
});
