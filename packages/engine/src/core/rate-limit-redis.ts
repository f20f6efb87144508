import type { Cluster, Redis } from "ioredis";
import type { Clock } from "./clock.js";
import type { BucketConfig } from "./config.js";
import { decide, type RateDecision, type RateLimiter } from "./rate-limit.js";

// One round trip, atomic: refill by elapsed time, take if possible, store, expire once it would be full.
const TAKE = `
local b = redis.call('HMGET', KEYS[1], 't', 'a')
local burst = tonumber(ARGV[1]); local rate = tonumber(ARGV[2]); local now = tonumber(ARGV[3]); local cost = tonumber(ARGV[4])
local tokens = tonumber(b[1]); local at = tonumber(b[2])
if tokens == nil then tokens = burst; at = now end
tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * rate)
local allowed = 0
if tokens >= cost then tokens = tokens - cost; allowed = 1 end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'a', tostring(now))
local ttl = 1000
if rate > 0 then ttl = math.ceil((burst - tokens) / rate * 1000) + 1000 end
redis.call('PEXPIRE', KEYS[1], ttl)
return {allowed, tostring(tokens)}
`;

/** Token buckets shared by every engine node through Redis (used when `REDIS_URL` is set). */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly clock: Clock,
    private readonly prefix = "utd:rl:",
  ) {}

  async take(key: string, cfg: BucketConfig, cost = 1): Promise<RateDecision> {
    const [allowed, left] = (await this.redis.eval(TAKE, 1, this.prefix + key, cfg.burst, cfg.perSecond, this.clock.now(), cost)) as [
      number,
      string,
    ];
    return decide(cfg, allowed === 1, Number(left), cost);
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}
