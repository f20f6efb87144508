import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, test } from "vitest";
import { redisUrlOrSkip } from "../../../test/helpers/services.js";
import { MemoryBusHub } from "../src/bus/memory.js";
import type { Bus, BusMessage } from "../src/bus/port.js";
import { RedisBus } from "../src/bus/redis.js";

/** Two nodes on one bus implementation. */
type Pair = { a: Bus; b: Bus; close(): Promise<void> };

const redisUrl = await redisUrlOrSkip();

const impls: [string, (() => Promise<Pair>) | undefined][] = [
  [
    "in-process",
    async () => {
      const hub = new MemoryBusHub();
      const a = hub.bus();
      const b = hub.bus();
      return { a, b, close: async () => Promise.all([a.close(), b.close()]).then(() => undefined) };
    },
  ],
  [
    "redis",
    redisUrl
      ? async () => {
          // A channel of our own: other engines may share this Redis.
          const channel = `utd:bus:test:${randomBytes(4).toString("hex")}`;
          const a = new RedisBus(redisUrl, undefined, channel);
          const b = new RedisBus(redisUrl, undefined, channel);
          await Promise.all([a.ready(), b.ready()]);
          return { a, b, close: async () => Promise.all([a.close(), b.close()]).then(() => undefined) };
        }
      : undefined,
  ],
];

async function until(f: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const [name, make] of impls) {
  describe.skipIf(!make)(`bus contract: ${name}`, () => {
    const pairs: Pair[] = [];
    afterAll(async () => {
      for (const p of pairs) await p.close();
    });
    const pair = async () => {
      const p = await (make as () => Promise<Pair>)();
      pairs.push(p);
      return p;
    };

    test("a publish reaches every node once, the publisher included, in publish order", async () => {
      const { a, b } = await pair();
      expect(a.nodeId).not.toBe(b.nodeId);
      const gotA: BusMessage[] = [];
      const gotB: BusMessage[] = [];
      a.subscribe((m) => gotA.push(m));
      b.subscribe((m) => gotB.push(m));
      const msgs: BusMessage[] = Array.from({ length: 50 }, (_, i) => ({
        kind: "event",
        appId: "app_1",
        identities: [`u${i}`],
        type: "t.x",
        data: JSON.stringify({ i, text: "line\nbreak ünïcødé 🎉" }),
      }));
      for (const m of msgs) a.publish(m);
      // The publisher hears its own messages synchronously.
      expect(gotA).toEqual(msgs);
      await until(() => gotB.length >= 50, "50 messages on node b");
      await new Promise((r) => setTimeout(r, 50));
      expect(gotB).toEqual(msgs);
    });

    test("control messages travel too; watchersOf is kept", async () => {
      const { a, b } = await pair();
      const got: BusMessage[] = [];
      b.subscribe((m) => got.push(m));
      const msgs: BusMessage[] = [
        { kind: "close", appId: "app_1", identity: "bob", code: 4403, reason: "banned" },
        { kind: "close", appId: "app_1", identity: "bob", code: 4401, reason: "revoked", issuedBefore: 123 },
        { kind: "app", appId: "app_2" },
        { kind: "event", appId: "app_1", identities: [], watchersOf: "carol", type: "presence.changed", data: "{}" },
      ];
      for (const m of msgs) a.publish(m);
      await until(() => got.length >= msgs.length, "control messages");
      expect(got).toEqual(msgs);
    });

    test("unsubscribe stops delivery", async () => {
      const { a, b } = await pair();
      const got: BusMessage[] = [];
      const off = b.subscribe((m) => got.push(m));
      a.publish({ kind: "app", appId: "one" });
      await until(() => got.length === 1, "first");
      off();
      a.publish({ kind: "app", appId: "two" });
      const marker: BusMessage[] = [];
      b.subscribe((m) => marker.push(m));
      a.publish({ kind: "app", appId: "three" });
      await until(() => marker.length >= 1, "marker");
      expect(got.map((m) => (m as { appId: string }).appId)).toEqual(["one"]);
    });
  });
}
