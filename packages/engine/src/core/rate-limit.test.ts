import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { redisUrlOrSkip } from "../../../../test/helpers/services.js";
import { MemoryRateLimiter, type RateLimiter } from "./rate-limit.js";
import { RedisRateLimiter } from "./rate-limit-redis.js";

/** The same token-bucket contract for the in-process and the Redis limiter. */
const redisUrl = await redisUrlOrSkip();
const clients: Redis[] = [];
afterAll(async () => {
  for (const c of clients) await c.quit();
});
const impls: [string, ((clock: { now(): number }) => RateLimiter) | undefined][] = [
  ["memory", (clock) => new MemoryRateLimiter(clock)],
  [
    "redis",
    redisUrl
      ? (clock) => {
          const r = new Redis(redisUrl);
          clients.push(r);
          return new RedisRateLimiter(r, clock, `utd:test:${Math.random().toString(36).slice(2)}:`);
        }
      : undefined,
  ],
];

for (const [name, make] of impls) {
  describe.skipIf(!make)(`token bucket: ${name}`, () => {
    it("allows a burst, then refuses with the time until the next token, then refills", async () => {
      let now = 1_000_000;
      const rl = make?.({ now: () => now }) as RateLimiter;
      const cfg = { burst: 3, perSecond: 2 };
      const first = [];
      for (let i = 0; i < 3; i++) first.push((await rl.take("k", cfg)).allowed);
      expect(first).toEqual([true, true, true]);
      expect(await rl.take("k", cfg)).toMatchObject({ allowed: false, remaining: 0, limit: 3, retryAfterS: 1 });
      now += 500;
      expect(await rl.take("k", cfg)).toMatchObject({ allowed: true, remaining: 0 });
      now += 10_000;
      expect(await rl.take("k", cfg)).toMatchObject({ allowed: true, remaining: 2 });
    });

    it("keys are independent", async () => {
      const rl = make?.({ now: () => 5 }) as RateLimiter;
      const cfg = { burst: 1, perSecond: 1 };
      expect((await rl.take("a", cfg)).allowed).toBe(true);
      expect((await rl.take("a", cfg)).allowed).toBe(false);
      expect((await rl.take("b", cfg)).allowed).toBe(true);
    });
  });
}

describe("memory limiter bounds", () => {
  it("drops buckets that are full again once the map is too big", async () => {
    let now = 0;
    const rl = new MemoryRateLimiter({ now: () => now }, 10);
    const cfg = { burst: 1, perSecond: 100 };
    for (let i = 0; i < 10; i++) await rl.take(`k${i}`, cfg);
    now += 1000;
    await rl.take("new", cfg);
    expect((rl as unknown as { buckets: Map<string, unknown> }).buckets.size).toBeLessThanOrEqual(2);
  });
});
