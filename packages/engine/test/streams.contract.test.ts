import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import { backends, describeBackends, type Impl, REDIS_URL, uniqueName } from "../../../test/helpers/backends.js";
import { type LocalRedisCluster, startRedisCluster } from "../../../test/helpers/redis-cluster.js";
import { redisConnector } from "../src/bus/redis-client.js";
import type { StreamLimits, UserStreams } from "../src/bus/streams.js";
import { MemoryStreamHub } from "../src/bus/streams-memory.js";
import { RedisStreams } from "../src/bus/streams-redis.js";

/** What a node heard: `identity:seq:event` in arrival order, per node. */
type Heard = string[];

const LIMITS: StreamLimits = { maxEvents: 10, ttlMs: 60_000 };
const identity = { encode: (e: string) => e, decode: (t: string) => t };

let cluster: LocalRedisCluster | undefined;
const impls = await backends("streams");

/** The user-stream port's contract, over every implementation (test/helpers/backends.ts decides which run here). */
describeBackends(impls, "user streams contract", (impl: Impl<"streams">) => {
  const open: UserStreams<string>[] = [];
  let makeNodes: (n: number) => UserStreams<string>[];
  beforeAll(async () => {
    if (impl === "in-process") {
      const hub = new MemoryStreamHub<string>(LIMITS);
      makeNodes = (n) => Array.from({ length: n }, () => hub.node());
      return;
    }
    if (impl === "redis-cluster") cluster = await startRedisCluster();
    const connect =
      impl === "redis"
        ? () => new Redis(REDIS_URL, { enableAutoPipelining: true })
        : (redisConnector({ cluster: cluster?.nodes }) as () => Redis);
    // A key prefix of our own: other engines and test runs share this Redis.
    const prefix = `${uniqueName("utd:test:s")}:`;
    makeNodes = (n) => Array.from({ length: n }, () => new RedisStreams<string>({ connect, codec: identity, limits: LIMITS, prefix }));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(open.map((s) => s.close()));
    await cluster?.stop();
    cluster = undefined;
  });

  const nodes = async (n: number) => {
    const list = makeNodes(n);
    open.push(...list);
    await Promise.all(list.map((s) => s.ready()));
    const heard: Heard[] = list.map(() => []);
    list.forEach((s, i) => {
      s.listen({ event: (_app, id, _epoch, seq, ev) => heard[i]?.push(`${id}:${seq}:${ev}`) });
    });
    return { list, heard };
  };

  async function until(f: () => boolean | Promise<boolean>, what: string): Promise<void> {
    const end = Date.now() + 5000;
    while (!(await f())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  /** Publishes are fire-and-forget: wait until the stream's head reaches `seq`. */
  const headAt = (s: UserStreams<string>, app: string, id: string, seq: number) =>
    until(async () => (await s.head(app, id))?.seq === seq, `${id} at seq ${seq}`);

  test("publishing assigns each stream its own seq, rising by one; holders on every node get each event once, in order", async () => {
    const { list, heard } = await nodes(3);
    const [a, b, c] = list as [UserStreams<string>, UserStreams<string>, UserStreams<string>];
    const h1 = await a.hold("app", "u1");
    const h2 = await b.hold("app", "u1");
    expect(h1.seq).toBe(0);
    expect(h2).toEqual(h1);
    await b.hold("app", "u2");
    // Publishes from all three nodes, interleaved.
    for (let i = 1; i <= 6; i++) (list[i % 3] as UserStreams<string>).publish("app", i % 2 ? ["u1", "u2"] : ["u1"], `e${i}`);
    await headAt(c, "app", "u1", 6);
    await headAt(c, "app", "u2", 3);
    await until(() => heard[0]?.length === 6 && heard[1]?.length === 9, "deliveries");
    const seqsOf = (h: Heard, id: string) => h.filter((x) => x.startsWith(`${id}:`)).map((x) => Number(x.split(":")[1]));
    expect(seqsOf(heard[0] as Heard, "u1")).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seqsOf(heard[1] as Heard, "u1")).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seqsOf(heard[1] as Heard, "u2")).toEqual([1, 2, 3]);
    // Route, don't broadcast: the node holding nothing heard nothing, node a nothing of u2.
    expect(heard[2]).toEqual([]);
    expect(seqsOf(heard[0] as Heard, "u2")).toEqual([]);
    // Whatever node published it, each seq carries the event published at that point of the stream.
    const bySeq = new Map((heard[1] as Heard).filter((x) => x.startsWith("u2:")).map((x) => [x.split(":")[1], x.split(":")[2]]));
    expect([...bySeq.values()].sort()).toEqual(["e1", "e3", "e5"]);
  });

  test("any node replays a gap with since(); nothing to replay is []; another epoch, a seq ahead or a gap past the window is null", async () => {
    const { list } = await nodes(2);
    const [a, b] = list as [UserStreams<string>, UserStreams<string>];
    const { epoch } = await a.hold("app", "r1");
    for (let i = 1; i <= 8; i++) a.publish("app", ["r1"], `m${i}`);
    await headAt(b, "app", "r1", 8);
    // b holds nothing of r1: it still reads the history (a reconnect may land anywhere).
    expect(await b.since("app", "r1", epoch, 5)).toEqual([
      { seq: 6, ev: "m6" },
      { seq: 7, ev: "m7" },
      { seq: 8, ev: "m8" },
    ]);
    expect(await b.since("app", "r1", epoch, 8)).toEqual([]);
    expect(await b.since("app", "r1", "another-epoch", 5)).toBeNull();
    expect(await b.since("app", "r1", epoch, 9)).toBeNull();
    expect(await b.since("app", "nobody", epoch, 0)).toBeNull();
    // 40 more: the window (10 kept; Redis trims approximately, at least 10) no longer covers seq 0.
    for (let i = 9; i <= 48; i++) a.publish("app", ["r1"], `m${i}`);
    await headAt(b, "app", "r1", 48);
    expect(await b.since("app", "r1", epoch, 0)).toBeNull();
    const recent = await b.since("app", "r1", epoch, 40);
    expect(recent?.map((e) => e.seq)).toEqual([41, 42, 43, 44, 45, 46, 47, 48]);
  });

  test("a stream nobody holds or held stores nothing; the first hold starts a fresh epoch at seq 0", async () => {
    const { list } = await nodes(2);
    const [a, b] = list as [UserStreams<string>, UserStreams<string>];
    a.publish("app", ["ghost"], "lost");
    b.publish("app", ["ghost2", "ghost"], "lost");
    // A published marker on a held stream orders the check after the publishes above.
    await a.hold("app", "marker");
    b.publish("app", ["ghost", "marker"], "x");
    await headAt(a, "app", "marker", 1);
    expect(await a.head("app", "ghost")).toBeUndefined();
    const h = await b.hold("app", "ghost");
    expect(h.seq).toBe(0);
    const other = await a.hold("app", "ghost-other");
    expect(other.epoch).not.toBe(h.epoch);
  });

  test("watchers: publishToWatchers reaches each watcher and each named identity once, whichever nodes hold them", async () => {
    const { list, heard } = await nodes(3);
    const [a, b, c] = list as [UserStreams<string>, UserStreams<string>, UserStreams<string>];
    // w1 is held (and watches s) on two nodes; w2 on one; x is named directly and also watches s.
    for (const [n, id] of [
      [a, "w1"],
      [b, "w1"],
      [b, "w2"],
      [c, "x"],
    ] as const) {
      await n.hold("app", id);
      n.watch("app", id, ["s"]);
    }
    await b.hold("app", "bystander");
    // Watching subscribes asynchronously in Redis; a hold on each node afterwards is answered after it.
    for (const n of list) await n.hold("app", "settle");
    c.publishToWatchers("app", "s", ["x"], "p1");
    await headAt(a, "app", "w1", 1);
    await headAt(a, "app", "w2", 1);
    await headAt(a, "app", "x", 1);
    expect((await a.head("app", "bystander"))?.seq).toBe(0);
    // Once unwatched everywhere, w1 gets nothing more; w2 and x still do.
    a.unwatch("app", "w1", ["s"]);
    b.unwatch("app", "w1", ["s"]);
    c.publishToWatchers("app", "s", [], "p2");
    await headAt(a, "app", "w2", 2);
    await headAt(a, "app", "x", 2);
    c.publish("app", ["w1"], "direct");
    await headAt(a, "app", "w1", 2);
    expect(await a.since("app", "w1", (await a.head("app", "w1"))?.epoch as string, 1)).toEqual([{ seq: 2, ev: "direct" }]);
    await until(() => (heard[0]?.filter((x) => x.startsWith("w1:")).length ?? 0) >= 2, "w1 deliveries on a");
    expect(heard[0]?.filter((x) => x.startsWith("w1:"))).toEqual(["w1:1:p1", "w1:2:direct"]);
    await until(() => (heard[2]?.filter((x) => x.startsWith("x:")).length ?? 0) >= 2, "x deliveries on c");
    expect(heard[2]?.filter((x) => x.startsWith("x:"))).toEqual(["x:1:p1", "x:2:p2"]);
  });

  test("a publish with a once id is appended once per stream however often it is repeated, from any node", async () => {
    const { list, heard } = await nodes(2);
    const [a, b] = list as [UserStreams<string>, UserStreams<string>];
    const { epoch } = await a.hold("app", "o1");
    await b.hold("app", "o2");
    a.publish("app", ["o1"], "first", "msg-1");
    // A retry on another node reaches o1 (already has it: skipped) and o2 (never got it: appended).
    b.publish("app", ["o1", "o2"], "first", "msg-1");
    a.publish("app", ["o1"], "second", "msg-2");
    a.publish("app", ["o1"], "plain");
    a.publish("app", ["o1"], "plain");
    await headAt(b, "app", "o1", 4);
    await headAt(b, "app", "o2", 1);
    expect((await b.since("app", "o1", epoch, 0))?.map((e) => e.ev)).toEqual(["first", "second", "plain", "plain"]);
    await until(() => heard[0]?.length === 4, "o1 deliveries");
    expect(heard[0]).toEqual(["o1:1:first", "o1:2:second", "o1:3:plain", "o1:4:plain"]);
  });

  test("release: the node stops hearing the stream; others holding it still do", async () => {
    const { list, heard } = await nodes(2);
    const [a, b] = list as [UserStreams<string>, UserStreams<string>];
    await a.hold("app", "rel");
    await b.hold("app", "rel");
    a.publish("app", ["rel"], "one");
    await until(() => heard[0]?.length === 1 && heard[1]?.length === 1, "first event on both");
    a.release("app", "rel");
    b.publish("app", ["rel"], "two");
    await until(() => heard[1]?.length === 2, "second event on b");
    b.publish("app", ["rel"], "three");
    await until(() => heard[1]?.length === 3, "third event on b");
    expect(heard[0]).toEqual(["rel:1:one"]);
    expect(heard[1]).toEqual(["rel:1:one", "rel:2:two", "rel:3:three"]);
  });
});
