import type { RoomLeftData, RoomMember, RoomMessageData, RoomPolicy } from "@utd-stream/protocol";
import { SignJWT } from "jose";
import { describe, expect, test } from "vitest";
import type { RunningEngine } from "../../../test/helpers/engine.js";
import { BACKENDS, engineFor } from "./chat-world.js";
import { type Frame, sleep, WsClient } from "./ws-helpers.js";

type Err = { error: { code: string; limit?: string; capability?: string; retry_after_s?: number } };

const ENV = {
  UTD_ROOMS_GRACE_S: "1",
  UTD_ROOMS_PUBLISH_RATE: "5/1",
  UTD_ROOMS_MAX_PAYLOAD_BYTES: "512",
  UTD_ROOMS_PER_SOCKET: "3",
  UTD_PRESENCE_GRACE_S: "0",
};

let counter = 0;

/** Room frames for `room` received so far, by type. */
function roomFrames(c: WsClient, type: string, room: string): Frame[] {
  return c.frames.filter((f) => f.type === type && (f.data as { room?: string }).room === room);
}
function messages(c: WsClient, room: string): RoomMessageData[] {
  return roomFrames(c, "room.message", room).map((f) => f.data as RoomMessageData);
}

/** Signs a room grant (or, with a wrong secret, a forgery). */
function grant(secret: string, claims: Record<string, unknown>, expiresIn = "5m"): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime(expiresIn).sign(new TextEncoder().encode(secret));
}

