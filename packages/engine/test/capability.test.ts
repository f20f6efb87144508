import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  backends,
  describeBackends,
  type FreshPostgres,
  type FreshStore,
  freshPostgres,
  freshStore,
  redisUrlOrSkip,
  uniqueName,
} from "../../../test/helpers/backends.js";
import type { TestApp } from "../../../test/helpers/engine.js";
import { type InProcessEngine, startInProcess } from "../../../test/helpers/inproc.js";
import { withLatency } from "../../../test/helpers/latency.js";
import { RedisBus } from "../src/bus/redis.js";
import { openStore, type Store } from "../src/index.js";
import { WsClient } from "./ws-helpers.js";

/**
 * An admin change (capability switch, ban) is in force on every open socket of the node before the admin
 * call returns, and on other nodes within one bus round trip. The store answers reads of `apps` late on
 * purpose (helpers/latency.ts): on a loaded machine the engine's re-read of the app can lose the race
 * against the client's next frame; here it always would, if the engine did not wait for it.
 */

interface Msg {
  client_msg_id: string | null;
}

/** A pro app (chat and signalling on), sessions for `ids`, and a group of all of them. */
async function setup(node: InProcessEngine, ids: string[]): Promise<{ app: TestApp; t: Record<string, string>; group: string }> {
  const app = await node.createApp({ plan: "pro" });
  const t: Record<string, string> = {};
  for (const id of ids) t[id] = (await node.session(app, id)).user_token;
  const [first, ...rest] = ids as [string, ...string[]];
  const g = await node.request<{ id: string }>("POST", "/api/v1/conversations", {
    token: t[first] as string,
    body: { kind: "group", members: rest },
  });
  expect(g.status).toBe(201);
  return { app, t, group: g.body.id };
}

const history = async (node: InProcessEngine, group: string, token: string) =>
  (await node.request<{ messages: Msg[] }>("GET", `/api/v1/conversations/${group}/messages`, { token })).body.messages.map(
    (m) => m.client_msg_id,
  );

describeBackends(await backends("store"), "admin changes are in force on the node's sockets when the call returns", (impl) => {
  let db: FreshStore | undefined;
  let base: Store;
  let node: InProcessEngine;
  let wsUrl: string;
  /** Set by an update of `apps`: the next read of `apps` (the gateway's re-read) comes back 300 ms late. */
  let slowNextAppRead = false;

  beforeAll(async () => {
    db = await freshStore(impl);
    if (!db) return;
    base = await openStore(db.storeOptions);
    const store = withLatency(base, (q) => {
      if (q.table !== "apps") return 0;
      if (q.kind === "update") slowNextAppRead = true;
      else if (q.kind === "select" && slowNextAppRead) {
        slowNextAppRead = false;
        return 300;
      }
      return 0;
    });
    node = await startInProcess({ ports: { store } });
    ({ wsUrl } = await node.listen());
  });
  afterAll(async () => {
    await node?.close();
    await base?.close();
    await db?.drop();
  });

  it("chat switched off refuses the very next frame; switched back on, the next frame passes (five times)", async () => {
    const { app, t, group } = await setup(node, ["a", "b"]);
    const wa = await WsClient.connect(wsUrl, t.a as string);
    const send = (id: string) => wa.request("message.send", { conversation_id: group, client_msg_id: id, text: id });
    const patch = async (on: boolean) =>
      expect((await node.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { messaging_enabled: on })).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      await patch(false);
      expect(await send(`off${i}`)).toMatchObject({ ok: false, error: { code: "feature_disabled", capability: "chat" } });
      await patch(true);
      expect(await send(`on${i}`)).toMatchObject({ ok: true });
    }
    expect((await history(node, group, t.b as string)).sort()).toEqual(Array.from({ length: 5 }, (_, i) => `on${i}`).sort());
    wa.close();
  });

  it("every open socket of the app, on every device, follows the switch", async () => {
    const { app, t, group } = await setup(node, ["c", "d"]);
    const sockets = await Promise.all([
      WsClient.connect(wsUrl, t.c as string),
      WsClient.connect(wsUrl, t.c as string),
      WsClient.connect(wsUrl, t.d as string),
    ]);
    await node.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { messaging_enabled: false });
    const replies = await Promise.all(
      sockets.map((s, i) => s.request("message.send", { conversation_id: group, client_msg_id: `m${i}`, text: "x" })),
    );
    for (const r of replies) expect(r).toMatchObject({ ok: false, error: { code: "feature_disabled" } });
    await node.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { messaging_enabled: true });
    expect(await history(node, group, t.c as string)).toEqual([]);
    for (const s of sockets) s.close();
  });

  it("a ban closes the user's sockets before the call returns: a frame sent right after is never acted on", async () => {
    const { app, t, group } = await setup(node, ["e", "f"]);
    const we = await WsClient.connect(wsUrl, t.e as string);
    expect((await node.admin("POST", `/admin/v1/apps/${app.app_id}/bans`, { identity: "e" })).status).toBe(200);
    we.send({ type: "message.send", id: "late", conversation_id: group, client_msg_id: "late", text: "after the ban" });
    expect((await we.closed).code).toBe(4403);
    expect(await history(node, group, t.f as string)).toEqual([]);
  });
});

