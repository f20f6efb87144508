import { Redis } from "ioredis";
import { afterAll, expect, test } from "vitest";
import { backends, describeBackends, type Impl, REDIS_URL, uniqueName } from "../../../test/helpers/backends.js";
import type { Clock } from "../src/core/clock.js";
import { MemoryRateLimiter, type RateLimiter } from "../src/core/rate-limit.js";
import { RedisRateLimiter } from "../src/core/rate-limit-redis.js";

const clients: Redis[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit()));
});

/** A fresh limiter of one implementation on `clock` (Redis: a key prefix of its own). */
const LIMITERS: Record<Impl<"limiter">, (clock: Clock) => RateLimiter> = {
  memory: (clock) => new MemoryRateLimiter(clock),
  redis: (clock) => {
    const r = new Redis(REDIS_URL);
    clients.push(r);
    return new RedisRateLimiter(r, clock, `${uniqueName("utd:rl:test")}:`);
  },
};

/** The rate limiter port's contract (token buckets), run over every implementation. */
describeBackends(await backends("limiter"), "rate limiter contract", (impl) => {
  const make = (start = 1_000_000) => {
    const t = { now: start };
    return { t, rl: LIMITERS[impl]({ now: () => t.now }) };
  };

  test("allows a burst, then refuses with the time until the next token, then refills", async () => {
    const { t, rl } = make();
    const cfg = { burst: 3, perSecond: 2 };
    const first = [];
    for (let i = 0; i < 3; i++) first.push((await rl.take("k", cfg)).allowed);
    expect(first).toEqual([true, true, true]);
    expect(await rl.take("k", cfg)).toMatchObject({ allowed: false, remaining: 0, limit: 3, retryAfterS: 1 });
    t.now += 500;
    expect(await rl.take("k", cfg)).toMatchObject({ allowed: true, remaining: 0 });
    t.now += 10_000;
    expect(await rl.take("k", cfg)).toMatchObject({ allowed: true, remaining: 2 });
  });

  test("keys are independent", async () => {
    const { rl } = make(5);
    const cfg = { burst: 1, perSecond: 1 };
    expect((await rl.take("a", cfg)).allowed).toBe(true);
    expect((await rl.take("a", cfg)).allowed).toBe(false);
    expect((await rl.take("b", cfg)).allowed).toBe(true);
  });

  test("a take costs `cost` tokens; a refused take costs nothing", async () => {
    const { t, rl } = make();
    const cfg = { burst: 5, perSecond: 1 };
    expect(await rl.take("c", cfg, 3)).toMatchObject({ allowed: true, remaining: 2, limit: 5 });
    expect(await rl.take("c", cfg, 3)).toMatchObject({ allowed: false, remaining: 2, retryAfterS: 1 });
    expect(await rl.take("c", cfg, 2)).toMatchObject({ allowed: true, remaining: 0 });
    t.now += 2000;
    expect(await rl.take("c", cfg, 2)).toMatchObject({ allowed: true, remaining: 0 });
  });

  test("a bucket never holds more than its burst, however long it idles; reset reports the time until full", async () => {
    const { t, rl } = make();
    const cfg = { burst: 4, perSecond: 0.5 };
    expect(await rl.take("full", cfg)).toMatchObject({ allowed: true, remaining: 3, resetS: 2 });
    t.now += 86_400_000;
    expect(await rl.take("full", cfg)).toMatchObject({ allowed: true, remaining: 3, resetS: 2 });
    expect(await rl.take("full", cfg, 3)).toMatchObject({ allowed: true, remaining: 0, resetS: 8 });
  });

  test("concurrent takes never over-admit: of 40 at once on a burst of 10, exactly 10 pass", async () => {
    const { rl } = make();
    const cfg = { burst: 10, perSecond: 0.001 };
    const all = await Promise.all(Array.from({ length: 40 }, () => rl.take("race", cfg)));
    expect(all.filter((d) => d.allowed)).toHaveLength(10);
  });

  test("a clock that steps back never takes tokens away", async () => {
    const { t, rl } = make();
    const cfg = { burst: 2, perSecond: 1 };
    expect((await rl.take("skew", cfg)).allowed).toBe(true);
    t.now -= 60_000;
    expect(await rl.take("skew", cfg)).toMatchObject({ allowed: true, remaining: 0 });
  });
});

describeBackends(
  (await backends("limiter")).filter((b) => b.name === "redis"),
  "rate limiter shared by nodes",
  () => {
    test("two limiters on one Redis prefix share the counters (the cluster's limit, not each node's)", async () => {
      const prefix = `${uniqueName("utd:rl:test")}:`;
      const clock = { now: () => 1_000 };
      const [r1, r2] = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
      clients.push(r1, r2);
      const [n1, n2] = [new RedisRateLimiter(r1, clock, prefix), new RedisRateLimiter(r2, clock, prefix)];
      const cfg = { burst: 2, perSecond: 0.001 };
      expect((await n1.take("k", cfg)).allowed).toBe(true);
      expect((await n2.take("k", cfg)).allowed).toBe(true);
      expect((await n1.take("k", cfg)).allowed).toBe(false);
      expect((await n2.take("k", cfg)).allowed).toBe(false);
    });
  },
);
