import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RoomMessageData } from "@utd-stream/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { has } from "../../../test/helpers/backends.js";
import type { TestApp } from "../../../test/helpers/engine.js";
import { type InProcessEngine, ManualClock, startInProcess } from "../../../test/helpers/inproc.js";
import { type LocalRedisCluster, startRedisCluster } from "../../../test/helpers/redis-cluster.js";
import { openStore, type Store } from "../src/index.js";
import { type Frame, WsClient } from "./ws-helpers.js";

const ready = await has("redis-cluster", "engines on a Redis Cluster");

/** Two engine nodes configured with `UTD_REDIS_CLUSTER` alone: bus, limits, user streams and signalling rooms on a 3-master Redis Cluster. */
describe.skipIf(!ready)("two engine nodes on a Redis Cluster (UTD_REDIS_CLUSTER)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "utd-rc-engine-"));
  let cluster: LocalRedisCluster;
  let store: Store;
  let a: InProcessEngine;
  let b: InProcessEngine;
  let app: TestApp;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    store = await openStore({ dataDir });
    const clock = new ManualClock();
    const env = { UTD_REDIS_CLUSTER: cluster.env };
    a = await startInProcess({ dataDir, clock, env, ports: { store } });
    b = await startInProcess({ dataDir, clock, env, ports: { store } });
    app = await a.createApp();
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await store?.close();
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("events published on one node reach a socket on the other; a resume on the first replays the gap", async () => {
    const token = (await a.session(app, "rc-user")).user_token;
    const onB = await WsClient.connect((await b.listen()).wsUrl, token);
    const custom = (f: Frame) => f.type === "custom.n";
    const publish = (n: number) => a.engine.events.toUsers(app.app_id, ["rc-user"], "custom.n" as never, { n } as never);
    publish(1);
    await onB.next((f) => custom(f) && f.seq === 1);
    onB.close();
    await onB.closed;
    await publish(2);
    await publish(3);
    const onA = await WsClient.connect((await a.listen()).wsUrl, token, { resume: { epoch: onB.welcome?.epoch as string, seq: 1 } });
    expect(onA.welcome).toMatchObject({ resumed: true, seq: 1 });
    await onA.next((f) => custom(f) && f.seq === 3);
    expect(onA.frames.filter(custom).map((f) => f.seq)).toEqual([2, 3]);
    onA.close();
  });

  it("a signalling room spans both nodes: members, and broadcasts in one offset order", async () => {
    const on = async (node: InProcessEngine, identity: string) =>
      WsClient.connect((await node.listen()).wsUrl, (await node.session(app, identity)).user_token);
    const alice = await on(a, "rc-alice");
    const bob = await on(b, "rc-bob");
    await alice.request("room.join", { room: "rc-party" });
    expect(await bob.request("room.join", { room: "rc-party" })).toMatchObject({ ok: true, data: { members: 2 } });
    await alice.request("room.publish", { room: "rc-party", data: "from a" });
    await bob.request("room.publish", { room: "rc-party", data: "from b" });
    // Each side gets the other's broadcast (a publisher does not get its own back), with the offsets of one sequence.
    const got = (c: WsClient, text: string) => c.event<RoomMessageData>("room.message", (d) => d.data === text);
    expect((await got(bob, "from a")).data.offset).toBe(1);
    expect((await got(alice, "from b")).data.offset).toBe(2);
    alice.close();
    bob.close();
  });
});
