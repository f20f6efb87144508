import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { dispose } from "@livekit/rtc-node";
import { Redis } from "ioredis";
import { RoomServiceClient } from "livekit-server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { has, IN_CI } from "../../../test/helpers/backends.js";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { type LiveKitServer, startLiveKit } from "../../../test/helpers/livekit.js";
import { freePort } from "../../../test/helpers/net.js";
import { RtcPeer } from "../../../test/helpers/rtc-peer.js";

/**
 * LiveKit as a cluster (issue 15): two livekit-server nodes share a Redis (LiveKit's multi-node mode).
 * The engine talks to one of them, unchanged; LiveKit places each call's room on either node and relays
 * signalling through Redis. Two calls land on different nodes (LiveKit's `room_node_map` says which),
 * and real audio flows in both (each side detects the other's tone).
 *
 * LiveKit's Redis keys have no prefix, so the cluster gets a redis-server of its own on a free port.
 */
const REDIS_SERVER = "redis-server";
const WHAT = "two-node LiveKit tests";
/** redis-server (Debian `redis-server`), for the cluster's own Redis; same skip policy as the other services. */
function hasRedisServer(): boolean {
  if (spawnSync(REDIS_SERVER, ["--version"]).status === 0) return true;
  const msg = `${REDIS_SERVER} is not available (apt-get install -y redis-server)`;
  if (IN_CI) throw new Error(`${msg}; CI=true requires it`);
  process.stderr.write(`\n⚠️  SKIPPING ${WHAT}: ${msg}\n\n`);
  return false;
}
const livekitHere = (await has("livekit", WHAT)) && hasRedisServer();

interface CallMedia {
  token: string;
  url: string;
  room_name: string;
}

describe.skipIf(!livekitHere)("calls on a two-node LiveKit cluster", () => {
  let redis: ChildProcess | undefined;
  let redisClient: Redis;
  const livekits: LiveKitServer[] = [];
  let engine: RunningEngine;
  let app: TestApp;
  const peers: RtcPeer[] = [];

  beforeAll(async () => {
    const redisPort = await freePort();
    redis = spawn(REDIS_SERVER, ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    // Until it accepts connections (a fresh client per try: ioredis retries a failed connect by itself).
    for (let i = 0; ; i++) {
      const probe = new Redis(redisPort, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on("error", () => {});
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        break;
      } catch (err) {
        probe.disconnect();
        if (i > 50) throw new Error(`redis-server on ${redisPort} did not start: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    redisClient = new Redis(redisPort, "127.0.0.1", { maxRetriesPerRequest: 1 });
    const enginePort = await freePort();
    const webhook = `http://127.0.0.1:${enginePort}/api/v1/livekit/webhook`;
    for (let i = 0; i < 2; i++) {
      const lk = await startLiveKit(webhook, { redisAddress: `127.0.0.1:${redisPort}`, what: WHAT });
      if (!lk) throw new Error("LiveKit did not start");
      livekits.push(lk);
    }
    // Both nodes registered and reporting stats (a node is only given rooms once it has reported).
    await until(async () => (await redisClient.hlen("nodes")) === 2, 20_000, "two LiveKit nodes in Redis");
    const lk = livekits[0] as LiveKitServer;
    engine = await startEngine({
      env: {
        UTD_PORT: String(enginePort),
        UTD_CALL_RING_TIMEOUT_S: "30",
        LIVEKIT_URL: lk.url,
        LIVEKIT_API_KEY: lk.apiKey,
        LIVEKIT_API_SECRET: lk.apiSecret,
      },
    });
    app = await engine.createApp();
  });
  afterAll(async () => {
    for (const p of peers) await p.leave();
    await engine?.stop();
    for (const lk of livekits) await lk.stop();
    redisClient?.disconnect();
    redis?.kill("SIGTERM");
    await dispose();
  });

  async function until(pred: () => Promise<boolean>, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await pred())) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Places and answers a call between two fresh users; resolves once LiveKit has placed its room. */
  async function answeredCall(n: number) {
    const caller = `mc-a${n}`;
    const callee = `mc-b${n}`;
    const [a, b] = await Promise.all([engine.session(app, caller), engine.session(app, callee)]);
    const r = await engine.request<{ id: string }>("POST", "/api/v1/calls", {
      token: a.user_token,
      body: { callee_identity: callee, type: "audio_call" },
    });
    expect(r.status).toBe(201);
    const acc = await engine.request("POST", `/api/v1/calls/${r.body.id}/accept`, { token: b.user_token, body: {} });
    expect(acc.status).toBe(200);
    const room = `${app.app_id}:call:${r.body.id}`;
    let node: string | null = null;
    await until(
      async () => {
        node = await redisClient.hget("room_node_map", room);
        return node !== null;
      },
      10_000,
      `LiveKit placing ${room}`,
    );
    return { id: r.body.id, room, node: node as unknown as string, caller, callee, a: a.user_token, b: b.user_token };
  }

  it("places two calls on different LiveKit nodes; audio flows in both", async () => {
    // LiveKit picks a node per room (its node selector); place calls until two rooms sit on different nodes.
    const first = await answeredCall(0);
    let second = await answeredCall(1);
    let placed = 2;
    for (; second.node === first.node && placed < 16; placed++) second = await answeredCall(placed);
    const nodeIds = await redisClient.hkeys("nodes");
    process.stderr.write(
      `\n[livekit cluster] nodes ${nodeIds.join(", ")}; ${placed} calls placed; two of them in rooms on ${first.node} and ${second.node}\n`,
    );
    expect(nodeIds).toHaveLength(2);
    expect(nodeIds).toContain(first.node);
    expect(nodeIds).toContain(second.node);
    expect(second.node).not.toBe(first.node);

    // Both rooms are visible from either node's RoomService (the cluster shares its room list).
    for (const lk of livekits) {
      const svc = new RoomServiceClient(lk.url.replace(/^ws/, "http"), lk.apiKey, lk.apiSecret);
      const names = (await svc.listRooms([first.room, second.room])).map((r) => r.name).sort();
      expect(names).toEqual([first.room, second.room].sort());
    }

    // The engine is unchanged: its tokens and its one LiveKit URL work whichever node holds the room.
    const t0 = performance.now();
    await Promise.all(
      [first, second].map(async (call, k) => {
        const token = (bearer: string) => engine.request<CallMedia>("POST", `/api/v1/calls/${call.id}/token`, { token: bearer });
        const [ta, tb] = await Promise.all([token(call.a), token(call.b)]);
        expect([ta.status, tb.status]).toEqual([200, 200]);
        const [pa, pb] = await Promise.all([
          RtcPeer.join(call.caller, ta.body.url, ta.body.token),
          RtcPeer.join(call.callee, tb.body.url, tb.body.token),
        ]);
        peers.push(pa, pb);
        const [ha, hb] = k === 0 ? [440, 660] : [550, 880];
        await Promise.all([pa.publishTone(ha), pb.publishTone(hb)]);
        await Promise.all([pa.detectTone(call.callee, hb, 20_000), pb.detectTone(call.caller, ha, 20_000)]);
      }),
    );
    process.stderr.write(`[livekit cluster] both calls hearing each other's tones after ${(performance.now() - t0).toFixed(0)} ms\n`);
    // The rooms stayed where LiveKit put them.
    expect(await redisClient.hget("room_node_map", first.room)).toBe(first.node);
    expect(await redisClient.hget("room_node_map", second.room)).toBe(second.node);
  }, 90_000);
});
