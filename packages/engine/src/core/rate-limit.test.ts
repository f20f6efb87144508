import { describe, expect, it } from "vitest";
import { MemoryRateLimiter } from "./rate-limit.js";

describe("token bucket", () => {
  it("allows a burst, then refuses with the time until the next token, then refills", () => {
    let now = 0;
    const rl = new MemoryRateLimiter({ now: () => now });
    const cfg = { burst: 3, perSecond: 2 };
    expect([1, 2, 3].map(() => rl.take("k", cfg).allowed)).toEqual([true, true, true]);
    const refused = rl.take("k", cfg);
    expect(refused).toMatchObject({ allowed: false, remaining: 0, limit: 3, retryAfterS: 1 });
    now += 500;
    expect(rl.take("k", cfg)).toMatchObject({ allowed: true, remaining: 0 });
    now += 10_000;
    expect(rl.take("k", cfg)).toMatchObject({ allowed: true, remaining: 2 });
  });

  it("keys are independent", () => {
    const rl = new MemoryRateLimiter({ now: () => 0 });
    const cfg = { burst: 1, perSecond: 1 };
    expect(rl.take("a", cfg).allowed).toBe(true);
    expect(rl.take("a", cfg).allowed).toBe(false);
    expect(rl.take("b", cfg).allowed).toBe(true);
  });

  it("bounds memory by dropping buckets that are full again", () => {
    let now = 0;
    const rl = new MemoryRateLimiter({ now: () => now }, 10);
    const cfg = { burst: 1, perSecond: 100 };
    for (let i = 0; i < 10; i++) rl.take(`k${i}`, cfg);
    now += 1000;
    rl.take("new", cfg);
    expect((rl as unknown as { buckets: Map<string, unknown> }).buckets.size).toBeLessThanOrEqual(2);
  });
});
