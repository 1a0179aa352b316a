/**
 * The demo org: a mid-size European/North American customer. Accounts in DE, FR, NL, IE,
 * GB, US and CA with contacts, leads, opportunities and cases whose notes carry
 * realistic PII (names, emails, phones, IBANs with valid check digits, Luhn-valid card
 * numbers, national ids with valid checksums) next to decoys that merely look like numbers
 * (order numbers, amounts, dates, ticket ids). Users with and without Sovra permissions in
 * the EU and the US; an integration user with a connected app whose key the caller
 * registers at run time. A second org (namespace `sovra`) for tenant-separation tests.
 * All people, companies and numbers are invented.
 */
import type { SeedData, SeedRecord } from '../seed.js';

// ------------------------------------------------------------------------------ checksums

/** IBAN with ISO 13616 mod-97 check digits for a country and BBAN. */
export function iban(country: string, bban: string): string {
  const rearranged = `${bban}${country}00`.toUpperCase().replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rem = 0;
  for (const d of rearranged) rem = (rem * 10 + Number(d)) % 97;
  return `${country}${String(98 - rem).padStart(2, '0')}${bban}`;
}

/** Completes a card number with its Luhn check digit. */
export function luhn(partial: string): string {
  let sum = 0;
  const digits = partial.split('').reverse().map(Number);
  digits.forEach((d, i) => {
    let v = i % 2 === 0 ? d * 2 : d;
    if (v > 9) v -= 9;
    sum += v;
  });
  return partial + String((10 - (sum % 10)) % 10);
}

/** German tax id (Steuer-IdNr): 10 digits + ISO 7064 MOD 11,10 check digit. */
export function steuerId(ten: string): string {
  let product = 10;
  for (const d of ten) {
    let sum = (Number(d) + product) % 10;
    if (sum === 0) sum = 10;
    product = (sum * 2) % 11;
  }
  const check = (11 - product) % 10;
  return ten + String(check);
}

/** French NIR (social security number): 13 digits + key 97 − (n mod 97). */
export function nir(thirteen: string): string {
  const key = 97 - Number(BigInt(thirteen) % 97n);
  return `${thirteen} ${String(key).padStart(2, '0')}`;
}

/** Dutch BSN: 8 digits + a 9th that satisfies the 11-proof; null if none does. */
export function bsn(eight: string): string {
  for (let last = 0; last <= 9; last++) {
    const d = (eight + String(last)).split('').map(Number);
    const sum = d.slice(0, 8).reduce((s, v, i) => s + v * (9 - i), 0) - d[8];
    if (sum % 11 === 0) return d.join('');
  }
  throw new Error(`no BSN completes ${eight}`);
}

/** Irish PPSN: 7 digits + check letter (weights 8..2, mod 23, 0 → W). */
export function ppsn(seven: string): string {
  const sum = seven.split('').reduce((s, v, i) => s + Number(v) * (8 - i), 0);
  const r = sum % 23;
  return seven + (r === 0 ? 'W' : String.fromCharCode(64 + r));
}

/** Canadian SIN: 8 digits + Luhn check digit, printed 3-3-3. */
export function sin(eight: string): string {
  const s = luhn(eight);
  return `${s.slice(0, 3)} ${s.slice(3, 6)} ${s.slice(6)}`;
}

// ------------------------------------------------------------------------------ the data

/** Stable handles tests refer to. */
export const DEMO = {
  orgKey: 'demo',
  secondOrgKey: 'northwind',
  integrationUser: 'integration@sovra-demo.example.com',
  clientId: '3MVG9SovraDemoSidecarConnectedApp0000000000000000000000000000000000000000',
  secondClientId: '3MVG9NorthwindSidecarConnectedApp00000000000000000000000000000000000000',
  secondIntegrationUser: 'integration@northwind-health.example.com',
  users: {
    integration: 'integration@sovra-demo.example.com',
    admin: 'sabine.keller@sovra-demo.example.com',
    auditor: 'niamh.byrne@sovra-demo.example.com',
    euSales: 'anna.schmidt@sovra-demo.example.com',
    euService: 'pierre.dubois@sovra-demo.example.com',
    usSales: 'john.miller@sovra-demo.example.com',
    euNoSovra: 'lukas.berg@sovra-demo.example.com',
    usNoSovra: 'emma.wilson@sovra-demo.example.com',
    trainer: 'data.science@sovra-demo.example.com',
  },
} as const;

