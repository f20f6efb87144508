import { describe, expect, it } from "vitest";
import { Store } from "../src/store.js";

describe("Store", () => {
  it("delivers the current value first, then changes only; `when` resolves on a matching value or rejects after the timeout", async () => {
    const s = new Store(false);
    const seen: boolean[] = [];
    const changes: boolean[] = [];
    const off = s.subscribe((v) => seen.push(v));
    const offChanges = s.onChange((v) => changes.push(v));
    s.set(false);
    s.set(true);
    off();
    offChanges();
    s.set(false);
    expect(seen).toEqual([false, true]);
    expect(changes).toEqual([true]);
    // Unsubscribing from inside the first delivery works (the function exists before the listener runs).
    let calls = 0;
    const once: { off?: () => void } = {};
    once.off = s.subscribe(() => {
      calls++;
      once.off?.();
    });
    once.off();
    s.set(true);
    expect(calls).toBe(1);
    const waiting = s.when((v) => v, 1000);
    s.set(true);
    await expect(waiting).resolves.toBe(true);
    await expect(new Store(0).when((v) => v > 0, 20, "a positive value")).rejects.toThrow(/a positive value/);
  });
});
