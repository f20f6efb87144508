import { execFileSync } from "node:child_process";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { type OwnService, ownRedis } from "../../bench/cluster/services.js";
import { RedisStreams } from "../../packages/engine/src/bus/streams-redis.js";
import { has } from "../helpers/backends.js";

/**
 * A Redis that restarts with its data (append-only file) under a node holding user streams. Found by the
 * chaos bench (`CLUSTER_REDIS_MODE=persist`): while Redis loads its data, ioredis writes a SUBSCRIBE at
 * once (SUBSCRIBE is allowed during loading) but keeps an UNSUBSCRIBE queued during the outage until
 * ready, so a stream released during the outage and held again during the loading ended up
 * unsubscribed: its sockets were welcomed and then heard nothing more (hundreds of messages "lost").
 */
const ready = await has("redis-cluster", "Redis restart tests (redis-server binary)");

describe.skipIf(!ready)("user streams across a Redis restart that keeps the data", () => {
  let redis: OwnService | undefined;
  const clients: Redis[] = [];
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis?.stop();
  });

  it("a stream released during the outage and held again while Redis loads still gets its events", async () => {
    redis = await ownRedis("persist");
    const url = redis.url;
    const port = new URL(url).port;
    // Enough data that loading it takes a while (ioredis then waits at least a second before ready),
    // written into the append-only file's base.
    execFileSync("redis-cli", ["-p", port, "DEBUG", "POPULATE", "2000000", "fill"]);
    execFileSync("redis-cli", ["-p", port, "BGREWRITEAOF"]);
    for (let i = 0; i < 300; i++) {
      const info = execFileSync("redis-cli", ["-p", port, "INFO", "persistence"], { encoding: "utf8" });
      if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // Commands wait through the outage (no retry limit), so the UNSUBSCRIBE below stays queued.
    const connect = () => {
      const c = new Redis(url, { enableAutoPipelining: true, maxRetriesPerRequest: null, retryStrategy: () => 100 });
      c.on("error", () => {});
      clients.push(c);
      return c;
    };
    const limits = { maxEvents: 100, ttlMs: 600_000 };
    const codec = { encode: (e: string) => e, decode: (t: string) => t };
    const node = new RedisStreams<string>({ connect, codec, limits, prefix: "t:" });
    const sub = clients[1] as Redis; // the node's subscription connection (made second)
    const heard: string[] = [];
    node.listen({ event: (_app, id, _epoch, seq, ev) => heard.push(`${id}:${seq}:${ev}`) });
    await node.ready();
    await node.hold("app", "alice", "first");

    await redis.down();
    // Released during the outage: the UNSUBSCRIBE waits in ioredis's offline queue.
    node.release("app", "alice");
    const starting = redis.up();
    // Held again while Redis is loading its data: ioredis has connected but is not ready yet.
    for (let i = 0; i < 600 && sub.status !== "connect"; i++) await new Promise((r) => setTimeout(r, 10));
    expect(sub.status).toBe("connect");
    const held = node.hold("app", "alice", "second");
    await starting;
    const head = await held;
    for (let i = 0; i < 600 && sub.status !== "ready"; i++) await new Promise((r) => setTimeout(r, 10));
    // Give the node's own after-reconnect work a moment, then publish from another node.
    await new Promise((r) => setTimeout(r, 500));
    const other = new RedisStreams<string>({ connect, codec, limits, prefix: "t:" });
    await other.ready();
    await other.publish("app", ["alice"], "hello");
    for (let i = 0; i < 500 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(heard).toEqual([`alice:${head.seq + 1}:hello`]);
    await Promise.all([node.close(), other.close()]);
  }, 180_000);
});
