import { PassThrough } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { createLogger, sensitive } from './log.js';

function capture(): { logger: ReturnType<typeof createLogger>; out: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  return { logger: createLogger({ stream, level: 'debug' }), out: () => chunks.join('') };
}

const PROMPT = 'Summarize: Hans Müller (hans.mueller@example.de, DE89370400440532013000) wants 40 licences';

describe('log guard', () => {
  it('never writes a prompt handed to the logger under a content key', async () => {
    const { logger, out } = capture();
    logger.info('request sanitized', { requestId: 'r1', prompt: PROMPT, answer: 'Hans will buy', fields: { Name: 'Hans Müller' } });
    await new Promise((r) => setImmediate(r));
    const written = out();
    expect(written).toContain('request sanitized');
    expect(written).toContain('r1');
    expect(written).not.toContain('Hans');
    expect(written).not.toContain('hans.mueller');
    expect(written).not.toContain('DE89370400440532013000');
    expect(JSON.parse(written.trim().split('\n')[0]!).prompt).toMatchObject({ redacted: true, length: PROMPT.length });
  });

  it('redacts a prompt passed as the message itself', async () => {
    const { logger, out } = capture();
    logger.warn(PROMPT);
    await new Promise((r) => setImmediate(r));
    expect(out()).not.toContain('Müller');
    expect(out()).toContain('[redacted message]');
  });

  it('redacts values marked sensitive under any key, and long strings', async () => {
    const { logger, out } = capture();
    logger.info('upstream reply', { note: sensitive('Hans Müller'), detail: 'x'.repeat(500), nested: { deep: [sensitive(PROMPT)] } });
    await new Promise((r) => setImmediate(r));
    expect(out()).not.toContain('Müller');
    expect(out()).not.toContain('xxxxxxxxxx');
  });

  it('logs only the name and code of errors, never their messages', async () => {
    const { logger, out } = capture();
    const err = Object.assign(new Error(`upstream said: ${PROMPT}`), { code: 'E_UPSTREAM' });
    logger.error('model call failed', { error: err });
    await new Promise((r) => setImmediate(r));
    expect(out()).toContain('E_UPSTREAM');
    expect(out()).not.toContain('Müller');
  });
});
