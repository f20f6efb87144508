import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ExpiryQueue } from "./expiry.js";

type Item = { name: string; expiryDue: number; expiryIndex: number };
const item = (name: string): Item => ({ name, expiryDue: 0, expiryIndex: -1 });

describe("ExpiryQueue", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("calls each item once when its time comes, in order, re-set and deleted ones as last told", () => {
    const due: string[] = [];
    const q = new ExpiryQueue<Item>((x) => due.push(x.name));
    const [a, b, c, d, e] = [item("a"), item("b"), item("c"), item("d"), item("e")];
    q.set(a, 5_000);
    q.set(b, 1_000);
    q.set(c, 3_000);
    q.set(d, 2_000);
    q.set(e, 4_000);
    q.delete(c); // closed: never due
    q.set(b, 6_000); // re-armed later (auth with a fresh token)
    q.set(a, 500); // and one sooner
    expect(q.size).toBe(4);
    vi.advanceTimersByTime(600);
    expect(due).toEqual(["a"]);
    vi.advanceTimersByTime(3_500);
    expect(due).toEqual(["a", "d", "e"]);
    vi.advanceTimersByTime(10_000);
    expect(due).toEqual(["a", "d", "e", "b"]);
    expect(q.size).toBe(0);
    // Deleting an item no longer queued is a no-op; a new one arms the timer again.
    q.delete(a);
    q.set(c, 100);
    vi.advanceTimersByTime(100);
    expect(due).toEqual(["a", "d", "e", "b", "c"]);
  });

  it("keeps heap order through many sets and deletes", () => {
    const due: number[] = [];
    const q = new ExpiryQueue<{ n: number; expiryDue: number; expiryIndex: number }>((x) => due.push(x.n));
    const items = Array.from({ length: 200 }, (_, n) => ({ n, expiryDue: 0, expiryIndex: -1 }));
    // Due times in a scrambled order; every third one deleted.
    for (const it of items) q.set(it, ((it.n * 37) % 200) * 10 + 10);
    for (const it of items) if (it.n % 3 === 0) q.delete(it);
    vi.advanceTimersByTime(5_000);
    const expected = items
      .filter((it) => it.n % 3 !== 0)
      .sort((x, y) => ((x.n * 37) % 200) - ((y.n * 37) % 200))
      .map((it) => it.n);
    expect(due).toEqual(expected);
  });
});
