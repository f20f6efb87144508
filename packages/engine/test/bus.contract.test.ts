import { afterAll, expect, test } from "vitest";
import { backends, describeBackends, type Impl, REDIS_URL, uniqueName } from "../../../test/helpers/backends.js";
import { MemoryBusHub } from "../src/bus/memory.js";
import type { Bus, BusMessage } from "../src/bus/port.js";
import { RedisBus } from "../src/bus/redis.js";

/** `n` nodes on one bus implementation, ready to carry messages between them. */
const NODES: Record<Impl<"bus">, (n: number) => Promise<Bus[]>> = {
  "in-process": async (n) => {
    const hub = new MemoryBusHub();
    return Array.from({ length: n }, () => hub.bus());
  },
  redis: async (n) => {
    // A channel of our own: other engines and other test runs share this Redis.
    const channel = uniqueName("utd:bus:test");
    const nodes = Array.from({ length: n }, () => new RedisBus(REDIS_URL, undefined, channel));
    await Promise.all(nodes.map((b) => b.ready()));
    return nodes;
  },
};

async function until(f: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const ev = (i: number, appId = "app_1"): BusMessage => ({
  kind: "event",
  appId,
  identities: [`u${i}`],
  type: "t.x",
  data: JSON.stringify({ i, text: "line\nbreak ünïcødé 🎉" }),
});

/** The bus port's contract, run over every implementation (test/helpers/backends.ts decides which run here). */
describeBackends(await backends("bus"), "bus contract", (impl) => {
  const open: Bus[] = [];
  afterAll(async () => {
    await Promise.all(open.map((b) => b.close()));
  });
  const nodes = async (n: number) => {
    const list = await NODES[impl](n);
    open.push(...list);
    return list;
  };
  const record = (b: Bus) => {
    const got: BusMessage[] = [];
    b.subscribe((m) => got.push(m));
    return got;
  };

  test("every node has its own id", async () => {
    const list = await nodes(4);
    expect(new Set(list.map((b) => b.nodeId)).size).toBe(4);
  });

  test("a publish reaches every node once, the publisher included (synchronously), in publish order", async () => {
    const [a, b, c] = (await nodes(3)) as [Bus, Bus, Bus];
    const [gotA, gotB, gotC] = [record(a), record(b), record(c)];
    const msgs = Array.from({ length: 50 }, (_, i) => ev(i));
    for (const m of msgs) a.publish(m);
    expect(gotA).toEqual(msgs);
    await until(() => gotB.length >= 50 && gotC.length >= 50, "50 messages on nodes b and c");
    await new Promise((r) => setTimeout(r, 50));
    expect(gotB).toEqual(msgs);
    expect(gotC).toEqual(msgs);
  });

  test("two publishers at once: each node sees each publisher's messages in that publisher's order", async () => {
    const [a, b] = (await nodes(2)) as [Bus, Bus];
    const [gotA, gotB] = [record(a), record(b)];
    for (let i = 0; i < 30; i++) {
      a.publish(ev(i, "from_a"));
      b.publish(ev(i, "from_b"));
    }
    await until(() => gotA.length >= 60 && gotB.length >= 60, "60 messages on each node");
    for (const got of [gotA, gotB])
      for (const from of ["from_a", "from_b"]) {
        const seq = got.filter((m) => m.appId === from).map((m) => (m.kind === "event" ? m.identities[0] : ""));
        expect(seq).toEqual(Array.from({ length: 30 }, (_, i) => `u${i}`));
      }
  });

  test("control messages travel too; watchersOf and issuedBefore are kept", async () => {
    const [a, b] = (await nodes(2)) as [Bus, Bus];
    const got = record(b);
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

  test("event data arrives byte for byte (never re-serialised), large payloads included", async () => {
    const [a, b] = (await nodes(2)) as [Bus, Bus];
    const got = record(b);
    const odd = '{ "spaced" :  1,\n "nested": {"x":[1, 2 ]}, "esc": "\\u00e9\\n" }';
    const big = JSON.stringify({ blob: "x".repeat(256 * 1024) });
    a.publish({ kind: "event", appId: "app_1", identities: ["u"], type: "t.odd", data: odd });
    a.publish({ kind: "event", appId: "app_1", identities: ["u"], type: "t.big", data: big });
    await until(() => got.length >= 2, "both payloads");
    expect(got.map((m) => (m.kind === "event" ? m.data : ""))).toEqual([odd, big]);
  });

  test("unsubscribe stops delivery to that handler only", async () => {
    const [a, b] = (await nodes(2)) as [Bus, Bus];
    const got: BusMessage[] = [];
    const off = b.subscribe((m) => got.push(m));
    const other = record(b);
    a.publish({ kind: "app", appId: "one" });
    await until(() => got.length === 1, "first");
    off();
    a.publish({ kind: "app", appId: "two" });
    await until(() => other.length >= 2, "second on the other handler");
    expect(got.map((m) => (m as { appId: string }).appId)).toEqual(["one"]);
    expect(other.map((m) => (m as { appId: string }).appId)).toEqual(["one", "two"]);
  });

  test("a closed node hears nothing more; the others still do", async () => {
    const [a, b, c] = (await nodes(3)) as [Bus, Bus, Bus];
    const [gotB, gotC] = [record(b), record(c)];
    await b.close();
    a.publish({ kind: "app", appId: "after-close" });
    await until(() => gotC.length >= 1, "node c");
    await new Promise((r) => setTimeout(r, 50));
    expect(gotB).toEqual([]);
    expect(gotC).toEqual([{ kind: "app", appId: "after-close" }]);
  });
});
