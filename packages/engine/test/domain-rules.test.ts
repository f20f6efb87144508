import type { Call, CallList, Presence, SeatsState, TypingEventData } from "@utd-stream/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, describeBackends, type FreshStore, freshStore } from "../../../test/helpers/backends.js";
import type { TestApp } from "../../../test/helpers/engine.js";
import { type InProcessEngine, ManualClock, startInProcess } from "../../../test/helpers/inproc.js";
import { openStore, type Store } from "../src/index.js";
import { FakeMedia } from "../src/media/fake.js";
import { loadGatewayConfig } from "../src/ws/config.js";
import { WsClient } from "./ws-helpers.js";

/**
 * Domain rules on an in-process engine: requests through Fastify's inject(), media through the fake
 * port, and time on a ManualClock — time-based rules (ring deadline, presence grace, typing expiry,
 * retention, token expiry) are tested by moving the clock and running the sweep, never by sleeping.
 * Run on every store, so the rules' queries (deadlines, races, ties, counts) hold on both dialects.
 */

type Err = { error: { code: string; status?: string; limit?: string } };
const S = 1000;
const DAY = 86_400_000;
// The gateway reads its settings (presence grace, typing expiry) from the process environment, not from
// the engine's config, so an in-process engine runs on the defaults: take them from the same place.
const { presenceGraceS: GRACE_S, typingTtlS: TYPING_S } = loadGatewayConfig({});

