// The short variant of `npm run bench:gateway`: asserts correctness only (answers restored,
// upstream never saw the PII, every call audited), never timing.
import { describe, expect, it } from '@jest/globals';
import { runGatewayBench } from './gatewayBench.js';

describe('gateway bench (short)', () => {
  it.each([false, true])('stream=%s: every answer restored, nothing leaked, every call audited', async (stream) => {
    const r = await runGatewayBench({ requests: 20, concurrency: 4, upstream: 'loopback', stream });
    expect(r.problems).toEqual([]);
    expect(r.audited).toBe(20);
    expect(r.gateway.n).toBe(20);
    expect(r.direct.n).toBe(20);
  });
});
