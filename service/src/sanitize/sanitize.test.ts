import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createSanitizer, detokenize, DROPPED, entityTypeForField, InMemoryTokenVault } from './index.js';
import type { EntityType, KnownValue } from './index.js';

const sanitizer = createSanitizer({ countries: ['DE', 'FR', 'GB', 'US', 'ES', 'IT', 'NL'] });
const found = (text: string, known: KnownValue[] = []): Array<[EntityType, string]> =>
  sanitizer
    .session(known)
    .sanitize(text)
    .entities.map((e) => [e.type, text.slice(e.start, e.end)]);

describe('detectors in free text', () => {
  const positives: Array<[EntityType, string, string]> = [
    ['EMAIL', 'Mail anna.mueller+crm@beispiel-firma.de today.', 'anna.mueller+crm@beispiel-firma.de'],
    ['EMAIL', 'écrire à jérôme.dupont@société.fr.', 'jérôme.dupont@société.fr'],
    ['PHONE', 'Call +49 30 901820 tomorrow', '+49 30 901820'],
    ['PHONE', 'Mobil 0171 2345678.', '0171 2345678'],
    ['PHONE', 'Tél. 06 12 34 56 78', '06 12 34 56 78'],
    ['PHONE', 'UK office 020 7946 0958', '020 7946 0958'],
    ['PHONE', 'US desk (212) 555-0142 ext', '(212) 555-0142'],
    ['PHONE', 'intl 0044 20 7946 0958', '0044 20 7946 0958'],
    ['PHONE', 'Zentrale +49 (0)30 901820-0', '+49 (0)30 901820-0'],
    ['IBAN', 'IBAN DE89 3704 0044 0532 0130 00 bitte', 'DE89 3704 0044 0532 0130 00'],
    ['IBAN', 'compte FR1420041010050500013M02606.', 'FR1420041010050500013M02606'],
    ['IBAN', 'payout to GB82 WEST 1234 5698 7654 32 please', 'GB82 WEST 1234 5698 7654 32'],
    ['CARD', 'card 4111-1111-1111-1111 exp 12/27', '4111-1111-1111-1111'],
    ['CARD', 'Amex 3782 822463 10005', '3782 822463 10005'],
    ['SSN', 'SSN 123-45-6789 on file', '123-45-6789'],
    ['SSN', 'social security number: 123456789', '123456789'],
    ['NINO', 'NI number AB 12 34 56 C', 'AB 12 34 56 C'],
    ['NINO', 'NINO: JG103759A', 'JG103759A'],
    ['NIR', 'n° sécu 2 55 08 14 168 025 38', '2 55 08 14 168 025 38'],
    ['DNI', 'DNI 12345678-Z', '12345678-Z'],
    ['NIE', 'NIE X1234567L', 'X1234567L'],
    ['CODICEFISCALE', 'CF RSSMRA85T10A562S.', 'RSSMRA85T10A562S'],
    ['BSN', 'BSN 1112.22.333', '1112.22.333'],
    ['STEUERID', 'Steuer-ID 36 574 261 809', '36 574 261 809'],
    ['IP', 'from 192.168.1.10:8080', '192.168.1.10'],
    ['IP', 'host 2001:db8::8a2e:370:7334 down', '2001:db8::8a2e:370:7334'],
    ['SECRET', 'use sk-proj-AbCdEf0123456789xyzXYZ00 now', 'sk-proj-AbCdEf0123456789xyzXYZ00'],
    ['SECRET', 'aws AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
    ['SECRET', 'Passwort: Sommer2024! merken', 'Sommer2024'],
    ['SECRET', 'the password is hunter2', 'hunter2'],
    ['SECRET', 'mot de passe = azerty', 'azerty'],
    ['SECRET', 'API-Key Berlin2023$ wurde geteilt', 'Berlin2023$'],
    ['SECRET', 'PIN 4711 for the door', '4711'],
    ['SECRET', 'API-Key sk-proj-aKoePZgshoZDRpMajBrkjtjteEjPapoD leaked', 'sk-proj-aKoePZgshoZDRpMajBrkjtjteEjPapoD'],
    ['SECRET', 'shared the key AKIAQNTYMABPCBIPOOXH today', 'AKIAQNTYMABPCBIPOOXH'],
  ];
  for (const [type, text, value] of positives) {
    it(`finds ${type} in "${text}"`, () => {
      expect(found(text)).toContainEqual([type, value]);
    });
  }

  const negatives: Array<[string, string]> = [
    ['invalid IBAN check digits', 'IBAN DE88 3704 0044 0532 0130 00'],
    ['non-Luhn card', 'card 4111 1111 1111 1112'],
    ['SSN with area 666', 'SSN 666-12-3456'],
    ['undashed 9 digits without context', 'shipment 123456789 left'],
    ['NINO with bad prefix', 'NI BG 12 34 56 C'],
    ['NIR with wrong key', 'sécu 2 55 08 14 168 025 39'],
    ['DNI with wrong letter', 'DNI 12345678A'],
    ['NIE with wrong letter', 'NIE X1234567A'],
    ['codice fiscale with wrong check', 'CF RSSMRA85T10A562T'],
    ['BSN failing 11-proof', 'BSN 111222334'],
    ['Steuer-ID with wrong check', 'IdNr 36574261890'],
    ['an order number', 'Order 4500123456 confirmed'],
    ['a date', 'Termin am 12.03.2024 um 14:30'],
    ['an ISO date', 'due 2024-03-12'],
    ['an amount', 'Volume €1.250.000,00 or $12,500.00'],
    ['a case number', 'Case 00001234 escalated'],
    ['a quote number', 'Quote Q-00012345 and INV-2024-0042'],
    ['a version', 'upgraded to version 10.2.3.4'],
    ['a time', 'at 12:30:45 sharp'],
    ['a postal code', '10115 Berlin'],
    ['prose about passwords', 'the password is required for login'],
    ['an invalid phone', 'call 030 1'],
    ['a date in brackets', 'renewal (05.10.2022). Next'],
    ['a key word without a credential', 'the key account team meets in 2024'],
  ];
  for (const [what, text] of negatives) {
    it(`leaves ${what} alone`, () => {
      expect(found(text)).toEqual([]);
    });
  }
});

describe('number runs at the edges of a text', () => {
  // The scanner jumps from digit to digit: runs at offset 0, at the very end, between surrogate
  // pairs and after a short run must all be found, and nothing more.
  const cases: Array<[string, Array<[EntityType, string]>]> = [
    ['4111111111111111', [['CARD', '4111111111111111']]],
    ['DE89370400440532013000 ok', [['IBAN', 'DE89370400440532013000']]],
    ['ruf an: +49 30 901820', [['PHONE', '+49 30 901820']]],
    ['😀+49 30 901820😀 7 8 9', [['PHONE', '+49 30 901820']]],
    ['1 2 3 12 2024 Tel. 0171 2345678', [['PHONE', '0171 2345678']]],
    ['9', []],
    ['', []],
  ];
  for (const [text, expected] of cases) {
    it(`finds ${JSON.stringify(expected)} in ${JSON.stringify(text)}`, () => {
      expect(found(text)).toEqual(expected);
    });
  }
});

describe('overlapping secrets', () => {
  // Pinned for any single-pass scanner: each secret pattern resumes on its own, so a keyword
  // value that starts a private key or a vendor key never hides the rest of it.
  const pem = [
    '-----BEGIN RSA PRIVATE KEY-----',
    'MIIEowIBAAKCAQEA7Vq3x9Qx2b4Zr',
    'k8Lw0p1sT5uYfGh2JqRz',
    '-----END RSA PRIVATE KEY-----',
  ].join('\n');
  const sanitizeText = (text: string): string => sanitizer.session().sanitize(text).text;

  it('removes a whole private key written after key=', () => {
    const out = sanitizeText(`config key=${pem} done`);
    expect(out).not.toContain('MIIEowIBAAKCAQEA');
    expect(out).not.toContain('BEGIN');
    expect(out).not.toContain('END RSA');
    expect(out.endsWith(' done')).toBe(true);
  });

  it('removes a vendor key after a keyword and a keyword value after a vendor key', () => {
    const key = 'sk-proj-AbCdEf0123456789xyzXYZ00';
    const out = sanitizeText(`token=${key} and AKIAIOSFODNN7EXAMPLE password: Winter2024! end`);
    for (const v of [key, 'AKIAIOSFODNN7EXAMPLE', 'Winter2024']) expect(out).not.toContain(v);
    expect(out.endsWith(' end')).toBe(true);
  });

  it('keeps scanning for keywords after a word that is no credential, and for keys inside number runs', () => {
    expect(found('key password: x1y2z3 ok')).toEqual([['SECRET', 'x1y2z3']]);
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    expect(sanitizeText(`ref 12/${jwt} x`)).not.toContain('eyJ');
  });
});

describe('known values', () => {
  it('finds every one of many values, and a value given twice is dropped if either says drop', () => {
    const surnames =
      'Becker Schulz Hoffmann Koch Richter Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner Krause Meier Lehmann'.split(
        ' ',
      );
    const known: KnownValue[] = surnames.map((value) => ({ value, type: 'PERSON' }));
    // The first name again, now restricted: past the 16th value, so the look-up has switched to a map.
    known.push({ value: 'becker', type: 'PERSON', handling: 'drop' });
    const text = surnames.map((n) => n.toUpperCase()).join(', ');
    const { entities } = sanitizer.session(known).sanitize(text);
    expect(entities.map((e) => text.slice(e.start, e.end))).toEqual(surnames.map((n) => n.toUpperCase()));
    expect(entities[0].token).toBe(DROPPED);
    expect(entities.slice(1).every((e) => e.token.startsWith('⟦PERSON_'))).toBe(true);
  });

  it('finds values and name parts case- and diacritics-insensitively, on word boundaries', () => {
    const known: KnownValue[] = [
      { value: 'Jürgen Weiß-Müller', type: 'PERSON' },
      { value: 'ACME Holding GmbH', type: 'ORG' },
    ];
    const text = 'JURGEN called; Weiss-Muller? no, weiß-müller and Müller, acme holding gmbh. Müllerstraße and Jürgens stay.';
    const r = found(text, known).map(([t, v]) => `${t}:${v}`);
    expect(r).toEqual(['PERSON:JURGEN', 'PERSON:Weiss-Muller', 'PERSON:weiß-müller', 'PERSON:Müller', 'ORG:acme holding gmbh']);
  });

  it('drops restricted values instead of tokenizing them, and keeps them out of the map', () => {
    const s = sanitizer.session([{ value: 'Projekt Falke', handling: 'drop' }]);
    const r = s.sanitize('Status of projekt falke: green.');
    expect(r.text).toBe(`Status of ${DROPPED}: green.`);
    expect(Object.values(s.tokenMap())).not.toContain('projekt falke');
    expect(detokenize(r.text, s.tokenMap())).toBe(r.text);
  });

  it('sanitizes fields by handling and then finds their values in free text', () => {
    const s = sanitizer.session();
    expect(s.sanitizeField('Lena Schmidt', 'tokenize', 'PERSON')).toBe('⟦PERSON_1⟧');
    expect(s.sanitizeField('Diagnose X', 'drop')).toBeUndefined();
    expect(s.sanitizeField('Call 0171 2345678', 'allow')).toBe('Call ⟦PHONE_1⟧');
    expect(s.sanitize('Lena Schmidt: Diagnose X').text).toBe(`⟦PERSON_1⟧: ${DROPPED}`);
  });

  it('maps field names to token types', () => {
    expect(entityTypeForField('Email')).toBe('EMAIL');
    expect(entityTypeForField('MobilePhone')).toBe('PHONE');
    expect(entityTypeForField('LastName')).toBe('PERSON');
    expect(entityTypeForField('MailingStreet')).toBe('ADDRESS');
    expect(entityTypeForField('AccountName')).toBe('ORG');
    expect(entityTypeForField('Amount')).toBe('VALUE');
    // The data type decides too, and a name memoised under one data type does not answer for another.
    expect(entityTypeForField('Contact__c', 'email')).toBe('EMAIL');
    expect(entityTypeForField('Contact__c', 'phone')).toBe('PHONE');
    expect(entityTypeForField('Contact__c')).toBe('VALUE');
    expect(entityTypeForField('Contact__c', null)).toBe('VALUE');
    expect(entityTypeForField('Contact__c', 'email')).toBe('EMAIL');
    for (let i = 0; i < 3000; i++) expect(entityTypeForField(`F${i}__c`, i % 2 ? 'phone' : undefined)).toBe(i % 2 ? 'PHONE' : 'VALUE');
  });
});

describe('tokens', () => {
  it('gives one value one token throughout a session, typed and numbered per type', () => {
    const s = sanitizer.session();
    const a = s.sanitize('a@b.de, c@d.de and a@b.de; +49 30 901820').text;
    const b = s.sanitize('again c@d.de').text;
    expect(a).toBe('⟦EMAIL_1⟧, ⟦EMAIL_2⟧ and ⟦EMAIL_1⟧; ⟦PHONE_1⟧');
    expect(b).toBe('again ⟦EMAIL_2⟧');
    expect(s.tokenMap()).toEqual({ EMAIL_1: 'a@b.de', EMAIL_2: 'c@d.de', PHONE_1: '+49 30 901820' });
  });

  it('never allocates an id that already appears in the input', () => {
    const s = sanitizer.session();
    const input = 'note EMAIL_1 and [EMAIL_2] then x@y.de';
    const r = s.sanitize(input);
    expect(r.text).toBe('note EMAIL_1 and [EMAIL_2] then ⟦EMAIL_3⟧');
    expect(detokenize(r.text, s.tokenMap())).toBe(input);
  });

  it('uses the injected keyed HMAC for tenant-wide deterministic ids', () => {
    const key = (k: string) => (d: string) => createHmac('sha256', k).update(d).digest('hex');
    const s1 = createSanitizer({ hmac: key('tenant-a') }).session();
    const s2 = createSanitizer({ hmac: key('tenant-a') }).session();
    const s3 = createSanitizer({ hmac: key('tenant-b') }).session();
    const t1 = s1.sanitize('mail a@b.de').text;
    expect(t1).toMatch(/^mail ⟦EMAIL_[0-9A-F]{10}⟧$/);
    expect(s2.sanitize('mail a@b.de').text).toBe(t1);
    expect(s3.sanitize('mail a@b.de').text).not.toBe(t1);
    expect(() =>
      createSanitizer({ hmac: () => 'x' })
        .session()
        .sanitize('a@b.de'),
    ).toThrow(/too short/);
  });

  it('rejects unknown countries and detectors', () => {
    expect(() => createSanitizer({ countries: ['XX'] })).toThrow(/country/);
    expect(() => createSanitizer({ detectors: ['FOO' as 'EMAIL'] })).toThrow(/detector/);
  });

  it('runs only the enabled detectors', () => {
    const s = createSanitizer({ detectors: ['EMAIL'] }).session();
    expect(s.sanitize('a@b.de +49 30 901820').text).toBe('⟦EMAIL_1⟧ +49 30 901820');
  });
});

describe('JSON', () => {
  it('sanitizes strings inside JSON values and tool-call argument texts, keeping JSON valid', () => {
    const s = sanitizer.session([{ value: 'O"Brien', type: 'PERSON' }]);
    const msgs = [{ role: 'user', content: 'mail a@b.de about O"Brien', n: 3, tags: ['x@y.de', null] }];
    const out = s.sanitizeJson(msgs) as typeof msgs;
    expect(out).toEqual([{ role: 'user', content: 'mail ⟦EMAIL_1⟧ about ⟦PERSON_1⟧', n: 3, tags: ['⟦EMAIL_2⟧', null] }]);
    const args = JSON.stringify({ to: 'a@b.de', name: 'O"Brien' });
    const sanitizedArgs = s.sanitizeJsonText(args);
    expect(JSON.parse(sanitizedArgs)).toEqual({ to: '⟦EMAIL_1⟧', name: '⟦PERSON_1⟧' });
    expect(s.sanitizeJsonText('{"to": "a@b.de", "na')).toBe('{"to": "⟦EMAIL_1⟧", "na');
  });
});

describe('token vault', () => {
  it('scopes maps by tenant, jurisdiction and request and expires them', async () => {
    let t = 0;
    const v = new InMemoryTokenVault(() => t);
    const scope = { tenant: '00D1', jurisdiction: 'EU', requestId: 'r1' };
    await v.put(scope, { EMAIL_1: 'a@b.de' }, 60);
    expect(await v.get(scope)).toEqual({ EMAIL_1: 'a@b.de' });
    expect(await v.get({ ...scope, tenant: '00D2' })).toBeUndefined();
    expect(await v.get({ ...scope, jurisdiction: 'US' })).toBeUndefined();
    expect(await v.get({ ...scope, requestId: 'r2' })).toBeUndefined();
    t = 61_000;
    expect(await v.get(scope)).toBeUndefined();
    await expect(v.put(scope, {}, 0)).rejects.toThrow(/TTL/);
    await expect(v.get({ ...scope, tenant: '' })).rejects.toThrow(/tenant/);
    await v.put(scope, { A_1: 'x' }, 10);
    await v.delete(scope);
    expect(await v.get(scope)).toBeUndefined();
  });
});

// ------------------------------------------------------------------------------------------
// Properties

// Not a secret keyword (or its last word): `key: €12,500.00` is a credential by the keyword rule, not a decoy in prose.
const word = fc
  .stringMatching(/^[A-Za-zÄÖÜäöüéèàç]{1,10}$/)
  .filter((w) => !/^(?:password|passwort|kennwort|passwd|pwd|passe|mdp|passcode|pin|key|apikey|secret|token|clé)$/i.test(w));
const filler = fc.array(fc.oneof(word, fc.constantFrom(' ', ', ', '. ', '\n', ' - ', ': ')), { maxLength: 12 }).map((xs) => xs.join(''));
const piis: Array<fc.Arbitrary<string>> = [
  fc.constantFrom('anna.mueller@example.de', 'j.dupont@societe.fr', 'bob@example.com'),
  fc.constantFrom('+49 30 901820', '0171 2345678', '06 12 34 56 78', '+44 20 7946 0958'),
  fc.constantFrom('DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432', 'FR1420041010050500013M02606'),
  fc.constantFrom('4111 1111 1111 1111', '5555-5555-5555-4444', '378282246310005'),
  fc.constantFrom('123-45-6789', 'AB 12 34 56 C', '2 55 08 14 168 025 38', '12345678Z', 'X1234567L', 'RSSMRA85T10A562S', '36574261809'),
  fc.constantFrom('192.168.1.10', '2001:db8::8a2e:370:7334', 'AKIAIOSFODNN7EXAMPLE'),
];
const decoys = fc.constantFrom(
  'Order 4500123456',
  'Case 00001234',
  'am 12.03.2024',
  '2024-03-12',
  '€12,500.00',
  'Quote Q-00012345',
  'qty 250',
  '14:30',
  'INV-2024-0042',
  '1.000.000',
);
const names = fc.constantFrom('Jürgen Weiß', 'Anna Müller', 'Chloé Lefèvre', 'Tom Baker');

describe('properties', () => {
  it('no detected or known value survives, decoys are never altered, detokenize(sanitize(x)) === x', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(filler, fc.oneof(...piis), decoys), { minLength: 1, maxLength: 5 }),
        names,
        filler,
        (parts, name, tail) => {
          const text = parts.map(([f, p, d]) => `${f} ${p} ${d} `).join('') + `${name.toUpperCase()} ${tail}`;
          const s = sanitizer.session([{ value: name, type: 'PERSON' }]);
          const r = s.sanitize(text);
          for (const [, p, d] of parts) {
            expect(r.text).not.toContain(p);
            expect(r.text).toContain(d);
          }
          for (const part of name.split(' ')) expect(r.text.toLowerCase()).not.toContain(part.toLowerCase());
          expect(detokenize(r.text, s.tokenMap())).toBe(text);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('detokenize(sanitize(x)) === x for arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ maxLength: 40 }), (x, extra) => {
        const text = `${x} a@b.de ${extra} +49 30 901820`;
        const s = sanitizer.session([{ value: 'Müller', type: 'PERSON' }]);
        expect(detokenize(s.sanitize(text).text, s.tokenMap())).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves texts of decoy numbers untouched', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(filler, decoys), { maxLength: 8 }), (parts) => {
        const text = parts.map(([f, d]) => `${f} ${d}`).join(' ');
        expect(sanitizer.session().sanitize(text).text).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
