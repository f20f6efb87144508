import { describe, expect, it } from "vitest";
import { BatchedLookup } from "./batched-lookup.js";

const tick = () => new Promise((r) => setImmediate(r));

describe("BatchedLookup", () => {
  it("answers the lookups of one turn of the event loop with one read per group, a repeated key read once", async () => {
    const reads: [string, string[]][] = [];
    const table = new Map([
      [
        "g1",
        new Map([
          ["a", 1],
          ["b", 2],
        ]),
      ],
      ["g2", new Map([["a", 10]])],
    ]);
    const lookup = new BatchedLookup<number>(async (group, keys) => {
      reads.push([group, keys]);
      const rows = new Map<string, number>();
      for (const k of keys) {
        const v = table.get(group)?.get(k);
        if (v !== undefined) rows.set(k, v);
      }
      return rows;
    });
    const answers = await Promise.all([
      lookup.get("g1", "a"),
      lookup.get("g1", "b"),
      lookup.get("g2", "a"),
      lookup.get("g1", "a"),
      lookup.get("g1", "zz"),
    ]);
    expect(answers).toEqual([1, 2, 10, 1, undefined]);
    expect(reads).toEqual([
      ["g1", ["a", "b", "zz"]],
      ["g2", ["a"]],
    ]);
    // A lookup asked later is a read of its own, made after it was asked (it sees what changed meanwhile).
    table.get("g1")?.set("a", 100);
    expect(await lookup.get("g1", "a")).toBe(100);
    expect(reads).toHaveLength(3);
  });

  it("splits a group into reads of at most maxKeys keys; a failed read fails only the lookups it would have answered", async () => {
    const sizes: number[] = [];
    const lookup = new BatchedLookup<string>(async (_group, keys) => {
      sizes.push(keys.length);
      if (keys.includes("k4")) throw new Error("store down");
      return new Map(keys.map((k) => [k, k.toUpperCase()]));
    }, 3);
    const results = await Promise.allSettled(Array.from({ length: 7 }, (_, i) => lookup.get("g", `k${i}`)));
    expect(sizes).toEqual([3, 3, 1]);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual([
      "K0",
      "K1",
      "K2",
      "store down",
      "store down",
      "store down",
      "K6",
    ]);
    // The lookup keeps working after a failed read.
    await tick();
    expect(await lookup.get("g", "k1")).toBe("K1");
  });
});
