import { describe, expect, it } from '@jest/globals';
import {
  isBsn,
  isCodiceFiscale,
  isDni,
  isIban,
  isIpv4,
  isIpv6,
  isNie,
  isNino,
  isNir,
  isPaymentCard,
  isSsn,
  isSteuerId,
  luhn,
} from './checks.js';

// Published examples: NIR from Wikipedia (fr), Steuer-ID from python-stdnum's de.idnr, codice fiscale
// "Mario Rossi" (Agenzia delle Entrate example), IBANs from the ECBS/SWIFT registry examples.
const cases: Array<[string, (s: string) => boolean, string[], string[]]> = [
  ['Luhn', luhn, ['79927398713', '4111111111111111'], ['79927398710', '4111111111111112']],
  [
    'payment card',
    isPaymentCard,
    [
      '4111111111111111',
      '378282246310005',
      '5555555555554444',
      '2223003122003222',
      '6011111111111117',
      '3530111333300000',
      '4222222222222',
    ],
    ['4111111111111112', '1234567812345670', '5555555555554440', '378282246310006', '411111111111'],
  ],
  ['US SSN', isSsn, ['123456789', '078051120', '899999999'], ['000123456', '666123456', '912345678', '123001234', '123450000', '12345678']],
  [
    'UK NINO',
    isNino,
    ['AB123456C', 'CE123456D', 'JG103759A'],
    ['BG123456C', 'DA123456C', 'AO123456A', 'AB123456E', 'AB12345C', 'NK123456A'],
  ],
  [
    'FR NIR',
    isNir,
    ['255081416802538', '184127645108946', '185052A12345633'],
    ['255081416802539', '355081416802538', '255131416802538', '185052A12345634'],
  ],
  ['ES DNI', isDni, ['12345678Z', '00000000T'], ['12345678A', '1234567Z', '12345678']],
  ['ES NIE', isNie, ['X1234567L', 'Y0000000Z', 'Z0000000M'], ['X1234567A', 'A1234567L']],
  [
    'IT codice fiscale',
    isCodiceFiscale,
    ['RSSMRA85T10A562S', 'RSSMRA85T10A56NH'],
    ['RSSMRA85T10A562T', 'RSSMRA85Z10A562S', 'RSSMRA85T10A562'],
  ],
  ['NL BSN', isBsn, ['111222333', '123456782'], ['111222334', '123456789', '000000000', '12345678']],
  ['DE Steuer-ID', isSteuerId, ['36574261809', '86095742719'], ['36574261890', '06574261809', '11111111111', '12345678901']],
  [
    'IBAN',
    isIban,
    ['DE89370400440532013000', 'GB82WEST12345698765432', 'FR1420041010050500013M02606'],
    ['DE89370400440532013001', 'GB82WEST1234569876543', 'XX89370400440532013000'],
  ],
  ['IPv4', isIpv4, ['192.168.1.10', '8.8.8.8', '255.255.255.255'], ['256.1.1.1', '01.2.3.4', '1.2.3', '12.03.2024']],
  ['IPv6', isIpv6, ['2001:db8::8a2e:370:7334', '::1', 'fe80::1', '::ffff:192.168.1.1'], ['12:30:45', '2001:db8::g', '1:2:3']],
];

describe('checksums and structure rules', () => {
  for (const [name, fn, valid, invalid] of cases) {
    it(`${name}: accepts valid and rejects invalid check digits`, () => {
      for (const v of valid) expect([v, fn(v)]).toEqual([v, true]);
      for (const v of invalid) expect([v, fn(v)]).toEqual([v, false]);
    });
  }
});
