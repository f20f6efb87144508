import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisUrlOrSkip, uniqueName } from "../../../test/helpers/backends.js";
import type { TestApp } from "../../../test/helpers/engine.js";
import { type InProcessEngine, ManualClock, startInProcess } from "../../../test/helpers/inproc.js";
import { RedisStreams } from "../src/bus/streams-redis.js";
import { openStore, type Store } from "../src/index.js";
import { EVENT_CODEC, type PreparedEvent } from "../src/ws/stream.js";
import { type Frame, WsClient } from "./ws-helpers.js";

const redisUrl = await redisUrlOrSkip("user streams across engine nodes");

/**
 * Two engine nodes in this process sharing one store and Redis: a user's stream (epoch, seq, history)
 * lives in Redis, so a socket may resume on either node; a node that lost Redis for a while catches up.
 */
describe.skipIf(!redisUrl)("user streams on two engine nodes (Redis)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "utd-streams-mn-"));
  const clock = new ManualClock();
  const prefix = `${uniqueName("utd:test:mn")}:`;
  /** Node B's Redis connections, named so the test can cut them. */
  const bName = uniqueName("utd-test-node-b");
  let store: Store;
  let a: InProcessEngine;
  let b: InProcessEngine;
  let aWs: string;
  let bWs: string;
  let app: TestApp;
  let admin: Redis;
  const owned: RedisStreams<PreparedEvent>[] = [];
  const streamsOf = (name: string, retryMs: number) => {
    const s = new RedisStreams<PreparedEvent>({
      connect: () => new Redis(redisUrl as string, { connectionName: name, enableAutoPipelining: true, retryStrategy: () => retryMs }),
      codec: EVENT_CODEC,
      limits: { maxEvents: 50, ttlMs: 60_000 },
      prefix,
    });
    owned.push(s);
    return s;
  };

  beforeAll(async () => {
    store = await openStore({ dataDir });
    admin = new Redis(redisUrl as string);
    const ports = async (name: string, retryMs: number) => {
      const streams = streamsOf(name, retryMs);
      await streams.ready();
      return { store, streams };
    };
    // Node B reconnects to Redis only after a second: long enough to publish into the outage.
    a = await startInProcess({
      dataDir,
      clock,
      env: { REDIS_URL: redisUrl as string },
      ports: await ports(uniqueName("utd-test-node-a"), 50),
    });
    b = await startInProcess({ dataDir, clock, env: { REDIS_URL: redisUrl as string }, ports: await ports(bName, 1000) });
    aWs = (await a.listen()).wsUrl;
    bWs = (await b.listen()).wsUrl;
    app = await a.createApp();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await Promise.all(owned.map((s) => s.close()));
    await store?.close();
    admin?.disconnect();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const custom = (f: Frame) => f.type === "custom.n";
  const ns = (c: WsClient) => c.frames.filter(custom).map((f) => [f.seq, (f.data as { n: number }).n]);
  const publish = (node: InProcessEngine, identity: string, n: number) =>
    node.engine.events.toUsers(app.app_id, [identity], "custom.n" as never, { n } as never);

  it("a socket on node A disconnects; its resume on node B replays the gap (no resync_required), then live events flow", async () => {
    const token = (await a.session(app, "roamer")).user_token;
    const onA = await WsClient.connect(aWs, token);
    const epoch = onA.welcome?.epoch as string;
    for (let n = 1; n <= 3; n++) publish(a, "roamer", n);
    await onA.next((f) => custom(f) && f.seq === 3);
    onA.close();
    await onA.closed;
    // While nobody is connected, both nodes publish.
    for (let n = 4; n <= 9; n++) publish(n % 2 ? a : b, "roamer", n);
    // The stream's head is in Redis whoever published: wait until all six are there.
    const streams = streamsOf(uniqueName("utd-test-reader"), 50);
    for (let i = 0; i < 200 && (await streams.head(app.app_id, "roamer"))?.seq !== 9; i++) await new Promise((r) => setTimeout(r, 10));
    await streams.close();
    const onB = await WsClient.connect(bWs, token, { resume: { epoch, seq: 3 } });
    expect(onB.welcome).toMatchObject({ resumed: true, epoch, seq: 3 });
    await onB.next((f) => custom(f) && f.seq === 9);
    publish(a, "roamer", 10);
    await onB.next((f) => custom(f) && f.seq === 10);
    expect(onB.frames.some((f) => f.type === "resync_required")).toBe(false);
    // Seqs 4..10 once each, in order; the two nodes' concurrent publishes may take their seqs in either order.
    expect(ns(onB).map(([seq]) => seq)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(
      ns(onB)
        .map(([, n]) => n as number)
        .sort((x, y) => x - y),
    ).toEqual([4, 5, 6, 7, 8, 9, 10]);
    onB.close();
  });

  it("an event published while node B's Redis connection is down reaches B's socket once it is back, in order", async () => {
    const token = (await a.session(app, "steady")).user_token;
    const onB = await WsClient.connect(bWs, token);
    publish(a, "steady", 1);
    await onB.next((f) => custom(f) && f.seq === 1);
    // Cut every Redis connection of node B (its subscriber among them); it reconnects after a second.
    const list = (await admin.client("LIST")) as string;
    const ids = list
      .split("\n")
      .filter((l) => l.includes(` name=${bName} `))
      .map((l) => /id=(\d+)/.exec(l)?.[1]);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) await admin.client("KILL", "ID", id as string);
    publish(a, "steady", 2);
    publish(a, "steady", 3);
    // Both were appended while B was away (A's connection is fine)...
    const reader = streamsOf(uniqueName("utd-test-reader"), 50);
    for (let i = 0; i < 200 && (await reader.head(app.app_id, "steady"))?.seq !== 3; i++) await new Promise((r) => setTimeout(r, 10));
    await reader.close();
    // ...and B, back on Redis, catches up: every event once, in order, no resync needed.
    await onB.next((f) => custom(f) && f.seq === 3);
    publish(a, "steady", 4);
    await onB.next((f) => custom(f) && f.seq === 4);
    expect(ns(onB)).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
    expect(onB.frames.some((f) => f.type === "resync_required")).toBe(false);
    onB.close();
  });

  it("a stream whose history Redis lost: its sockets are told to reconnect, and the resume answers resync_required", async () => {
    const token = (await a.session(app, "unlucky")).user_token;
    const onA = await WsClient.connect(aWs, token);
    publish(b, "unlucky", 1);
    await onA.next((f) => custom(f) && f.seq === 1);
    const epoch = onA.welcome?.epoch as string;
    // What a Redis restart without persistence does to this stream.
    await admin.del(`${prefix}{${app.app_id}:unlucky}:m`, `${prefix}{${app.app_id}:unlucky}:x`);
    const { code } = await new Promise<{ code: number }>((resolve) => {
      // The next publish finds no stream; node A learns of the loss when it next checks (a reconnect) —
      // force that check through a second socket's resume from the lost epoch.
      void onA.closed.then(resolve);
      void WsClient.connect(bWs, token, { resume: { epoch, seq: 1 } }).then((c) => {
        expect(c.welcome).toMatchObject({ resumed: false });
        expect(c.frames.some((f) => f.type === "resync_required")).toBe(true);
        expect(c.welcome?.epoch).not.toBe(epoch);
        c.close();
        // Node A still holds the old epoch: a newer one published reaches it and resets its sockets.
        publish(b, "unlucky", 2);
      });
    });
    expect(code).toBe(1001);
  });
});
