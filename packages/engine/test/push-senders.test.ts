import { afterAll, beforeAll, describe, expect, test } from "vitest";
import webpush from "web-push";
import {
  type ApnsServer,
  apnsKeys,
  type FcmServer,
  fcmAccount,
  selfSignedTls,
  startApnsServer,
  startFcmServer,
  startWebPushServer,
  type Tls,
  type WebPushServer,
} from "../../../test/helpers/push-servers.js";
import { ApnsSender } from "../src/push/apns.js";
import { FcmSender } from "../src/push/fcm.js";
import type { PushRequest } from "../src/push/port.js";
import { WebPushSender } from "../src/push/webpush.js";

// Each provider's sender against a loopback server speaking its protocol (see test/helpers/push-servers.ts).
let tls: Tls;
beforeAll(() => {
  tls = selfSignedTls();
});

const base = (over: Partial<PushRequest>): PushRequest => ({
  platform: "apns",
  token: "a1b2",
  pushId: "push_1",
  collapseKey: "call_1",
  expiresAt: Date.now() + 30_000,
  priority: "high",
  ...over,
});

describe("APNs sender (HTTP/2, ES256 provider token)", () => {
  const keys = apnsKeys();
  let server: ApnsServer;
  let sender: ApnsSender;
  const creds = { keyP8: keys.keyP8, keyId: keys.keyId, teamId: keys.teamId, bundleId: keys.bundleId, production: false };
  beforeAll(async () => {
    server = await startApnsServer(tls, keys);
    sender = new ApnsSender({ apnsHost: server.host, ca: tls.cert, timeoutMs: 5000 });
  });
  afterAll(async () => {
    await sender?.close();
    await server?.close();
  });

  test("a VoIP push reaches the .voip topic with collapse id, expiration and priority 10", async () => {
    const r = await sender.send(
      "app1",
      creds,
      base({
        platform: "apns_voip",
        token: "00aa",
        apns: { pushType: "voip", payload: { aps: {}, utd: { kind: "call.incoming", call_id: "call_1" } } },
      }),
    );
    expect(r).toEqual({ kind: "sent", status: 200 });
    expect(server.refused).toEqual([]);
    const p = server.pushes.at(-1);
    expect(p?.token).toBe("00aa");
    expect(p?.headers["apns-topic"]).toBe(`${keys.bundleId}.voip`);
    expect(p?.headers["apns-push-type"]).toBe("voip");
    expect(p?.headers["apns-collapse-id"]).toBe("call_1");
    expect(p?.headers["apns-priority"]).toBe("10");
    expect(Number(p?.headers["apns-expiration"])).toBeGreaterThan(Date.now() / 1000);
    expect(p?.headers["apns-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(p?.payload).toMatchObject({ utd: { kind: "call.incoming", call_id: "call_1" } });
  });

  test("an alert push goes to the bundle topic; an unregistered token is reported as such", async () => {
    expect(
      await sender.send(
        "app1",
        creds,
        base({ token: "00bb", apns: { pushType: "alert", payload: { aps: { alert: { title: "t", body: "b" } } } } }),
      ),
    ).toEqual({ kind: "sent", status: 200 });
    expect(server.pushes.at(-1)?.headers["apns-topic"]).toBe(keys.bundleId);
    server.unregistered.add("00cc");
    const r = await sender.send("app1", creds, base({ token: "00cc", apns: { pushType: "alert", payload: { aps: {} } } }));
    expect(r).toMatchObject({ kind: "unregistered", status: 410, reason: "Unregistered" });
  });

  test("a provider token signed with another key is refused by the server (and reported as a permanent failure)", async () => {
    const other = apnsKeys();
    const r = await sender.send(
      "app2",
      { ...creds, keyP8: other.keyP8 },
      base({ token: "00dd", apns: { pushType: "alert", payload: { aps: {} } } }),
    );
    expect(r).toMatchObject({ kind: "failed", status: 403, reason: "InvalidProviderToken" });
    expect(server.refused).toContain("InvalidProviderToken");
  });

  test("503 is a retry", async () => {
    server.failWith = 503;
    const r = await sender.send("app1", creds, base({ token: "00ee", apns: { pushType: "alert", payload: { aps: {} } } }));
    server.failWith = undefined;
    expect(r.kind).toBe("retry");
  });
});

describe("FCM HTTP v1 sender (OAuth from token_uri, cached)", () => {
  const account = fcmAccount();
  let server: FcmServer;
  let now = Date.now();
  const clock = { now: () => now };
  let sender: FcmSender;
  beforeAll(async () => {
    server = await startFcmServer(tls, account);
    sender = new FcmSender({ fcmUrl: server.url, ca: tls.cert, timeoutMs: 5000 }, clock);
  });
  afterAll(async () => {
    await sender?.close();
    await server?.close();
  });
  const creds = () => ({
    projectId: account.project_id,
    clientEmail: account.client_email,
    privateKey: account.private_key,
    tokenUri: server.tokenUri,
  });

  test("a high-priority data message with the bearer from the token endpoint; the token is cached until it expires", async () => {
    const req = base({ platform: "fcm", token: "fcm-1", fcm: { data: { kind: "call.incoming", call_id: "call_9" } } });
    expect(await sender.send("app1", creds(), req)).toEqual({ kind: "sent", status: 200 });
    expect(await sender.send("app1", creds(), { ...req, token: "fcm-2" })).toEqual({ kind: "sent", status: 200 });
    expect(server.tokenFetches).toBe(1);
    expect(server.refused).toEqual([]);
    const m = server.messages.at(-1);
    expect(m).toMatchObject({
      token: "fcm-2",
      data: { kind: "call.incoming", call_id: "call_9" },
      android: { priority: "HIGH", collapse_key: "call_1" },
    });
    expect(m?.notification).toBeUndefined();
    // An hour later (by the injected clock) the cached token has expired: one new fetch.
    now += 3600_000;
    expect((await sender.send("app1", creds(), { ...req, expiresAt: now + 30_000 })).kind).toBe("sent");
    expect(server.tokenFetches).toBe(2);
  });

  test("UNREGISTERED is reported; a notification message keeps its notification; 503 is a retry", async () => {
    server.unregistered.add("fcm-dead");
    const dead = await sender.send(
      "app1",
      creds(),
      base({ platform: "fcm", token: "fcm-dead", expiresAt: now + 1000, fcm: { data: { kind: "message.new" } } }),
    );
    expect(dead).toMatchObject({ kind: "unregistered", reason: "UNREGISTERED" });
    const n = await sender.send(
      "app1",
      creds(),
      base({
        platform: "fcm",
        token: "fcm-3",
        priority: "normal",
        expiresAt: now + 60_000,
        fcm: { data: { kind: "message.new" }, notification: { title: "Alice", body: "hi" } },
      }),
    );
    expect(n.kind).toBe("sent");
    expect(server.messages.at(-1)).toMatchObject({
      notification: { title: "Alice", body: "hi" },
      android: { priority: "NORMAL", ttl: "60s" },
    });
    server.failWith = 503;
    expect(
      (await sender.send("app1", creds(), base({ platform: "fcm", token: "fcm-4", expiresAt: now + 1000, fcm: { data: {} } }))).kind,
    ).toBe("retry");
    server.failWith = undefined;
  });

  test("a service account the token endpoint refuses is a permanent failure", async () => {
    const other = fcmAccount();
    const r = await sender.send(
      "app3",
      { ...creds(), privateKey: other.private_key },
      base({ platform: "fcm", token: "fcm-5", expiresAt: now + 1000, fcm: { data: {} } }),
    );
    expect(r).toMatchObject({ kind: "failed", status: 400 });
  });
});

describe("Web Push sender (VAPID, aes128gcm)", () => {
  const vapid = webpush.generateVAPIDKeys();
  let server: WebPushServer;
  const sender = () => new WebPushSender({ ca: tls.cert, timeoutMs: 5000 }, { now: () => Date.now() });
  const creds = { publicKey: vapid.publicKey, privateKey: vapid.privateKey, subject: "mailto:ops@example.com" };
  beforeAll(async () => {
    server = await startWebPushServer(tls, vapid.publicKey);
  });
  afterAll(async () => {
    await server?.close();
  });

  test("the push service verifies VAPID and decrypts the payload with the subscription's private key", async () => {
    const sub = server.subscribe();
    const payload = { kind: "call.incoming", call_id: "call_7", notification: { title: "Alice", requireInteraction: true } };
    const r = await sender().send(
      "app1",
      creds,
      base({ platform: "web", token: JSON.stringify(sub.json), collapseKey: "call_7", web: { payload } }),
    );
    expect(server.refused).toEqual([]);
    expect(r).toEqual({ kind: "sent", status: 201 });
    const d = server.deliveries.at(-1);
    expect(d?.payload).toEqual(payload);
    expect(d?.headers.urgency).toBe("high");
    expect(d?.headers.topic).toBe("call_7");
    expect(Number(d?.headers.ttl)).toBeGreaterThan(20);
  });

  test("410 Gone is unregistered; a token that is no subscription is unregistered without a request", async () => {
    const sub = server.subscribe();
    server.gone.add(sub.json.endpoint.split("/").at(-1) as string);
    expect(
      (await sender().send("app1", creds, base({ platform: "web", token: JSON.stringify(sub.json), web: { payload: {} } }))).kind,
    ).toBe("unregistered");
    expect((await sender().send("app1", creds, base({ platform: "web", token: "not json", web: { payload: {} } }))).kind).toBe(
      "unregistered",
    );
  });
});
