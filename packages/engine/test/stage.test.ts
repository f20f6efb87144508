import { dispose } from "@livekit/rtc-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { backends, describeBackends, type FreshStore, freshStore } from "../../../test/helpers/backends.js";
import type { RunningEngine, TestApp } from "../../../test/helpers/engine.js";
import { EventStream, type MediaStack, startMediaStack } from "../../../test/helpers/livekit.js";
import { RtcPeer } from "../../../test/helpers/rtc-peer.js";

interface Stage {
  room_name: string;
  members: { identity: string; name: string | null; role: string }[];
  requests: { identity: string; name: string | null; requested_at: number }[];
}
interface ErrBody {
  error: { code: string; message: string };
}

describeBackends(await backends("store"), "live stream stage on a real LiveKit", (store) => {
  let stack: MediaStack | undefined;
  let db: FreshStore | undefined;
  let engine: RunningEngine;
  let app: TestApp;
  const peers: RtcPeer[] = [];
  const streams: EventStream[] = [];

  beforeAll(async () => {
    db = await freshStore(store);
    if (!db) return;
    stack = await startMediaStack(db.env);
    if (!stack) return;
    engine = stack.engine;
    app = await engine.createApp();
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    for (const p of peers) await p.leave();
    await stack?.stop();
    await db?.drop();
  });

  /** Signs in, mints a token, joins with rtc-node and opens the event stream. */
  async function enter(identity: string, room: string, role: "host" | "audience", type = "live_stream") {
    const s = await engine.session(app, identity, { name: identity.toUpperCase() });
    const t = await engine.request<{ token: string; url: string; permission: { can_publish: boolean } }>("POST", "/api/v1/token", {
      token: s.user_token,
      body: { room_name: room, type, role },
    });
    expect(t.status).toBe(200);
    const events = await EventStream.open(engine.wsUrl, s.user_token);
    streams.push(events);
    const peer = await RtcPeer.join(identity, t.body.url, t.body.token);
    peers.push(peer);
    return { bearer: s.user_token, peer, events, permission: t.body.permission };
  }
  const stage = (room: string, bearer: string, verb = "", body?: unknown) =>
    engine.request<Stage & ErrBody>(verb ? "POST" : "GET", `/api/v1/rooms/${room}/stage${verb ? `/${verb}` : ""}`, {
      token: bearer,
      ...(body !== undefined ? { body } : {}),
    });

  it("promotes a viewer (publish granted: the host hears them), demotes them (their track goes), and tells the room", async (ctx) => {
    if (!stack) return ctx.skip();
    const host = await enter("host", "show", "host");
    const viewer = await enter("viewer", "show", "audience");
    expect(viewer.permission.can_publish).toBe(false);
    expect((await stage("show", viewer.bearer)).body.members).toEqual([{ identity: "host", name: "HOST", role: "host" }]);

    // Raising a hand reaches the host.
    expect((await stage("show", viewer.bearer, "request")).status).toBe(204);
    expect(await host.events.next<{ identity: string }>("stage.requested")).toMatchObject({
      room_name: "show",
      identity: "viewer",
      name: "VIEWER",
    });
    // The hand is stored: a host who reloads reads it back (the stage and the host-only list), and raising it
    // again adds nothing.
    expect((await stage("show", viewer.bearer, "request")).status).toBe(204);
    const reloaded = await stage("show", host.bearer);
    expect(reloaded.body.requests.map((r) => [r.identity, r.name])).toEqual([["viewer", "VIEWER"]]);
    const hands = await engine.request<{ requests: { identity: string }[] } & ErrBody>("GET", "/api/v1/rooms/show/stage/requests", {
      token: host.bearer,
    });
    expect(hands.body.requests.map((r) => r.identity)).toEqual(["viewer"]);
    const notHost = await engine.request<ErrBody>("GET", "/api/v1/rooms/show/stage/requests", { token: viewer.bearer });
    expect([notHost.status, notHost.body.error.code]).toEqual([403, "forbidden"]);

    const promoted = await stage("show", host.bearer, "invite", { identity: "viewer" });
    expect(promoted.status).toBe(200);
    expect(promoted.body.members.map((m) => [m.identity, m.role])).toEqual([
      ["host", "host"],
      ["viewer", "co_host"],
    ]);
    expect(promoted.body.requests).toEqual([]); // invited: the hand comes down
    await viewer.events.next<Stage>("stage.updated", (s) => s.members.some((m) => m.identity === "viewer"));
    await viewer.peer.publishTone(523);
    await host.peer.detectTone("viewer", 523);

    const mark = viewer.events.mark();
    const demoted = await stage("show", host.bearer, "remove", { identity: "viewer" });
    expect(demoted.body.members.map((m) => m.identity)).toEqual(["host"]);
    await host.peer.waitFor(() => !host.peer.hasAudioFrom("viewer"), 10_000, "the demoted viewer's track to go");
    await viewer.events.next<Stage>("stage.updated", (s) => s.members.length === 1, 10_000, mark);
  });

  it("lets a co-host step down, and refuses the wrong role, unknown people and bad input — changing nothing", async (ctx) => {
    if (!stack) return ctx.skip();
    const host = await enter("h2", "talk", "host");
    const a = await enter("a2", "talk", "audience");
    const b = await enter("b2", "talk", "audience");
    const roster = async () => (await stage("talk", host.bearer)).body.members.map((m) => m.identity);

    const refusals: [string, string, unknown, number, string][] = [
      [a.bearer, "invite", { identity: "a2" }, 403, "forbidden"],
      [a.bearer, "invite", { identity: "b2" }, 403, "forbidden"],
      [a.bearer, "remove", { identity: "h2" }, 403, "forbidden"],
      [host.bearer, "invite", { identity: "not-here" }, 404, "not_found"],
      [host.bearer, "invite", { identity: "h2" }, 409, "conflict"],
      [host.bearer, "remove", { identity: "b2" }, 404, "not_found"],
      [host.bearer, "remove", { identity: "h2" }, 409, "conflict"],
      [host.bearer, "invite", {}, 400, "invalid_argument"],
      [host.bearer, "invite", { identity: 7 }, 400, "invalid_argument"],
      [host.bearer, "invite", { identity: "x".repeat(200) }, 400, "invalid_argument"],
      [host.bearer, "invite", { identity: "b2", extra: true }, 400, "invalid_argument"],
      [a.bearer, "leave", undefined, 409, "conflict"],
      [host.bearer, "leave", undefined, 409, "conflict"],
    ];
    for (const [who, verb, body, status, code] of refusals) {
      const r = await stage("talk", who, verb, body);
      expect([verb, JSON.stringify(body), r.status, r.body.error?.code]).toEqual([verb, JSON.stringify(body), status, code]);
    }
    expect(await roster()).toEqual(["h2"]);

    // Raising a hand is for people in the room.
    const outsider = await engine.session(app, "outsider");
    const asked = await stage("talk", outsider.user_token, "request");
    expect([asked.status, asked.body.error.code]).toEqual([409, "conflict"]);
    expect(host.events.events.some((e) => e.type === "stage.requested")).toBe(false);

    // Unknown rooms, another app's room, and an audio room are not stages.
    expect((await stage("nowhere", host.bearer)).status).toBe(404);
    const other = await engine.createApp({ name: "other" });
    const stranger = await engine.session(other, "h2");
    expect((await stage("talk", stranger.user_token, "invite", { identity: "a2" })).status).toBe(404);
    await engine.request("POST", "/api/v1/token", { token: host.bearer, body: { room_name: "quiet", type: "audio_room", role: "host" } });
    expect((await stage("quiet", host.bearer)).status).toBe(409);
    expect(await roster()).toEqual(["h2"]);

    // The app's operator (admin API) may promote and demote; a user token may not use the admin API.
    const adminPath = (verb: string) => `/admin/v1/apps/${app.app_id}/rooms/talk/stage/${verb}`;
    const byUser = await engine.request<ErrBody>("POST", adminPath("invite"), { token: host.bearer, body: { identity: "a2" } });
    expect([byUser.status, byUser.body.error.code]).toEqual([401, "unauthorized"]);
    expect(await roster()).toEqual(["h2"]);
    const otherApp = await engine.admin<ErrBody>("POST", `/admin/v1/apps/${other.app_id}/rooms/talk/stage/invite`, { identity: "a2" });
    expect(otherApp.status).toBe(404);
    expect((await engine.admin("POST", adminPath("invite"), { identity: "a2" })).status).toBe(200);
    expect(await roster()).toEqual(["h2", "a2"]);
    expect((await engine.admin("POST", adminPath("remove"), { identity: "a2" })).status).toBe(200);
    expect(await roster()).toEqual(["h2"]);

    // A co-host steps down on their own.
    expect((await stage("talk", host.bearer, "invite", { identity: "b2" })).status).toBe(200);
    expect(await roster()).toEqual(["h2", "b2"]);
    const left = await stage("talk", b.bearer, "leave");
    expect(left.body.members.map((m) => m.identity)).toEqual(["h2"]);

    // A co-host who leaves the room leaves the stage (LiveKit webhook).
    expect((await stage("talk", host.bearer, "invite", { identity: "a2" })).status).toBe(200);
    const mark = host.events.mark();
    await a.peer.leave();
    await host.events.next<Stage>("stage.updated", (st) => st.members.length === 1, 15_000, mark);
    expect(await roster()).toEqual(["h2"]);
  });
});

// Once for the file: after dispose() rtc-node cannot connect again (the second store's block needs it).
afterAll(async () => {
  await dispose();
});
