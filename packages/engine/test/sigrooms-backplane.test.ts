import { Cluster, Redis } from "ioredis";
import { afterAll, describe, expect, test } from "vitest";
import { has, redisUrlOrSkip, uniqueName } from "../../../test/helpers/backends.js";
import { type LocalRedisCluster, startRedisCluster } from "../../../test/helpers/redis-cluster.js";
import type { BackplaneEvent, DeviceJoin, RoomBackplane } from "../src/modules/sigrooms/backplane.js";
import { MemoryBackplane } from "../src/modules/sigrooms/memory-backplane.js";
import { RedisBackplane } from "../src/modules/sigrooms/redis-backplane.js";
import { sleep } from "./ws-helpers.js";

const redisUrl = await redisUrlOrSkip("room backplane on Redis");
// A 3-master Redis Cluster of this file's own (every key of a script or MULTI must sit in one slot there).
const cluster: LocalRedisCluster | undefined = (await has("redis-cluster", "room backplane on a Redis Cluster"))
  ? await startRedisCluster()
  : undefined;
afterAll(async () => {
  await cluster?.stop();
});

/** The connection makers the Redis backplane runs over: one server, and a Redis Cluster. */
const CONNECTORS: [string, (() => Redis | Cluster) | undefined][] = [
  ["redis", redisUrl ? () => new Redis(redisUrl, { maxRetriesPerRequest: 2 }) : undefined],
  ["redis-cluster", cluster ? () => new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: 2 } }) : undefined],
];

/** The backplane contract, run over the in-process backplane and over Redis and a Redis Cluster (a unique key prefix per run). */
const IMPLS: [string, (() => { bp: RoomBackplane; close(): Promise<void> }) | undefined][] = [
  [
    "memory",
    () => {
      const bp = new MemoryBackplane();
      return { bp, close: () => bp.close() };
    },
  ],
  ...CONNECTORS.map(([name, connect]): (typeof IMPLS)[number] => [
    name,
    connect
      ? () => {
          const bp = new RedisBackplane({ connect, nodeId: "n1", leaseS: 30, prefix: uniqueName("utd:test:sr") });
          return { bp, close: () => bp.close() };
        }
      : undefined,
  ]),
];

let n = 0;
const base = (room: string, identity: string, deviceKey: string, extra: Partial<DeviceJoin> = {}): DeviceJoin => ({
  appId: "app_1",
  room,
  identity,
  deviceKey,
  owner: `n1/c${++n}`,
  name: identity.toUpperCase(),
  data: null,
  role: "member",
  now: 1_700_000_000_000 + n,
  maxMembers: 10,
  ...extra,
});

/** Collects events until `count` arrived (Redis delivers asynchronously). */
async function collect(events: BackplaneEvent[], count: number): Promise<BackplaneEvent[]> {
  for (let i = 0; i < 200 && events.length < count; i++) await sleep(10);
  return events;
}

