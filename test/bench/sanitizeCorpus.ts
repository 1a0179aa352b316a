/**
 * A deterministic, realistic multilingual CRM corpus for the sanitize benchmark: EN/DE/FR
 * activity notes and case descriptions of contacts, with planted PII (every value valid by
 * its own rules: IBAN mod-97, Luhn, libphonenumber-valid phones, national-id check digits)
 * and planted decoy numbers (orders, amounts, dates, case and quote numbers) that must survive.
 */
import { composeIBAN } from 'ibantools';
import { parsePhoneNumberFromString } from 'libphonenumber-js/core';
import type { CountryCode, MetadataJson } from 'libphonenumber-js/core';
import phoneMetadata from 'libphonenumber-js/metadata.max.json';
import { DETECTOR_TYPES } from '../../service/src/sanitize/index.js';

const METADATA = phoneMetadata as unknown as MetadataJson;

/** What the corpus plants: every detector type, and person names (found only as known values). */
export const PII_TYPES = ['PERSON', ...DETECTOR_TYPES] as const;
export type PiiType = (typeof PII_TYPES)[number];

export interface Planted {
  type: PiiType;
  value: string;
}
export interface CorpusRecord {
  lang: 'en' | 'de' | 'fr';
  text: string;
  /** The contact's PII fields (known values for the sanitizer). */
  fields: { FirstName: string; LastName: string; Email: string; Phone: string };
  pii: Planted[];
  decoys: string[];
}

