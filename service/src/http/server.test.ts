import { describe, expect, it } from '@jest/globals';
import { SovraError } from '../shared/errors.js';
import { startHttpFace } from './server.js';

const service = { name: 't', jurisdiction: 'EU', region: 'eu-central-1', version: '0' };

describe('http face', () => {
  it('answers /healthz and reports per-dependency readiness on /readyz', async () => {
    const face = await startHttpFace({
      host: '127.0.0.1',
      port: 0,
      service,
      readiness: [
        { name: 'store', check: async () => ({ ready: true }) },
        { name: 'org', check: async () => ({ ready: false, detail: 'no session' }) },
        { name: 'slow', check: () => new Promise(() => undefined) },
        {
          name: 'throws',
          check: async () => Promise.reject(new SovraError('unavailable', 'Store down.', { code: 'X', fix: 'Start it.' })),
        },
      ],
      checkTimeoutMs: 100,
    });
    try {
      const h = await fetch(`${face.url}/healthz`);
      expect(h.status).toBe(200);
      expect(await h.json()).toMatchObject({ status: 'ok', jurisdiction: 'EU' });
      const r = await fetch(`${face.url}/readyz`);
      expect(r.status).toBe(503);
      const body = (await r.json()) as { ready: boolean; checks: { name: string; ready: boolean; detail?: string }[] };
      expect(body.ready).toBe(false);
      expect(body.checks).toEqual([
        { name: 'store', ready: true },
        { name: 'org', ready: false, detail: 'no session' },
        { name: 'slow', ready: false, detail: 'no answer within 100 ms' },
        { name: 'throws', ready: false, detail: 'Store down. Start it.' },
      ]);
      const nf = await fetch(`${face.url}/nope`);
      expect(nf.status).toBe(404);
      expect(nf.headers.get('cache-control')).toBe('no-store');
      expect(((await nf.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    } finally {
      await face.close();
    }
  });

  it('is ready when every check is', async () => {
    const face = await startHttpFace({
      host: '127.0.0.1',
      port: 0,
      service,
      readiness: [{ name: 'a', check: async () => ({ ready: true }) }],
    });
    try {
      expect((await fetch(`${face.url}/readyz`)).status).toBe(200);
    } finally {
      await face.close();
    }
  });
});
