/**
 * A circuit breaker per endpoint: after `failureThreshold` consecutive failures the endpoint is
 * skipped for `cooldownMs`; then one trial call is let through (half-open): success closes the
 * circuit, failure opens it again. Only failures of the endpoint count, not invalid requests.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  now?: () => number;
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;
  private readonly now: () => number;

  constructor(private readonly options: BreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.openedAt === undefined) return 'closed';
    return this.now() - this.openedAt >= this.options.cooldownMs ? 'half_open' : 'open';
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Whether a call may go to the endpoint now (claims the single half-open trial). */
  tryAcquire(): boolean {
    const s = this.state;
    if (s === 'closed') return true;
    if (s === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  /** Whether the endpoint would be tried now, without claiming anything. */
  available(): boolean {
    const s = this.state;
    return s === 'closed' || (s === 'half_open' && !this.trialInFlight);
  }

  success(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.trialInFlight = false;
  }

  failure(): void {
    this.failures += 1;
    const wasTrial = this.trialInFlight;
    this.trialInFlight = false;
    if (wasTrial || this.failures >= this.options.failureThreshold) this.openedAt = this.now();
  }

  /** A call that ended without telling anything about the endpoint (e.g. the caller cancelled). */
  release(): void {
    this.trialInFlight = false;
  }
}
