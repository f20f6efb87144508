import { describe, expect, it } from "vitest";
import { MemoryRateLimiter } from "./rate-limit.js";

// The token-bucket contract both limiters share is packages/engine/test/limiter.contract.test.ts.

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
