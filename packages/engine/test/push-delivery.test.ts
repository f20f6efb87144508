import type { PushCredentialInfo, PushToken } from "@utd-stream/protocol";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import webpush from "web-push";
import { freshPostgres } from "../../../test/helpers/backends.js";
import { utd } from "../../../test/helpers/cli.js";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import {
  type ApnsServer,
  apnsKeys,
  type FcmServer,
  fcmAccount,
  selfSignedTls,
  startApnsServer,
  startFcmServer,
  startWebPushServer,
  type WebPushServer,
} from "../../../test/helpers/push-servers.js";
import { sleep, WsClient } from "./ws-helpers.js";

/** Polls until `fn` returns something truthy (pushes leave after commit, asynchronously). */
async function until<T>(fn: () => T | undefined | false, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const pg = await freshPostgres("push delivery on PostgreSQL");
const stores: [string, Awaited<ReturnType<typeof freshPostgres>>][] = [["SQLite", undefined]];
if (pg) stores.push(["PostgreSQL", pg]);

describe.each(stores)("push delivery (%s) through a real engine to loopback APNs, FCM and Web Push servers", (_name, db) => {
  const tls = selfSignedTls();
  const keys = apnsKeys();
  const account = fcmAccount();
  const vapid = webpush.generateVAPIDKeys();
  let apns: ApnsServer;
  let fcm: FcmServer;
  let web: WebPushServer;
  let e: RunningEngine;
  let app: TestApp;
  // Message pushes wait 3 s for a burst to collapse: long enough for the test's five sends on a busy machine.
  const env = () => ({
    UTD_APNS_HOST: apns.host,
    UTD_FCM_URL: fcm.url,
    UTD_PUSH_CA_FILE: tls.caFile,
    UTD_PUSH_COLLAPSE_MS: "3000",
    ...(db ? { DATABASE_URL: db.url } : {}),
  });

  beforeAll(async () => {
    apns = await startApnsServer(tls, keys);
    fcm = await startFcmServer(tls, account);
    web = await startWebPushServer(tls, vapid.publicKey);
    e = await startEngine({ env: env() });
    app = await e.createApp({ plan: "pro" });
  });
  afterAll(async () => {
    await e?.stop();
    await Promise.all([apns?.close(), fcm?.close(), web?.close()]);
    await db?.drop();
  });

  test("credentials: set by admin API and CLI, encrypted at rest, shown as fingerprints only; bad keys refused and nothing stored", async () => {
    const bad = await e.admin<{ error: { code: string } }>("PUT", `/admin/v1/apps/${app.app_id}/push/apns`, {
      key_p8: "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----",
      key_id: keys.keyId,
      team_id: keys.teamId,
      bundle_id: keys.bundleId,
    });
    expect([bad.status, bad.body.error.code]).toEqual([400, "invalid_argument"]);
    const none = await e.admin<{ credentials: PushCredentialInfo[] }>("GET", `/admin/v1/apps/${app.app_id}/push`);
    expect(none.body.credentials).toEqual([]);

    const a = await e.admin<PushCredentialInfo>("PUT", `/admin/v1/apps/${app.app_id}/push/apns`, {
      key_p8: keys.keyP8,
      key_id: keys.keyId,
      team_id: keys.teamId,
      bundle_id: keys.bundleId,
    });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({
      provider: "apns",
      details: { key_id: keys.keyId, team_id: keys.teamId, bundle_id: keys.bundleId, production: false },
    });
    const f = await e.admin("PUT", `/admin/v1/apps/${app.app_id}/push/fcm`, {
      ...account,
      token_uri: fcm.tokenUri,
      type: "service_account",
    });
    expect(f.status).toBe(200);
    const cliEnv = { UTD_PORT: new URL(e.url).port, UTD_HOST: "127.0.0.1", UTD_ADMIN_TOKEN: e.adminToken, UTD_DATA_DIR: e.dataDir };
    const v = await utd(
      [
        "push",
        "set-vapid",
        "--app",
        app.app_id,
        "--public-key",
        vapid.publicKey,
        "--private-key",
        vapid.privateKey,
        "--subject",
        "mailto:ops@example.com",
        "--json",
      ],
      cliEnv,
    );
    expect(v.code).toBe(0);
    const shown = await utd(["push", "show", "--app", app.app_id, "--json"], cliEnv);
    expect(shown.code).toBe(0);
    const cfg = JSON.parse(shown.stdout) as { credentials: PushCredentialInfo[] };
    expect(cfg.credentials.map((c) => c.provider)).toEqual(["apns", "fcm", "vapid"]);
    // Nothing secret comes back, from the API or the CLI.
    const all = JSON.stringify(cfg) + JSON.stringify(a.body) + JSON.stringify(f.body);
    for (const secret of [keys.keyP8, account.private_key, vapid.privateKey]) expect(all).not.toContain(secret.split("\n")[1] ?? secret);
    expect(cfg.credentials.every((c) => /^[A-Za-z0-9_-]{16}$/.test(c.fingerprint))).toBe(true);
  });

  async function register(token: string, platform: string, t: string, device_id: string): Promise<PushToken> {
    const r = await e.request<PushToken>("POST", "/api/v1/push/tokens", { token, body: { platform, token: t, device_id } });
    expect(r.status).toBe(200);
    return r.body;
  }

  test("an incoming call to a callee with no connected device: VoIP on iOS, high-priority data on Android, requireInteraction on the web; the cancel stops the ring and leaves a missed-call notice", async () => {
    const alice = await e.session(app, "call-alice");
    const bob = await e.session(app, "call-bob");
    const sub = web.subscribe();
    await register(bob.user_token, "apns_voip", "b0b0", "iphone");
    await register(bob.user_token, "apns", "b0b1", "iphone");
    await register(bob.user_token, "fcm", "bob-android", "pixel");
    await register(bob.user_token, "web", JSON.stringify(sub.json), "laptop");
    const call = (
      await e.request<{ id: string }>("POST", "/api/v1/calls", {
        token: alice.user_token,
        body: { callee_identity: "call-bob", type: "video_call" },
      })
    ).body;

    const voip = await until(
      () => apns.pushes.find((p) => p.headers["apns-push-type"] === "voip" && p.headers["apns-collapse-id"] === call.id),
      "VoIP push",
    );
    expect(voip.token).toBe("b0b0");
    expect(voip.headers["apns-priority"]).toBe("10");
    expect(voip.payload).toMatchObject({
      utd: { kind: "call.incoming", call_id: call.id, caller_identity: "call-alice", app_id: app.app_id },
    });
    const data = await until(() => fcm.messages.find((m) => m.data.call_id === call.id), "FCM data message");
    expect(data).toMatchObject({
      token: "bob-android",
      data: { kind: "call.incoming" },
      android: { priority: "HIGH", collapse_key: call.id },
    });
    expect(data.notification).toBeUndefined();
    const wp = await until(() => web.deliveries.find((d) => d.payload.call_id === call.id), "web push");
    expect(wp.payload).toMatchObject({ kind: "call.incoming", notification: { requireInteraction: true, tag: call.id } });
    expect(wp.headers.urgency).toBe("high");
    // The iPhone rings through its VoIP token only: no alert push for the incoming call.
    expect(apns.pushes.filter((p) => p.token === "b0b1")).toEqual([]);

    expect((await e.request("POST", `/api/v1/calls/${call.id}/end`, { token: alice.user_token })).status).toBe(200);
    const stop = await until(
      () => apns.pushes.find((p) => p.token === "b0b0" && (p.payload.utd as { kind: string }).kind === "call.ended"),
      "VoIP stop",
    );
    expect(stop.payload).toMatchObject({ utd: { call_id: call.id, end_reason: "canceled" } });
    const missedAlert = await until(() => apns.pushes.find((p) => p.token === "b0b1"), "missed-call alert");
    expect(missedAlert.headers["apns-push-type"]).toBe("alert");
    expect(missedAlert.payload).toMatchObject({ aps: { alert: { title: "Missed call" } }, utd: { kind: "call.missed" } });
    await until(() => fcm.messages.find((m) => m.data.call_id === call.id && m.data.kind === "call.missed"), "FCM missed call");
    await until(() => web.deliveries.find((d) => d.payload.call_id === call.id && d.payload.kind === "call.missed"), "web missed call");
    expect(apns.refused).toEqual([]);
    expect(fcm.refused).toEqual([]);
    expect(web.refused).toEqual([]);
  });

  test("a callee with a connected device gets no push; answering on one device stops the others that were rung", async () => {
    const alice = await e.session(app, "on-alice");
    const bob = await e.session(app, "on-bob", { device_id: "desk" });
    await register(bob.user_token, "fcm", "on-bob-android", "pixel");
    const ws = await WsClient.connect(e.wsUrl, bob.user_token, { deviceId: "desk" });
    await sleep(300); // the presence row is written just after the welcome
    const c1 = (
      await e.request<{ id: string }>("POST", "/api/v1/calls", {
        token: alice.user_token,
        body: { callee_identity: "on-bob", type: "audio_call" },
      })
    ).body;
    await ws.next((f) => f.type === "call.incoming");
    await e.request("POST", `/api/v1/calls/${c1.id}/end`, { token: alice.user_token });
    await sleep(800);
    expect(fcm.messages.filter((m) => m.data.call_id === c1.id)).toEqual([]);
    ws.ws.close();
    await sleep(300);

    const c2 = (
      await e.request<{ id: string }>("POST", "/api/v1/calls", {
        token: alice.user_token,
        body: { callee_identity: "on-bob", type: "audio_call" },
      })
    ).body;
    await until(() => fcm.messages.find((m) => m.data.call_id === c2.id), "ring on the phone");
    // Bob answers on the desk device (woken up, say): the phone that was rung is told to stop.
    expect((await e.request("POST", `/api/v1/calls/${c2.id}/accept`, { token: bob.user_token })).status).toBe(200);
    const stop = await until(() => fcm.messages.find((m) => m.data.call_id === c2.id && m.data.kind === "call.ended"), "stop ringing");
    expect(stop.data.end_reason).toBe("answered_elsewhere");
  });

  test("messages: offline members get one collapsed push per burst; muted members and the sender get none; unregistered tokens are deleted", async () => {
    const a = await e.session(app, "msg-alice");
    const b = await e.session(app, "msg-bob");
    const c = await e.session(app, "msg-carol");
    await register(b.user_token, "fcm", "msg-bob-android", "pixel");
    await register(c.user_token, "fcm", "msg-carol-android", "pixel");
    await register(a.user_token, "fcm", "msg-alice-android", "pixel");
    const conv = (
      await e.request<{ id: string }>("POST", "/api/v1/conversations", {
        token: a.user_token,
        body: { kind: "group", name: "Trip", members: ["msg-bob", "msg-carol"] },
      })
    ).body;
    // Carol mutes it; a non-member cannot.
    expect((await e.request("PUT", `/api/v1/conversations/${conv.id}/mute`, { token: c.user_token, body: { muted: true } })).body).toEqual({
      conversation_id: conv.id,
      muted: true,
    });
    const stranger = await e.session(app, "msg-stranger");
    expect(
      (await e.request("PUT", `/api/v1/conversations/${conv.id}/mute`, { token: stranger.user_token, body: { muted: true } })).status,
    ).toBe(404);
    const bad = await e.request("PUT", `/api/v1/conversations/${conv.id}/mute`, { token: c.user_token, body: { muted: "yes" } });
    expect(bad.status).toBe(400);
    expect((await e.request<{ muted: boolean }>("GET", `/api/v1/conversations/${conv.id}/mute`, { token: c.user_token })).body.muted).toBe(
      true,
    );

    for (let i = 1; i <= 5; i++) {
      const r = await e.request("POST", `/api/v1/conversations/${conv.id}/messages`, {
        token: a.user_token,
        body: { client_msg_id: `m${i}`, text: `hello ${i}` },
      });
      expect(r.status).toBe(201);
    }
    const m = await until(() => fcm.messages.find((x) => x.data.conversation_id === conv.id), "message push");
    await sleep(1000);
    const forConv = fcm.messages.filter((x) => x.data.conversation_id === conv.id);
    expect(forConv.length).toBe(1);
    expect(m).toMatchObject({
      token: "msg-bob-android",
      data: { kind: "message.new", count: "5", sender: "msg-alice" },
      notification: { title: "Trip", body: "msg-alice: hello 5" },
    });

    // The provider says Bob's token is dead: it is deleted.
    fcm.unregistered.add("msg-bob-android");
    await e.request("POST", `/api/v1/conversations/${conv.id}/messages`, {
      token: a.user_token,
      body: { client_msg_id: "m6", text: "anyone?" },
    });
    const end = Date.now() + 8000;
    let tokens: PushToken[] = [{} as PushToken];
    while (Date.now() < end && tokens.length > 0) {
      tokens = (await e.request<{ tokens: PushToken[] }>("GET", "/api/v1/push/tokens", { token: b.user_token })).body.tokens;
      if (tokens.length > 0) await sleep(100);
    }
    expect(tokens).toEqual([]);
  });

  test("mentions: a member who muted the conversation still gets a push when a message mentions them", async () => {
    const a = await e.session(app, "men-alice");
    const c = await e.session(app, "men-carol");
    await register(c.user_token, "fcm", "men-carol-android", "pixel");
    const conv = (
      await e.request<{ id: string }>("POST", "/api/v1/conversations", {
        token: a.user_token,
        body: { kind: "group", name: "Muted", members: ["men-carol"] },
      })
    ).body;
    await e.request("PUT", `/api/v1/conversations/${conv.id}/mute`, { token: c.user_token, body: { muted: true } });
    await e.request("POST", `/api/v1/conversations/${conv.id}/messages`, {
      token: a.user_token,
      body: { client_msg_id: "plain", text: "nobody named" },
    });
    await e.request("POST", `/api/v1/conversations/${conv.id}/messages`, {
      token: a.user_token,
      body: { client_msg_id: "named", text: "@men-carol look" },
    });
    const m = await until(() => fcm.messages.find((x) => x.data.conversation_id === conv.id), "mention push");
    expect(m).toMatchObject({ token: "men-carol-android", data: { kind: "message.new", sender: "men-alice" } });
    expect(m.notification?.body).toContain("@men-carol look");
  });

  test("a provider outage is retried with backoff until it delivers", async () => {
    const a = await e.session(app, "retry-alice");
    const b = await e.session(app, "retry-bob");
    await register(b.user_token, "apns_voip", "ee01", "iphone");
    apns.failWith = 503;
    const call = (
      await e.request<{ id: string }>("POST", "/api/v1/calls", {
        token: a.user_token,
        body: { callee_identity: "retry-bob", type: "audio_call" },
      })
    ).body;
    await sleep(700);
    expect(apns.pushes.filter((p) => p.headers["apns-collapse-id"] === call.id)).toEqual([]);
    apns.failWith = undefined;
    const p = await until(() => apns.pushes.find((x) => x.headers["apns-collapse-id"] === call.id), "the retried push", 8000);
    expect(p.token).toBe("ee01");
    expect(apns.pushes.filter((x) => x.headers["apns-collapse-id"] === call.id).length).toBe(1);
  });
});
