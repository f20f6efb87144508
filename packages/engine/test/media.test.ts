import { dispose } from "@livekit/rtc-node";
import { SignJWT } from "jose";
import { TokenVerifier } from "livekit-server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { type MediaStack, startMediaStack } from "../../../test/helpers/livekit.js";
import { RtcPeer } from "../../../test/helpers/rtc-peer.js";

interface TokenBody {
  token: string;
  url: string;
  room_name: string;
  user_token: string;
  identity: string;
  role: string;
  type: string;
  permission: { can_publish: boolean; can_subscribe: boolean; can_publish_data: boolean; can_publish_sources: string[] };
}
interface ErrBody {
  error: { code: string; message: string };
}

describe("media endpoints without LiveKit", () => {
  let engine: RunningEngine;
  let app: TestApp;
  beforeAll(async () => {
    engine = await startEngine({ env: { LIVEKIT_URL: "", LIVEKIT_API_KEY: "", LIVEKIT_API_SECRET: "" } });
    app = await engine.createApp();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it("answers 503 media_unavailable on every media endpoint and keeps everything else working", async () => {
    const s = await engine.session(app, "alice");
    const calls: [string, string, unknown?][] = [
      ["POST", "/api/v1/token", { room_name: "lobby", type: "live_stream", role: "host" }],
      ["GET", "/api/v1/rooms/lobby"],
      ["GET", "/api/v1/rooms/lobby/stage"],
      ["POST", "/api/v1/rooms/lobby/stage/invite", { identity: "bob" }],
      ["GET", "/api/v1/rooms/lobby/seats"],
      ["POST", "/api/v1/rooms/lobby/seats/0/take"],
      ["POST", "/api/v1/calls/call_x/token"],
    ];
    for (const [method, path, body] of calls) {
      const r = await engine.request<ErrBody>(method, path, { token: s.user_token, ...(body ? { body } : {}) });
      expect([path, r.status, r.body.error.code]).toEqual([path, 503, "media_unavailable"]);
    }
    const wh = await engine.request<ErrBody>("POST", "/api/v1/livekit/webhook", {
      raw: "{}",
      headers: { "content-type": "application/webhook+json", authorization: "x" },
    });
    expect(wh.status).toBe(503);
    expect((await engine.request("GET", "/healthz")).status).toBe(200);
    expect((await engine.request("POST", "/api/v1/auth/refresh", { token: s.user_token })).status).toBe(200);
  });
});

describe("room tokens on a real LiveKit", () => {
  let stack: MediaStack | undefined;
  let engine: RunningEngine;
  let app: TestApp;
  let other: TestApp;
  const peers: RtcPeer[] = [];
  const join = async (identity: string, t: TokenBody) => {
    const p = await RtcPeer.join(identity, t.url, t.token);
    peers.push(p);
    return p;
  };

  beforeAll(async () => {
    stack = await startMediaStack();
    if (!stack) return;
    engine = stack.engine;
    app = await engine.createApp({ name: "a" });
    other = await engine.createApp({ name: "b" });
  });
  afterAll(async () => {
    for (const p of peers) await p.leave();
    await stack?.stop();
    await dispose();
  });

  async function mint(body: Record<string, unknown>, token?: string) {
    return engine.request<TokenBody & ErrBody>("POST", "/api/v1/token", { body, ...(token ? { token } : {}) });
  }

  it("gives the host publish rights and the audience subscribe + data only, explicitly in the LiveKit grant", async (ctx) => {
    if (!stack) return ctx.skip();
    const host = await mint({
      app_id: app.app_id,
      app_key: app.app_key,
      identity: "h1",
      room_name: "show",
      type: "live_stream",
      role: "host",
    });
    expect(host.status).toBe(200);
    expect(host.body).toMatchObject({ room_name: "show", role: "host", type: "live_stream", identity: "h1" });
    expect(host.body.permission.can_publish).toBe(true);
    expect(host.body.url).toBe(stack.livekit.url);
    expect(host.body.user_token).toMatch(/\./);

    const viewer = await mint({ room_name: "show", type: "live_stream" }, (await engine.session(app, "v1")).user_token);
    expect(viewer.status).toBe(200);
    expect(viewer.body.role).toBe("audience");
    expect(viewer.body.permission).toEqual({ can_publish: false, can_subscribe: true, can_publish_data: true, can_publish_sources: [] });

    const v = new TokenVerifier(stack.livekit.apiKey, stack.livekit.apiSecret);
    const claims = await v.verify(viewer.body.token);
    expect(claims.video).toMatchObject({ roomJoin: true, canPublish: false, canPublishData: true, canSubscribe: true });
    expect(claims.video?.room).toBe(`${app.app_id}:room:show`);
    expect(claims.sub).toBe("v1");
    // Short-lived: minutes, not hours.
    expect((claims.exp ?? 0) - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(600);
  });

  it("allows one host per room; a host can add more", async (ctx) => {
    if (!stack) return ctx.skip();
    const h = await engine.session(app, "boss");
    const x = await engine.session(app, "intruder");
    expect((await mint({ room_name: "one-host", type: "live_stream", role: "host" }, h.user_token)).status).toBe(200);
    const second = await mint({ room_name: "one-host", type: "live_stream", role: "host" }, x.user_token);
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe("conflict");
    expect((await engine.request<{ hosts: string[] }>("GET", "/api/v1/rooms/one-host", { token: x.user_token })).body.hosts).toEqual([
      "boss",
    ]);
    // The intruder cannot add itself; the host can add it.
    expect(
      (await engine.request<ErrBody>("POST", "/api/v1/rooms/one-host/hosts", { token: x.user_token, body: { identity: "intruder" } }))
        .status,
    ).toBe(403);
    const added = await engine.request<{ hosts: string[] }>("POST", "/api/v1/rooms/one-host/hosts", {
      token: h.user_token,
      body: { identity: "intruder" },
    });
    expect(added.body.hosts).toEqual(["boss", "intruder"]);
    const again = await mint({ room_name: "one-host", type: "live_stream", role: "host" }, x.user_token);
    expect([again.status, again.body.role]).toEqual([200, "host"]);
  });

  it("refuses bad input with the right code and creates nothing", async (ctx) => {
    if (!stack) return ctx.skip();
    const s = await engine.session(app, "bad");
    const signed = await engine.createApp({ name: "signed", auth_mode: "signed" });
    const cases: [Record<string, unknown>, string | undefined, number, string][] = [
      [{ room_name: "r1", type: "live_stream" }, undefined, 401, "unauthorized"],
      [{ room_name: "r1", type: "live_stream" }, "not-a-token", 401, "unauthorized"],
      [{ app_id: app.app_id, app_key: "wrong", identity: "x", room_name: "r1", type: "live_stream" }, undefined, 401, "unauthorized"],
      [
        { app_id: signed.app_id, app_key: signed.app_key, identity: "x", room_name: "r1", type: "live_stream" },
        undefined,
        401,
        "unauthorized",
      ],
      [{ room_name: "r1", type: "video_call" }, s.user_token, 400, "invalid_argument"],
      [{ room_name: "a:b", type: "live_stream" }, s.user_token, 400, "invalid_argument"],
      [{ room_name: "x".repeat(65), type: "live_stream" }, s.user_token, 400, "invalid_argument"],
      [{ room_name: 42, type: "live_stream" }, s.user_token, 400, "invalid_argument"],
      [{ room_name: "r1", type: "live_stream", role: "admin" }, s.user_token, 400, "invalid_argument"],
      [{ room_name: "r1", type: "live_stream", extra: 1 }, s.user_token, 400, "invalid_argument"],
      [{ room_name: "r1", type: "live_stream", identity: "someone-else" }, s.user_token, 400, "invalid_argument"],
    ];
    for (const [body, token, status, code] of cases) {
      const r = await mint(body, token);
      expect([JSON.stringify(body), r.status, r.body.error?.code]).toEqual([JSON.stringify(body), status, code]);
    }
    // Signed mode works with the backend's identity token.
    const now = Math.floor(Date.now() / 1000);
    const idToken = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("signed-user")
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(new TextEncoder().encode(signed.app_secret));
    const signedOk = await mint({
      app_id: signed.app_id,
      app_key: signed.app_key,
      identity: "signed-user",
      identity_token: idToken,
      room_name: "signed-room",
      type: "live_stream",
    });
    expect([signedOk.status, signedOk.body.identity]).toEqual([200, "signed-user"]);
    const stolen = await mint({
      app_id: signed.app_id,
      app_key: signed.app_key,
      identity: "someone-else",
      identity_token: idToken,
      room_name: "r1",
      type: "live_stream",
    });
    expect(stolen.status).toBe(401);

    const malformed = await engine.request<ErrBody>("POST", "/api/v1/token", { raw: "{", token: s.user_token });
    expect([malformed.status, malformed.body.error.code]).toEqual([400, "invalid_argument"]);
    expect((await engine.request("GET", "/api/v1/rooms/r1", { token: s.user_token })).status).toBe(404);

    // A room's type is fixed: an audio_room token for a live stream is a conflict, and the room stays a live stream.
    expect((await mint({ room_name: "typed", type: "live_stream" }, s.user_token)).status).toBe(200);
    const wrongType = await mint({ room_name: "typed", type: "audio_room" }, s.user_token);
    expect([wrongType.status, wrongType.body.error.code]).toEqual([409, "conflict"]);
    expect((await engine.request<{ type: string }>("GET", "/api/v1/rooms/typed", { token: s.user_token })).body.type).toBe("live_stream");
  });

  it("scopes room names per app: two apps' 'lobby' never meet", async (ctx) => {
    if (!stack) return ctx.skip();
    const a = await mint({
      app_id: app.app_id,
      app_key: app.app_key,
      identity: "same",
      room_name: "lobby",
      type: "live_stream",
      role: "host",
    });
    const b = await mint({
      app_id: other.app_id,
      app_key: other.app_key,
      identity: "same",
      room_name: "lobby",
      type: "live_stream",
      role: "host",
    });
    expect([a.status, b.status]).toEqual([200, 200]);
    const pa = await join("same", a.body);
    const pb = await join("same", b.body);
    await pa.publishTone(440);
    await pb.publishTone(440);
    // Both connected with the same identity, yet neither kicked the other out nor sees the other.
    await new Promise((r) => setTimeout(r, 1500));
    expect(pa.room.remoteParticipants.size).toBe(0);
    expect(pb.room.remoteParticipants.size).toBe(0);
    expect(pa.room.isConnected && pb.room.isConnected).toBe(true);
    // Another app's user cannot see this app's room.
    const stranger = await engine.session(other, "stranger");
    expect((await engine.request("GET", "/api/v1/rooms/show", { token: stranger.user_token })).status).toBe(404);
  });

  it("refuses an audience member's publish at the SFU, while the host's tone reaches the audience", async (ctx) => {
    if (!stack) return ctx.skip();
    const host = await mint({
      app_id: app.app_id,
      app_key: app.app_key,
      identity: "caster",
      room_name: "concert",
      type: "live_stream",
      role: "host",
    });
    const fan = await mint({
      app_id: app.app_id,
      app_key: app.app_key,
      identity: "fan",
      room_name: "concert",
      type: "live_stream",
      role: "host",
    });
    expect(fan.status).toBe(409);
    const fanTok = await mint({ app_id: app.app_id, app_key: app.app_key, identity: "fan", room_name: "concert", type: "live_stream" });
    const ph = await join("caster", host.body);
    const pf = await join("fan", fanTok.body);
    await ph.publishTone(440);
    await pf.detectTone("caster", 440);
    await expect(pf.publishTone(880)).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 1000));
    expect(ph.hasAudioFrom("fan")).toBe(false);
  });

  it("removes a banned user from the app's media rooms within 2 s, refuses them new tokens, and throws out a rejoin with the old one", async (ctx) => {
    if (!stack) return ctx.skip();
    const host = await mint({
      app_id: app.app_id,
      app_key: app.app_key,
      identity: "mod",
      room_name: "arena",
      type: "live_stream",
      role: "host",
    });
    const troll = await mint({ app_id: app.app_id, app_key: app.app_key, identity: "troll", room_name: "arena", type: "live_stream" });
    await join("mod", host.body);
    const pt = await join("troll", troll.body);
    expect(pt.room.isConnected).toBe(true);
    expect((await engine.admin("POST", `/admin/v1/apps/${app.app_id}/bans`, { identity: "troll", reason: "spam" })).status).toBeLessThan(
      300,
    );
    // Measured from the moment the ban call returned: the media connection is gone within 2 s.
    const bannedAt = Date.now();
    await pt.waitFor(() => !pt.room.isConnected, 2_000, "the banned user to be disconnected within 2 s");
    expect(Date.now() - bannedAt).toBeLessThan(2_000);
    const again = await mint({ app_id: app.app_id, app_key: app.app_key, identity: "troll", room_name: "arena", type: "live_stream" });
    expect([again.status, again.body.error.code]).toEqual([403, "banned"]);
    // The LiveKit token they still hold lives 10 minutes: LiveKit lets them in, the engine removes them (join webhook).
    const back = await join("troll", troll.body);
    await back.waitFor(() => !back.room.isConnected, 5_000, "the rejoining banned user to be removed");
  });
});
