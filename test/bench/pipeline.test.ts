/**
 * Short variant of `npm run bench:pipeline`: a small burst through the whole sidecar. It checks
 * correctness and that batching holds (far fewer API calls than requests), never speed.
 */
import { describe, expect, it } from '@jest/globals';
import { runPipelineBench } from './pipelineBench.js';

describe('pipeline benchmark (short)', () => {
  it('completes a burst end to end with far fewer Salesforce API calls than requests', async () => {
    const r = await runPipelineBench({ singles: 2, burst: 60, timeoutMs: 120_000 });
    expect(r.correct).toBe(true);
    expect(r.burst.completed).toBe(60);
    expect(r.burst.apiCalls).toBeLessThan(60);
    expect(r.singles.completed).toBe(2);
  }, 180_000);
});
