import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApp } from "../../../../test/helpers/engine.js";
import { type InProcessEngine, startInProcess } from "../../../../test/helpers/inproc.js";
import { FakeMedia } from "../../src/media/fake.js";

/**
 * LiveKit tokens live `UTD_MEDIA_TOKEN_TTL_S` (600 s): whoever the engine removed or demoted may still
 * hold one and connect again. Every join is checked against what is true now (issue 11). The fake media
 * port stands in for LiveKit here (it enforces tokens the same way and signs its webhooks); media.test.ts
 * shows the ban against a real LiveKit server.
 */
describe("media joins are checked against the engine's current truth", () => {
  let e: InProcessEngine;
  let media: FakeMedia;
  let app: TestApp;
  beforeAll(async () => {
    media = new FakeMedia();
    e = await startInProcess({ ports: { media } });
    media.deliverWebhooksTo(async (raw, authorization) => {
      const r = await e.request("POST", "/api/v1/livekit/webhook", {
        raw,
        headers: { authorization, "content-type": "application/webhook+json" },
      });
      if (r.status !== 200) throw new Error(`webhook refused: ${r.status} ${JSON.stringify(r.body)}`);
    });
    app = await e.createApp({ plan: "pro" });
  });
  afterAll(() => e?.close());

  const token = async (bearer: string, room: string, type: string, role: "host" | "audience" = "audience") => {
    const r = await e.request<{ token: string }>("POST", "/api/v1/token", { token: bearer, body: { room_name: room, type, role } });
    expect(r.status).toBe(200);
    return r.body.token;
  };
  const key = (room: string) => `${app.app_id}:room:${room}`;
  const inRoom = async (room: string, identity: string) => (await media.listIdentities(room)).includes(identity);

  it("a banned user who connects again with the token they held is removed at once", async () => {
    const host = (await e.session(app, "host1")).user_token;
    const troll = (await e.session(app, "troll")).user_token;
    await media.join(key("arena"), await token(host, "arena", "live_stream", "host"));
    const old = await token(troll, "arena", "live_stream");
    await media.join(key("arena"), old);
    expect((await e.admin("POST", `/admin/v1/apps/${app.app_id}/bans`, { identity: "troll" })).status).toBe(200);
    await expect.poll(() => inRoom(key("arena"), "troll")).toBe(false);
    // The LiveKit token is still valid for minutes: LiveKit lets the connection in, the engine throws it out.
    await media.join(key("arena"), old);
    expect(await inRoom(key("arena"), "troll")).toBe(false);
    expect(media.log.filter((l) => l.op === "removeParticipant" && l.identity === "troll").length).toBeGreaterThanOrEqual(2);
  });

  it("a signed-out user's old room token no longer gets them in (sign out everywhere)", async () => {
    const bearer = (await e.session(app, "leaver")).user_token;
    const old = await token(bearer, "lounge", "audio_room");
    e.clock.advance(1);
    expect((await e.request("POST", "/api/v1/auth/revoke", { token: bearer })).status).toBe(200);
    await media.join(key("lounge"), old);
    expect(await inRoom(key("lounge"), "leaver")).toBe(false);
    // A fresh session and token work.
    const fresh = (await e.session(app, "leaver")).user_token;
    await media.join(key("lounge"), await token(fresh, "lounge", "audio_room"));
    expect(await inRoom(key("lounge"), "leaver")).toBe(true);
  });

  it("a co-host sent back to the audience who rejoins with their co-host token gets audience rights", async () => {
    const host = (await e.session(app, "host2")).user_token;
    const guest = (await e.session(app, "guest")).user_token;
    await media.join(key("show"), await token(host, "show", "live_stream", "host"));
    await media.join(key("show"), await token(guest, "show", "live_stream"));
    expect((await e.request("POST", "/api/v1/rooms/show/stage/invite", { token: host, body: { identity: "guest" } })).status).toBe(200);
    const coHostToken = await token(guest, "show", "live_stream");
    expect(media.grantOf(coHostToken)?.permission.can_publish).toBe(true);
    expect((await e.request("POST", "/api/v1/rooms/show/stage/remove", { token: host, body: { identity: "guest" } })).status).toBe(200);
    expect(media.permissionOf(key("show"), "guest")?.can_publish).toBe(false);
    await media.leave(key("show"), "guest");
    await media.join(key("show"), coHostToken);
    expect(await inRoom(key("show"), "guest")).toBe(true);
    expect(media.permissionOf(key("show"), "guest")).toMatchObject({ can_publish: false, can_publish_sources: [] });
  });

  it("a speaker who left their seat and rejoins with the seat's token is an audience member again", async () => {
    const host = (await e.session(app, "host3")).user_token;
    const speaker = (await e.session(app, "speaker")).user_token;
    await media.join(key("stage3"), await token(host, "stage3", "audio_room", "host"));
    await media.join(key("stage3"), await token(speaker, "stage3", "audio_room"));
    expect((await e.request("POST", "/api/v1/rooms/stage3/seats", { token: host, body: { seat_count: 2 } })).status).toBe(200);
    expect((await e.request("POST", "/api/v1/rooms/stage3/seats/0/take", { token: speaker })).status).toBe(200);
    const seatToken = await token(speaker, "stage3", "audio_room");
    expect(media.grantOf(seatToken)?.permission.can_publish_sources).toEqual(["microphone"]);
    expect((await e.request("POST", "/api/v1/rooms/stage3/seats/leave", { token: speaker })).status).toBe(200);
    await media.leave(key("stage3"), "speaker");
    await media.join(key("stage3"), seatToken);
    expect(media.permissionOf(key("stage3"), "speaker")).toMatchObject({ can_publish: false, can_publish_sources: [] });
  });

  it("a call's room admits its parties while it is active, and nobody once it ended", async () => {
    const alice = (await e.session(app, "alice")).user_token;
    const bob = (await e.session(app, "bob")).user_token;
    const call = (
      await e.request<{ id: string }>("POST", "/api/v1/calls", { token: alice, body: { callee_identity: "bob", type: "audio_call" } })
    ).body.id;
    expect((await e.request("POST", `/api/v1/calls/${call}/accept`, { token: bob })).status).toBe(200);
    const t = await e.request<{ token: string }>("POST", `/api/v1/calls/${call}/token`, { token: alice });
    const room = `${app.app_id}:call:${call}`;
    await media.join(room, t.body.token);
    expect(await inRoom(room, "alice")).toBe(true);
    expect((await e.request("POST", `/api/v1/calls/${call}/end`, { token: bob })).status).toBe(200);
    expect(await inRoom(room, "alice")).toBe(false);
    // The room is gone; joining recreates it (LiveKit does), and the engine removes her.
    await media.join(room, t.body.token);
    expect(await inRoom(room, "alice")).toBe(false);
  });
});
