import type { Clock } from "./clock.js";
import type { BucketConfig } from "./config.js";

/** The outcome of taking one token, with what the `RateLimit-*` headers report. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetS: number;
  /** Seconds until one token is available (0 when allowed). */
  retryAfterS: number;
}

/** Rate limiting port: in-process token buckets, or Redis when several nodes must share the counters. */
export interface RateLimiter {
  take(key: string, bucket: BucketConfig, cost?: number): Promise<RateDecision>;
  close?(): Promise<void>;
}

/** The decision for a bucket holding `left` tokens after a take of `cost`. */
export function decide(cfg: BucketConfig, allowed: boolean, left: number, cost: number): RateDecision {
  const perToken = cfg.perSecond > 0 ? 1 / cfg.perSecond : Number.POSITIVE_INFINITY;
  return {
    allowed,
    limit: cfg.burst,
    remaining: Math.floor(left),
    resetS: Math.ceil((cfg.burst - left) * perToken),
    retryAfterS: allowed ? 0 : Math.ceil((cost - left) * perToken),
  };
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * In-process token buckets. Memory is bounded: buckets that would be full again are dropped when the
 * map grows past `maxKeys` (a full bucket and a missing one behave the same).
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  constructor(
    private readonly clock: Clock,
    private readonly maxKeys = 100_000,
  ) {}

  async take(key: string, cfg: BucketConfig, cost = 1): Promise<RateDecision> {
    const now = this.clock.now();
    const b = this.buckets.get(key) ?? { tokens: cfg.burst, at: now };
    // A clock stepping back (NTP) refills nothing rather than taking tokens away (as the Redis limiter does).
    const tokens = Math.min(cfg.burst, b.tokens + (Math.max(0, now - b.at) / 1000) * cfg.perSecond);
    const allowed = tokens >= cost;
    const left = allowed ? tokens - cost : tokens;
    this.buckets.set(key, { tokens: left, at: now });
    if (this.buckets.size > this.maxKeys) this.sweep(now, cfg);
    return decide(cfg, allowed, left, cost);
  }

  private sweep(now: number, cfg: BucketConfig): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * cfg.perSecond >= cfg.burst) this.buckets.delete(k);
    }
  }
}