const IBANS = {
  de1: iban('DE', '370400440532013000'),
  de2: iban('DE', '500105175407324931'),
  fr: iban('FR', '20041010050500013M02606'),
  nl: iban('NL', 'ABNA0417164300'),
  ie: iban('IE', 'AIBK93115212345678'),
  gb: iban('GB', 'NWBK60161331926819'),
};
const CARDS = {
  visa: luhn('453914880343674'),
  mc: luhn('552735000076543'),
  amex: luhn('37144963539843'),
  visa2: luhn('401288888888188'),
};

export function demoSeed(): SeedData {
  const accounts: SeedRecord[] = [
    {
      '@key': 'mueller',
      Name: 'Müller Maschinenbau GmbH',
      BillingStreet: 'Leopoldstraße 118',
      BillingCity: 'München',
      BillingPostalCode: '80802',
      BillingCountry: 'Germany',
      Phone: '+49 89 2180 4417',
      Industry: 'Manufacturing',
      Website: 'https://mueller-maschinenbau.example.de',
      AnnualRevenue: 48200000,
      NumberOfEmployees: 310,
    },
    {
      '@key': 'rheinland',
      Name: 'Rheinland Versicherung AG',
      BillingStreet: 'Kaiser-Wilhelm-Ring 23',
      BillingCity: 'Köln',
      BillingPostalCode: '50672',
      BillingCountry: 'DE',
      Phone: '+49 221 9477 300',
      Industry: 'Insurance',
    },
    {
      '@key': 'lumiere',
      Name: 'Lumière Énergie SA',
      BillingStreet: '14 rue de la République',
      BillingCity: 'Lyon',
      BillingPostalCode: '69002',
      BillingCountry: 'France',
      Phone: '+33 4 72 10 55 80',
      Industry: 'Energy',
    },
    {
      '@key': 'vdberg',
      Name: 'Van der Berg Logistiek B.V.',
      BillingStreet: 'Wilhelminakade 91',
      BillingCity: 'Rotterdam',
      BillingPostalCode: '3072 AP',
      BillingCountry: 'Netherlands',
      Phone: '+31 10 214 7788',
      Industry: 'Retail',
    },
    {
      '@key': 'shannon',
      Name: 'Shannon Medical Devices Ltd',
      BillingStreet: 'Unit 4, Raheen Business Park',
      BillingCity: 'Limerick',
      BillingPostalCode: 'V94 K2X7',
      BillingCountry: 'Ireland',
      Phone: '+353 61 302 118',
      Industry: 'Healthcare',
    },
    {
      '@key': 'thames',
      Name: 'Thames Capital Partners Ltd',
      BillingStreet: '27 Old Broad Street',
      BillingCity: 'London',
      BillingPostalCode: 'EC2N 1HQ',
      BillingCountry: 'United Kingdom',
      Phone: '+44 20 7946 0321',
      Industry: 'Banking',
    },
    {
      '@key': 'granite',
      Name: 'Granite Peak Health Inc.',
      BillingStreet: '1450 Larimer St',
      BillingCity: 'Denver',
      BillingState: 'CO',
      BillingPostalCode: '80202',
      BillingCountry: 'United States',
      Phone: '+1 303 555 0148',
      Industry: 'Healthcare',
    },
    {
      '@key': 'harbor',
      Name: 'Blue Harbor Retail LLC',
      BillingStreet: '88 Atlantic Ave',
      BillingCity: 'Boston',
      BillingState: 'MA',
      BillingPostalCode: '02110',
      BillingCountry: 'US',
      Phone: '+1 617 555 0199',
      Industry: 'Retail',
    },
    {
      '@key': 'maple',
      Name: 'Maple Ridge Credit Union',
      BillingStreet: '220 Bay Street',
      BillingCity: 'Toronto',
      BillingState: 'ON',
      BillingPostalCode: 'M5J 2W4',
      BillingCountry: 'Canada',
      Phone: '+1 416 555 0137',
      Industry: 'Banking',
    },
  ];
  const contacts: SeedRecord[] = [
    {
      '@key': 'c_weber',
      AccountId: '@mueller',
      Salutation: 'Dr.',
      FirstName: 'Katrin',
      LastName: 'Weber',
      Title: 'Head of Procurement',
      Email: 'katrin.weber@mueller-maschinenbau.example.de',
      Phone: '+49 89 2180 4420',
      MobilePhone: '+49 171 3345 982',
      MailingCity: 'München',
      MailingCountry: 'Germany',
      Birthdate: '1979-04-12',
      Description: `Prefers calls before 10:00. Private mobile +49 171 3345 982. Steuer-ID ${steuerId('4715830294')} on file for the bonus payment.`,
    },
    {
      '@key': 'c_hoffmann',
      AccountId: '@rheinland',
      FirstName: 'Jörg',
      LastName: 'Hoffmann',
      Title: 'CFO',
      Email: 'j.hoffmann@rheinland-vers.example.de',
      Phone: '+49 221 9477 310',
      MailingCountry: 'DE',
    },
    {
      '@key': 'c_laurent',
      AccountId: '@lumiere',
      FirstName: 'Camille',
      LastName: 'Laurent',
      Title: 'Directrice des achats',
      Email: 'camille.laurent@lumiere-energie.example.fr',
      Phone: '+33 6 12 48 93 07',
      MailingCity: 'Lyon',
      MailingCountry: 'France',
      Description: `NIR ${nir('2850769123456')} transmitted by HR for the pension file.`,
    },
    {
      '@key': 'c_jansen',
      AccountId: '@vdberg',
      FirstName: 'Daan',
      LastName: 'Jansen',
      Title: 'Operations Manager',
      Email: 'daan.jansen@vanderberg-logistiek.example.nl',
      Phone: '+31 6 4128 7713',
      MailingCountry: 'Netherlands',
      Description: `BSN ${bsn('12345678')} needed for the customs broker registration.`,
    },
    {
      '@key': 'c_obrien',
      AccountId: '@shannon',
      FirstName: 'Siobhán',
      LastName: "O'Brien",
      Title: 'Quality Director',
      Email: 'siobhan.obrien@shannon-medical.example.ie',
      Phone: '+353 87 214 6630',
      MailingCountry: 'Ireland',
      Description: `PPSN ${ppsn('1234567')}; allergic to latex (mentioned at the site visit).`,
    },
    {
      '@key': 'c_hughes',
      AccountId: '@thames',
      FirstName: 'Oliver',
      LastName: 'Hughes',
      Title: 'Managing Partner',
      Email: 'oliver.hughes@thamescapital.example.co.uk',
      Phone: '+44 7700 900 461',
      MailingCountry: 'United Kingdom',
      Description: 'National Insurance number QQ 12 34 56 C for the director register.',
    },
    {
      '@key': 'c_garcia',
      AccountId: '@granite',
      FirstName: 'Maria',
      LastName: 'Garcia',
      Title: 'VP Patient Services',
      Email: 'maria.garcia@granitepeak.example.com',
      Phone: '+1 303 555 0162',
      MailingCountry: 'United States',
      Description: 'SSN 219-09-9999 provided for the background check. Reachable at (303) 555-0162.',
    },
    {
      '@key': 'c_chen',
      AccountId: '@harbor',
      FirstName: 'Kevin',
      LastName: 'Chen',
      Title: 'Store Systems Lead',
      Email: 'kevin.chen@blueharbor.example.com',
      Phone: '+1 617 555 0123',
      MailingCountry: 'US',
    },
    {
      '@key': 'c_tremblay',
      AccountId: '@maple',
      FirstName: 'Julie',
      LastName: 'Tremblay',
      Title: 'Member Services Manager',
      Email: 'julie.tremblay@mapleridge.example.ca',
      Phone: '+1 416 555 0175',
      MailingCountry: 'Canada',
      Description: `SIN ${sin('04645487')} on the loan application.`,
    },
  ];
  const leads: SeedRecord[] = [
    {
      FirstName: 'Felix',
      LastName: 'Braun',
      Company: 'Braun Solar GmbH',
      Email: 'felix.braun@braun-solar.example.de',
      Phone: '+49 30 5557 1203',
      Country: 'Germany',
      City: 'Berlin',
      Description: 'Met at Intersolar booth B2.118. Budget EUR 120.000 for Q3 2025 (decoy: order SO-2024-118734).',
    },
    {
      FirstName: 'Léa',
      LastName: 'Moreau',
      Company: 'Moreau Bio SARL',
      Email: 'lea.moreau@moreau-bio.example.fr',
      Phone: '+33 1 45 22 87 10',
      Country: 'FR',
      Description: 'Asked for a quote; invoice reference INV-0098812 dated 2024-03-15 is unrelated.',
    },
    { FirstName: 'Sem', LastName: 'de Vries', Company: 'De Vries Agro', Email: 'sem@devries-agro.example.nl', Country: 'Netherlands' },
    {
      FirstName: 'Aoife',
      LastName: 'Kelly',
      Company: 'Kelly Pharma',
      Email: 'aoife.kelly@kellypharma.example.ie',
      Country: 'Ireland',
      Phone: '+353 1 555 0102',
    },
    { FirstName: 'Harry', LastName: 'Patel', Company: 'Patel Wealth', Email: 'harry@patelwealth.example.co.uk', Country: 'GB' },
    {
      FirstName: 'Ashley',
      LastName: 'Johnson',
      Company: 'Johnson Dental Group',
      Email: 'ashley@johnsondental.example.com',
      Country: 'United States',
      Phone: '(720) 555-0110',
      Description: `Paid the deposit with card ${CARDS.visa2.replace(/(\d{4})(?=\d)/g, '$1 ')}; PO 4500018822.`,
    },
    { FirstName: 'Liam', LastName: 'Roy', Company: 'Roy Forestry', Email: 'liam.roy@royforestry.example.ca', Country: 'Canada' },
  ];
  const opportunities: SeedRecord[] = [
    {
      '@key': 'o_mueller',
      AccountId: '@mueller',
      Name: 'Müller – CNC retrofit 2025',
      StageName: 'Proposal/Price Quote',
      CloseDate: '2025-09-30',
      Amount: 185000,
      Description: 'Decision by Dr. Weber; quote Q-2025-0417 valid until 2025-06-30.',
    },
    { AccountId: '@lumiere', Name: 'Lumière – grid analytics', StageName: 'Negotiation/Review', CloseDate: '2025-07-15', Amount: 92000 },
    { AccountId: '@vdberg', Name: 'Van der Berg – fleet telematics', StageName: 'Qualification', CloseDate: '2025-11-01', Amount: 64000 },
    { AccountId: '@shannon', Name: 'Shannon – QMS rollout', StageName: 'Closed Won', CloseDate: '2025-02-28', Amount: 120000 },
    { AccountId: '@thames', Name: 'Thames – advisory CRM', StageName: 'Prospecting', CloseDate: '2025-12-15', Amount: 45000 },
    { AccountId: '@granite', Name: 'Granite Peak – patient portal', StageName: 'Needs Analysis', CloseDate: '2025-08-20', Amount: 240000 },
    { AccountId: '@harbor', Name: 'Blue Harbor – POS upgrade', StageName: 'Closed Lost', CloseDate: '2025-01-31', Amount: 38000 },
    { AccountId: '@maple', Name: 'Maple Ridge – member app', StageName: 'Proposal/Price Quote', CloseDate: '2025-10-10', Amount: 76000 },
  ];
  const lineItems: SeedRecord[] = [
    { OpportunityId: '@o_mueller', Name: 'CNC retrofit kit HX-500', Quantity: 4, UnitPrice: 38500, TotalPrice: 154000 },
    { OpportunityId: '@o_mueller', Name: 'On-site commissioning (days)', Quantity: 20, UnitPrice: 1550, TotalPrice: 31000 },
  ];
  const caseComments: SeedRecord[] = [
    {
      ParentId: '@k_granite',
      CommentBody:
        'Called the clinic: the portal shows the invoice twice; customer asked us to email statements to billing@granitepeak-health.example.com instead.',
      IsPublished: false,
    },
    { ParentId: '@k_granite', CommentBody: 'Finance confirmed one duplicate line item; credit note pending approval.', IsPublished: false },
    { ParentId: '@k_mueller', CommentBody: 'Refund approved by finance; waiting for the bank run on Friday.', IsPublished: false },
  ];
  const openActivities: SeedRecord[] = [
    { WhatId: '@o_mueller', Subject: 'Send revised quote Q-2025-0417', ActivityDate: '2025-06-20', Status: 'Not Started' },
    { WhatId: '@mueller', WhoId: '@c_weber', Subject: 'Quarterly review call', ActivityDate: '2025-07-03', Status: 'Not Started' },
  ];
  const cases: SeedRecord[] = [
    {
      '@key': 'k_mueller',
      AccountId: '@mueller',
      ContactId: '@c_weber',
      Subject: 'Refund for double charge',
      Status: 'Working',
      Priority: 'High',
      Origin: 'Email',
      '@ageDays': 2,
      Description: `Katrin Weber (katrin.weber@mueller-maschinenbau.example.de, +49 171 3345 982) asks to refund EUR 4.812,50 to IBAN ${IBANS.de1}. Original order SO-2024-118734 from 2024-11-02; amount 4812.50 charged twice.`,
    },
    {
      AccountId: '@rheinland',
      ContactId: '@c_hoffmann',
      Subject: 'Change of bank details',
      Status: 'New',
      Priority: 'Medium',
      Origin: 'Phone',
      '@ageDays': 40,
      Description: `Jörg Hoffmann called from +49 221 9477 310: new account ${IBANS.de2.replace(/(.{4})(?=.)/g, '$1 ')}. Ticket #4471-2290, contract 2023/118-B.`,
    },
    {
      AccountId: '@lumiere',
      ContactId: '@c_laurent',
      Subject: 'Facture contestée',
      Status: 'Escalated',
      Priority: 'High',
      Origin: 'Web',
      '@ageDays': 5,
      Description: `Camille Laurent conteste la facture F-2025-00312 (12 450,00 €). Remboursement sur ${IBANS.fr}. Téléphone 06 12 48 93 07.`,
    },
    {
      AccountId: '@vdberg',
      ContactId: '@c_jansen',
      Subject: 'Damaged pallet claim',
      Status: 'New',
      Origin: 'Email',
      '@ageDays': 1,
      Description: `Daan Jansen reports 3 damaged pallets (shipment 8841-2207-5513). Credit to ${IBANS.nl}; contact daan.jansen@vanderberg-logistiek.example.nl.`,
    },
    {
      AccountId: '@shannon',
      ContactId: '@c_obrien',
      Subject: 'Card payment failed',
      Status: 'Working',
      Origin: 'Phone',
      '@ageDays': 10,
      Description: `Siobhán O'Brien tried card ${CARDS.mc} (exp 09/27) for invoice 2025-0042; bank ${IBANS.ie} as fallback. Call back on +353 87 214 6630.`,
    },
    {
      AccountId: '@thames',
      ContactId: '@c_hughes',
      Subject: 'KYC documents',
      Status: 'New',
      Origin: 'Email',
      '@ageDays': 3,
      Description: `Oliver Hughes sent passport scan; NI number QQ123456C; settle fees via ${IBANS.gb}. Reference KYC-77120.`,
    },
    {
      '@key': 'k_granite',
      AccountId: '@granite',
      ContactId: '@c_garcia',
      Subject: 'Billing question on patient portal',
      Status: 'Working',
      Priority: 'High',
      Origin: 'Web',
      '@ageDays': 0,
      Description: `Maria Garcia (SSN 219-09-9999) paid with Amex ${CARDS.amex}; disputes $1,249.00 on statement 2025-04. Email maria.garcia@granitepeak.example.com.`,
    },
    {
      AccountId: '@harbor',
      ContactId: '@c_chen',
      Subject: 'POS terminal offline',
      Status: 'Closed',
      Origin: 'Phone',
      '@ageDays': 120,
      Description: `Kevin Chen: terminal TID 40018822 offline since 2025-01-12; test card ${CARDS.visa} declined. Store #118.`,
    },
    {
      AccountId: '@maple',
      ContactId: '@c_tremblay',
      Subject: 'Loan document upload',
      Status: 'New',
      Origin: 'Web',
      '@ageDays': 15,
      Description: `Julie Tremblay uploaded documents for member 0045-8812; SIN ${sin('04645487')}; phone 416-555-0175.`,
    },
  ];
  return {
    orgs: [
      {
        key: DEMO.orgKey,
        name: 'Sovra Demo Industries',
        country: 'DE',
        instanceName: 'EU45',
        integrationUser: DEMO.integrationUser,
        users: [
          {
            username: DEMO.users.integration,
            firstName: 'Sovra',
            lastName: 'Integration',
            email: 'sovra-integration@sovra-demo.example.com',
            country: 'DE',
            permissionSets: ['SovraIntegration'],
          },
          {
            profile: 'System Administrator',
            username: DEMO.users.admin,
            firstName: 'Sabine',
            lastName: 'Keller',
            email: 'sabine.keller@sovra-demo.example.com',
            country: 'DE',
            timeZone: 'Europe/Berlin',
            permissionSets: ['SovraAdmin', 'SovraJurisdictionEU', 'SovraJurisdictionUS'],
          },
          {
            username: DEMO.users.auditor,
            firstName: 'Niamh',
            lastName: 'Byrne',
            email: 'niamh.byrne@sovra-demo.example.com',
            country: 'IE',
            permissionSets: ['SovraAuditor'],
          },
          {
            username: DEMO.users.euSales,
            firstName: 'Anna',
            lastName: 'Schmidt',
            email: 'anna.schmidt@sovra-demo.example.com',
            country: 'DE',
            timeZone: 'Europe/Berlin',
            permissionSets: ['SovraUser', 'SovraJurisdictionEU'],
          },
          {
            username: DEMO.users.euService,
            firstName: 'Pierre',
            lastName: 'Dubois',
            email: 'pierre.dubois@sovra-demo.example.com',
            country: 'FR',
            permissionSets: ['SovraUser', 'SovraJurisdictionEU'],
          },
          {
            username: DEMO.users.usSales,
            firstName: 'John',
            lastName: 'Miller',
            email: 'john.miller@sovra-demo.example.com',
            country: 'US',
            timeZone: 'America/New_York',
            permissionSets: ['SovraUser', 'SovraJurisdictionUS'],
          },
          {
            username: DEMO.users.euNoSovra,
            firstName: 'Lukas',
            lastName: 'Berg',
            email: 'lukas.berg@sovra-demo.example.com',
            country: 'DE',
          },
          {
            username: DEMO.users.usNoSovra,
            firstName: 'Emma',
            lastName: 'Wilson',
            email: 'emma.wilson@sovra-demo.example.com',
            country: 'US',
          },
          {
            username: DEMO.users.trainer,
            firstName: 'Data',
            lastName: 'Science',
            email: 'data.science@sovra-demo.example.com',
            country: 'DE',
            permissionSets: ['SovraTrainingExport', 'SovraJurisdictionEU'],
          },
        ],
        connectedApps: [{ name: 'Sovra Sidecar', clientId: DEMO.clientId, approvedUsers: [DEMO.users.integration, DEMO.users.admin] }],
        records: {
          Account: accounts,
          Contact: contacts,
          Lead: leads,
          Opportunity: opportunities,
          Case: cases,
          OpportunityLineItem: lineItems,
          CaseComment: caseComments,
          OpenActivity: openActivities,
        },
        fieldClassifications: {
          'Contact.Email': { securityClassification: 'Confidential', complianceGroup: 'GDPR;PII' },
          'Contact.Phone': { securityClassification: 'Confidential', complianceGroup: 'GDPR;PII' },
          'Contact.MobilePhone': { securityClassification: 'Confidential', complianceGroup: 'GDPR;PII' },
          'Contact.Birthdate': { securityClassification: 'Restricted', complianceGroup: 'GDPR;PII' },
          'Contact.Description': { securityClassification: 'Confidential', complianceGroup: 'GDPR' },
          'Contact.FirstName': { securityClassification: 'Internal', complianceGroup: 'PII' },
          'Contact.LastName': { securityClassification: 'Internal', complianceGroup: 'PII' },
          'Case.Description': { securityClassification: 'Confidential', complianceGroup: 'GDPR;PCI' },
          'Case.SuppliedEmail': { securityClassification: 'Confidential', complianceGroup: 'PII' },
          'Lead.Email': { securityClassification: 'Confidential', complianceGroup: 'GDPR;PII' },
          'Lead.Description': { securityClassification: 'Confidential', complianceGroup: 'GDPR' },
          'Account.Name': { securityClassification: 'Public', complianceGroup: null },
          'Account.Industry': { securityClassification: 'Public', complianceGroup: null },
          'Account.AnnualRevenue': { securityClassification: 'Internal', complianceGroup: null },
          'Opportunity.Amount': { securityClassification: 'Internal', complianceGroup: null },
        },
      },
      {
        key: DEMO.secondOrgKey,
        name: 'Northwind Health',
        namespace: 'sovra',
        country: 'US',
        instanceName: 'USA680',
        integrationUser: DEMO.secondIntegrationUser,
        users: [
          {
            username: DEMO.secondIntegrationUser,
            firstName: 'Sovra',
            lastName: 'Integration',
            email: 'sovra@northwind-health.example.com',
            country: 'US',
            permissionSets: ['SovraIntegration'],
          },
          {
            username: 'grace.lee@northwind-health.example.com',
            firstName: 'Grace',
            lastName: 'Lee',
            email: 'grace.lee@northwind-health.example.com',
            country: 'US',
            permissionSets: ['SovraUser', 'SovraJurisdictionUS'],
          },
        ],
        connectedApps: [{ name: 'Sovra Sidecar', clientId: DEMO.secondClientId }],
        records: {
          Account: [{ '@key': 'nw', Name: 'Northwind Clinic Seattle', BillingCountry: 'United States', BillingCity: 'Seattle' }],
          Contact: [
            {
              AccountId: '@nw',
              FirstName: 'Robert',
              LastName: 'King',
              Email: 'robert.king@northwind-clinic.example.com',
              MailingCountry: 'US',
              Description: 'Patient liaison; SSN 078-05-1121 must never leave the US.',
            },
          ],
        },
      },
    ],
  };
}
