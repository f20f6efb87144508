import { dispose } from "@livekit/rtc-node";
import { AccessToken, RoomServiceClient } from "livekit-server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEngine, TestApp } from "../../../test/helpers/engine.js";
import { type MediaStack, startMediaStack } from "../../../test/helpers/livekit.js";
import { RtcPeer } from "../../../test/helpers/rtc-peer.js";

interface CallMedia {
  token: string;
  url: string;
  room_name: string;
  expires_at: string;
}
interface Call {
  id: string;
  status: string;
}
interface ErrBody {
  error: { code: string; message: string; status?: string };
}

describe("1:1 call media on a real LiveKit", () => {
  let stack: MediaStack | undefined;
  let engine: RunningEngine;
  let app: TestApp;
  const peers: RtcPeer[] = [];

  beforeAll(async () => {
    // The ring timeout also bounds how long an answered call's room waits for someone to join.
    stack = await startMediaStack({ UTD_CALL_RING_TIMEOUT_S: "3" });
    if (!stack) return;
    engine = stack.engine;
    app = await engine.createApp();
  });
  afterAll(async () => {
    for (const p of peers) await p.leave();
    await stack?.stop();
    await dispose();
  });

  async function call(caller: string, callee: string, type = "audio_call") {
    const a = await engine.session(app, caller);
    const b = await engine.session(app, callee);
    const r = await engine.request<Call>("POST", "/api/v1/calls", { token: a.user_token, body: { callee_identity: callee, type } });
    expect(r.status).toBe(201);
    return { a: a.user_token, b: b.user_token, id: r.body.id };
  }
  const token = (id: string, bearer: string) => engine.request<CallMedia & ErrBody>("POST", `/api/v1/calls/${id}/token`, { token: bearer });

  it("gives caller and callee tokens on accept; they exchange audio, each detecting the other's tone", async (ctx) => {
    if (!stack) return ctx.skip();
    const c = await call("alice", "bob", "video_call");
    // No media before the call is answered.
    const early = await token(c.id, c.a);
    expect([early.status, early.body.error.code, early.body.error.status]).toEqual([409, "conflict", "initiating"]);

    const t0 = performance.now();
    const acc = await engine.request("POST", `/api/v1/calls/${c.id}/accept`, { token: c.b, body: {} });
    expect([acc.status, acc.body]).toMatchObject([200, {}]);
    const [ta, tb] = await Promise.all([token(c.id, c.a), token(c.id, c.b)]);
    expect([ta.status, tb.status]).toEqual([200, 200]);
    expect(ta.body.room_name).toBe(c.id);
    const [pa, pb] = await Promise.all([
      RtcPeer.join("alice", ta.body.url, ta.body.token),
      RtcPeer.join("bob", tb.body.url, tb.body.token),
    ]);
    peers.push(pa, pb);
    await Promise.all([pa.publishTone(440), pb.publishTone(880)]);
    await Promise.all([pa.detectTone("bob", 880), pb.detectTone("alice", 440)]);
    const ms = performance.now() - t0;
    // A figure for the closing note, not an assertion (speed lives in bench/).
    process.stderr.write(`\n[media] accept → both sides hearing the other's tone: ${ms.toFixed(0)} ms\n`);

    // The room is capped at 2: a third participant (even with a valid LiveKit token) is refused.
    const lk = stack.livekit;
    const at = new AccessToken(lk.apiKey, lk.apiSecret, { identity: "mallory", ttl: 60 });
    at.addGrant({ roomJoin: true, room: `${app.app_id}:call:${c.id}`, canSubscribe: true });
    const refusedJoin = await RtcPeer.join("mallory", lk.url, await at.toJwt()).then(
      (p) => {
        peers.push(p);
        return "joined";
      },
      (err: Error) => err.message,
    );
    // LiveKit logs "room has exceeded its max participants"; the client only sees the failed handshake.
    expect(refusedJoin).toMatch(/handshake|500/);
    const rooms = new RoomServiceClient(lk.url.replace(/^ws/, "http"), lk.apiKey, lk.apiSecret);
    expect((await rooms.listParticipants(`${app.app_id}:call:${c.id}`)).map((p) => p.identity).sort()).toEqual(["alice", "bob"]);
    // Control: the same kind of token joins an uncapped room, so the cap is what refused mallory.
    const control = new AccessToken(lk.apiKey, lk.apiSecret, { identity: "mallory", ttl: 60 });
    control.addGrant({ roomJoin: true, room: `${app.app_id}:control`, canSubscribe: true });
    peers.push(await RtcPeer.join("mallory", lk.url, await control.toJwt()));

    // Nobody else gets a token from the engine: an outsider's request looks like an unknown call.
    const carol = await engine.session(app, "carol");
    const refused = await token(c.id, carol.user_token);
    expect([refused.status, refused.body.error.code]).toEqual([404, "not_found"]);
    const unknown = await token("call_nope", c.a);
    expect(unknown.status).toBe(404);

    // Ending the call deletes its room.
    expect((await rooms.listRooms([`${app.app_id}:call:${c.id}`])).length).toBe(1);
    expect((await engine.request("POST", `/api/v1/calls/${c.id}/end`, { token: c.a, body: {} })).status).toBe(200);
    await pa.waitFor(() => !pa.room.isConnected, 10_000, "disconnection after the end");
    expect((await rooms.listRooms([`${app.app_id}:call:${c.id}`])).length).toBe(0);
    const late = await token(c.id, c.b);
    expect([late.status, late.body.error.status]).toEqual([409, "ended"]);
  });

  it("ends the call when both parties have left its room (LiveKit webhooks), not when only one has", async (ctx) => {
    if (!stack) return ctx.skip();
    const c = await call("erin", "frank");
    expect((await engine.request("POST", `/api/v1/calls/${c.id}/accept`, { token: c.b, body: {} })).status).toBe(200);
    const [te, tf] = await Promise.all([token(c.id, c.a), token(c.id, c.b)]);
    const pe = await RtcPeer.join("erin", te.body.url, te.body.token);
    const pf = await RtcPeer.join("frank", tf.body.url, tf.body.token);
    await pe.waitFor(() => pe.room.remoteParticipants.size === 1, 10_000, "frank to arrive");
    const status = async () =>
      (await engine.request<Call & { ended_by: string | null }>("GET", `/api/v1/calls/${c.id}`, { token: c.a })).body;

    await pe.leave();
    await pf.waitFor(() => pf.room.remoteParticipants.size === 0, 10_000, "erin to be gone");
    // The participant_left webhook for erin has been handled by now or is about to be; frank is still there.
    await new Promise((r) => setTimeout(r, 500));
    expect((await status()).status).toBe("active");

    await pf.leave();
    const deadline = Date.now() + 10_000;
    while ((await status()).status === "active" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await status()).toMatchObject({ status: "ended", ended_by: "frank" });
  });

  it("ends an answered call whose room nobody joins (LiveKit closes it)", async (ctx) => {
    if (!stack) return ctx.skip();
    const c = await call("gina", "hank");
    expect((await engine.request("POST", `/api/v1/calls/${c.id}/accept`, { token: c.b, body: {} })).status).toBe(200);
    const status = async () => (await engine.request<Call>("GET", `/api/v1/calls/${c.id}`, { token: c.a })).body.status;
    expect(await status()).toBe("active");
    const deadline = Date.now() + 30_000;
    while ((await status()) === "active" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await status()).toBe("ended");
  });

  it("keeps call rooms out of reach of the room token endpoint", async (ctx) => {
    if (!stack) return ctx.skip();
    const s = await engine.session(app, "dave");
    for (const body of [
      { room_name: "x", type: "audio_call" },
      { room_name: `${app.app_id}:call:x`, type: "live_stream" },
    ]) {
      const r = await engine.request<ErrBody>("POST", "/api/v1/token", { token: s.user_token, body });
      expect([r.status, r.body.error.code]).toEqual([400, "invalid_argument"]);
    }
  });
});
