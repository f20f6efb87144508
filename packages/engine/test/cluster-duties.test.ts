import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Presence } from "@utd-stream/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisUrlOrSkip } from "../../../test/helpers/backends.js";
import type { TestApp } from "../../../test/helpers/engine.js";
import { type InProcessEngine, ManualClock, startInProcess } from "../../../test/helpers/inproc.js";
import { MemoryBusHub } from "../src/bus/memory.js";
import { MemoryStreamHub, openStore, type Store } from "../src/index.js";
import type { PreparedEvent } from "../src/ws/stream.js";
import { WsClient } from "./ws-helpers.js";

/**
 * Duties that must happen once per cluster, not once per node: two engine nodes in this process share
 * one store, one bus and one set of user streams (in-process hubs), and one injected clock.
 */
describe("cluster duties on two engine nodes", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "utd-duties-"));
  const clock = new ManualClock();
  let store: Store;
  let a: InProcessEngine;
  let b: InProcessEngine;
  let aWs: string;
  let bWs: string;
  let app: TestApp;
  const open: WsClient[] = [];
  beforeAll(async () => {
    store = await openStore({ dataDir });
    const buses = new MemoryBusHub();
    const streams = new MemoryStreamHub<PreparedEvent>({ maxEvents: 500 });
    const env = { UTD_CALL_RING_TIMEOUT_S: "30" };
    a = await startInProcess({ dataDir, clock, env, ports: { store, bus: buses.bus(), streams: streams.node() } });
    b = await startInProcess({ dataDir, clock, env, ports: { store, bus: buses.bus(), streams: streams.node() } });
    aWs = (await a.listen()).wsUrl;
    bWs = (await b.listen()).wsUrl;
    app = await a.createApp();
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await a?.close();
    await b?.close();
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const connect = async (node: string, identity: string) => {
    const c = await WsClient.connect(node, (await a.session(app, identity)).user_token);
    open.push(c);
    return c;
  };

  it("a ring timeout fires once however many nodes sweep: one call.missed per device", async () => {
    const caller = await connect(aWs, "r-caller");
    const callee = await connect(bWs, "r-callee");
    const token = (await a.session(app, "r-caller")).user_token;
    const created = await b.request<{ id: string }>("POST", "/api/v1/calls", {
      token,
      body: { callee_identity: "r-callee", type: "audio_call" },
    });
    expect(created.status).toBe(201);
    await callee.event<{ call: { id: string } }>("call.incoming", (x) => x.call.id === created.body.id);
    clock.advance(31_000);
    const swept = await Promise.all([a.engine.services.calls.sweep(), b.engine.services.calls.sweep(), a.engine.services.calls.sweep()]);
    expect(swept.reduce((x, y) => x + y, 0)).toBe(1);
    for (const c of [caller, callee]) await c.event("call.missed");
    // A marker event behind it: nothing more was coming.
    a.engine.events.toUsers(app.app_id, ["r-caller", "r-callee"], "custom.mark" as never, {} as never);
    for (const c of [caller, callee]) {
      await c.event("custom.mark");
      expect(c.events().filter((f) => f.type === "call.missed")).toHaveLength(1);
    }
  });

  it("typing expiry fires once: the indicator lives on the typer's node only", async () => {
    const typer = await connect(aWs, "t-typer");
    const reader = await connect(bWs, "t-reader");
    expect(await typer.request("typing.start", { to: "t-reader" })).toMatchObject({ ok: true });
    await reader.event("typing.started");
    clock.advance(a.engine.services.realtime.config.typingTtlS * 1000 + 1);
    a.engine.services.typing.sweep();
    b.engine.services.typing.sweep();
    a.engine.services.typing.sweep();
    await reader.event("typing.stopped");
    a.engine.events.toUsers(app.app_id, ["t-reader"], "custom.mark" as never, {} as never);
    await reader.event("custom.mark");
    expect(reader.events().filter((f) => f.type === "typing.stopped")).toHaveLength(1);
  });

  it("a node that stops renewing its presence lease (dead): its users go offline for watchers on other nodes, once", async () => {
    const watcher = await connect(aWs, "p-watcher");
    await watcher.request("presence.watch", { identities: ["p-victim"] });
    await connect(bWs, "p-victim");
    await watcher.event<Presence>("presence.changed", (p) => p.identity === "p-victim" && p.status === "online");
    // Node B dies: no more lease renewals (its socket is never closed cleanly).
    await b.engine.services.presence.stop();
    clock.advance(a.engine.services.realtime.config.presenceLeaseS * 1000 + 1);
    // Node A's own users renew; then every surviving sweeper runs (twice, concurrently).
    await a.engine.services.presence.renewNow();
    await Promise.all([a.engine.services.presence.sweep(), a.engine.services.presence.sweep()]);
    await watcher.event<Presence>("presence.changed", (p) => p.identity === "p-victim" && p.status === "offline");
    a.engine.events.toUsers(app.app_id, ["p-watcher"], "custom.mark" as never, {} as never);
    await watcher.event("custom.mark");
    expect(watcher.events().filter((f) => f.type === "presence.changed" && (f.data as Presence).status === "offline")).toHaveLength(1);
    const token = (await a.session(app, "p-watcher")).user_token;
    const now = await a.request<{ presence: Presence[] }>("GET", "/api/v1/presence?identities=p-victim", { token });
    expect(now.body.presence[0]?.status).toBe("offline");
  });
});

const redisUrl = await redisUrlOrSkip("shared rate limits");

describe.skipIf(!redisUrl)("rate limits shared by the nodes (Redis)", () => {
  it("a user's request budget is one budget whichever node the requests reach", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "utd-rl-"));
    const store = await openStore({ dataDir });
    const env = { REDIS_URL: redisUrl as string, UTD_RATE_REQUESTS_USER: "4/0.001" };
    const a = await startInProcess({ dataDir, env, ports: { store } });
    const b = await startInProcess({ dataDir, env, ports: { store } });
    try {
      const app = await a.createApp();
      const token = (await a.session(app, "rl-user")).user_token;
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await (i % 2 ? a : b).request("GET", "/api/v1/presence?identities=x", { token })).status);
      expect(statuses.slice(0, 4).every((s) => s === 200)).toBe(true);
      expect(statuses.slice(4)).toEqual([429, 429]);
    } finally {
      await a.close();
      await b.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