/** mulberry32: a tiny seeded PRNG so every run benchmarks the same corpus. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `piiShare`: the share of sentences that carry PII (the rest is business prose with decoy numbers). */
export function generateCorpus(count: number, seed = 42, piiShare = 0.35): CorpusRecord[] {
  const r = rng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const digits = (n: number): string => Array.from({ length: n }, () => String(int(0, 9))).join('');
  const letters = (n: number, set = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'): string => Array.from({ length: n }, () => pick([...set])).join('');
  const pad = (v: number, n: number): string => String(v).padStart(n, '0');

  const FIRST = {
    en: ['James', 'Olivia', 'Michael', 'Emma', 'David', 'Sophie', 'Daniel', 'Charlotte', 'Thomas', 'Grace', 'Liam', 'Hannah'],
    de: ['Jürgen', 'Anna', 'Lukas', 'Lena', 'Matthias', 'Katharina', 'Jörg', 'Sophie', 'Stefan', 'Julia', 'Björn', 'Maximilian'],
    fr: ['Chloé', 'Jérôme', 'Élodie', 'François', 'Amélie', 'Gaëtan', 'Hélène', 'Loïc', 'Camille', 'Benoît', 'Léa', 'Mathis'],
  };
  const LAST = {
    en: ['Smith', 'Johnson', 'Williams', 'Brown', 'Taylor', 'Wilson', 'Clarke', 'Hughes', 'Edwards', 'Turner', "O'Neill", 'Baker'],
    de: [
      'Müller',
      'Schmidt',
      'Weiß',
      'Schäfer',
      'Köhler',
      'Fischer',
      'Groß-Brauckmann',
      'Becker',
      'Hoffmann',
      'Schröder',
      'Krüger',
      'Wagner',
    ],
    fr: [
      'Lefèvre',
      'Dubois',
      'Girard',
      'Bonnet',
      'Mercier',
      'Lefebvre',
      'Fournier',
      'Rousseau',
      'Garnier',
      'Faure',
      'Chevalier',
      'Gauthier',
    ],
  };
  const DOMAINS = ['example.com', 'beispiel.de', 'exemple.fr', 'acme-industries.co.uk', 'müller-bau.de', 'societe-generale-test.fr'];
  const strip = (s: string): string =>
    s
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/ß/g, 'ss')
      .replace(/[^A-Za-z-]/g, '')
      .toLowerCase();

  const validPhone = (make: () => string, country: CountryCode): string => {
    for (;;) {
      const p = make();
      if (parsePhoneNumberFromString(p, country, METADATA)?.isValid()) return p;
    }
  };
  const phone = (lang: string): string => {
    const v = r();
    if (lang === 'de') {
      if (v < 0.3) return validPhone(() => `+49 ${pick(['30', '40', '89', '69', '221'])} ${digits(int(6, 8))}`, 'DE');
      if (v < 0.6) return validPhone(() => `0${pick(['30', '40', '89', '69', '221'])} ${digits(int(6, 8))}`, 'DE');
      if (v < 0.8) return validPhone(() => `0${pick(['151', '160', '170', '171', '176'])} ${digits(7)}`, 'DE');
      return validPhone(() => `0${pick(['30', '89'])}/${digits(3)} ${digits(2)}-${digits(2)}`, 'DE');
    }
    if (lang === 'fr') {
      const g = (): string => `${digits(2)} ${digits(2)} ${digits(2)} ${digits(2)}`;
      if (v < 0.4) return validPhone(() => `0${pick(['1', '6', '7', '4'])} ${g()}`, 'FR');
      if (v < 0.7) return validPhone(() => `+33 ${pick(['1', '6', '7'])} ${g()}`, 'FR');
      return validPhone(() => `0${pick(['1', '6'])}.${g().replace(/ /g, '.')}`, 'FR');
    }
    if (v < 0.3) return validPhone(() => `+44 20 7${digits(3)} ${digits(4)}`, 'GB');
    if (v < 0.5) return validPhone(() => `07${pick(['700', '911', '812'])} ${digits(6)}`, 'GB');
    if (v < 0.8) return validPhone(() => `(${pick(['212', '415', '312', '617'])}) ${int(2, 9)}${digits(2)}-${digits(4)}`, 'US');
    return validPhone(() => `+1 ${pick(['212', '415', '646'])} ${int(2, 9)}${digits(2)} ${digits(4)}`, 'US');
  };

  const luhnDigit = (body: string): string => {
    let sum = 0;
    for (let i = 0; i < body.length; i++) {
      let d = Number(body[body.length - 1 - i]);
      if (i % 2 === 0) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
    }
    return String((10 - (sum % 10)) % 10);
  };
  const card = (): string => {
    const kind = r();
    if (kind < 0.25) {
      const body = pick(['34', '37']) + digits(12);
      const n = body + luhnDigit(body);
      return pick([n, `${n.slice(0, 4)} ${n.slice(4, 10)} ${n.slice(10)}`]);
    }
    const body = (kind < 0.65 ? '4' + digits(14) : String(int(51, 55)) + digits(13)).slice(0, 15);
    const n = body + luhnDigit(body);
    const g = n.match(/.{4}/g) ?? [];
    return pick([n, g.join(' '), g.join('-')]);
  };
  const iban = (): string => {
    const c = pick(['DE', 'GB', 'NL', 'AT', 'CH']);
    const bban =
      c === 'DE'
        ? digits(18)
        : c === 'GB'
          ? letters(4) + digits(14)
          : c === 'NL'
            ? letters(4) + digits(10)
            : c === 'AT'
              ? digits(16)
              : digits(5) + digits(12);
    const i = composeIBAN({ countryCode: c, bban }) ?? '';
    return r() < 0.5 ? i : (i.match(/.{1,4}/g) ?? []).join(' ');
  };
  const ssn = (): string => {
    let area = int(1, 899);
    if (area === 666) area = 667;
    return `${pad(area, 3)}-${pad(int(1, 99), 2)}-${pad(int(1, 9999), 4)}`;
  };
  const nino = (): string => {
    const a = pick([...'ABCEGHJKLMNOPRSTWXYZ']);
    let b = pick([...'ABCEGHJKLMNPRSTWXYZ']);
    if (/^(?:BG|GB|KN|NK|NT|TN|ZZ)$/.test(a + b)) b = 'A';
    const d = digits(6);
    const sfx = pick([...'ABCD']);
    return r() < 0.5 ? `${a}${b}${d}${sfx}` : `${a}${b} ${d.slice(0, 2)} ${d.slice(2, 4)} ${d.slice(4)} ${sfx}`;
  };
  const nir = (): string => {
    const body = `${int(1, 2)}${digits(2)}${pad(int(1, 12), 2)}${pad(int(1, 95), 2)}${digits(3)}${digits(3)}`;
    let m = 0;
    for (const ch of body) m = (m * 10 + Number(ch)) % 97;
    const key = pad(97 - m, 2);
    const n = body + key;
    return r() < 0.5 ? n : `${n[0]} ${n.slice(1, 3)} ${n.slice(3, 5)} ${n.slice(5, 7)} ${n.slice(7, 10)} ${n.slice(10, 13)} ${n.slice(13)}`;
  };
  const DNI = 'TRWAGMYFPDXBNJZSQVHLCKE';
  const dni = (): string => {
    const n = digits(8);
    return `${n}${r() < 0.3 ? '-' : ''}${DNI[Number(n) % 23]}`;
  };
  const nie = (): string => {
    const p = int(0, 2);
    const n = digits(7);
    return `${'XYZ'[p]}${n}${DNI[Number(p + n) % 23]}`;
  };
  const CF_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];
  const cf = (): string => {
    const body = letters(6) + digits(2) + pick([...'ABCDEHLMPRST']) + pad(int(1, 71), 2) + pick([...'ABCDEFGHILMZ']) + digits(3);
    let sum = 0;
    for (let i = 0; i < 15; i++) {
      const c = body.charCodeAt(i);
      const v = c <= 57 ? c - 48 : c - 65;
      sum += i % 2 === 0 ? CF_ODD[v] : v;
    }
    return body + String.fromCharCode(65 + (sum % 26));
  };
  const bsn = (): string => {
    for (;;) {
      const d = String(int(1, 9)) + digits(8);
      let s = 0;
      for (let i = 0; i < 8; i++) s += Number(d[i]) * (9 - i);
      if ((s - Number(d[8])) % 11 === 0) return d;
    }
  };
  const steuerId = (): string => {
    for (;;) {
      // Ten digits with exactly one digit twice: a permutation of nine distinct digits plus one repeat.
      const pool = [...'0123456789'].sort(() => r() - 0.5).slice(0, 9);
      const ds = [...pool, pick(pool)].sort(() => r() - 0.5);
      if (ds[0] === '0') continue;
      let product = 10;
      for (const ch of ds) {
        let sum = (Number(ch) + product) % 10;
        if (sum === 0) sum = 10;
        product = (sum * 2) % 11;
      }
      const id = ds.join('') + String((11 - product) % 10);
      return r() < 0.5 ? id : `${id.slice(0, 2)} ${id.slice(2, 5)} ${id.slice(5, 8)} ${id.slice(8)}`;
    }
  };
  const ipv4 = (): string => `${int(10, 223)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`;
  const hex = (): string => int(1, 0xffff).toString(16);
  const ipv6 = (): string => (r() < 0.5 ? `2001:db8::${hex()}:${hex()}` : `fe80::${hex()}:${hex()}:${hex()}:${hex()}`);
  const secret = (): string => {
    const v = r();
    const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    if (v < 0.35) return `sk-proj-${letters(32, alnum)}`;
    if (v < 0.6) return `AKIA${letters(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`;
    return `${pick(['Sommer', 'Winter', 'Paris', 'Berlin', 'Welcome'])}${int(2019, 2026)}${pick(['#', '$', '%', ''])}`;
  };

  const decoy = (lang: string): string => {
    const v = int(0, 13);
    switch (v) {
      case 0:
        return `${pick(['Order', 'Bestellung', 'Commande'])} ${pick(['4500', '4700'])}${digits(6)}`;
      case 1:
        return lang === 'en' ? `$${int(1, 999)},${digits(3)}.${digits(2)}` : `${int(1, 999)}.${digits(3)},${digits(2)} €`;
      case 2:
        return `${pad(int(1, 28), 2)}.${pad(int(1, 12), 2)}.${int(2020, 2027)}`;
      case 3:
        return `${int(2020, 2027)}-${pad(int(1, 12), 2)}-${pad(int(1, 28), 2)}`;
      case 4:
        return `Case ${pad(int(1, 99999), 8)}`;
      case 5:
        return `Q-${pad(int(1, 99999), 8)}`;
      case 6:
        return `INV-${int(2020, 2027)}-${pad(int(1, 9999), 4)}`;
      case 7:
        return `${int(2, 5000)} ${pick(['units', 'Stück', 'licences', 'seats'])}`;
      case 8:
        return `${pad(int(7, 19), 2)}:${pick(['00', '15', '30', '45'])}`;
      case 9:
        return `${int(1, 60)}%`;
      case 10:
        return `${pad(int(1000, 99999), 5)} ${pick(['Berlin', 'München', 'Paris', 'Lyon'])}`;
      case 11:
        return `v${int(1, 12)}.${int(0, 20)}.${int(0, 9)}`;
      case 12:
        return `SKU ${letters(3)}-${digits(5)}`;
      default:
        return `Ticket #${digits(6)}`;
    }
  };

  const TEMPLATES: Record<'en' | 'de' | 'fr', string[]> = {
    en: [
      'Spoke with {first} {last} on {decoy} about the renewal ({decoy}). Best reached on {phone} or {email}. ',
      '{LAST} asked us to change the payout account to {iban} before {decoy}; please confirm with {first}. ',
      'Customer paid with card {card} for {decoy}, receipt {decoy}. Call back on {phone}. ',
      'HR form: SSN {ssn}, NI number {nino}. {first} needs the benefits pack by {decoy}. ',
      'Server {ipv4} and {ipv6} throw errors since {decoy}; {first} shared the key {secret} in the ticket (please rotate!). ',
      'Travel desk copied passport data of {first} {last}: DNI {dni}, NIE {nie}, codice fiscale {cf}. Booking {decoy}. ',
      'Dutch subsidiary: BSN {bsn} for payroll, contact {email}. Quote {decoy} expires {decoy}. ',
      'Mr. {last} said the password is {secret} and asked for a call at {phone}. Amount {decoy}. ',
      'German payroll: Steuer-ID {steuerid}, French social security {nir}. Meeting {decoy} at {decoy}. ',
    ],
    de: [
      'Telefonat mit {first} {last} am {decoy} zur Verlängerung ({decoy}). Erreichbar unter {phone} oder {email}. ',
      'Herr {last} bittet um Änderung der Bankverbindung auf IBAN {iban} bis {decoy}. Rückfrage bei {first}. ',
      'Kunde zahlte mit Karte {card}, Rechnung {decoy}, Betrag {decoy}. Rückruf unter {phone}. ',
      'Steuer-ID {steuerid} für die Lohnabrechnung von {first} {last} nachgereicht. Liefertermin {decoy}. ',
      'Server {ipv4} meldet seit {decoy} Fehler, IPv6 {ipv6}. Zugang: Passwort: {secret} (bitte ändern). ',
      'Frau {LAST} schickte ihre Sozialversicherungsdaten: SSN {ssn}, NIR {nir}. Angebot {decoy} gültig bis {decoy}. ',
      'Niederländische Tochter: BSN {bsn}, spanischer Kollege DNI {dni}, NIE {nie}, italienischer CF {cf}. Menge {decoy}. ',
      'Mail von {email}: API-Key {secret} wurde versehentlich geteilt. Ticket {decoy}, NI {nino}. ',
    ],
    fr: [
      'Échange avec {first} {last} le {decoy} au sujet du renouvellement ({decoy}). Joignable au {phone} ou {email}. ',
      'M. {last} demande de modifier le RIB : IBAN {iban} avant le {decoy}. Voir avec {first}. ',
      'Paiement par carte {card}, facture {decoy} de {decoy}. Rappeler au {phone}. ',
      'Numéro de sécurité sociale {nir} transmis par {first} {last} pour le dossier {decoy}. ',
      'Le serveur {ipv4} ({ipv6}) est en panne depuis {decoy}. Mot de passe : {secret} à changer. ',
      'Mme {LAST} : DNI {dni}, NIE {nie}, codice fiscale {cf}, BSN {bsn}. Devis {decoy} valable jusqu’au {decoy}. ',
      'Contact {email} : Steuer-ID {steuerid}, SSN {ssn}, NINO {nino}. Quantité {decoy}. ',
    ],
  };

  // Most of a real note is plain business prose, with numbers that are not personal data.
  const FILLER: Record<'en' | 'de' | 'fr', string[]> = {
    en: [
      'The customer is evaluating the premium tier for their EMEA sales team and wants a revised proposal.',
      'Procurement needs the signed DPA and the security questionnaire before the budget meeting on {decoy}.',
      'Discussed the rollout plan: pilot with {decoy} in the first quarter, then the remaining regions.',
      'They reported slow dashboard loading since the last release; engineering is investigating, see {decoy}.',
      'Next step: send the updated quote and schedule a technical deep dive with their architects.',
      'Renewal risk is medium because a competitor offered a discount of {decoy} on a three-year term.',
      'Shipment of {decoy} was delayed by customs; the new delivery date is {decoy}.',
      'Contract value for the next term is estimated at {decoy}, payment terms net 30.',
    ],
    de: [
      'Der Kunde prüft das Premium-Paket für den Vertrieb in der DACH-Region und wünscht ein überarbeitetes Angebot.',
      'Der Einkauf benötigt den unterschriebenen AV-Vertrag vor der Budgetrunde am {decoy}.',
      'Besprochen wurde der Rollout: Pilot mit {decoy} im ersten Quartal, danach die übrigen Standorte.',
      'Seit dem letzten Update lädt das Dashboard langsam; die Technik prüft das unter {decoy}.',
      'Nächster Schritt: aktualisiertes Angebot senden und einen Termin mit der IT-Architektur vereinbaren.',
      'Die Lieferung von {decoy} verzögert sich wegen des Zolls; neuer Liefertermin ist der {decoy}.',
      'Das Auftragsvolumen für die nächste Laufzeit liegt bei etwa {decoy}, Zahlungsziel 30 Tage netto.',
    ],
    fr: [
      'Le client étudie l’offre premium pour son équipe commerciale en France et souhaite une proposition révisée.',
      'Les achats demandent le DPA signé avant la réunion budgétaire du {decoy}.',
      'Plan de déploiement discuté : pilote avec {decoy} au premier trimestre, puis les autres sites.',
      'Le tableau de bord est lent depuis la dernière mise à jour ; l’équipe technique analyse le ticket {decoy}.',
      'Prochaine étape : envoyer le devis mis à jour et planifier un atelier technique avec leurs architectes.',
      'La livraison de {decoy} est retardée par la douane ; nouvelle date prévue le {decoy}.',
      'Le montant du contrat pour la prochaine période est estimé à {decoy}, paiement à 30 jours.',
    ],
  };

  const out: CorpusRecord[] = [];
  for (let i = 0; i < count; i++) {
    const lang = pick(['en', 'de', 'fr'] as const);
    const first = pick(FIRST[lang]);
    const last = pick(LAST[lang]);
    const email = `${strip(first)}.${strip(last)}@${pick(DOMAINS)}`;
    const contactPhone = phone(lang);
    const pii: Planted[] = [];
    const decoys: string[] = [];
    const gens: Record<string, () => [PiiType, string]> = {
      first: () => ['PERSON', first],
      last: () => ['PERSON', last],
      LAST: () => ['PERSON', last.toUpperCase()],
      email: () => ['EMAIL', r() < 0.6 ? email : `${strip(pick(FIRST.en))}@${pick(DOMAINS)}`],
      phone: () => ['PHONE', r() < 0.5 ? contactPhone : phone(lang)],
      iban: () => ['IBAN', iban()],
      card: () => ['CARD', card()],
      ssn: () => ['SSN', ssn()],
      nino: () => ['NINO', nino()],
      nir: () => ['NIR', nir()],
      dni: () => ['DNI', dni()],
      nie: () => ['NIE', nie()],
      cf: () => ['CODICEFISCALE', cf()],
      bsn: () => ['BSN', bsn()],
      steuerid: () => ['STEUERID', steuerId()],
      ipv4: () => ['IP', ipv4()],
      ipv6: () => ['IP', ipv6()],
      secret: () => ['SECRET', secret()],
    };
    let text = '';
    const sentences = int(3, 7);
    for (let k = 0; k < sentences; k++) {
      text += pick(r() < piiShare ? TEMPLATES[lang] : FILLER[lang].map((f) => f + ' ')).replace(/\{(\w+)\}/g, (_, slot: string) => {
        if (slot === 'decoy') {
          const d = decoy(lang);
          decoys.push(d);
          return d;
        }
        const [type, value] = gens[slot]();
        pii.push({ type, value });
        return value;
      });
    }
    out.push({ lang, text: text.trim(), fields: { FirstName: first, LastName: last, Email: email, Phone: contactPhone }, pii, decoys });
  }
  return out;
}

/** Whether a planted value is gone from an output text (verbatim and, for spaced values, compacted). */
export function removed(output: string, value: string): boolean {
  if (output.includes(value)) return false;
  const compact = value.replace(/[\s.-]/g, '');
  return compact.length < 6 || compact === value || !output.replace(/[\s.-]/g, '').includes(compact);
}

export interface Score {
  perType: Record<PiiType, { planted: number; removed: number }>;
  decoys: { planted: number; intact: number };
}

export function score(records: readonly CorpusRecord[], outputs: readonly string[]): Score {
  const perType = Object.fromEntries(PII_TYPES.map((t) => [t, { planted: 0, removed: 0 }])) as Score['perType'];
  const decoys = { planted: 0, intact: 0 };
  records.forEach((rec, i) => {
    const out = outputs[i];
    for (const p of rec.pii) {
      perType[p.type].planted++;
      if (removed(out, p.value)) perType[p.type].removed++;
    }
    for (const d of rec.decoys) {
      decoys.planted++;
      if (out.includes(d)) decoys.intact++;
    }
  });
  return { perType, decoys };
}
