import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { type Frame, sleep, WsClient } from "./ws-helpers.js";

const ENV = { UTD_WS_HEARTBEAT_S: "1", UTD_WS_RESUME_MAX_EVENTS: "5", UTD_WS_MAX_FRAME_BYTES: "2048", UTD_PRESENCE_GRACE_S: "0" };

describe("WebSocket gateway", () => {
  let e: RunningEngine;
  let app: TestApp;
  const dataDir = mkdtempSync(join(tmpdir(), "utd-ws-"));
  beforeAll(async () => {
    e = await startEngine({ env: ENV, dataDir });
    app = await e.createApp();
  });
  afterAll(async () => {
    await e?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function typingTo(from: WsClient, to: string, n: number) {
    for (let i = 0; i < n; i++) {
      const r = await from.request("typing.start", { to });
      expect(r.ok).toBe(true);
    }
  }

  test("hello → welcome with epoch, seq and the session's capabilities", async () => {
    const s = await e.session(app, "w-alice", { device_id: "d1" });
    const c = await WsClient.connect(e.wsUrl, s.user_token);
    expect(c.welcome).toMatchObject({ type: "welcome", seq: 0, resumed: false, heartbeat_s: 1, max_frame_bytes: 2048 });
    expect(typeof c.welcome?.epoch).toBe("string");
    expect(c.welcome?.session).toMatchObject({ identity: "w-alice", app_id: app.app_id, device_id: "d1", signaling_enabled: true });
    const pong = await c.request("ping");
    expect(pong).toMatchObject({ type: "pong", id: "r1" });
    const metrics = await e.request<string>("GET", "/metrics", { token: e.adminToken });
    expect(metrics.body).toMatch(/^utd_ws_connections \d+/m);
    // The REST side of signalling is in the generated OpenAPI document.
    const openapi = await e.request<{ paths: Record<string, unknown> }>("GET", "/openapi.json");
    for (const p of [
      "/api/v1/calls",
      "/api/v1/calls/{id}/{action}",
      "/api/v1/presence",
      "/api/v1/push/tokens",
      "/admin/v1/apps/{app_id}/events",
    ]) {
      expect(Object.keys(openapi.body.paths)).toContain(p);
    }
    c.close();
  });

  test("bad frames get typed errors and the connection stays up", async () => {
    const s = await e.session(app, "w-bad");
    const c = await WsClient.open(e.wsUrl);
    // Before hello: refused, socket stays.
    const early = await c.request("typing.start", { to: "x" });
    expect(early).toMatchObject({ ok: false, error: { code: "unauthorized" } });
    // A malformed hello (no token) is a typed error, not a close.
    c.send({ type: "hello" });
    expect((await c.next((f) => f.type === "error")).error).toMatchObject({ code: "invalid_argument" });
    c.send({ type: "hello", token: s.user_token });
    await c.next((f) => f.type === "welcome");
    const errorsBefore = c.frames.filter((f) => f.type === "error").length;
    c.send("{not json");
    c.send(JSON.stringify([1, 2, 3]));
    c.send(JSON.stringify({ type: 42 }));
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await c.next((f) => f.type === "error" && c.frames.filter((x) => x.type === "error").length === errorsBefore + 4);
    const errs = c.frames.filter((f) => f.type === "error").slice(errorsBefore);
    expect(errs.map((f) => (f.error as { code: string }).code)).toEqual([
      "invalid_argument",
      "invalid_argument",
      "invalid_argument",
      "invalid_argument",
    ]);
    expect(await c.request("no.such.verb")).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    expect(await c.request("typing.start", {})).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    expect(await c.request("typing.start", { to: "x", extra: 1 })).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    expect(await c.request("presence.watch", { identities: "nope" })).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    expect(await c.request("hello", { token: s.user_token })).toMatchObject({ ok: false, error: { code: "conflict" } });
    // Still up and serving.
    expect(await c.request("ping")).toMatchObject({ type: "pong" });
    c.close();
  });

  test("a bad or missing token closes with 4401; a huge frame closes with 4413", async () => {
    const c = await WsClient.open(e.wsUrl);
    c.send({ type: "hello", token: "not-a-token" });
    expect((await c.next((f) => f.type === "error")).error).toMatchObject({ code: "unauthorized" });
    expect((await c.closed).code).toBe(4401);

    const s = await e.session(app, "w-big");
    const big = await WsClient.connect(e.wsUrl, s.user_token);
    big.send({ type: "ping", pad: "x".repeat(4096) });
    expect((await big.closed).code).toBe(4413);
  });

  test("events carry a seq rising by one; a second device joins the same stream", async () => {
    const a = await WsClient.connect(e.wsUrl, (await e.session(app, "w-a1")).user_token);
    const b1 = await WsClient.connect(e.wsUrl, (await e.session(app, "w-b1", { device_id: "phone" })).user_token);
    await typingTo(a, "w-b1", 2);
    await b1.next(() => b1.events().length === 2);
    const b2 = await WsClient.connect(e.wsUrl, (await e.session(app, "w-b1", { device_id: "laptop" })).user_token);
    expect(b2.welcome).toMatchObject({ epoch: b1.welcome?.epoch, seq: 2, resumed: false });
    await typingTo(a, "w-b1", 1);
    await b2.next(() => b2.events().length === 1);
    await b1.next(() => b1.events().length === 3);
    expect(b1.events().map((f) => f.seq)).toEqual([1, 2, 3]);
    expect(b2.events().map((f) => f.seq)).toEqual([3]);
    for (const c of [a, b1, b2]) c.close();
  });

  test("resume after a forced drop delivers every missed event once, in order", async () => {
    const a = await WsClient.connect(e.wsUrl, (await e.session(app, "r-alice")).user_token);
    const bs = await e.session(app, "r-bob", { device_id: "phone" });
    const b = await WsClient.connect(e.wsUrl, bs.user_token);
    await typingTo(a, "r-bob", 2);
    await b.next(() => b.events().length === 2);
    const epoch = b.welcome?.epoch as string;
    b.ws.terminate();
    await b.closed;
    await typingTo(a, "r-bob", 3);
    const b2 = await WsClient.connect(e.wsUrl, bs.user_token, { resume: { epoch, seq: 2 } });
    expect(b2.welcome).toMatchObject({ epoch, seq: 2, resumed: true });
    await typingTo(a, "r-bob", 1);
    await b2.next(() => b2.events().length === 4);
    await sleep(100);
    expect(b2.events().map((f) => f.seq)).toEqual([3, 4, 5, 6]);
    expect(b2.frames.some((f) => f.type === "resync_required")).toBe(false);
    for (const c of [a, b2]) c.close();
  });

  test("a gap larger than the buffer → resumed:false + resync_required", async () => {
    const a = await WsClient.connect(e.wsUrl, (await e.session(app, "g-alice")).user_token);
    const bs = await e.session(app, "g-bob");
    const b = await WsClient.connect(e.wsUrl, bs.user_token);
    const epoch = b.welcome?.epoch as string;
    b.ws.terminate();
    await b.closed;
    await typingTo(a, "g-bob", 7);
    const b2 = await WsClient.connect(e.wsUrl, bs.user_token, { resume: { epoch, seq: 0 } });
    expect(b2.welcome).toMatchObject({ resumed: false, seq: 7 });
    await b2.next((f) => f.type === "resync_required");
    // A cursor from the future or another epoch cannot be covered either.
    const b3 = await WsClient.connect(e.wsUrl, bs.user_token, { resume: { epoch, seq: 99 } });
    expect(b3.welcome?.resumed).toBe(false);
    const b4 = await WsClient.connect(e.wsUrl, bs.user_token, { resume: { epoch: "other", seq: 7 } });
    expect(b4.welcome?.resumed).toBe(false);
    await b4.next((f) => f.type === "resync_required");
    for (const c of [a, b2, b3, b4]) c.close();
  });

  test("a silent peer is dropped with 4408", async () => {
    const c = await WsClient.connect(e.wsUrl, (await e.session(app, "silent")).user_token);
    // Stop reading: the client neither sees pings nor answers them.
    (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    await sleep(3500);
    (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect((await c.closed).code).toBe(4408);
  });

  test("banning a connected user closes their sockets with 4403; their token then fails hello", async () => {
    const s = await e.session(app, "to-ban");
    const c1 = await WsClient.connect(e.wsUrl, s.user_token);
    const other = await WsClient.connect(e.wsUrl, (await e.session(app, "bystander")).user_token);
    const r = await e.admin("POST", `/admin/v1/apps/${app.app_id}/bans`, { identity: "to-ban" });
    expect(r.status).toBe(200);
    expect((await c1.closed).code).toBe(4403);
    const again = await WsClient.open(e.wsUrl);
    again.send({ type: "hello", token: s.user_token });
    expect((await again.next((f) => f.type === "error")).error).toMatchObject({ code: "banned" });
    expect((await again.closed).code).toBe(4403);
    // Others are untouched.
    expect(await other.request("ping")).toMatchObject({ type: "pong" });
    other.close();
  });

  test("sign-out-everywhere closes open sockets with 4401", async () => {
    const s = await e.session(app, "revoker");
    const c = await WsClient.connect(e.wsUrl, s.user_token);
    const r = await e.request("POST", "/api/v1/auth/revoke", { token: s.user_token });
    expect(r.status).toBe(200);
    expect((await c.closed).code).toBe(4401);
  });

  test("capabilities: signalling off refuses signalling verbs; both off closes sockets with 4403", async () => {
    const app2 = await e.createApp({ name: "caps" });
    const c = await WsClient.connect(e.wsUrl, (await e.session(app2, "cap-user")).user_token);
    expect((await e.admin("PATCH", `/admin/v1/apps/${app2.app_id}`, { signaling_enabled: false })).status).toBe(200);
    await sleep(200);
    expect(await c.request("typing.start", { to: "someone" })).toMatchObject({
      ok: false,
      error: { code: "feature_disabled", capability: "signaling" },
    });
    expect((await e.admin("PATCH", `/admin/v1/apps/${app2.app_id}`, { messaging_enabled: false })).status).toBe(200);
    expect((await c.closed).code).toBe(4403);
    const again = await WsClient.open(e.wsUrl);
    again.send({ type: "hello", token: (await e.session(app2, "cap-user")).user_token });
    expect((await again.closed).code).toBe(4403);
  });

  test("server-side publish: custom events reach every device; bad input is refused and sends nothing", async () => {
    const s1 = await e.session(app, "pub-bob", { device_id: "a" });
    const c1 = await WsClient.connect(e.wsUrl, s1.user_token);
    const c2 = await WsClient.connect(e.wsUrl, (await e.session(app, "pub-bob", { device_id: "b" })).user_token);
    const other = await WsClient.connect(e.wsUrl, (await e.session(app, "pub-other")).user_token);
    const ok = await e.admin("POST", `/admin/v1/apps/${app.app_id}/events`, {
      identities: ["pub-bob", "pub-bob", "nobody"],
      type: "custom.hello",
      data: { n: 1 },
    });
    expect(ok).toMatchObject({ status: 200, body: { recipients: 2 } });
    for (const c of [c1, c2]) expect((await c.event("custom.hello")).data).toEqual({ n: 1 });
    const bad: unknown[] = [
      { identities: ["pub-bob"], type: "call.incoming", data: {} },
      { identities: [], type: "custom.x", data: {} },
      { identities: ["pub-bob"], type: "custom.x" },
      { identities: ["pub-bob"], type: "custom.x", data: { big: "x".repeat(20_000) } },
      { identities: "pub-bob", type: "custom.x", data: {} },
    ];
    for (const body of bad)
      expect((await e.admin("POST", `/admin/v1/apps/${app.app_id}/events`, body)).status, JSON.stringify(body).slice(0, 80)).toBe(400);
    expect((await e.admin("POST", "/admin/v1/apps/app_nope/events", { identities: ["x"], type: "custom.x", data: 1 })).status).toBe(404);
    const userToken = await e.request("POST", `/admin/v1/apps/${app.app_id}/events`, {
      token: s1.user_token,
      body: { identities: ["pub-bob"], type: "custom.x", data: 1 },
    });
    expect(userToken.status).toBe(401);
    await sleep(100);
    expect(c1.events().length).toBe(1);
    expect(other.events()).toEqual([]);
    for (const c of [c1, c2, other]) c.close();
  });

  test("auth swaps the socket's token for a fresh one of the same user only", async () => {
    const s = await e.session(app, "re-auth");
    const c = await WsClient.connect(e.wsUrl, s.user_token);
    const fresh = await e.session(app, "re-auth");
    expect(await c.request("auth", { token: fresh.user_token })).toMatchObject({ ok: true, data: { session: { identity: "re-auth" } } });
    const other = await e.session(app, "someone-else");
    expect(await c.request("auth", { token: other.user_token })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(await c.request("auth", { token: "garbage" })).toMatchObject({ ok: false, error: { code: "unauthorized" } });
    expect(await c.request("auth", {})).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    expect(await c.request("ping")).toMatchObject({ type: "pong" });
    c.close();
  });

  test("other paths do not upgrade", async () => {
    const bad = await WsClient.open(e.wsUrl.replace("/api/v1/ws", "/api/v1/nope")).catch((err: Error) => err);
    expect(bad).toBeInstanceOf(Error);
  });

  test("after an engine restart a resume cursor gets resync_required", async () => {
    const s = await e.session(app, "restart-user");
    const c = await WsClient.connect(e.wsUrl, s.user_token);
    const cursor = { epoch: c.welcome?.epoch as string, seq: c.welcome?.seq as number };
    e = await e.restart();
    expect((await c.closed).code).toBe(1001);
    const c2 = await WsClient.connect(e.wsUrl, s.user_token, { resume: cursor });
    expect(c2.welcome?.resumed).toBe(false);
    expect(c2.welcome?.epoch).not.toBe(cursor.epoch);
    const f: Frame = await c2.next((x) => x.type === "resync_required");
    expect(f.reason).toBe("epoch changed");
    c2.close();
  });
});
