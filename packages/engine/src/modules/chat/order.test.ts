import { describe, expect, it } from "vitest";
import { SeqOrder } from "./order.js";

describe("SeqOrder", () => {
  it("announces in claim order whatever order the commits finish in; a dropped slot holds nothing up", async () => {
    const order = new SeqOrder();
    const out: string[] = [];
    const [s1, s2, s3, s4] = [1, 2, 3, 4].map((seq) => order.claim("c", seq));
    const other = order.claim("d", 1);
    const p4 = order.ready(s4 as never, () => void out.push("c4"));
    const p3 = order.ready(s3 as never, () => void out.push("c3"));
    expect(out).toEqual([]);
    await order.ready(other, () => void out.push("d1"));
    expect(out).toEqual(["d1"]);
    const p1 = order.ready(s1 as never, () => void out.push("c1"));
    expect(out).toEqual(["d1", "c1"]);
    order.drop(s2 as never);
    await Promise.all([p1, p3, p4]);
    expect(out).toEqual(["d1", "c1", "c3", "c4"]);
  });

  it("a failing announcement rejects its own send only", async () => {
    const order = new SeqOrder();
    const a = order.claim("c", 1);
    const b = order.claim("c", 2);
    const pb = order.ready(b, () => undefined);
    const pa = order.ready(a, () => Promise.reject(new Error("redis down")));
    await expect(pa).rejects.toThrow("redis down");
    await expect(pb).resolves.toBeUndefined();
  });

  it("without a ledger (one node) nothing waits and nothing is recorded", async () => {
    const order = new SeqOrder();
    const s = order.claim("c", 7, 9);
    await expect(s.recorded).resolves.toBeUndefined();
    const out: number[] = [];
    await order.ready(s, () => void out.push(s.last));
    expect(out).toEqual([9]);
  });

  it("a reservation (a statement allocating and committing on its own) holds its place; once placed, seq order", async () => {
    const order = new SeqOrder();
    const out: number[] = [];
    const before = order.claim("c", 1); // claimed under its lock before the reservation: a lower seq
    const r = order.reserve("c");
    const lone = order.claim("c", 2); // allocated before the statement, claimed after the reservation
    const after = order.claim("c", 6); // allocated after the statement
    const done = [order.ready(lone, () => void out.push(2)), order.ready(after, () => void out.push(6))];
    done.push(order.ready(before, () => void out.push(1)));
    expect(out).toEqual([1]); // the reservation holds the rest back
    const [s3, s4, s5] = order.place(r, [3, 4, 5]) as [never, never, never];
    expect(out).toEqual([1, 2]);
    done.push(
      order.ready(s5, () => void out.push(5)),
      order.ready(s4, () => void out.push(4)),
    );
    expect(out).toEqual([1, 2]);
    done.push(order.ready(s3, () => void out.push(3)));
    await Promise.all(done);
    expect(out).toEqual([1, 2, 3, 4, 5, 6]);
    // A reservation that allocated nothing holds nothing up; a cluster (ledger) has none.
    const r2 = order.reserve("c");
    const next = order.claim("c", 7);
    const p = order.ready(next, () => void out.push(7));
    order.drop(r2);
    await p;
    expect(out.at(-1)).toBe(7);
    const clustered = new SeqOrder({ ledger: {} as never });
    expect(clustered.clustered).toBe(true);
    expect(() => clustered.reserve("c")).toThrow();
  });
});