describe.each(BACKENDS)("signalling rooms (%s)", (_name, setup) => {
  const suite = engineFor(setup, ENV);
  const open: WsClient[] = [];

  async function world(plan = "pro") {
    const e: RunningEngine = suite.engine;
    const app = await e.createApp({ plan });
    const basic = `Basic ${Buffer.from(`${app.app_id}:${app.app_secret}`).toString("base64")}`;
    const user = async (identity: string, deviceId?: string) => {
      const s = await e.session(app, identity, deviceId ? { device_id: deviceId } : {});
      const ws = await WsClient.connect(e.wsUrl, s.user_token, deviceId ? { deviceId } : {});
      open.push(ws);
      return { identity, token: s.user_token, ws };
    };
    const backend = <T = unknown>(method: string, path: string, body?: unknown, auth = basic) =>
      e.request<T>(method, path, { headers: { authorization: auth }, ...(body === undefined ? {} : { body }) });
    return { e, app, basic, user, backend };
  }
  const room = () => `r${++counter}-${Math.random().toString(36).slice(2, 6)}`;
  const join = async (c: WsClient, r: string, extra: Record<string, unknown> = {}) => c.request("room.join", { room: r, ...extra });

  test("join, member snapshot, devices, broadcast, leave", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { user } = await world();
    const r = room();
    const alice = await user("alice", "a-web");
    const j1 = await join(alice.ws, r, { data: { color: "red" } });
    expect(j1).toMatchObject({ ok: true, data: { room: r, role: "member", can_publish: true, offset: 0, recovered: false, members: 1 } });
    const snap1 = roomFrames(alice.ws, "room.members", r)[0]?.data as { members: RoomMember[] };
    expect(snap1.members).toEqual([expect.objectContaining({ identity: "alice", data: { color: "red" }, devices: 1, role: "member" })]);

    const bob = await user("bob", "b-phone");
    await join(bob.ws, r);
    const joined = await alice.ws.event<{ member: RoomMember }>("room.joined", (d) => d.member.identity === "bob");
    expect(joined.data.member).toMatchObject({ identity: "bob", devices: 1, data: null });
    const snap2 = roomFrames(bob.ws, "room.members", r)[0]?.data as { members: RoomMember[] };
    expect(snap2.members.map((m) => m.identity)).toEqual(["alice", "bob"]);

    // A second device of bob's: still one member, two devices.
    const bob2 = await user("bob", "b-laptop");
    await join(bob2.ws, r);
    await alice.ws.event<{ member: RoomMember }>("room.joined", (d) => d.member.identity === "bob" && d.member.devices === 2);

    // A broadcast reaches the other sockets (not the sender's unless it asks for an echo).
    const pub = await alice.ws.request("room.publish", { room: r, data: { x: 10, y: 20 } });
    expect(pub).toMatchObject({ ok: true, data: { room: r, offset: 1 } });
    for (const c of [bob.ws, bob2.ws]) {
      const m = await c.event<RoomMessageData>("room.message", (d) => d.room === r && d.offset === 1);
      expect(m.data).toMatchObject({ from: { identity: "alice" }, data: { x: 10, y: 20 }, epoch: (pub.data as { epoch: string }).epoch });
    }
    await alice.ws.request("room.publish", { room: r, data: "echo", echo: true });
    await alice.ws.event<RoomMessageData>("room.message", (d) => d.room === r && d.data === "echo");
    expect(messages(alice.ws, r).map((m) => m.offset)).toEqual([2]);

    // A device leaves: the member stays with one device; then the member leaves.
    await bob2.ws.request("room.leave", { room: r });
    await alice.ws.event<RoomLeftData>("room.left", (d) => d.identity === "bob" && d.devices === 1 && d.reason === "left");
    await bob.ws.request("room.leave", { room: r });
    await alice.ws.event<RoomLeftData>("room.left", (d) => d.identity === "bob" && d.devices === 0);
    // Not in the room any more: leave and publish are refused, and nothing reaches bob.
    expect(await bob.ws.request("room.leave", { room: r })).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await bob.ws.request("room.publish", { room: r, data: 1 })).toMatchObject({ ok: false, error: { code: "not_found" } });
    await alice.ws.request("room.publish", { room: r, data: "after" });
    await sleep(100);
    expect(messages(bob.ws, r).some((m) => m.data === "after")).toBe(false);
  });

  test("bad frames: unknown room verbs, malformed names, oversize data and member data change nothing", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { user, e, app } = await world();
    const r = room();
    const a = await user("bad-a");
    expect(await a.ws.request("room.join", { room: "has space" })).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    expect(await a.ws.request("room.join", { room: "x".repeat(65) })).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    expect(await a.ws.request("room.join", { room: r, data: { big: "y".repeat(1100) } })).toMatchObject({
      ok: false,
      error: { code: "invalid_argument" },
    });
    expect(await a.ws.request("room.publish", { room: r, data: 1 })).toMatchObject({ ok: false, error: { code: "not_found" } });
    // Nobody joined: the room has no members.
    const members = await e.request<Err>("GET", `/api/v1/rooms/${r}/members`, {
      headers: { authorization: `Basic ${Buffer.from(`${app.app_id}:${app.app_secret}`).toString("base64")}` },
    });
    expect([members.status, members.body.error.code]).toEqual([404, "not_found"]);

    await join(a.ws, r);
    const b = await user("bad-b");
    await join(b.ws, r);
    const big = await a.ws.request("room.publish", { room: r, data: "z".repeat(600) });
    expect(big).toMatchObject({ ok: false, error: { code: "payload_too_large" } });
    const ok = await a.ws.request("room.publish", { room: r, data: "small" });
    expect(ok).toMatchObject({ ok: true, data: { offset: 1 } });
    await b.ws.event<RoomMessageData>("room.message", (d) => d.data === "small");
    expect(messages(b.ws, r).length).toBe(1);
  });

  test("limits: rooms per socket, members per room, publishes per second", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { user, backend } = await world();
    const a = await user("lim-a");
    const rooms = [room(), room(), room(), room()];
    for (const r of rooms.slice(0, 3)) expect(await join(a.ws, r)).toMatchObject({ ok: true });
    const fourth = await join(a.ws, rooms[3] as string);
    expect(fourth).toMatchObject({ ok: false, error: { code: "limit_exceeded", limit: "rooms_per_socket" } });
    // Joining a room it is already in is not a new room.
    expect(await join(a.ws, rooms[0] as string)).toMatchObject({ ok: true });

    const r = room();
    expect((await backend("PUT", `/api/v1/rooms/${r}/policy`, { policy: "open", max_members: 2 })).status).toBe(200);
    const m1 = await user("cap-1", "d1");
    const m2 = await user("cap-2");
    const m3 = await user("cap-3");
    await join(m1.ws, r);
    await join(m2.ws, r);
    expect(await join(m3.ws, r)).toMatchObject({ ok: false, error: { code: "limit_exceeded", limit: "max_room_members" } });
    // Another device of a member is not another member.
    const m1b = await user("cap-1", "d2");
    expect(await join(m1b.ws, r)).toMatchObject({ ok: true, data: { members: 2 } });
    const list = await backend<{ members: RoomMember[] }>("GET", `/api/v1/rooms/${r}/members`);
    expect(list.body.members.map((m) => [m.identity, m.devices])).toEqual([
      ["cap-1", 2],
      ["cap-2", 1],
    ]);

    // 5/1: the sixth publish in a burst is refused with a typed rate_limited and not delivered.
    const replies: Frame[] = [];
    for (let i = 0; i < 6; i++) replies.push(await m1.ws.request("room.publish", { room: r, data: i }));
    expect(replies.slice(0, 5).every((x) => x.ok === true)).toBe(true);
    expect(replies[5]).toMatchObject({ ok: false, error: { code: "rate_limited" } });
    expect((replies[5]?.error as Err["error"] | undefined)?.retry_after_s).toBeGreaterThanOrEqual(1);
    await m2.ws.event<RoomMessageData>("room.message", (d) => d.room === r && d.data === 4);
    await sleep(100);
    expect(messages(m2.ws, r).map((m) => m.data)).toEqual([0, 1, 2, 3, 4]);
  });

  test("policies: allow-list, grants (forged, expired, other room, listen-only), publish role", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { user, backend, app } = await world();
    // members: only the allow-list.
    const r = room();
    const put = await backend<RoomPolicy>("PUT", `/api/v1/rooms/${r}/policy`, {
      policy: "members",
      members: [{ identity: "pol-host", role: "host" }, { identity: "pol-guest" }],
      publish_role: "host",
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ policy: "members", publish_role: "host", source: "room", max_members: 1000, history: 0 });
    const host = await user("pol-host");
    const guest = await user("pol-guest");
    const stranger = await user("pol-stranger");
    expect(await join(host.ws, r)).toMatchObject({ ok: true, data: { role: "host", can_publish: true } });
    expect(await join(guest.ws, r)).toMatchObject({ ok: true, data: { role: "member", can_publish: false } });
    expect(await join(stranger.ws, r)).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect((await backend<{ members: RoomMember[] }>("GET", `/api/v1/rooms/${r}/members`)).body.members.length).toBe(2);
    expect(roomFrames(host.ws, "room.joined", r).some((f) => (f.data as { member: RoomMember }).member.identity === "pol-stranger")).toBe(
      false,
    );
    // The publish role: the guest may listen, not publish.
    expect(await guest.ws.request("room.publish", { room: r, data: "no" })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(await host.ws.request("room.publish", { room: r, data: "next question" })).toMatchObject({ ok: true });
    await guest.ws.event<RoomMessageData>("room.message", (d) => d.data === "next question");

    // token: a grant signed with the app secret is needed.
    const t = room();
    expect((await backend("PUT", `/api/v1/rooms/${t}/policy`, { policy: "token" })).status).toBe(200);
    const g = await user("tok-user");
    expect(await join(g.ws, t)).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const forged = await grant("not-the-secret-0123456789abcdef", { sub: "tok-user", room: t });
    expect(await join(g.ws, t, { grant: forged })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const expired = await grant(app.app_secret, { sub: "tok-user", room: t }, "-1m");
    expect(await join(g.ws, t, { grant: expired })).toMatchObject({
      ok: false,
      error: { code: "forbidden", message: "room grant expired" },
    });
    const otherRoom = await grant(app.app_secret, { sub: "tok-user", room: r });
    expect(await join(g.ws, t, { grant: otherRoom })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const otherUser = await grant(app.app_secret, { sub: "someone-else", room: t });
    expect(await join(g.ws, t, { grant: otherUser })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const tooLong = await grant(app.app_secret, { sub: "tok-user", room: t }, "2h");
    expect(await join(g.ws, t, { grant: tooLong })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect((await backend("GET", `/api/v1/rooms/${t}/members`)).status).toBe(404);
    // A room grant is not an identity token (a signed-mode app refuses it as one).
    const signed = await suite.engine.createApp({ auth_mode: "signed" });
    const notSession = await suite.engine.request<Err>("POST", "/api/v1/auth/session", {
      body: {
        app_id: signed.app_id,
        app_key: signed.app_key,
        identity: "tok-user",
        identity_token: await grant(signed.app_secret, { sub: "tok-user", room: t }),
      },
    });
    expect(notSession.status).toBe(401);
    const realIdentityToken = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("tok-user")
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(signed.app_secret));
    const isSession = await suite.engine.request("POST", "/api/v1/auth/session", {
      body: { app_id: signed.app_id, app_key: signed.app_key, identity: "tok-user", identity_token: realIdentityToken },
    });
    expect(isSession.status).toBe(200);

    const listenOnly = await grant(app.app_secret, { sub: "tok-user", room: t, publish: false, role: "viewer" });
    expect(await join(g.ws, t, { grant: listenOnly })).toMatchObject({ ok: true, data: { role: "viewer", can_publish: false } });
    expect(await g.ws.request("room.publish", { room: t, data: 1 })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const g2 = await user("tok-two");
    expect(await join(g2.ws, t, { grant: await grant(app.app_secret, { sub: "tok-two", room: t }) })).toMatchObject({
      ok: true,
      data: { can_publish: true },
    });

    // Policy reads, limits above the plan, removal.
    const read = await backend<RoomPolicy>("GET", `/api/v1/rooms/${r}/policy`);
    expect(read.body.members).toEqual([
      { identity: "pol-guest", role: "member" },
      { identity: "pol-host", role: "host" },
    ]);
    const tooMany = await backend<Err>("PUT", `/api/v1/rooms/${r}/policy`, { policy: "open", max_members: 5000 });
    expect([tooMany.status, tooMany.body.error.limit]).toEqual([403, "max_room_members"]);
    const tooMuchHistory = await backend<Err>("PUT", `/api/v1/rooms/${r}/policy`, { policy: "open", history: 51 });
    expect([tooMuchHistory.status, tooMuchHistory.body.error.limit]).toEqual([403, "room_history"]);
    const dup = await backend<Err>("PUT", `/api/v1/rooms/${r}/policy`, {
      policy: "members",
      members: [{ identity: "x" }, { identity: "x" }],
    });
    expect(dup.status).toBe(400);
    expect((await backend<RoomPolicy>("GET", `/api/v1/rooms/${r}/policy`)).body).toMatchObject({ policy: "members", publish_role: "host" });
    expect((await backend("DELETE", `/api/v1/rooms/${r}/policy`)).status).toBe(204);
    expect((await backend<RoomPolicy>("GET", `/api/v1/rooms/${r}/policy`)).body).toMatchObject({
      policy: "open",
      source: "app",
      members: [],
    });
    expect((await backend<Err>("DELETE", `/api/v1/rooms/${r}/policy`)).status).toBe(404);
  });

  test("app default policy comes from the app's settings", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { user, backend, app, e } = await world();
    expect((await e.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { settings: { room_policy: "members" } })).status).toBe(200);
    const r = room();
    expect((await backend<RoomPolicy>("GET", `/api/v1/rooms/${r}/policy`)).body).toMatchObject({ policy: "members", source: "app" });
    const u = await user("def-user");
    expect(await join(u.ws, r)).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const bad = await e.admin<Err>("PATCH", `/admin/v1/apps/${app.app_id}`, { settings: { room_policy: "everyone" } });
    expect(bad.status).toBe(400);
    // The plan's member cap can be overridden per app.
    await e.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { settings: { room_policy: "open" }, limit_overrides: { max_room_members: 1 } });
    const r2 = room();
    expect((await backend<RoomPolicy>("GET", `/api/v1/rooms/${r2}/policy`)).body.max_members).toBe(1);
    expect(await join(u.ws, r2)).toMatchObject({ ok: true });
    const other = await user("def-other");
    expect(await join(other.ws, r2)).toMatchObject({ ok: false, error: { code: "limit_exceeded", limit: "max_room_members" } });
  });

  test("history: a late joiner gets the last N; a rejoin with since gets what it missed (epoch + offset)", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { user, backend } = await world();
    const r = room();
    expect((await backend("PUT", `/api/v1/rooms/${r}/policy`, { policy: "open", history: 3 })).status).toBe(200);
    const host = await user("h-host");
    await join(host.ws, r);
    let epoch = "";
    for (let i = 1; i <= 5; i++) epoch = ((await host.ws.request("room.publish", { room: r, data: i })).data as { epoch: string }).epoch;

    const late = await user("h-late");
    const j = await join(late.ws, r);
    expect(j).toMatchObject({ ok: true, data: { epoch, offset: 5, recovered: false } });
    expect(messages(late.ws, r).map((m) => [m.offset, m.data])).toEqual([
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
    // The snapshot comes before the history.
    const types = late.ws.frames.filter((f) => f.type.startsWith("room.")).map((f) => f.type);
    expect(types.slice(0, 2)).toEqual(["room.members", "room.message"]);

    const again = await user("h-again");
    expect(await join(again.ws, r, { since: { epoch, offset: 4 } })).toMatchObject({ ok: true, data: { recovered: true, offset: 5 } });
    expect(messages(again.ws, r).map((m) => m.offset)).toEqual([5]);
    const tooOld = await user("h-old");
    expect(await join(tooOld.ws, r, { since: { epoch, offset: 1 } })).toMatchObject({ ok: true, data: { recovered: false } });
    expect(messages(tooOld.ws, r).map((m) => m.offset)).toEqual([3, 4, 5]);
    const otherEpoch = await user("h-epoch");
    expect(await join(otherEpoch.ws, r, { since: { epoch: "nope", offset: 4 } })).toMatchObject({ ok: true, data: { recovered: false } });
    // Nothing kept without a history policy.
    const r0 = room();
    await join(host.ws, r0);
    await host.ws.request("room.publish", { room: r0, data: "gone" });
    const l0 = await user("h-none");
    expect(await join(l0.ws, r0)).toMatchObject({ ok: true, data: { offset: 1 } });
    expect(messages(l0.ws, r0)).toEqual([]);
  });

  test("REST: backend broadcast (secret or admin token), members, kick; bad credentials and unknown rooms", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { user, backend, e, app } = await world();
    const r = room();
    const a = await user("rest-a");
    const b = await user("rest-b", "b-1");
    await join(a.ws, r);
    await join(b.ws, r);
    const sent = await backend<{ offset: number; members: number }>("POST", `/api/v1/rooms/${r}/broadcast`, {
      data: { cmd: "play", at: 12.5 },
    });
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ room: r, offset: 1, members: 2 });
    for (const c of [a.ws, b.ws]) {
      const m = await c.event<RoomMessageData>("room.message", (d) => d.room === r && d.offset === 1);
      expect(m.data).toMatchObject({ from: null, data: { cmd: "play", at: 12.5 } });
    }
    const viaAdmin = await e.request("POST", `/api/v1/rooms/${r}/broadcast`, {
      token: e.adminToken,
      headers: { "x-utd-app-id": app.app_id },
      body: { data: "admin" },
    });
    expect(viaAdmin.status).toBe(200);
    const noHeader = await e.request<Err>("POST", `/api/v1/rooms/${r}/broadcast`, { token: e.adminToken, body: { data: 1 } });
    expect(noHeader.status).toBe(400);
    const wrong = `Basic ${Buffer.from(`${app.app_id}:sk_wrong`).toString("base64")}`;
    expect((await backend("POST", `/api/v1/rooms/${r}/broadcast`, { data: 1 }, wrong)).status).toBe(401);
    expect((await e.request("POST", `/api/v1/rooms/${r}/broadcast`, { body: { data: 1 } })).status).toBe(401);
    // A user token may not broadcast or kick; it may list a room it is in.
    expect((await e.request("POST", `/api/v1/rooms/${r}/broadcast`, { token: a.token, body: { data: 1 } })).status).toBe(401);
    expect((await e.request("DELETE", `/api/v1/rooms/${r}/members/rest-b`, { token: a.token })).status).toBe(401);
    const asMember = await e.request<{ members: RoomMember[] }>("GET", `/api/v1/rooms/${r}/members`, { token: a.token });
    expect(asMember.body.members.map((m) => m.identity)).toEqual(["rest-a", "rest-b"]);
    const outsider = await user("rest-out");
    expect((await e.request("GET", `/api/v1/rooms/${r}/members`, { token: outsider.token })).status).toBe(403);
    const oversize = await backend<Err>("POST", `/api/v1/rooms/${r}/broadcast`, { data: "x".repeat(600) });
    expect([oversize.status, oversize.body.error.code]).toEqual([413, "payload_too_large"]);
    const unknown = await backend<Err>("POST", `/api/v1/rooms/${room()}/broadcast`, { data: 1 });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "not_found"]);
    expect((await backend("POST", "/api/v1/rooms/bad%20name/broadcast", { data: 1 })).status).toBe(400);
    await sleep(100);
    expect(messages(a.ws, r).map((m) => m.offset)).toEqual([1, 2]);

    // Kick: the member's sockets get room.closed; the others room.left; the list shrinks.
    expect((await backend("DELETE", `/api/v1/rooms/${r}/members/rest-b`)).status).toBe(204);
    await b.ws.event<{ reason: string }>("room.closed", (d) => d.reason === "kicked");
    await a.ws.event<RoomLeftData>("room.left", (d) => d.identity === "rest-b" && d.reason === "kicked" && d.devices === 0);
    expect((await backend<{ members: RoomMember[] }>("GET", `/api/v1/rooms/${r}/members`)).body.members.map((m) => m.identity)).toEqual([
      "rest-a",
    ]);
    expect(await b.ws.request("room.publish", { room: r, data: 1 })).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect((await backend<Err>("DELETE", `/api/v1/rooms/${r}/members/rest-b`)).status).toBe(404);
  });

  test("another app's room of the same name is another room", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const one = await world();
    const two = await world();
    const r = room();
    const a = await one.user("same-a");
    const b = await two.user("same-b");
    await join(a.ws, r);
    expect(await join(b.ws, r)).toMatchObject({ ok: true, data: { members: 1 } });
    expect((roomFrames(b.ws, "room.members", r)[0]?.data as { members: RoomMember[] } | undefined)?.members.map((m) => m.identity)).toEqual(
      ["same-b"],
    );
    await one.backend("POST", `/api/v1/rooms/${r}/broadcast`, { data: "for app one" });
    await a.ws.event<RoomMessageData>("room.message", (d) => d.data === "for app one");
    // App two's secret cannot reach app one's members, nor kick them.
    expect((await two.backend("DELETE", `/api/v1/rooms/${r}/members/same-a`)).status).toBe(404);
    const crossed = `Basic ${Buffer.from(`${one.app.app_id}:${two.app.app_secret}`).toString("base64")}`;
    expect((await one.backend("POST", `/api/v1/rooms/${r}/broadcast`, { data: 1 }, crossed)).status).toBe(401);
    await sleep(100);
    expect(messages(b.ws, r)).toEqual([]);
    expect(roomFrames(a.ws, "room.joined", r)).toEqual([]);
  });

  test("a dropped socket leaves after the grace period; a reconnect within it shows no leave", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { user, e, app } = await world();
    const r = room();
    const watcher = await user("g-watch");
    await join(watcher.ws, r);
    const s = await e.session(app, "g-mobile", { device_id: "m-1" });
    const first = await WsClient.connect(e.wsUrl, s.user_token, { deviceId: "m-1" });
    await join(first, r);
    first.ws.terminate();
    await sleep(300);
    const second = await WsClient.connect(e.wsUrl, s.user_token, { deviceId: "m-1" });
    open.push(second);
    expect(await join(second, r)).toMatchObject({ ok: true, data: { members: 2 } });
    await sleep(1800);
    expect(roomFrames(watcher.ws, "room.left", r)).toEqual([]);
    const list = await e.request<{ members: RoomMember[] }>("GET", `/api/v1/rooms/${r}/members`, { token: watcher.token });
    expect(list.body.members.find((m) => m.identity === "g-mobile")?.devices).toBe(1);
    // Gone for good: room.left (disconnected) after the grace period.
    second.ws.terminate();
    const left = await watcher.ws.event<RoomLeftData>("room.left", (d) => d.identity === "g-mobile");
    expect(left.data).toMatchObject({ devices: 0, reason: "disconnected" });
  });

  test("capability switched off closes rooms and refuses every verb and route; a ban leaves at once", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { user, backend, e, app } = await world();
    const r = room();
    const a = await user("cap-a");
    const b = await user("cap-b");
    await join(a.ws, r);
    await join(b.ws, r);
    // A ban: the member leaves now, not after the grace period.
    const banned = await user("cap-banned");
    await join(banned.ws, r);
    await e.admin("POST", `/admin/v1/apps/${app.app_id}/bans`, { identity: "cap-banned" });
    await a.ws.event<RoomLeftData>("room.left", (d) => d.identity === "cap-banned" && d.reason === "banned");

    expect((await e.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { signaling_enabled: false })).status).toBe(200);
    for (const c of [a.ws, b.ws])
      await c.event<{ room: string; reason: string }>("room.closed", (d) => d.room === r && d.reason === "feature_disabled");
    const refused = await a.ws.request("room.join", { room: r });
    expect(refused).toMatchObject({ ok: false, error: { code: "feature_disabled", capability: "signaling" } });
    expect(await a.ws.request("room.publish", { room: r, data: 1 })).toMatchObject({ ok: false, error: { code: "feature_disabled" } });
    expect(await a.ws.request("room.leave", { room: r })).toMatchObject({ ok: false, error: { code: "feature_disabled" } });
    const rest = await backend<Err>("POST", `/api/v1/rooms/${r}/broadcast`, { data: 1 });
    expect([rest.status, rest.body.error.code, rest.body.error.capability]).toEqual([403, "feature_disabled", "signaling"]);
    expect((await backend<Err>("PUT", `/api/v1/rooms/${r}/policy`, { policy: "open" })).status).toBe(403);
    // Back on: the room is empty (everyone was closed out) and can be joined again.
    await e.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { signaling_enabled: null });
    await expect.poll(async () => (await a.ws.request("room.join", { room: r })).ok, { timeout: 5000 }).toBe(true);
    expect((await backend<{ members: RoomMember[] }>("GET", `/api/v1/rooms/${r}/members`)).body.members.map((m) => m.identity)).toEqual([
      "cap-a",
    ]);
  });
});

