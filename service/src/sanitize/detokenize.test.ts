import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createDetokenizeStream, createSanitizer, detokenize, detokenizeJson } from './index.js';
import type { TokenMap } from './index.js';

const map: TokenMap = {
  PERSON_1: 'Anna Müller',
  EMAIL_1: 'a@b.de',
  IBAN_12: 'DE89 3704 0044 0532 0130 00',
  PERSON_7K2Q9X4M1B: 'Jo "J" Doe',
};

describe('detokenize', () => {
  it('restores exact tokens', () => {
    expect(detokenize('Hi ⟦PERSON_1⟧, mail ⟦EMAIL_1⟧.', map)).toBe('Hi Anna Müller, mail a@b.de.');
  });

  it('restores tokens the model altered slightly', () => {
    const forms = [
      '⟦person_1⟧',
      '⟦ PERSON_1 ⟧',
      '⟦PERSON 1⟧',
      '⟦PERSON-1⟧',
      '[[PERSON_1]]',
      '[[ PERSON_1 ]]',
      '{{PERSON_1}}',
      '<<PERSON_1>>',
      '[PERSON_1]',
      '<PERSON_1>',
      '(PERSON_1)',
      'PERSON_1',
      'Person_1',
      '⟦PERSON_1',
      'PERSON_1⟧',
      '【PERSON_1】',
    ];
    for (const f of forms) expect([f, detokenize(`Dear ${f}, thanks`, map)]).toEqual([f, 'Dear Anna Müller, thanks']);
  });

  it('keeps unpaired weak brackets that belong to the sentence', () => {
    expect(detokenize('(see PERSON_1)', map)).toBe('(see Anna Müller)');
    expect(detokenize('[PERSON_1 and EMAIL_1]', map)).toBe('[Anna Müller and a@b.de]');
  });

  it('never restores tokens that are not in this map, nor near-misses of real ones', () => {
    const text = '⟦PERSON_2⟧ ⟦EMAIL_9⟧ PERSON_12 XPERSON_1 PERSON_1x PERSON 1 ⟦REDACTED⟧ ⟦FOO_1⟧ person_1st';
    expect(detokenize(text, map)).toBe(text);
    // Another request's map with the same ids restores nothing of this one.
    expect(detokenize('⟦PERSON_1⟧', { PERSON_1: 'Other Person' })).toBe('Other Person');
    expect(detokenize('⟦PERSON_1⟧', {})).toBe('⟦PERSON_1⟧');
  });

  it('restores HMAC ids and escapes for JSON strings on request', () => {
    expect(detokenize('⟦PERSON_7K2Q9X4M1B⟧', map)).toBe('Jo "J" Doe');
    expect(detokenize('{"to":"⟦PERSON_7K2Q9X4M1B⟧"}', map, { escape: 'json' })).toBe('{"to":"Jo \\"J\\" Doe"}');
    expect(JSON.parse(detokenize('{"to":"⟦PERSON_7K2Q9X4M1B⟧"}', map, { escape: 'json' }))).toEqual({ to: 'Jo "J" Doe' });
    expect(detokenizeJson({ a: ['⟦EMAIL_1⟧', 1, null], b: { c: 'x ⟦PERSON_1⟧' } }, map)).toEqual({
      a: ['a@b.de', 1, null],
      b: { c: 'x Anna Müller' },
    });
  });
});

function streamed(text: string, cuts: number[], m: TokenMap = map): { out: string; pieces: string[] } {
  const s = createDetokenizeStream(m);
  const pieces: string[] = [];
  let last = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    pieces.push(s.push(text.slice(last, c)));
    last = c;
  }
  pieces.push(s.push(text.slice(last)));
  pieces.push(s.flush());
  return { out: pieces.join(''), pieces };
}

describe('streaming detokenize', () => {
  const answer = 'Dear ⟦PERSON_1⟧, your IBAN [[IBAN_12]] and ⟦ email_1 ⟧ are noted; PERSON_12 and PERSON_1. (PERSON_1) <EMAIL_1> ⟦PERSON_1';

  it('gives the same result as the whole string when split at every single position', () => {
    const whole = detokenize(answer, map);
    for (let i = 0; i <= answer.length; i++) expect(streamed(answer, [i]).out).toBe(whole);
  });

  it('never emits half a token and holds back only a possible token', () => {
    const s = createDetokenizeStream(map);
    expect(s.push('Hello ⟦PER')).toBe('Hello ');
    expect(s.push('SON_1')).toBe('');
    expect(s.push('⟧ and more text')).toBe('Anna Müller and more text');
    expect(s.push(' plain words')).toBe(' plain words');
    expect(s.push(' ends with EMAIL_1')).toBe(' ends with ');
    expect(s.flush()).toBe('a@b.de');
  });

  it('matches the whole-string result for any chunking (property)', () => {
    const parts = fc.constantFrom(
      '⟦PERSON_1⟧',
      '[[IBAN_12]]',
      'EMAIL_1',
      '⟦ person 1 ⟧',
      'PERSON_12',
      ' ',
      'text ',
      '(',
      ')',
      '[',
      'x',
      '⟦',
      '_',
      'PERSON',
      '1',
      '⟧',
      'é',
      '\n',
    );
    fc.assert(
      fc.property(fc.array(parts, { maxLength: 30 }), fc.array(fc.nat(200), { maxLength: 8 }), (ps, cuts) => {
        const text = ps.join('');
        expect(
          streamed(
            text,
            cuts.map((c) => c % (text.length + 1)),
          ).out,
        ).toBe(detokenize(text, map));
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips a sanitized text streamed in random chunks', () => {
    const sanitizer = createSanitizer();
    fc.assert(
      fc.property(fc.array(fc.nat(300), { maxLength: 10 }), (cuts) => {
        const session = sanitizer.session([{ value: 'Anna Müller', type: 'PERSON' }]);
        const original = 'Anna Müller (anna@example.de, +49 30 901820) pays from DE89 3704 0044 0532 0130 00.';
        const t = session.sanitize(original).text;
        expect(
          streamed(
            t,
            cuts.map((c) => c % (t.length + 1)),
            session.tokenMap(),
          ).out,
        ).toBe(original);
      }),
      { numRuns: 200 },
    );
  });
});
