// A token bucket per client address on the /v1 routes. Defaults sit far above what Alertmanager or
// Grafana send (one request per group per group_interval); the limit stops a runaway or hostile sender
// from starving Temporal. Alertmanager does not retry 4xx, so the alert routes answer a limited request
// with 503 + Retry-After (retried), and only POST /v1/incidents with 429.

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxClients = 10_000,
  ) {}

  /** null if allowed, else the seconds to wait. */
  take(client: string, nowMs: number): number | null {
    let b = this.buckets.get(client);
    if (!b) {
      if (this.buckets.size >= this.maxClients) {
        const oldest = this.buckets.keys().next();
        if (!oldest.done) this.buckets.delete(oldest.value);
      }
      b = { tokens: this.burst, at: nowMs };
    } else {
      this.buckets.delete(client);
      b.tokens = Math.min(this.burst, b.tokens + ((nowMs - b.at) / 1000) * this.perSecond);
      b.at = nowMs;
    }
    this.buckets.set(client, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return null;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
  }
}
