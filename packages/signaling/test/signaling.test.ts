import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import {
  CallsApi,
  type ConnectionState,
  sessionCredentials,
  TokenSource,
  UTDApi,
  type UTDCallEvent,
  type UTDPresence,
  UTDSignalClient,
  UTDSignaling,
  type UTDSignalingOptions,
  UTDStreamException,
  type WebSocketConstructor,
} from "../src/index.js";

const WS = WebSocket as unknown as WebSocketConstructor;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(f: () => T | undefined | false, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe("@utd-stream/signaling against a real engine", () => {
  let e: RunningEngine;
  let app: TestApp;
  const opened: UTDSignaling[] = [];
  // Our own data dir, so a restart keeps the database and the token key.
  const dataDir = mkdtempSync(join(tmpdir(), "utd-sdk-"));
  beforeAll(async () => {
    e = await startEngine({ env: { UTD_PRESENCE_GRACE_S: "0", UTD_WS_HEARTBEAT_S: "2" }, dataDir });
    app = await e.createApp({ plan: "pro" });
  });
  afterAll(async () => {
    for (const s of opened) s.disconnect();
    await e?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function sdk(userId: string, extra: Partial<UTDSignalingOptions> = {}): UTDSignaling {
    const s = new UTDSignaling({
      baseUrl: e.url,
      appId: app.app_id,
      appKey: app.app_key,
      userId,
      WebSocket: WS,
      backoff: { initialMs: 50, maxMs: 500 },
      ...extra,
    });
    opened.push(s);
    return s;
  }

  test("one token source: concurrent requests refused with 401 share one re-mint; a fixed token's 401 surfaces", async () => {
    const minter = sessionCredentials(new UTDApi({ baseUrl: e.url }), { appId: app.app_id, appKey: app.app_key, identity: "reauth" });
    let mints = 0;
    const api = new UTDApi({
      baseUrl: e.url,
      tokens: new TokenSource({
        fetch: async () => {
          mints++;
          return minter();
        },
      }),
    });
    expect((await api.request<{ calls: unknown[] }>("GET", "/api/v1/calls")).calls).toEqual([]);
    expect(mints).toBe(1);
    const first = api.tokens?.peek() as string;
    // Sign out everywhere: the cached token stops working; five requests at once find out together.
    await api.revokeAll();
    await sleep(5);
    const results = await Promise.all(Array.from({ length: 5 }, () => api.request<{ calls: unknown[] }>("GET", "/api/v1/calls")));
    expect(results.every((r) => Array.isArray(r.calls))).toBe(true);
    expect(mints).toBe(2);
    const plain = new UTDApi({ baseUrl: e.url, token: first });
    await expect(plain.request("GET", "/api/v1/calls")).rejects.toMatchObject({ statusCode: 401, code: "unauthorized" });
  });

  test("connect surfaces capability flags and plan limits; state is a store", async () => {
    const s = sdk("s-alice");
    const states: ConnectionState[] = [];
    s.state.subscribe((v) => states.push(v));
    await s.connect();
    expect(s.signalingEnabled).toBe(true);
    expect(s.chatEnabled).toBe(true);
    expect(s.planLimits).toEqual({
      historyDays: 90,
      maxGroupMembers: 100,
      maxFriends: 1000,
      maxChatrooms: 50,
      maxRoomMembers: 1000,
      roomHistory: 50,
      maxStorageBytesPerUser: 2 * 1024 ** 3,
      maxStorageBytesPerApp: 200 * 1024 ** 3,
    });
    expect(s.state.value).toBe("connected");
    expect(states).toEqual(["idle", "connecting", "connected"]);
  });

  test("ringing on every device, answered elsewhere, and the caller sees each step", async () => {
    const alice = sdk("c-alice", { deviceId: "a1" });
    const phone = sdk("c-bob", { deviceId: "phone" });
    const laptop = sdk("c-bob", { deviceId: "laptop" });
    await Promise.all([alice.connect(), phone.connect(), laptop.connect()]);
    const aliceEvents: UTDCallEvent[] = [];
    const phoneEvents: UTDCallEvent[] = [];
    alice.on("call", (c) => aliceEvents.push(c));
    phone.on("call", (c) => phoneEvents.push(c));

    const call = await alice.invite("c-bob", { type: "video_call", metadata: { room_hint: "x" } });
    expect(call).toMatchObject({ status: "initiating", calleeIdentity: "c-bob", type: "video_call", metadata: { room_hint: "x" } });
    expect(call.createdAt).toBeInstanceOf(Date);
    await until(() => phone.incomingCalls.value.length === 1 && laptop.incomingCalls.value.length === 1, "incoming on both devices");
    // Devices acknowledge automatically: the caller sees ringing.
    await until(() => aliceEvents.find((x) => x.type === "ringing"), "call.ringing at the caller");

    await laptop.accept(call.id);
    const onPhone = await until(() => phoneEvents.find((x) => x.type === "accepted"), "accepted on the phone");
    expect(onPhone.answeredElsewhere).toBe(true);
    expect(onPhone.call.answeredDeviceId).toBe("laptop");
    await until(() => phone.incomingCalls.value.length === 0 && laptop.incomingCalls.value.length === 0, "incoming cleared");
    await until(() => aliceEvents.find((x) => x.type === "accepted"), "accepted at the caller");

    expect((await alice.end(call.id)).status).toBe("ended");
    expect((await phone.end(call.id)).status).toBe("ended");
    const err = await laptop.accept(call.id).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(UTDStreamException);
    expect((err as UTDStreamException).statusCode).toBe(409);
    const history = await alice.callHistory({ limit: 5 });
    expect(history.calls[0]?.id).toBe(call.id);
  });

  test("a device that connects while a call rings (e.g. woken by a push) rings too", async () => {
    const alice = sdk("late-alice");
    await alice.connect();
    const call = await alice.invite("late-bob", { type: "audio_call" });
    const bob = sdk("late-bob", { deviceId: "woken" });
    const seen: UTDCallEvent[] = [];
    bob.on("call", (c) => seen.push(c));
    await bob.connect();
    await until(() => bob.incomingCalls.value.some((c) => c.id === call.id), "the pending invitation");
    expect(seen.find((x) => x.type === "incoming")?.call.id).toBe(call.id);
    // It acknowledged like any ringing device.
    for (let i = 0; i < 100 && (await alice.getCall(call.id)).status !== "ringing"; i++) await sleep(50);
    expect((await alice.getCall(call.id)).status).toBe("ringing");
    await alice.end(call.id);
    await until(() => bob.incomingCalls.value.length === 0, "cleared after cancel");
    const r = await alice.callHistory({ status: ["ended"] });
    expect(r.calls.map((c) => c.status)).toContain("ended");
    expect(r.calls.every((c) => c.status === "ended")).toBe(true);
  });

  test("presence, typing and push tokens through the facade", async () => {
    const alice = sdk("p-alice");
    await alice.connect();
    const seen: UTDPresence[] = [];
    alice.on("presenceChanged", (p) => seen.push(p));
    expect(await alice.watchPresence(["p-bob"])).toMatchObject([{ identity: "p-bob", status: "offline" }]);
    const bob = sdk("p-bob", { deviceId: "bob-1" });
    await bob.connect();
    await until(() => seen.find((p) => p.status === "online"), "bob online");
    expect((await alice.getPresence(["p-bob"]))[0]?.devices).toEqual(["bob-1"]);

    const typing: boolean[] = [];
    bob.on("typing", (t) => typing.push(t.typing));
    await alice.startTyping({ to: "p-bob" });
    await alice.stopTyping({ to: "p-bob" });
    await until(() => typing.length === 2, "typing started + stopped");
    expect(typing).toEqual([true, false]);

    const t = await bob.registerPushToken("apns_voip", "voip-token");
    expect(t).toMatchObject({ platform: "apns_voip", token: "voip-token", deviceId: "bob-1" });
    expect((await bob.listPushTokens()).map((x) => x.token)).toEqual(["voip-token"]);
    await bob.unregisterPushToken("voip-token");
    expect(await bob.listPushTokens()).toEqual([]);

    bob.disconnect();
    await until(() => seen.find((p) => p.status === "offline"), "bob offline");
  });

  test("with both capabilities off, connect() rejects feature_disabled (the upsell check) and leaves no socket", async () => {
    const off = await e.createApp({ plan: "free" });
    expect((await e.admin("PATCH", `/admin/v1/apps/${off.app_id}`, { signaling_enabled: false, messaging_enabled: false })).status).toBe(
      200,
    );
    const s = new UTDSignaling({ baseUrl: e.url, appId: off.app_id, appKey: off.app_key, userId: "nobody", WebSocket: WS });
    opened.push(s);
    const err = await s.connect().then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(err).toBeInstanceOf(UTDStreamException);
    expect(err).toMatchObject({ code: "feature_disabled", statusCode: 403, isFeatureDisabled: true, isSignalingDisabled: true });
    expect(s.client).toBeUndefined();
    expect(s.signalingEnabled).toBe(false);
    expect(s.chatEnabled).toBe(false);
  });

  test("errors are UTDStreamException with the seed's helpers", async () => {
    const bad = new UTDSignaling({ baseUrl: e.url, appId: app.app_id, appKey: "pk_wrong", userId: "x", WebSocket: WS });
    const err = (await bad.connect().catch((x: unknown) => x)) as UTDStreamException;
    expect(err).toBeInstanceOf(UTDStreamException);
    expect([err.statusCode, err.code]).toEqual([401, "unauthorized"]);

    const app2 = await e.createApp({ name: "nosig" });
    await e.admin("PATCH", `/admin/v1/apps/${app2.app_id}`, { signaling_enabled: false });
    const s = new UTDSignaling({ baseUrl: e.url, appId: app2.app_id, appKey: app2.app_key, userId: "ns", WebSocket: WS });
    opened.push(s);
    await s.connect();
    expect(s.signalingEnabled).toBe(false);
    const off = (await s.invite("someone").catch((x: unknown) => x)) as UTDStreamException;
    expect([off.isFeatureDisabled, off.isSignalingDisabled, off.isChatDisabled, off.isForbidden]).toEqual([true, true, false, true]);
    const wsOff = (await s.startTyping({ to: "someone" }).catch((x: unknown) => x)) as UTDStreamException;
    expect(wsOff.isSignalingDisabled).toBe(true);

    const victim = sdk("banned-one");
    await victim.connect();
    const closed = new Promise<UTDStreamException | undefined>((r) => victim.on("closed", (c) => r(c.error)));
    await e.admin("POST", `/admin/v1/apps/${app.app_id}/bans`, { identity: "banned-one" });
    expect((await closed)?.isBanned).toBe(true);
    expect(victim.state.value).toBe("closed");
    const again = new UTDSignaling({ baseUrl: e.url, appId: app.app_id, appKey: app.app_key, userId: "banned-one", WebSocket: WS });
    const banned = (await again.connect().catch((x: unknown) => x)) as UTDStreamException;
    expect([banned.isBanned, banned.isForbidden, banned.statusCode]).toEqual([true, true, 403]);
  });

  test("signed mode: the token provider is called on connect and again when the session stops working", async () => {
    const signed = await e.createApp({ name: "signed", auth_mode: "signed" });
    let calls = 0;
    const tokenProvider = async () => {
      calls++;
      return new SignJWT({})
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("sg-user")
        .setExpirationTime("5m")
        .sign(new TextEncoder().encode(signed.app_secret));
    };
    const s = new UTDSignaling({
      baseUrl: e.url,
      appId: signed.app_id,
      appKey: signed.app_key,
      userId: "sg-user",
      WebSocket: WS,
      tokenProvider,
      backoff: { initialMs: 20, maxMs: 200 },
    });
    opened.push(s);
    await s.connect();
    expect(calls).toBe(1);
    const welcomes: boolean[] = [];
    s.client?.on("welcome", (w) => welcomes.push(w.resumed));
    // Sign out everywhere: the socket closes with 4401 and the SDK mints again through the provider.
    await s.api.revokeAll();
    await until(() => welcomes.length === 1, "reconnected");
    expect(calls).toBe(2);
    expect(welcomes).toEqual([true]);
    expect(s.state.value).toBe("connected");
    // Without the provider's JWT the app refuses.
    const bare = new UTDSignaling({ baseUrl: e.url, appId: signed.app_id, appKey: signed.app_key, userId: "sg-user", WebSocket: WS });
    expect(((await bare.connect().catch((x: unknown) => x)) as UTDStreamException).code).toBe("unauthorized");
  });

  test("UTDSignalClient: forced drops while events flow lose and duplicate nothing; offline requests are sent once connected", async () => {
    const api = new UTDApi({ baseUrl: e.url });
    const bob = await api.mintSession({ appId: app.app_id, appKey: app.app_key, identity: "d-bob" });
    const aliceApi = new UTDApi({ baseUrl: e.url });
    aliceApi.setToken((await aliceApi.mintSession({ appId: app.app_id, appKey: app.app_key, identity: "d-alice" })).userToken);
    const client = new UTDSignalClient({
      url: bob.wsUrl,
      token: () => bob.userToken,
      WebSocket: WS,
      backoff: { initialMs: 20, maxMs: 200 },
    });
    const seqs: number[] = [];
    const resyncs: string[] = [];
    client.on("event", (f) => seqs.push(f.seq));
    client.on("resync", (r) => resyncs.push(r.reason));
    // Queued before the socket exists; answered after the welcome.
    const early = client.request<{ presence: unknown[] }>("presence.watch", { identities: ["d-alice"] });
    client.connect();
    expect((await early).presence.length).toBe(1);

    const N = 30;
    for (let i = 0; i < N; i++) {
      await new CallsApi(aliceApi).create("d-bob", { type: "audio_call" });
      if (i % 7 === 3) client.reconnect();
    }
    await until(() => seqs.length >= N, `${N} events`);
    await sleep(200);
    expect(seqs).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(resyncs).toEqual([]);
    client.disconnect();
  });

  test("UTDSignalClient: after an engine restart it reconnects by itself and asks for a resync", async () => {
    const api = new UTDApi({ baseUrl: e.url });
    const s = await api.mintSession({ appId: app.app_id, appKey: app.app_key, identity: "rs-user" });
    // The restarted engine may listen on another port: the URL is read before every connect.
    const client = new UTDSignalClient({
      url: () => e.wsUrl,
      token: () => s.userToken,
      WebSocket: WS,
      backoff: { initialMs: 50, maxMs: 300 },
    });
    const resync = new Promise<string>((r) => client.on("resync", (x) => r(x.reason)));
    client.connect();
    await until(() => client.state.value === "connected", "connected");
    const states: ConnectionState[] = [];
    client.state.subscribe((v) => states.push(v));
    e = await e.restart();
    expect(await resync).toBe("epoch changed");
    expect(states).toContain("reconnecting");
    expect(client.state.value).toBe("connected");
    client.disconnect();
  });
});