describe.each(IMPLS)("room backplane contract (%s)", (_name, make) => {
  const opened: { close(): Promise<void> }[] = [];
  const open = () => {
    if (!make) throw new Error("unavailable");
    const o = make();
    opened.push(o);
    return o.bp;
  };
  afterAll(async () => {
    for (const o of opened) await o.close();
  });

  test("members, devices, the member cap and owner-checked leaves", async (ctx) => {
    if (!make) return ctx.skip();
    const bp = open();
    await bp.ready();
    const a1 = base("r1", "alice", "phone", { data: '{"c":[]}' });
    const j1 = await bp.join(a1);
    expect(j1).toMatchObject({
      ok: true,
      newMember: true,
      newDevice: true,
      offset: 0,
      member: { identity: "alice", devices: 1, data: { c: [] } },
    });
    const a2 = base("r1", "alice", "laptop");
    expect(await bp.join(a2)).toMatchObject({ ok: true, newMember: false, newDevice: true, member: { devices: 2 } });
    // The same device from another socket takes it over: no new device.
    const a2again = { ...a2, owner: "n1/other" };
    expect(await bp.join(a2again)).toMatchObject({ ok: true, newMember: false, newDevice: false, member: { devices: 2 } });
    // The old owner's leave no longer removes it.
    expect(await bp.leaveDevice("app_1", "r1", "alice", "laptop", a2.owner)).toEqual({ removed: false, devices: 2 });
    await bp.join(base("r1", "bob", "b", { maxMembers: 2 }));
    expect(await bp.join(base("r1", "carol", "c", { maxMembers: 2 }))).toEqual({ ok: false, members: 2 });
    // An existing member's new device is not refused by the cap.
    expect(await bp.join(base("r1", "bob", "b2", { maxMembers: 2 }))).toMatchObject({ ok: true });
    expect(await bp.count("app_1", "r1")).toBe(2);
    const members = await bp.members("app_1", "r1");
    expect(members.map((m) => [m.identity, m.devices, m.name])).toEqual([
      ["alice", 2, "ALICE"],
      ["bob", 2, "BOB"],
    ]);
    // Member data is what the member's latest join said (the second device sent none).
    expect(members[0]?.data).toBeNull();
    expect(await bp.leaveDevice("app_1", "r1", "alice", "laptop", "n1/other")).toEqual({ removed: true, devices: 1 });
    expect(await bp.removeMember("app_1", "r1", "bob")).toBe(2);
    expect(await bp.removeMember("app_1", "r1", "bob")).toBe(0);
    expect(await bp.leaveDevice("app_1", "r1", "alice", "phone", a1.owner)).toEqual({ removed: true, devices: 0 });
    expect(await bp.members("app_1", "r1")).toEqual([]);
    // Another app's room of the same name is untouched by all of this.
    expect(await bp.count("app_2", "r1")).toBe(0);
  });

  test("broadcasts: offsets, history window, exclusion, delivery, and a fresh epoch for a recreated room", async (ctx) => {
    if (!make) return ctx.skip();
    const bp = open();
    await bp.ready();
    const seen: BackplaneEvent[] = [];
    bp.subscribe((e) => {
      if (e.appId === "app_1" && e.room === "r2") seen.push(e);
    });
    expect(await bp.publish("app_1", "r2", '"data":0}}', 3)).toBeUndefined();
    const j = await bp.join(base("r2", "alice", "d"));
    if (!j.ok) throw new Error("join refused");
    const offsets: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const r = await bp.publish("app_1", "r2", `"from":null,"data":${i},"sent_at":"t"}}`, 3, i === 5 ? "n1/x" : undefined);
      expect(r?.epoch).toBe(j.epoch);
      offsets.push(r?.offset ?? -1);
    }
    expect(offsets).toEqual([1, 2, 3, 4, 5]);
    bp.send("app_1", "r2", '{"type":"room.left","data":{}}');
    await collect(seen, 6);
    expect(seen.map((e) => (e.kind === "frame" ? (e.offset ?? "x") : "e"))).toEqual([1, 2, 3, 4, 5, "x"]);
    const fifth = seen[4];
    expect(fifth?.kind === "frame" && fifth.exclude).toBe("n1/x");
    expect(fifth?.kind === "frame" && JSON.parse(fifth.frame)).toEqual({
      type: "room.message",
      data: { room: "r2", epoch: j.epoch, offset: 5, from: null, data: 5, sent_at: "t" },
    });

    const all = await bp.history("app_1", "r2");
    expect([all.offset, all.recovered, all.frames.map((f) => f.offset)]).toEqual([5, false, [3, 4, 5]]);
    expect(JSON.parse(all.frames[0]?.frame ?? "null").data.data).toBe(3);
    const since = await bp.history("app_1", "r2", { epoch: j.epoch, offset: 3 });
    expect([since.recovered, since.frames.map((f) => f.offset)]).toEqual([true, [4, 5]]);
    expect((await bp.history("app_1", "r2", { epoch: j.epoch, offset: 2 })).recovered).toBe(true);
    expect((await bp.history("app_1", "r2", { epoch: j.epoch, offset: 1 })).recovered).toBe(false);
    expect((await bp.history("app_1", "r2", { epoch: "other", offset: 4 })).recovered).toBe(false);
    expect((await bp.history("app_1", "r2", { epoch: j.epoch, offset: 9 })).recovered).toBe(false);
    // keep 0 drops the history.
    await bp.publish("app_1", "r2", '"from":null,"data":6,"sent_at":"t"}}', 0);
    expect((await bp.history("app_1", "r2")).frames).toEqual([]);

    // Empty → gone; the next join starts a new epoch at offset 0.
    await bp.removeMember("app_1", "r2", "alice");
    const again = await bp.join(base("r2", "bob", "d"));
    expect(again).toMatchObject({ ok: true, offset: 0 });
    expect(again.ok && again.epoch).not.toBe(j.epoch);
  });

  test("evictions reach subscribers", async (ctx) => {
    if (!make) return ctx.skip();
    const bp = open();
    await bp.ready();
    const seen: BackplaneEvent[] = [];
    bp.subscribe((e) => seen.push(e));
    bp.evict("app_1", "r3", "mallory", "kicked");
    await collect(seen, 1);
    expect(seen).toEqual([{ kind: "evict", appId: "app_1", room: "r3", identity: "mallory", reason: "kicked" }]);
  });
});

describe.each(CONNECTORS)("room backplane over %s: two nodes", (_name, connect) => {
  const prefix = uniqueName("utd:test:sr2");
  const nodes: RedisBackplane[] = [];
  afterAll(async () => {
    for (const b of nodes) await b.close();
  });

  test("both nodes see one room in one order; a node that stops renewing has its members removed", async (ctx) => {
    if (!connect) return ctx.skip();
    const n1 = new RedisBackplane({ connect, nodeId: "n1", leaseS: 3, prefix });
    const n2 = new RedisBackplane({ connect, nodeId: "n2", leaseS: 3, prefix });
    nodes.push(n1);
    await Promise.all([n1.ready(), n2.ready()]);
    const on1: BackplaneEvent[] = [];
    const on2: BackplaneEvent[] = [];
    n1.subscribe((e) => on1.push(e));
    n2.subscribe((e) => on2.push(e));
    await n1.join(base("x", "alice", "a", { owner: "n1/c1" }));
    await n2.join(base("x", "bob", "b", { owner: "n2/c1" }));
    // Publishes from both nodes interleave; every node receives them in offset order.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? n1 : n2).publish("app_1", "x", `"from":null,"data":${i},"sent_at":"t"}}`, 5)),
    );
    await collect(on1, 20);
    await collect(on2, 20);
    const order = (evs: BackplaneEvent[]) => evs.map((e) => (e.kind === "frame" ? e.offset : -1));
    expect(order(on1)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(order(on2)).toEqual(order(on1));

    // Node 2 dies (closes without renewing, its lease lapses); node 1 removes bob and tells the room.
    on1.length = 0;
    await n2.close();
    await collect(on1, 1);
    for (let i = 0; i < 100 && on1.length === 0; i++) await sleep(100);
    const left = on1.find((e) => e.kind === "frame" && e.frame.includes('"room.left"'));
    expect(left?.kind === "frame" && JSON.parse(left.frame).data).toEqual({
      room: "x",
      identity: "bob",
      devices: 0,
      reason: "disconnected",
    });
    expect((await n1.members("app_1", "x")).map((m) => m.identity)).toEqual(["alice"]);
  }, 20_000);
});
