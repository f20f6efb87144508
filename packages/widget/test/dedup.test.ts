import { describe, expect, it } from "vitest";
import { MessageDeduper, OnceSet } from "../src/dedup.js";
import { UTDEventBus } from "../src/events.js";

const m = (seq: number, id = `msg_${seq}`) => ({ id, seq });

describe("MessageDeduper", () => {
  it("accepts each message id exactly once, whichever path (socket, catch-up, history) offers it first", () => {
    const d = new MessageDeduper();
    expect(d.accept(m(1))).toBe(true);
    expect(d.accept(m(1))).toBe(false); // the socket after the REST catch-up
    expect(d.accept(m(2))).toBe(true);
    expect(d.accept(m(2))).toBe(false);
    expect(d.watermark).toBe(2);
  });

  it("is exact: two distinct messages arriving together are both accepted (no time window swallows one)", () => {
    const d = new MessageDeduper();
    expect([m(1), m(2), m(3)].map((x) => d.accept(x))).toEqual([true, true, true]);
  });

  it("moves the watermark only over contiguous seqs, so a reload in the middle of a hole loses nothing", () => {
    const d = new MessageDeduper();
    expect(d.accept(m(1))).toBe(true);
    expect(d.accept(m(3))).toBe(true); // seq 2 still in flight
    expect(d.watermark).toBe(1);
    // The page reloads now: the persisted watermark is 1, so seq 2 and 3 are offered again.
    const after = new MessageDeduper(d.watermark);
    expect(after.accept(m(2))).toBe(true);
    expect(after.accept(m(3))).toBe(true); // a new page lifetime: announced again rather than lost
    expect(after.watermark).toBe(3);
    // Back in the first lifetime, 2 arrives and closes the hole.
    expect(d.accept(m(2))).toBe(true);
    expect(d.watermark).toBe(3);
  });

  it("refuses everything at or below a persisted watermark (handled by an earlier page)", () => {
    const d = new MessageDeduper(5);
    expect(d.accept(m(4))).toBe(false);
    expect(d.accept(m(5))).toBe(false);
    expect(d.accept(m(6))).toBe(true);
    expect(d.seen(m(3))).toBe(true);
    expect(d.seen(m(7))).toBe(false);
  });

  it("a replayed seq under a different id (never happens on the wire) is still not announced twice", () => {
    const d = new MessageDeduper();
    expect(d.accept(m(3, "a"))).toBe(true);
    expect(d.accept(m(3, "b"))).toBe(false);
  });

  it("stays bounded: forgotten ids remain refused through the watermark", () => {
    const d = new MessageDeduper(0, 10);
    for (let i = 1; i <= 100; i++) expect(d.accept(m(i))).toBe(true);
    for (let i = 1; i <= 100; i++) expect(d.accept(m(i))).toBe(false);
    expect(d.watermark).toBe(100);
  });

  it("bad watermarks are clamped", () => {
    expect(new MessageDeduper(-4).watermark).toBe(0);
    expect(new MessageDeduper(2.7).watermark).toBe(2);
  });
});

describe("OnceSet", () => {
  it("fires once per key per lifetime", () => {
    const o = new OnceSet();
    expect(o.first("started:c1")).toBe(true);
    expect(o.first("started:c1")).toBe(false);
    expect(o.first("started:c2")).toBe(true);
  });
});

describe("UTDEventBus", () => {
  it("on() returns a subscription; cancel() stops delivery; a throwing listener does not stop the others", async () => {
    const bus = new UTDEventBus();
    const got: string[] = [];
    const a = bus.on("conversationWasClosed", (e) => got.push(`a:${e.id}`));
    bus.on("conversationWasClosed", () => {
      throw new Error("boom");
    });
    const c = bus.on("conversationWasClosed", (e) => got.push(`c:${e.id}`));
    const errors: unknown[] = [];
    const onErr = (e: unknown) => errors.push(e);
    process.on("uncaughtException", onErr);
    bus.emit("conversationWasClosed", { id: "1", closedBy: null });
    a.cancel();
    a.cancel(); // idempotent
    bus.emit("conversationWasClosed", { id: "2", closedBy: null });
    c.cancel();
    bus.emit("conversationWasClosed", { id: "3", closedBy: null });
    await new Promise((r) => setTimeout(r, 0));
    process.off("uncaughtException", onErr);
    expect(got).toEqual(["a:1", "c:1", "c:2"]);
    expect(errors).toHaveLength(3); // the thrower stayed subscribed for all three
    expect(bus.listenerCount("conversationWasClosed")).toBe(1);
  });
});
