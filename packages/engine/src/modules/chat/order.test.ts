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
});
