import { describe, expect, it } from "vitest";
import { MemoryStreamHub } from "./streams-memory.js";

describe("in-process user streams: the kept window is a ring", () => {
  it("keeps the last maxEvents events across wrap-arounds, with their once ids, and checks once against the kept ones only", () => {
    const node = new MemoryStreamHub<string>({ maxEvents: 4 }).node();
    const heard: string[] = [];
    node.listen({ event: (_app, _id, _epoch, seq, ev) => heard.push(`${seq}:${ev}`) });
    const { epoch } = node.holdNow("app", "u");
    node.publish("app", ["u"], "a", "once-a");
    node.publish("app", ["u"], "b", "once-b");
    node.publish("app", ["u"], "b again", "once-b");
    node.publish("app", ["u"], "plain");
    expect(node.sinceNow("app", "u", epoch, 0)).toEqual([
      { seq: 1, ev: "a", once: "once-a" },
      { seq: 2, ev: "b", once: "once-b" },
      { seq: 3, ev: "plain" },
    ]);
    // Three more: seq 1 and 2 leave the window (4 kept), so once-b no longer matches anything kept.
    for (const ev of ["p4", "p5", "p6"]) node.publish("app", ["u"], ev);
    expect(node.sinceNow("app", "u", epoch, 1)).toBeNull();
    expect(node.sinceNow("app", "u", epoch, 2)?.map((e) => `${e.seq}:${e.ev}`)).toEqual(["3:plain", "4:p4", "5:p5", "6:p6"]);
    node.publish("app", ["u"], "b later", "once-b");
    node.publish("app", ["u"], "b later again", "once-b");
    expect(node.sinceNow("app", "u", epoch, 4)).toEqual([
      { seq: 5, ev: "p5" },
      { seq: 6, ev: "p6" },
      { seq: 7, ev: "b later", once: "once-b" },
    ]);
    expect(node.sinceNow("app", "u", epoch, 7)).toEqual([]);
    expect(node.sinceNow("app", "u", epoch, 8)).toBeNull();
    expect(heard).toEqual(["1:a", "2:b", "3:plain", "4:p4", "5:p5", "6:p6", "7:b later"]);
  });
});
