import { once } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { createSanitizer, sanitizeJsonl } from './index.js';

const sanitizer = createSanitizer({ countries: ['DE', 'FR', 'GB', 'US'] });

class Sink extends Writable {
  chunks: string[] = [];
  constructor(highWaterMark = 16) {
    super({ highWaterMark });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk.toString('utf8'));
    setImmediate(cb); // a slow consumer: forces back-pressure
  }
  async finished(): Promise<unknown[]> {
    this.end();
    await once(this, 'finish');
    return this.lines();
  }
  lines(): unknown[] {
    return this.chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as unknown);
  }
}

async function* chunked(text: string, size: number): AsyncGenerator<Uint8Array> {
  const buf = Buffer.from(text, 'utf8');
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

describe('sanitizeJsonl', () => {
  it('writes one line per input line, in order, with entities in input offsets', async () => {
    const input = [
      { id: 'a', text: 'mail jürgen@beispiel.de or call +49 30 901820' },
      {
        id: 7,
        text: 'Kontakt: Jürgen Weiß, Projekt Falke',
        fields: { FirstName: 'Jürgen', LastName: 'Weiß', Code__c: 'Falke', Stage: 'Falke' },
        classes: { Code__c: 'Restricted', Stage: 'Public' },
      },
      { id: 'c', text: 'nothing here, order 4500123456 on 12.03.2024' },
    ]
      .map((o) => JSON.stringify(o))
      .join('\r\n');
    const sink = new Sink();
    // 7-byte chunks split multi-byte UTF-8 characters and lines everywhere.
    const summary = await sanitizeJsonl(chunked(input + '\n', 7), sink, { sanitizer });
    const out = (await sink.finished()) as Array<{
      id: unknown;
      text: string;
      entities: Array<{ type: string; start: number; end: number; token: string }>;
    }>;
    expect(out.map((o) => o.id)).toEqual(['a', 7, 'c']);
    expect(out[0].text).toBe('mail ⟦EMAIL_1⟧ or call ⟦PHONE_1⟧');
    expect(out[0].entities).toEqual([
      { type: 'EMAIL', start: 5, end: 23, token: '⟦EMAIL_1⟧' },
      { type: 'PHONE', start: 32, end: 45, token: '⟦PHONE_1⟧' },
    ]);
    expect(out[1].text).toBe('Kontakt: ⟦PERSON_1⟧ ⟦PERSON_2⟧, Projekt ⟦REDACTED⟧');
    expect(out[2].text).toBe('nothing here, order 4500123456 on 12.03.2024');
    expect(summary).toEqual({ lines: 3, ok: 3, errors: 0, entities: 5 });
  });

  it('answers a malformed line with an error object for its id and goes on', async () => {
    const lines = [
      '{"id":"1","text":"a@b.de"}',
      '{"id":"x1","text":"unterminated',
      '[1,2]',
      '{"text":"no id"}',
      '{"id":"5"}',
      '{"id":"6","text":"x","fields":{"A":{}}}',
      '{"id":"7","text":"x","fields":{"A":"v"},"classes":{"A":"Secretish"}}',
      '',
      '{"id":"8","text":"ok"}',
    ];
    const sink = new Sink();
    const summary = await sanitizeJsonl(chunked(lines.join('\n'), 64), sink, { sanitizer });
    const out = (await sink.finished()) as Array<{ id: unknown; error?: { code: string; line: number } }>;
    expect(out.map((o) => [o.id, o.error?.code ?? 'ok'])).toEqual([
      ['1', 'ok'],
      ['x1', 'JSON_INVALID'],
      [null, 'LINE_NOT_OBJECT'],
      [null, 'ID_MISSING'],
      ['5', 'TEXT_MISSING'],
      ['6', 'FIELD_INVALID'],
      ['7', 'CLASS_INVALID'],
      ['8', 'ok'],
    ]);
    expect(out[1].error?.line).toBe(2);
    expect(summary).toMatchObject({ lines: 8, ok: 2, errors: 6 });
  });

  it('refuses lines above the limit without buffering them, and keeps going', async () => {
    const long = JSON.stringify({ id: 'big', text: 'x'.repeat(5000) });
    const sink = new Sink();
    const summary = await sanitizeJsonl(chunked(`${long}\n{"id":"after","text":"a@b.de"}\n${long}`, 100), sink, {
      sanitizer,
      maxLineBytes: 2048,
    });
    const out = (await sink.finished()) as Array<{ id: unknown; error?: { code: string }; text?: string }>;
    expect(out.map((o) => o.error?.code ?? o.text)).toEqual(['LINE_TOO_LONG', '⟦EMAIL_1⟧', 'LINE_TOO_LONG']);
    expect(summary.errors).toBe(2);
  });

  it('streams many lines through a slow consumer in order', async () => {
    const n = 3000;
    const src = new PassThrough();
    const sink = new Sink(1024);
    const done = sanitizeJsonl(src, sink, { sanitizer });
    for (let i = 0; i < n; i++) src.write(`{"id":${i},"text":"Ticket ${i}: call 030 901820${i % 10} or mail u${i}@example.com"}\n`);
    src.end();
    const summary = await done;
    const out = (await sink.finished()) as Array<{ id: number; text: string }>;
    expect(summary).toMatchObject({ lines: n, ok: n, errors: 0 });
    expect(out.map((o) => o.id)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(out.every((o) => !/@example\.com/.test(o.text))).toBe(true);
  });
});