describeBackends(await backends("store"), "domain rules in-process", (impl) => {
  let db: FreshStore | undefined;
  let store: Store;
  let node: InProcessEngine;
  let wsUrl: string;
  const media = new FakeMedia();
  const open: WsClient[] = [];

  beforeAll(async () => {
    db = await freshStore(impl);
    if (!db) return;
    store = await openStore(db.storeOptions);
    node = await startInProcess({
      env: { UTD_CALL_RING_TIMEOUT_S: "30", UTD_USER_TOKEN_TTL_S: "600" },
      ports: { store, media },
    });
    ({ wsUrl } = await node.listen());
    // LiveKit calls the engine's webhook when someone joins or leaves a room; the fake does the same.
    media.deliverWebhooksTo(async (body, authorization) => {
      const r = await node.request("POST", "/api/v1/livekit/webhook", {
        raw: body,
        headers: { authorization, "content-type": "application/webhook+json" },
      });
      if (r.status >= 300) throw new Error(`webhook refused: ${r.status} ${JSON.stringify(r.body)}`);
    });
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await node?.close();
    await store?.close();
    await db?.drop();
  });

  const connect = async (token: string) => {
    const c = await WsClient.connect(wsUrl, token);
    open.push(c);
    return c;
  };
  /** A fresh app and signed-in users (tokens by identity). */
  const world = async (ids: string[], plan = "free") => {
    const app = await node.createApp({ plan });
    const t: Record<string, string> = {};
    for (const id of ids) t[id] = (await node.session(app, id, { device_id: `${id}-dev` })).user_token;
    return { app, t };
  };
  const post = <T>(token: string, path: string, body: unknown = {}) => node.request<T>("POST", path, { token, body });
  const get = <T>(token: string, path: string) => node.request<T>("GET", path, { token });

  describe("calls", () => {
    it("an unanswered call is missed once the clock passes the ring deadline, not before; a late accept is a conflict", async () => {
      const { t } = await world(["ca", "cb"]);
      const bw = await connect(t.cb as string);
      const call = (await post<Call>(t.ca as string, "/api/v1/calls", { callee_identity: "cb", type: "audio_call" })).body;
      await post(t.cb as string, `/api/v1/calls/${call.id}/ringing`);
      node.clock.advance(29 * S);
      await node.engine.services.calls.sweep();
      expect((await get<Call>(t.ca as string, `/api/v1/calls/${call.id}`)).body.status).toBe("ringing");
      node.clock.advance(2 * S);
      expect(await node.engine.services.calls.sweep()).toBe(1);
      expect((await get<Call>(t.ca as string, `/api/v1/calls/${call.id}`)).body).toMatchObject({ status: "missed", end_reason: "timeout" });
      expect((await bw.event<{ call: Call }>("call.missed", (d) => d.call.id === call.id)).data.call.status).toBe("missed");
      const late = await post<Err>(t.cb as string, `/api/v1/calls/${call.id}/accept`);
      expect([late.status, late.body.error.status]).toEqual([409, "missed"]);
      expect(await node.engine.services.calls.sweep()).toBe(0);
    });

    it("the ring deadline is stored: an engine started later on the same store marks the call missed", async () => {
      const { app, t } = await world(["da", "db"]);
      const call = (await post<Call>(t.da as string, "/api/v1/calls", { callee_identity: "db", type: "video_call" })).body;
      expect(call.status).toBe("initiating");
      // A second engine (a restart, or another node) on the same store, 31 s later by its clock.
      const later = await startInProcess({
        env: { UTD_CALL_RING_TIMEOUT_S: "30" },
        ports: { store, media },
        clock: new ManualClock(node.clock.now() + 31 * S),
        dataDir: node.dataDir,
      });
      try {
        await later.engine.services.calls.sweep();
        const token = (await later.session(app, "da")).user_token;
        expect((await later.request<Call>("GET", `/api/v1/calls/${call.id}`, { token })).body).toMatchObject({
          status: "missed",
          end_reason: "timeout",
        });
      } finally {
        await later.close();
      }
    });

    it("two devices accepting at once: exactly one wins, the other gets a conflict", async () => {
      const { app, t } = await world(["ra"]);
      const phone = (await node.session(app, "rb", { device_id: "phone" })).user_token;
      const laptop = (await node.session(app, "rb", { device_id: "laptop" })).user_token;
      for (let i = 0; i < 5; i++) {
        const call = (await post<Call>(t.ra as string, "/api/v1/calls", { callee_identity: "rb", type: "audio_call" })).body;
        const [x, y] = await Promise.all([
          post<Call>(phone, `/api/v1/calls/${call.id}/accept`),
          post<Call>(laptop, `/api/v1/calls/${call.id}/accept`),
        ]);
        expect([x.status, y.status].sort()).toEqual([200, 409]);
        const winner = x.status === 200 ? "phone" : "laptop";
        expect((await get<Call>(t.ra as string, `/api/v1/calls/${call.id}`)).body).toMatchObject({
          status: "active",
          answered_device_id: winner,
        });
        await post(t.ra as string, `/api/v1/calls/${call.id}/end`);
      }
    });

    it("history is newest first and pages without loss or repeats, even when every call has the same timestamp", async () => {
      const { t } = await world(["ha", "hb"]);
      const ids: string[] = [];
      // The clock does not move: seven calls in one millisecond.
      for (let i = 0; i < 7; i++) {
        const c = (await post<Call>(t.ha as string, "/api/v1/calls", { callee_identity: "hb", type: "audio_call" })).body;
        await post(t.hb as string, `/api/v1/calls/${c.id}/reject`);
        ids.push(c.id);
      }
      const later = (await post<Call>(t.hb as string, "/api/v1/calls", { callee_identity: "ha", type: "audio_call" })).body;
      node.clock.advance(1);
      const latest = (await post<Call>(t.hb as string, "/api/v1/calls", { callee_identity: "ha", type: "audio_call" })).body;
      const seen: string[] = [];
      let before: string | null = null;
      do {
        const page: CallList = (await get<CallList>(t.hb as string, `/api/v1/calls?limit=3${before ? `&before=${before}` : ""}`)).body;
        seen.push(...page.calls.map((c) => c.id));
        before = page.next_before;
      } while (before);
      // Every call exactly once; the newest first (ties within a millisecond in a stable order of their own).
      expect(seen).toHaveLength(9);
      expect(new Set(seen).size).toBe(9);
      expect(seen[0]).toBe(latest.id);
      expect(new Set(seen.slice(1))).toEqual(new Set([...ids, later.id]));
    });
  });

  describe("presence", () => {
    it("after the last socket closes, online through the grace period on the clock, then offline with the close time as last seen", async () => {
      const { t } = await world(["pw", "pb"]);
      const w = await connect(t.pw as string);
      await w.request("presence.watch", { identities: ["pb"] });
      const b = await WsClient.connect(wsUrl, t.pb as string);
      await w.event<Presence>("presence.changed", (p) => p.identity === "pb" && p.status === "online");
      const closedAt = node.clock.now();
      b.close();
      await b.closed;
      // The close is recorded (asynchronously, after the socket closed).
      await until(async () => {
        const rows = await store.db.selectFrom("presence_connections").select("closed_at").where("identity", "=", "pb").execute();
        return rows.length > 0 && rows.every((r) => r.closed_at !== null);
      });
      node.clock.advance(GRACE_S * S - 1);
      await node.engine.services.presence.sweep();
      const during = (await get<{ presence: Presence[] }>(t.pw as string, "/api/v1/presence?identities=pb")).body.presence[0];
      expect(during?.status).toBe("online");
      node.clock.advance(1);
      await node.engine.services.presence.sweep();
      const off = await w.event<Presence>("presence.changed", (p) => p.identity === "pb" && p.status === "offline");
      expect(off.data.last_seen_at).toBe(new Date(closedAt).toISOString());
      const after = (await get<{ presence: Presence[] }>(t.pw as string, "/api/v1/presence?identities=pb")).body.presence[0];
      expect(after).toMatchObject({ status: "offline", devices: [], last_seen_at: off.data.last_seen_at });
    });
  });

  describe("typing", () => {
    it("a start lapses when the clock passes its expiry: the engine sends typing.stopped itself", async () => {
      const { t } = await world(["ta", "tb"]);
      const a = await connect(t.ta as string);
      const b = await connect(t.tb as string);
      expect(await a.request("typing.start", { to: "tb" })).toMatchObject({ ok: true });
      const started = await b.event<TypingEventData>("typing.started");
      expect(started.data.expires_at).toBe(new Date(node.clock.now() + TYPING_S * S).toISOString());
      node.clock.advance(TYPING_S * S - 1);
      node.engine.services.typing.sweep();
      await new Promise((r) => setTimeout(r, 50));
      expect(b.events().filter((f) => f.type === "typing.stopped")).toHaveLength(0);
      node.clock.advance(1);
      node.engine.services.typing.sweep();
      const stopped = await b.event<TypingEventData>("typing.stopped");
      expect(stopped.data).toMatchObject({ identity: "ta" });
      // Exactly one stop, sent once the start had lapsed (not at the first sweep).
      expect(b.events().filter((f) => f.type === "typing.stopped")).toHaveLength(1);
      expect(b.frames.indexOf(stopped)).toBeGreaterThan(b.frames.indexOf(started));
    });
  });

  describe("retention and plan limits", () => {
    it("messages older than history_days by the clock are not served, an upgrade serves them again, the purge deletes them", async () => {
      const { app, t } = await world(["ra1", "ra2"]); // free plan: history_days = 7
      const g = (await post<{ id: string }>(t.ra1 as string, "/api/v1/conversations", { kind: "group", members: ["ra2"] })).body;
      const send = (id: string) => post(t.ra1 as string, `/api/v1/conversations/${g.id}/messages`, { client_msg_id: id, text: id });
      await send("old");
      node.clock.advance(8 * DAY);
      // Eight days later: the old tokens have long expired, so both sign in again.
      for (const id of ["ra1", "ra2"]) t[id] = (await node.session(app, id)).user_token;
      await send("new");
      const texts = async () =>
        (await get<{ messages: { text: string }[] }>(t.ra2 as string, `/api/v1/conversations/${g.id}/messages`)).body.messages.map(
          (m) => m.text,
        );
      expect(await texts()).toEqual(["new"]);
      await node.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { plan: "pro" }); // 90 days
      expect((await texts()).sort()).toEqual(["new", "old"]);
      await node.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { plan: "free" });
      const purged = await node.engine.services.chat.purgeExpired(await node.engine.services.apps.list());
      expect(purged).toBeGreaterThanOrEqual(1);
      await node.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { plan: "pro" });
      expect(await texts()).toEqual(["new"]);
      const left = await store.db.selectFrom("messages").select("client_msg_id").where("conversation_id", "=", g.id).execute();
      expect(left.map((r) => r.client_msg_id)).toEqual(["new"]);
    });

    it("max_chatrooms and max_group_members hold under concurrent requests", async () => {
      const ids = Array.from({ length: 14 }, (_, i) => `lm${i}`);
      const { t } = await world(ids); // free plan: 1 chatroom, 10 group members
      const rooms = await Promise.all(
        ids.slice(0, 4).map((id) => post<Err>(t[id] as string, "/api/v1/conversations", { kind: "chatroom", name: `room-${id}` })),
      );
      expect(rooms.filter((r) => r.status === 201)).toHaveLength(1);
      for (const r of rooms.filter((x) => x.status !== 201))
        expect(r.body.error).toMatchObject({ code: "limit_exceeded", limit: "max_chatrooms" });

      const [owner, ...others] = ids as [string, ...string[]];
      const g = (await post<{ id: string }>(t[owner] as string, "/api/v1/conversations", { kind: "group", members: others.slice(0, 7) }))
        .body;
      const adds = await Promise.all(
        others.slice(7).map((id) => post<Err>(t[owner] as string, `/api/v1/conversations/${g.id}/members`, { identities: [id] })),
      );
      expect(adds.filter((r) => r.status < 300)).toHaveLength(2);
      const members = await get<{ members: unknown[] }>(t[owner] as string, `/api/v1/conversations/${g.id}/members`);
      expect(members.body.members).toHaveLength(10);
    });
  });

  describe("seats (fake media port)", () => {
    /** Signs in, gets a media token from the engine and joins the fake room with it. */
    const enter = async (app: TestApp, identity: string, room: string, role: "host" | "audience") => {
      const bearer = (await node.session(app, identity)).user_token;
      const tok = await post<{ token: string }>(bearer, "/api/v1/token", { room_name: room, type: "audio_room", role });
      expect(tok.status).toBe(200);
      await media.join(`${app.app_id}:room:${room}`, tok.body.token);
      return bearer;
    };
    const seats = <T = SeatsState>(bearer: string, room: string, path = "", body?: unknown) =>
      node.request<T & Err>(path || body !== undefined ? "POST" : "GET", `/api/v1/rooms/${room}/seats${path}`, {
        token: bearer,
        ...(body !== undefined ? { body } : {}),
      });

    it("a seat grants the microphone only; two people racing for one seat: one sits; leaving the room frees the seat", async () => {
      const app = await node.createApp({ plan: "pro" });
      const lkRoom = `${app.app_id}:room:stage`;
      const host = await enter(app, "sh", "stage", "host");
      const x = await enter(app, "sx", "stage", "audience");
      const y = await enter(app, "sy", "stage", "audience");
      expect(media.lastGrant("sx", lkRoom)?.permission).toMatchObject({ can_publish: false, can_subscribe: true });
      expect((await seats(host, "stage", "", { seat_count: 2, seat_mode: "free" })).status).toBe(200);

      const [rx, ry] = await Promise.all([seats(x, "stage", "/0/take"), seats(y, "stage", "/0/take")]);
      expect([rx.status, ry.status].sort()).toEqual([200, 409]);
      const sitter = rx.status === 200 ? "sx" : "sy";
      const state = (await seats(host, "stage")).body;
      expect(state.seats.map((s) => s.identity)).toEqual([sitter, null]);
      expect(media.permissionOf(lkRoom, sitter)).toEqual({
        can_publish: true,
        can_subscribe: true,
        can_publish_data: true,
        can_publish_sources: ["microphone"],
      });
      // One person, two seats at once: one seat at most.
      const other = sitter === "sx" ? y : x;
      const [r1] = await Promise.all([seats(other, "stage", "/1/take"), seats(other, "stage", "/1/take")]);
      expect(r1.status).toBe(200);
      expect((await seats(host, "stage")).body.seats.filter((s) => s.identity !== null)).toHaveLength(2);

      // The sitter's client leaves the room: LiveKit's webhook frees the seat.
      await media.leave(lkRoom, sitter);
      expect((await seats(host, "stage")).body.seats[0]?.identity).toBeNull();
    });

    it("someone not in the room cannot take a seat, and nothing changes", async () => {
      const app = await node.createApp({ plan: "pro" });
      const host = await enter(app, "nh", "hall", "host");
      await seats(host, "hall", "", { seat_count: 3, seat_mode: "free" });
      const outsider = (await node.session(app, "nobody")).user_token;
      const before = (await seats(host, "hall")).body;
      const r = await seats(outsider, "hall", "/1/take");
      expect([r.status, r.body.error.code]).toEqual([409, "conflict"]);
      expect((await seats(host, "hall")).body).toEqual(before);
      expect(media.log.filter((l) => l.identity === "nobody")).toEqual([]);
    });
  });

  describe("sessions", () => {
    it("a user token stops working when the clock passes its expiry; a refresh before that carries on", async () => {
      const { t } = await world(["ua"]);
      node.clock.advance(590 * S);
      const fresh = await post<{ user_token: string }>(t.ua as string, "/api/v1/auth/refresh");
      expect(fresh.status).toBe(200);
      node.clock.advance(20 * S);
      expect((await get<Err>(t.ua as string, "/api/v1/calls")).status).toBe(401);
      expect((await get(fresh.body.user_token, "/api/v1/calls")).status).toBe(200);
    });
  });
});

async function until(f: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}
