export type CircuitBreakerOptions = {
  /** Consecutive failed requests that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses requests before it lets one trial through. */
  coolDownMs: number;
};

/**
 * Stops hammering a dead dependency: after `failureThreshold` consecutive failures every
 * request is refused for `coolDownMs`; then one trial request goes through (half-open),
 * and its outcome closes the circuit or opens it for another cool-down.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;

  constructor(
    private readonly options: CircuitBreakerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): "closed" | "open" | "half-open" {
    if (this.openedAt === undefined) return "closed";
    return this.now() - this.openedAt < this.options.coolDownMs ? "open" : "half-open";
  }

  /** Milliseconds until an open circuit lets a trial through (0 when not open). */
  get retryInMs(): number {
    if (this.openedAt === undefined) return 0;
    return Math.max(0, this.openedAt + this.options.coolDownMs - this.now());
  }

  /** Whether a request may go out now. In half-open state only one may, until it ends. */
  tryAcquire(): boolean {
    switch (this.state) {
      case "closed":
        return true;
      case "open":
        return false;
      case "half-open":
        if (this.trialInFlight) return false;
        this.trialInFlight = true;
        return true;
    }
  }

  /** The dependency answered (even with an error of the caller's making). */
  success(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.trialInFlight = false;
  }

  /** The dependency did not answer usefully (unreachable, timing out, unavailable). */
  failure(): void {
    this.failures += 1;
    if (this.trialInFlight || this.failures >= this.options.failureThreshold) {
      this.openedAt = this.now();
    }
    this.trialInFlight = false;
  }
}
