import { dispose } from "@livekit/rtc-node";
import { RoomServiceClient, TrackSource } from "livekit-server-sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import { backends, describeBackends, type FreshStore, freshStore } from "../../../test/helpers/backends.js";
import type { RunningEngine, TestApp } from "../../../test/helpers/engine.js";
import { EventStream, type MediaStack, startMediaStack } from "../../../test/helpers/livekit.js";
import { RtcPeer } from "../../../test/helpers/rtc-peer.js";

interface Seats {
  room_name: string;
  seat_count: number;
  seat_mode: string;
  mode_id: string | null;
  seats: { index: number; identity: string | null; name: string | null }[];
  requests: { request_id: number; identity: string; kind: string; status: string; seat_index: number | null }[];
}
interface SpeakRequest {
  request_id: number;
  identity: string;
  kind: string;
  status: string;
  seat_index: number | null;
}
interface ErrBody {
  error: { code: string; message: string };
}

describeBackends(await backends("store"), "audio room seats on a real LiveKit", (store) => {
  let stack: MediaStack | undefined;
  let db: FreshStore | undefined;
  let engine: RunningEngine;
  let app: TestApp;
  let lk: RoomServiceClient;
  const peers: RtcPeer[] = [];
  const streams: EventStream[] = [];

  beforeAll(async () => {
    db = await freshStore(store);
    if (!db) return;
    stack = await startMediaStack(db.env);
    if (!stack) return;
    engine = stack.engine;
    app = await engine.createApp();
    lk = new RoomServiceClient(stack.livekit.url.replace(/^ws/, "http"), stack.livekit.apiKey, stack.livekit.apiSecret);
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    for (const p of peers) await p.leave();
    peers.length = 0;
    streams.length = 0;
    await stack?.stop();
    await db?.drop();
  });

  async function enter(identity: string, room: string, role: "host" | "audience") {
    const s = await engine.session(app, identity);
    const t = await engine.request<{ token: string; url: string }>("POST", "/api/v1/token", {
      token: s.user_token,
      body: { room_name: room, type: "audio_room", role },
    });
    expect(t.status).toBe(200);
    const events = await EventStream.open(engine.wsUrl, s.user_token);
    streams.push(events);
    const peer = await RtcPeer.join(identity, t.body.url, t.body.token);
    peers.push(peer);
    return { bearer: s.user_token, peer, events, identity };
  }
  const seats = <T = Seats>(room: string, bearer: string, path = "", body?: unknown, method = "POST") =>
    engine.request<T & ErrBody>(path || body !== undefined ? method : "GET", `/api/v1/rooms/${room}/seats${path}`, {
      token: bearer,
      ...(body !== undefined ? { body } : {}),
    });
  const lkSources = async (room: string, identity: string) =>
    (await lk.getParticipant(`${app.app_id}:room:${room}`, identity)).permission?.canPublishSources ?? [];

  it("free mode: a seat grants microphone only, a taken seat is 409, and leaving mid-speech removes the track for listeners", async (ctx) => {
    if (!stack) return ctx.skip();
    const host = await enter("host", "lobby", "host");
    const speaker = await enter("speaker", "lobby", "audience");
    const listener = await enter("listener", "lobby", "audience");
    const setup = await seats("lobby", host.bearer, "", { seat_count: 4, seat_mode: "free", mode_id: "m1" });
    expect(setup.status).toBe(200);
    expect(setup.body).toMatchObject({ seat_count: 4, seat_mode: "free", mode_id: "m1" });
    await listener.events.next<Seats>("seats.updated", (s) => s.seat_count === 4);

    // Someone who never joined the room cannot hold seats (issue 11: one user could take them all).
    const outsider = await engine.session(app, "outsider");
    for (const i of [1, 2, 3]) {
      const r = await seats("lobby", outsider.user_token, `/${i}/take`);
      expect([r.status, r.body.error?.code]).toEqual([409, "conflict"]);
    }
    expect((await seats("lobby", host.bearer)).body.seats.every((s) => s.identity === null)).toBe(true);

    const took = await seats("lobby", speaker.bearer, "/0/take");
    expect(took.status).toBe(200);
    expect(took.body.seats[0]).toMatchObject({ index: 0, identity: "speaker" });
    // Audio only: LiveKit holds exactly the microphone for the seated speaker.
    expect(await lkSources("lobby", "speaker")).toEqual([TrackSource.MICROPHONE]);
    await speaker.peer.publishTone(440);
    await listener.peer.detectTone("speaker", 440);

    const taken = await seats("lobby", listener.bearer, "/0/take");
    expect([taken.status, taken.body.error.code]).toEqual([409, "conflict"]);
    const twice = await seats("lobby", speaker.bearer, "/1/take");
    expect(twice.status).toBe(409);
    // A retried take of the same seat succeeds without change.
    expect((await seats("lobby", speaker.bearer, "/0/take")).status).toBe(200);
    expect((await seats("lobby", host.bearer)).body.seats.map((s) => s.identity)).toEqual(["speaker", null, null, null]);

    // Revoked mid-speech: LiveKit unpublishes the track and listeners lose it.
    const mark = listener.events.mark();
    const left = await seats("lobby", speaker.bearer, "/leave");
    expect(left.body.seats[0]?.identity).toBeNull();
    await listener.peer.waitFor(() => !listener.peer.hasAudioFrom("speaker"), 10_000, "the revoked speaker's track to go");
    expect(await lkSources("lobby", "speaker")).toEqual([]);
    expect((await lk.getParticipant(`${app.app_id}:room:lobby`, "speaker")).permission).toMatchObject({
      canPublish: false,
      canSubscribe: true,
      canPublishData: true,
    });
    await listener.events.next<Seats>("seats.updated", (s) => s.seats.every((x) => x.identity === null), 10_000, mark);
  });

  it("twenty concurrent takes of one seat: exactly one person sits, the others get a typed conflict, never a 500", async (ctx) => {
    if (!stack) return ctx.skip();
    const host = await enter("race-host", "race", "host");
    const racers = [
      host,
      await enter("race-a", "race", "audience"),
      await enter("race-b", "race", "audience"),
      await enter("race-c", "race", "audience"),
    ];
    expect((await seats("race", host.bearer, "", { seat_count: 2, seat_mode: "free" })).status).toBe(200);
    // Five takes of seat 0 from each of four people, all at once (a retried take races its own first try too).
    const tries = racers.flatMap((r) => Array.from({ length: 5 }, () => r));
    const results = await Promise.all(tries.map((r) => seats("race", r.bearer, "/0/take")));
    const winners = new Set(tries.filter((_, i) => results[i]?.status === 200).map((r) => r.identity));
    expect(winners.size).toBe(1);
    const [winner] = [...winners];
    for (const [i, r] of results.entries()) {
      if (tries[i]?.identity === winner) expect(r.status).toBe(200);
      else expect([r.status, r.body.error?.code]).toEqual([409, "conflict"]);
    }
    const state = (await seats("race", host.bearer)).body;
    expect(state.seats.map((x) => x.identity)).toEqual([winner, null]);
    expect(await lkSources("race", winner ?? "")).toEqual([TrackSource.MICROPHONE]);
    // One person racing for both seats at once sits in one of them only.
    const loser = racers.find((r) => r.identity !== winner);
    if (!loser) throw new Error("no loser");
    const both = await Promise.all([seats("race", loser.bearer, "/1/take"), seats("race", loser.bearer, "/0/take")]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    expect((await seats("race", host.bearer)).body.seats.map((x) => x.identity)).toEqual([winner, loser.identity]);
  });

  it("request mode: request → host approves → the listener sits; invitations; wrong roles refused with nothing changed", async (ctx) => {
    if (!stack) return ctx.skip();
    const host = await enter("h", "club", "host");
    const a = await enter("a", "club", "audience");
    const b = await enter("b", "club", "audience");
    expect((await seats("club", host.bearer, "", { seat_count: 3, seat_mode: "request" })).status).toBe(200);
    const state = async () => (await seats("club", host.bearer)).body;
    const before = await state();

    const refused: [string, string, unknown, number, string][] = [
      [a.bearer, "/0/take", undefined, 403, "forbidden"],
      [a.bearer, "", { seat_count: 8 }, 403, "forbidden"],
      [host.bearer, "", { seat_count: 0 }, 400, "invalid_argument"],
      [host.bearer, "", { seat_count: 1000 }, 400, "invalid_argument"],
      [host.bearer, "", { seat_mode: "chaos" }, 400, "invalid_argument"],
      [host.bearer, "", { seat_count: "3" }, 400, "invalid_argument"],
      [host.bearer, "/3/take", undefined, 400, "invalid_argument"],
      [host.bearer, "/abc/take", undefined, 400, "invalid_argument"],
      [host.bearer, "/-1/take", undefined, 400, "invalid_argument"],
      [a.bearer, "/leave", undefined, 409, "conflict"],
      [host.bearer, "/requests/999/approve", undefined, 404, "not_found"],
      [host.bearer, "/requests/zz/approve", undefined, 400, "invalid_argument"],
      [a.bearer, "/invite", { identity: "b" }, 403, "forbidden"],
      [host.bearer, "/invite", { identity: "ghost" }, 404, "not_found"],
      [host.bearer, "/invite", { identity: "b", seat_index: 9 }, 400, "invalid_argument"],
    ];
    for (const [who, path, body, status, code] of refused) {
      const r = await seats("club", who, path, body, "POST");
      expect([path, JSON.stringify(body), r.status, r.body.error?.code]).toEqual([path, JSON.stringify(body), status, code]);
    }
    expect(await state()).toEqual(before);
    expect(await lkSources("club", "a")).toEqual([]);

    // Request → approve → take.
    const req = await seats<SpeakRequest>("club", a.bearer, "/requests");
    expect(req.status).toBe(200);
    expect(req.body).toMatchObject({ identity: "a", kind: "request", status: "pending" });
    const again = await seats<SpeakRequest>("club", a.bearer, "/requests");
    expect(again.body.request_id).toBe(req.body.request_id);
    expect(await host.events.next<SpeakRequest>("speak.requested")).toMatchObject({ request_id: req.body.request_id, identity: "a" });
    expect((await seats("club", b.bearer, `/requests/${req.body.request_id}/approve`)).status).toBe(403);
    expect((await seats("club", a.bearer, "/1/take")).status).toBe(403);
    const approved = await seats<SpeakRequest>("club", host.bearer, `/requests/${req.body.request_id}/approve`);
    expect(approved.body.status).toBe("approved");
    expect(await a.events.next<SpeakRequest>("speak.approved")).toMatchObject({ request_id: req.body.request_id });
    expect((await seats("club", a.bearer, "/1/take")).status).toBe(200);
    expect(await lkSources("club", "a")).toEqual([TrackSource.MICROPHONE]);
    await a.peer.publishTone(660);
    await b.peer.detectTone("a", 660);

    // Invitation to a given seat: only that seat.
    const inv = await seats<SpeakRequest>("club", host.bearer, "/invite", { identity: "b", seat_index: 2 });
    expect(inv.body).toMatchObject({ identity: "b", kind: "invite", status: "approved", seat_index: 2 });
    expect(await b.events.next<SpeakRequest>("speak.invited")).toMatchObject({ seat_index: 2 });
    expect((await seats("club", b.bearer, "/0/take")).status).toBe(403);
    expect((await seats("club", b.bearer, "/1/take")).status).toBe(409);
    expect((await seats("club", b.bearer, "/2/take")).status).toBe(200);
    expect((await state()).seats.map((s) => s.identity)).toEqual([null, "a", "b"]);
    expect((await state()).requests).toEqual([]);

    // The host always may sit; shrinking the grid stands up (and revokes) whoever sat in removed seats.
    expect((await seats("club", host.bearer, "/0/take")).status).toBe(200);
    const shrunk = await seats("club", host.bearer, "", { seat_count: 2 });
    expect(shrunk.body.seats.map((s) => s.identity)).toEqual(["h", "a"]);
    expect(await lkSources("club", "b")).toEqual([]);

    // Another app's user sees no such room.
    const other = await engine.createApp({ name: "other" });
    const stranger = await engine.session(other, "a");
    expect((await seats("club", stranger.user_token)).status).toBe(404);
  });

  it("frees the seat of a speaker who leaves the room (LiveKit webhook)", async (ctx) => {
    if (!stack) return ctx.skip();
    const host = await enter("host3", "hall", "host");
    const s = await enter("s3", "hall", "audience");
    await seats("hall", host.bearer, "", { seat_count: 2 });
    expect((await seats("hall", s.bearer, "/1/take")).status).toBe(200);
    const mark = host.events.mark();
    await s.peer.leave();
    await host.events.next<Seats>("seats.updated", (x) => x.seats.every((seat) => seat.identity === null), 15_000, mark);
    expect((await seats("hall", host.bearer)).body.seats[1]?.identity).toBeNull();
  });
});

afterAll(async () => {
  await dispose();
});
