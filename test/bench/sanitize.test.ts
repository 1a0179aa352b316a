// Short variant of `npm run bench:sanitize`: the same generated corpus, checked for correctness
// only (the goals: ≥ 99% of planted PII removed per type, ≥ 98% of decoy numbers intact,
// and the answer restored exactly). Speed is printed by the benchmark, never asserted here.
import { describe, expect, it } from '@jest/globals';
import { createSanitizer, detokenize, entityTypeForField } from '../../service/src/sanitize/index.js';
import { generateCorpus, PII_TYPES, score } from './sanitizeCorpus.js';

describe('sanitize benchmark corpus (short)', () => {
  const corpus = generateCorpus(400, 7);
  const sanitizer = createSanitizer({ countries: ['DE', 'FR', 'GB', 'US', 'AT', 'CH', 'BE', 'NL', 'ES', 'IT', 'IE'] });

  it.each([
    ['PII-dense notes', corpus],
    ['CRM notes (PII in one sentence of ten)', generateCorpus(1200, 8, 0.1)],
  ])('%s: removes at least 99%% of planted PII of every type, keeps 98%% of decoys, and detokenizes exactly', (_, corpus) => {
    const outputs = corpus.map((rec) => {
      const session = sanitizer.session(Object.entries(rec.fields).map(([k, value]) => ({ value, type: entityTypeForField(k) })));
      const out = session.sanitize(rec.text).text;
      expect(detokenize(out, session.tokenMap())).toBe(rec.text);
      return out;
    });
    const s = score(corpus, outputs);
    for (const t of PII_TYPES) {
      const { planted, removed } = s.perType[t];
      expect(planted).toBeGreaterThan(20);
      expect([t, removed / planted]).toEqual([t, expect.any(Number)]);
      expect(removed / planted).toBeGreaterThanOrEqual(0.99);
    }
    expect(s.decoys.intact / s.decoys.planted).toBeGreaterThanOrEqual(0.98);
  });

  it('generates every planted value valid by its own rules, so the score measures detection', () => {
    const detectorsOnly = corpus.map((rec) => sanitizer.session().sanitize(rec.text).text);
    const s = score(corpus, detectorsOnly);
    // Without the record's fields, names stay (no NER): known-value matching is what removes them.
    expect(s.perType.PERSON.removed / s.perType.PERSON.planted).toBeLessThan(0.2);
    expect(s.perType.IBAN.removed).toBe(s.perType.IBAN.planted);
  });
});
