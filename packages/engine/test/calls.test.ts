import type { Call, CallList } from "@utd-stream/protocol";
import { afterAll, beforeAll, expect, test } from "vitest";
import { backends, describeBackends, type FreshStore, freshStore } from "../../../test/helpers/backends.js";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { sleep, WsClient } from "./ws-helpers.js";

type Err = { error: { code: string; status?: string; capability?: string } };

const STORES = await backends("store");

describeBackends(STORES, "1:1 calls", (store) => {
  let e: RunningEngine;
  let app: TestApp;
  let db: FreshStore | undefined;
  const open: WsClient[] = [];
  beforeAll(async () => {
    db = await freshStore(store);
    e = await startEngine({ env: { UTD_PRESENCE_GRACE_S: "0", ...db?.env } });
    app = await e.createApp();
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await e?.stop();
    await db?.drop();
  });

  async function user(identity: string, deviceId?: string) {
    const s = await e.session(app, identity, deviceId ? { device_id: deviceId } : {});
    const ws = await WsClient.connect(e.wsUrl, s.user_token);
    open.push(ws);
    return { token: s.user_token, ws };
  }
  const post = <T = Call>(token: string, path: string, body: unknown = {}) => e.request<T>("POST", path, { token, body });
  const get = <T = Call>(token: string, path: string) => e.request<T>("GET", path, { token });

  test("every device of the callee rings; accepting on one tells the others it was answered elsewhere", async () => {
    const alice = await user("m-alice", "a-phone");
    const phone = await user("m-bob", "b-phone");
    const laptop = await user("m-bob", "b-laptop");
    const created = await post(alice.token, "/api/v1/calls", { callee_identity: "m-bob", type: "video_call", metadata: { topic: "hi" } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: "initiating", caller_identity: "m-alice", callee_identity: "m-bob", type: "video_call" });
    const id = created.body.id;
    for (const d of [phone, laptop])
      expect((await d.ws.event<{ call: Call }>("call.incoming", (x) => x.call.id === id)).data.call.metadata).toEqual({ topic: "hi" });
    // The caller's own stream does not get call.incoming.
    expect(alice.ws.events().some((f) => f.type === "call.incoming")).toBe(false);

    expect((await post(phone.token, `/api/v1/calls/${id}/ringing`)).body.status).toBe("ringing");
    await alice.ws.event<{ call: Call }>("call.ringing", (x) => x.call.id === id);
    // A second device acknowledging changes nothing.
    expect((await post(laptop.token, `/api/v1/calls/${id}/ringing`)).status).toBe(200);

    const accepted = await post(laptop.token, `/api/v1/calls/${id}/accept`);
    expect(accepted.body).toMatchObject({ status: "active", answered_device_id: "b-laptop" });
    for (const d of [alice, phone, laptop]) {
      const ev = await d.ws.event<{ call: Call }>("call.accepted", (x) => x.call.id === id);
      expect(ev.data.call.answered_device_id).toBe("b-laptop");
    }
    // Accepting again from the same device is a harmless repeat; from the other device it is a conflict.
    expect((await post(laptop.token, `/api/v1/calls/${id}/accept`)).status).toBe(200);
    const other = await post<Err>(phone.token, `/api/v1/calls/${id}/accept`);
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: "conflict", status: "active" });

    // End is idempotent, by either party.
    const end1 = await post(alice.token, `/api/v1/calls/${id}/end`);
    expect(end1.body).toMatchObject({ status: "ended", end_reason: "hangup", ended_by: "m-alice" });
    const end2 = await post(alice.token, `/api/v1/calls/${id}/end`);
    const end3 = await post(phone.token, `/api/v1/calls/${id}/end`);
    expect([end2.status, end3.status]).toEqual([200, 200]);
    expect(end3.body).toEqual(end1.body);
    await phone.ws.event("call.ended", (x: { call: Call }) => x.call.id === id);
    await sleep(100);
    expect(laptop.ws.events().filter((f) => f.type === "call.ended").length).toBe(1);
    expect((await post<Err>(phone.token, `/api/v1/calls/${id}/accept`)).body.error.status).toBe("ended");
  });

  test("reject, explicit busy and caller cancel reach both sides", async () => {
    const a = await user("r-alice");
    const b = await user("r-bob");
    const c1 = (await post(a.token, "/api/v1/calls", { callee_identity: "r-bob", type: "audio_call" })).body;
    expect((await post(b.token, `/api/v1/calls/${c1.id}/reject`)).body).toMatchObject({ status: "rejected", end_reason: "declined" });
    await a.ws.event("call.rejected", (x: { call: Call }) => x.call.id === c1.id);

    const c2 = (await post(a.token, "/api/v1/calls", { callee_identity: "r-bob", type: "audio_call" })).body;
    expect((await post(b.token, `/api/v1/calls/${c2.id}/busy`)).body.status).toBe("busy");
    await a.ws.event("call.busy", (x: { call: Call }) => x.call.id === c2.id);

    const c3 = (await post(a.token, "/api/v1/calls", { callee_identity: "r-bob", type: "audio_call" })).body;
    await b.ws.event("call.incoming", (x: { call: Call }) => x.call.id === c3.id);
    expect((await post(a.token, `/api/v1/calls/${c3.id}/end`)).body).toMatchObject({ status: "ended", end_reason: "canceled" });
    await b.ws.event("call.ended", (x: { call: Call }) => x.call.id === c3.id);
  });

  test("auto-busy: calling someone already in an active call answers busy at once", async () => {
    const a = await user("ab-alice");
    const b = await user("ab-bob");
    const carol = await user("ab-carol");
    const c1 = (await post(a.token, "/api/v1/calls", { callee_identity: "ab-bob", type: "audio_call" })).body;
    await post(b.token, `/api/v1/calls/${c1.id}/accept`);
    const c2 = await post(carol.token, "/api/v1/calls", { callee_identity: "ab-bob", type: "audio_call" });
    expect(c2.status).toBe(201);
    expect(c2.body).toMatchObject({ status: "busy", end_reason: "busy" });
    await carol.ws.event("call.busy", (x: { call: Call }) => x.call.id === c2.body.id);
    await sleep(100);
    expect(b.ws.events().some((f) => (f.data as { call?: Call })?.call?.id === c2.body.id)).toBe(false);
    await post(a.token, `/api/v1/calls/${c1.id}/end`);
  });

  test("outsiders, wrong roles and bad input are refused and change nothing", async () => {
    const a = await user("o-alice");
    const b = await user("o-bob");
    const outsider = await user("o-mallory");
    const call = (await post(a.token, "/api/v1/calls", { callee_identity: "o-bob", type: "audio_call" })).body;
    const before = await get(a.token, `/api/v1/calls/${call.id}`);

    for (const action of ["ringing", "accept", "reject", "busy", "end"]) {
      const r = await post<Err>(outsider.token, `/api/v1/calls/${call.id}/${action}`);
      expect([r.status, r.body.error.code]).toEqual([404, "not_found"]);
    }
    expect((await get<Err>(outsider.token, `/api/v1/calls/${call.id}`)).status).toBe(404);
    // The caller cannot answer their own call.
    const wrongRole = await post<Err>(a.token, `/api/v1/calls/${call.id}/accept`);
    expect([wrongRole.status, wrongRole.body.error.code]).toEqual([403, "forbidden"]);
    // Another app's users cannot see it either.
    const app2 = await e.createApp({ name: "other" });
    const foreign = await e.session(app2, "o-bob");
    expect((await post<Err>(foreign.user_token, `/api/v1/calls/${call.id}/accept`)).status).toBe(404);

    const bad: [unknown, number][] = [
      [{ type: "audio_call" }, 400],
      [{ callee_identity: "o-bob" }, 400],
      [{ callee_identity: "o-bob", type: "live_stream" }, 400],
      [{ callee_identity: 42, type: "audio_call" }, 400],
      [{ callee_identity: "has space", type: "audio_call" }, 400],
      [{ callee_identity: "o-bob", type: "audio_call", metadata: { big: "x".repeat(5000) } }, 400],
      [{ callee_identity: "o-bob", type: "audio_call", metadata: [] }, 400],
      [{ callee_identity: "o-bob", type: "audio_call", extra: true }, 400],
      [{ callee_identity: "o-alice", type: "audio_call" }, 400],
    ];
    const historyBefore = (await get<CallList>(a.token, "/api/v1/calls")).body.calls.length;
    for (const [body, status] of bad) {
      const r = await post<Err>(a.token, "/api/v1/calls", body);
      expect([r.status, r.body.error.code], JSON.stringify(body)).toEqual([status, "invalid_argument"]);
    }
    expect((await e.request("POST", "/api/v1/calls", { token: a.token, raw: "{nope" })).status).toBe(400);
    expect((await e.request("POST", "/api/v1/calls", { body: { callee_identity: "o-bob", type: "audio_call" } })).status).toBe(401);
    expect((await post<Err>(b.token, "/api/v1/calls/call_doesnotexist/accept")).status).toBe(404);
    expect((await post<Err>(b.token, `/api/v1/calls/${call.id}/explode`)).status).toBe(400);
    expect((await post<Err>(b.token, "/api/v1/calls/bad$id/accept")).status).toBe(400);
    expect((await post<Err>(b.token, `/api/v1/calls/${call.id}/accept`, { device_id: "bad device" })).status).toBe(400);

    expect((await get<CallList>(a.token, "/api/v1/calls")).body.calls.length).toBe(historyBefore);
    expect((await get(a.token, `/api/v1/calls/${call.id}`)).body).toEqual(before.body);
    await sleep(100);
    expect(outsider.ws.events()).toEqual([]);
  });

  test("an invitation retried with the same client_call_id rings once and returns the same call", async () => {
    const a = await user("i-alice");
    const b = await user("i-bob");
    const body = { callee_identity: "i-bob", type: "audio_call", client_call_id: "try-1" };
    // Ten identical retries at once (each a check-then-insert racing the others on the unique key).
    const results = await Promise.all(Array.from({ length: 10 }, () => post(a.token, "/api/v1/calls", body)));
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([201]));
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(results[0]?.body.client_call_id).toBe("try-1");
    await b.ws.event("call.incoming");
    await sleep(150);
    expect(b.ws.events().filter((f) => f.type === "call.incoming").length).toBe(1);
    const reused = await post<Err>(a.token, "/api/v1/calls", { ...body, callee_identity: "i-carol" });
    expect([reused.status, reused.body.error.code]).toEqual([409, "conflict"]);
    // The key is the caller's: someone else may use the same one.
    const other = await post(b.token, "/api/v1/calls", { callee_identity: "i-alice", type: "audio_call", client_call_id: "try-1" });
    expect(other.status).toBe(201);
    expect(ids.has(other.body.id)).toBe(false);
    expect((await post<Err>(a.token, "/api/v1/calls", { ...body, client_call_id: "bad key!" })).status).toBe(400);
  });

  test("one client_call_id raced for two different invitations: one call, the others a typed conflict, never a 500", async () => {
    const a = await user("k-alice");
    await user("k-bob");
    await user("k-carol");
    const key = { type: "audio_call", client_call_id: "race-1" };
    const bodies = Array.from({ length: 10 }, (_, i) => ({ ...key, callee_identity: i % 2 === 0 ? "k-bob" : "k-carol" }));
    const results = await Promise.all(bodies.map((b) => post<Call & Err>(a.token, "/api/v1/calls", b)));
    const won = results.filter((r) => r.status === 201);
    const lost = results.filter((r) => r.status !== 201);
    expect(new Set(won.map((r) => r.body.id)).size).toBe(1);
    const callee = won[0]?.body.callee_identity;
    // Every request for the winning callee got the one call; every other one a 409 `conflict`.
    expect(won.length).toBe(5);
    expect(bodies.every((b, i) => (results[i]?.status === 201) === (b.callee_identity === callee))).toBe(true);
    expect(lost.map((r) => [r.status, r.body.error.code])).toEqual(Array.from({ length: 5 }, () => [409, "conflict"]));
    const history = (await get<CallList>(a.token, "/api/v1/calls")).body.calls.filter((c) => c.client_call_id === "race-1");
    expect(history.map((c) => c.id)).toEqual([won[0]?.body.id]);
  });

  test("history lists made and received calls, newest first, with paging", async () => {
    const a = await user("h-alice");
    const b = await user("h-bob");
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await post(a.token, "/api/v1/calls", { callee_identity: "h-bob", type: "audio_call" })).body.id);
    ids.push((await post(b.token, "/api/v1/calls", { callee_identity: "h-alice", type: "video_call" })).body.id);
    const page1 = (await get<CallList>(a.token, "/api/v1/calls?limit=2")).body;
    expect(page1.calls.map((c) => c.id)).toEqual([ids[3], ids[2]]);
    const page2 = (await get<CallList>(a.token, `/api/v1/calls?limit=2&before=${page1.next_before}`)).body;
    expect(page2.calls.map((c) => c.id)).toEqual([ids[1], ids[0]]);
    expect(page2.next_before).toBeNull();
    expect((await get<CallList>(a.token, "/api/v1/calls?status=initiating,ringing")).body.calls.length).toBe(4);
    expect((await get<CallList>(a.token, "/api/v1/calls?status=active")).body.calls).toEqual([]);
    expect((await get<Err>(a.token, "/api/v1/calls?status=flying")).status).toBe(400);
    expect((await get<Err>(a.token, "/api/v1/calls?limit=1000")).status).toBe(400);
    expect((await get<Err>(a.token, "/api/v1/calls?limit=abc")).status).toBe(400);
  });

  test("signalling switched off → 403 feature_disabled (signaling)", async () => {
    const app2 = await e.createApp({ name: "nosig" });
    await e.admin("PATCH", `/admin/v1/apps/${app2.app_id}`, { signaling_enabled: false });
    const s = await e.session(app2, "ns-alice");
    const r = await post<Err>(s.user_token, "/api/v1/calls", { callee_identity: "ns-bob", type: "audio_call" });
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ code: "feature_disabled", capability: "signaling" });
    expect((await get<Err>(s.user_token, "/api/v1/calls")).body.error.code).toBe("feature_disabled");
  });
});

// The ring deadline (missed when nobody answers, also across a restart) is tested in-process with the
// injected clock, on every store: domain-rules.test.ts.