// Two nodes sharing PostgreSQL and Redis; node B's store answers every read of `apps` 300 ms late.
const pg: FreshPostgres | undefined = await freshPostgres("multi-node capability tests");
const redisUrl = pg ? await redisUrlOrSkip("multi-node capability tests") : undefined;
if (pg && !redisUrl) await pg.drop();

describe.skipIf(!pg || !redisUrl)("admin changes reach the other node within one bus round trip (PostgreSQL + Redis)", () => {
  let a: InProcessEngine;
  let b: InProcessEngine;
  let stores: Store[] = [];
  let buses: RedisBus[] = [];
  let bWs: string;
  let slowB = false;
  const dir = mkdtempSync(join(tmpdir(), "utd-cap-nodes-"));

  beforeAll(async () => {
    const opts = { dataDir: dir, databaseUrl: pg?.url as string };
    stores = [await openStore(opts), await openStore(opts)];
    const slow = withLatency(stores[1] as Store, (q) => (slowB && q.table === "apps" && q.kind === "select" ? 300 : 0));
    // A bus channel of this run's own: other runs share this Redis.
    const channel = uniqueName("utd:bus:test");
    buses = [new RedisBus(redisUrl as string, undefined, channel), new RedisBus(redisUrl as string, undefined, channel)];
    await Promise.all(buses.map((x) => x.ready()));
    a = await startInProcess({
      dataDir: dir,
      env: { REDIS_URL: redisUrl as string },
      ports: { store: stores[0] as Store, bus: buses[0] as RedisBus },
    });
    b = await startInProcess({ dataDir: dir, env: { REDIS_URL: redisUrl as string }, ports: { store: slow, bus: buses[1] as RedisBus } });
    ({ wsUrl: bWs } = await b.listen());
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    for (const x of buses) await x.close();
    for (const s of stores) await s.close();
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Node A calls `to` (on node B): the event is published after anything A published before it. */
  const probe = async (app: TestApp, from: string, to: string) => {
    const caller = (await a.session(app, from)).user_token;
    const r = await a.request("POST", "/api/v1/calls", { token: caller, body: { callee_identity: to, type: "audio_call" } });
    expect(r.status).toBe(201);
  };

  it("chat switched off on node A: a socket on node B that heard anything A published afterwards is refused", async () => {
    const { app, t, group } = await setup(a, ["p", "q"]);
    const wp = await WsClient.connect(bWs, t.p as string);
    slowB = true;
    try {
      expect((await a.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { messaging_enabled: false })).status).toBe(200);
      await probe(app, "caller1", "p");
      await wp.event("call.incoming");
      const r = await wp.request("message.send", { conversation_id: group, client_msg_id: "x", text: "x" });
      expect(r).toMatchObject({ ok: false, error: { code: "feature_disabled", capability: "chat" } });
    } finally {
      slowB = false;
    }
    await a.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { messaging_enabled: true });
    expect(await history(a, group, t.q as string)).toEqual([]);
    wp.close();
  });

  it("a ban on node A: by the time node B delivers A's next event, the banned socket on B is closed", async () => {
    const { app, t, group } = await setup(a, ["r", "s"]);
    const wr = await WsClient.connect(bWs, t.r as string);
    const ws = await WsClient.connect(bWs, t.s as string);
    expect((await a.admin("POST", `/admin/v1/apps/${app.app_id}/bans`, { identity: "r" })).status).toBe(200);
    await probe(app, "caller2", "s");
    await ws.event("call.incoming");
    wr.send({ type: "message.send", id: "late", conversation_id: group, client_msg_id: "late", text: "after the ban" });
    expect((await wr.closed).code).toBe(4403);
    expect(await history(a, group, t.s as string)).toEqual([]);
    ws.close();
  });
});