describe("signalling rooms: slow consumers", () => {
  const suite = engineFor((BACKENDS[0] as (typeof BACKENDS)[number])[1], {
    UTD_WS_MAX_BUFFERED_BYTES: "262144",
    UTD_ROOMS_MAX_PAYLOAD_BYTES: "60000",
  });

  test("a socket that stops reading is cut off with 4507 instead of buffering without bound", async () => {
    const e = suite.engine;
    const app = await e.createApp({ plan: "enterprise" });
    const basic = `Basic ${Buffer.from(`${app.app_id}:${app.app_secret}`).toString("base64")}`;
    const connect = async (identity: string) => WsClient.connect(e.wsUrl, (await e.session(app, identity)).user_token);
    const r = "flood";
    const reader = await connect("slow-reader");
    const fast = await connect("slow-fast");
    await reader.request("room.join", { room: r });
    await fast.request("room.join", { room: r });
    // The reader's TCP socket stops reading; the backend floods the room with 50 KB broadcasts.
    const socket = (reader.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const data = "p".repeat(50_000);
    const cut = async () =>
      /utd_ws_closes_total\{code="4507"\} 1/.test((await e.request<string>("GET", "/metrics", { token: e.adminToken })).body);
    let sent = 0;
    while (!(await cut())) {
      for (let i = 0; i < 10; i++) {
        const res = await e.request("POST", `/api/v1/rooms/${r}/broadcast`, { headers: { authorization: basic }, body: { data } });
        expect(res.status).toBe(200);
        sent++;
      }
      if (sent > 2000) throw new Error("never cut off");
    }
    // Reading again, the reader finds the typed close after what was already queued.
    socket.resume();
    expect((await reader.closed).code).toBe(4507);
    // The member that keeps reading got every broadcast.
    await fast.event<RoomMessageData>("room.message", (d) => d.offset === sent);
    expect(messages(fast, r).length).toBe(sent);
    fast.close();
  });
});
