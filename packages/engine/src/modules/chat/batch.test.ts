import { describe, expect, it } from "vitest";
import { KeyedBatcher } from "./batch.js";

describe("KeyedBatcher", () => {
  it("runs an idle key's first item at once and batches what queued meanwhile, per key, in order", async () => {
    const runs: string[][] = [];
    const gates: (() => void)[] = [];
    const b = new KeyedBatcher<string, string>((key, items, release) => {
      runs.push([key, ...items]);
      return new Promise((res) =>
        gates.push(() => {
          release();
          res(items.map((i) => `${i}!`));
        }),
      );
    });
    const a1 = b.submit("a", "1");
    const a2 = b.submit("a", "2");
    const a3 = b.submit("a", "3");
    const b1 = b.submit("b", "x");
    expect(runs).toEqual([
      ["a", "1"],
      ["b", "x"],
    ]);
    gates.shift()?.(); // a's first batch done: the two that waited go together
    expect(await a1).toBe("1!");
    expect(runs[2]).toEqual(["a", "2", "3"]);
    gates.shift()?.();
    expect(await b1).toBe("x!");
    gates.shift()?.();
    expect([await a2, await a3]).toEqual(["2!", "3!"]);
  });

  it("a failed batch rejects each of its items with the error; the key goes on with the next batch", async () => {
    let n = 0;
    const b = new KeyedBatcher<number, number>(async (_key, items) => {
      n++;
      if (items.includes(0)) throw new Error("boom");
      return items.map((i) => i * 2);
    });
    const bad = b.submit("k", 0);
    const good = b.submit("k", 4);
    await expect(bad).rejects.toThrow("boom");
    expect(await good).toBe(8);
    expect(n).toBe(2);
  });

  it("release lets the next batch start before the current one settles (its commit is pending)", async () => {
    const started: number[][] = [];
    let finishFirst: (() => void) | undefined;
    const b = new KeyedBatcher<number, number>((_key, items, release) => {
      started.push(items);
      if (started.length === 1)
        return new Promise((res) => {
          release();
          finishFirst = () => res(items);
        });
      return Promise.resolve(items);
    });
    const first = b.submit("k", 1);
    const second = b.submit("k", 2);
    expect(await second).toBe(2);
    expect(started).toEqual([[1], [2]]);
    finishFirst?.();
    expect(await first).toBe(1);
  });

  it("with gather, a released key waits for as many items as its last batch held, or runs what came when the wait ends", async () => {
    const runs: number[][] = [];
    const gates: (() => void)[] = [];
    const b = new KeyedBatcher<number, number>(
      (_key, items) => {
        runs.push(items);
        return new Promise((res) => gates.push(() => res(items)));
      },
      100,
      { maxMs: 20, share: 1e9 },
    );
    const turn = () => new Promise((r) => setImmediate(r));
    const tick = async () => {
      await turn();
      await turn();
    };
    const first = [b.submit("k", 1), b.submit("k", 2), b.submit("k", 3)];
    gates.shift()?.(); // [1] done: 2 and 3 (two waiting, one needed) run at once
    await tick();
    expect(runs).toEqual([[1], [2, 3]]);
    const late = b.submit("k", 4); // arrives while [2, 3] runs
    gates.shift()?.();
    await Promise.all(first);
    await tick();
    expect(runs).toHaveLength(2); // 4 alone would start a batch of one: it waits for a second item
    const next = b.submit("k", 5);
    expect(runs[2]).toEqual([4, 5]);
    gates.shift()?.();
    expect([await late, await next]).toEqual([4, 5]);
    // Only one of the two comes: the wait ends and it runs alone.
    const alone = b.submit("k", 6);
    await new Promise((r) => setTimeout(r, 40));
    expect(runs[3]).toEqual([6]);
    gates.shift()?.();
    expect(await alone).toBe(6);
  });
});
