import { createHmac, timingSafeEqual } from "node:crypto";
import type { WebhookDeliveries, WebhookEndpoint, WebhookEndpointWithSecret } from "@utd-stream/protocol";
import { verifyWebhook, WebhookVerificationError } from "@utd-stream/signaling/webhooks";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freshPostgres } from "../../../test/helpers/backends.js";
import type { TestApp } from "../../../test/helpers/engine.js";
import { type InProcessEngine, startInProcess } from "../../../test/helpers/inproc.js";
import { type Receiver, startReceiver } from "../../../test/helpers/receiver.js";
import { httpRequest } from "../src/core/http-client.js";
import { guardedLookup, refusedUrl } from "../src/core/ssrf.js";
import { sleep } from "./ws-helpers.js";

/**
 * The Standard Webhooks signature check written here from the spec (https://www.standardwebhooks.com),
 * independently of the engine's signer and of the SDK's verifier.
 */
function specVerify(secret: string, headers: Record<string, unknown>, body: string, nowS: number): boolean {
  const id = String(headers["webhook-id"]);
  const ts = String(headers["webhook-timestamp"]);
  if (Math.abs(nowS - Number(ts)) > 300) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest();
  return String(headers["webhook-signature"])
    .split(" ")
    .some((part) => {
      const [version, sig] = part.split(",");
      const got = Buffer.from(sig ?? "", "base64");
      return version === "v1" && got.length === expected.length && timingSafeEqual(got, expected);
    });
}

async function until<T>(fn: () => T | undefined | false, what: string, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

type Body = { type: string; timestamp: string; data: Record<string, unknown> };
const parsed = (r: { body: string }) => JSON.parse(r.body) as Body;

describe("target URLs (SSRF guard)", () => {
  test("only http(s); loopback, private and link-local refused unless allowed", () => {
    expect(refusedUrl("ftp://example.com/x", [])).toMatch(/http/);
    expect(refusedUrl("http://user:pw@example.com/", [])).toMatch(/credentials/);
    for (const u of [
      "http://127.0.0.1:9/x",
      "http://localhost/x",
      "http://[::1]/",
      "http://10.1.2.3/",
      "http://192.168.0.9/",
      "http://172.20.0.1/",
      "http://169.254.169.254/latest",
      "http://[fe80::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://0.0.0.0/",
    ]) {
      expect(refusedUrl(u, []), u).toBeDefined();
    }
    expect(refusedUrl("https://hooks.example.com/utd", [])).toBeUndefined();
    expect(refusedUrl("http://127.0.0.1:9/x", ["loopback"])).toBeUndefined();
    expect(refusedUrl("http://10.1.2.3/", ["loopback"])).toBeDefined();
    expect(refusedUrl("http://0.0.0.0/", ["loopback", "private", "link-local"])).toBeDefined();
  });

  test("names are checked when connecting: a name that resolves to a refused address never gets a request", async () => {
    const rx = await startReceiver();
    try {
      const port = new URL(rx.url).port;
      // "localhost" resolves to loopback: with loopback not allowed the connection is refused before any byte is sent.
      await expect(
        httpRequest(`http://localhost:${port}/x`, { method: "POST", body: "{}", timeoutMs: 2000, lookup: guardedLookup([]) }),
      ).rejects.toThrow(/refused target/);
      expect(rx.received).toEqual([]);
      const ok = await httpRequest(`http://localhost:${port}/x`, {
        method: "POST",
        body: "{}",
        timeoutMs: 2000,
        lookup: guardedLookup(["loopback"]),
      });
      expect(ok.status).toBe(204);
    } finally {
      await rx.close();
    }
  });

  test("an engine that does not allow loopback refuses such an endpoint with a typed error and stores nothing", async () => {
    const e = await startInProcess();
    try {
      const app = await e.createApp();
      for (const url of ["http://127.0.0.1:8080/hook", "http://169.254.169.254/", "file:///etc/passwd"]) {
        const r = await e.admin<{ error: { code: string } }>("POST", `/admin/v1/apps/${app.app_id}/webhooks`, {
          url,
          events: ["message.new"],
        });
        expect([r.status, r.body.error.code], url).toEqual([400, "invalid_argument"]);
      }
      const h = await e.admin<{ error: { code: string } }>("PUT", `/admin/v1/apps/${app.app_id}/hooks/before-send`, {
        url: "http://127.0.0.1:1/x",
      });
      expect(h.status).toBe(400);
      expect((await e.admin<{ endpoints: unknown[] }>("GET", `/admin/v1/apps/${app.app_id}/webhooks`)).body.endpoints).toEqual([]);
    } finally {
      await e.close();
    }
  });
});

const pg = await freshPostgres("webhooks on PostgreSQL");
const stores: [string, Awaited<ReturnType<typeof freshPostgres>>][] = [["SQLite", undefined]];
if (pg) stores.push(["PostgreSQL", pg]);

describe.each(stores)("outgoing webhooks (%s, in-process engine, injected clock)", (_name, db) => {
  let e: InProcessEngine;
  let rx: Receiver;
  let other: Receiver;
  let app: TestApp;
  let ep: WebhookEndpointWithSecret;
  let watcher: WebhookEndpointWithSecret;
  /** The direct conversation the holder of `token` opens with `peer` (who has had a session). */
  const direct = async (token: string, peer: string) =>
    (await e.request<{ id: string }>("POST", "/api/v1/conversations", { token, body: { kind: "direct", members: [peer] } })).body;

  beforeAll(async () => {
    rx = await startReceiver();
    other = await startReceiver();
    e = await startInProcess({ env: { UTD_WEBHOOK_ALLOW_NETWORKS: "loopback", ...(db ? { DATABASE_URL: db.url } : {}) } });
    app = await e.createApp({ plan: "pro" });
    const r = await e.admin<WebhookEndpointWithSecret>("POST", `/admin/v1/apps/${app.app_id}/webhooks`, {
      url: rx.url,
      events: [
        "message.new",
        "message.updated",
        "message.deleted",
        "call.started",
        "call.ended",
        "call.missed",
        "user.banned",
        "user.unbanned",
      ],
    });
    expect(r.status).toBe(201);
    ep = r.body;
    expect(ep.secret).toMatch(/^whsec_/);
    watcher = (
      await e.admin<WebhookEndpointWithSecret>("POST", `/admin/v1/apps/${app.app_id}/webhooks`, {
        url: other.url,
        events: ["webhook.disabled"],
      })
    ).body;
    // Bad input is refused and changes nothing.
    const bad = await e.admin<{ error: { code: string } }>("POST", `/admin/v1/apps/${app.app_id}/webhooks`, {
      url: rx.url,
      events: ["no.such"],
    });
    expect([bad.status, bad.body.error.code]).toEqual([400, "invalid_argument"]);
    expect((await e.admin<{ endpoints: WebhookEndpoint[] }>("GET", `/admin/v1/apps/${app.app_id}/webhooks`)).body.endpoints.length).toBe(2);
    // The secret is never shown again.
    expect(JSON.stringify((await e.admin("GET", `/admin/v1/apps/${app.app_id}/webhooks/${ep.id}`)).body)).not.toContain(ep.secret);
  });
  afterAll(async () => {
    await e?.close();
    await rx?.close();
    await other?.close();
    await db?.drop();
  });

  test("deliveries carry Standard Webhooks headers; the SDK helper and an independent implementation both verify them", async () => {
    const a = await e.session(app, "wh-alice");
    await e.session(app, "wh-bob");
    const conv = await direct(a.user_token, "wh-bob");
    const sent = await e.request<{ id: string }>("POST", `/api/v1/conversations/${conv.id}/messages`, {
      token: a.user_token,
      body: { client_msg_id: "w1", text: "hello hook" },
    });
    expect(sent.status).toBe(201);
    const got = await until(() => rx.received.find((r) => parsed(r).type === "message.new"), "message.new");
    expect(got.headers["webhook-id"]).toMatch(/^evt_/);
    expect(got.headers["webhook-timestamp"]).toMatch(/^\d+$/);
    expect(got.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    expect(parsed(got)).toMatchObject({
      type: "message.new",
      data: { message: { id: sent.body.id, text: "hello hook", sender: "wh-alice" } },
    });
    const now = e.clock.now();
    const event = await verifyWebhook(ep.secret, got.body, got.headers as Record<string, string>, { now: () => now });
    expect(event.type).toBe("message.new");
    expect(specVerify(ep.secret, got.headers, got.body, Math.floor(now / 1000))).toBe(true);
    // Tampering, another secret, or a stale timestamp fail both.
    await expect(
      verifyWebhook(ep.secret, got.body.replace("hello", "HELLO"), got.headers as Record<string, string>, { now: () => now }),
    ).rejects.toBeInstanceOf(WebhookVerificationError);
    expect(specVerify(ep.secret, got.headers, got.body.replace("hello", "HELLO"), Math.floor(now / 1000))).toBe(false);
    await expect(verifyWebhook(watcher.secret, got.body, got.headers as Record<string, string>, { now: () => now })).rejects.toBeInstanceOf(
      WebhookVerificationError,
    );
    await expect(verifyWebhook(ep.secret, got.body, got.headers as Record<string, string>, { now: () => now + 600_000 })).rejects.toThrow(
      /too old/,
    );

    // Edit and delete follow, in order.
    await e.request("PATCH", `/api/v1/conversations/${conv.id}/messages/${sent.body.id}`, {
      token: a.user_token,
      body: { text: "edited" },
    });
    await e.request("DELETE", `/api/v1/conversations/${conv.id}/messages/${sent.body.id}`, { token: a.user_token });
    await until(() => rx.received.find((r) => parsed(r).type === "message.deleted"), "message.deleted");
    const types = rx.received.map((r) => parsed(r).type).filter((t) => t.startsWith("message."));
    expect(types).toEqual(["message.new", "message.updated", "message.deleted"]);
  });

  test("an endpoint added, changed or removed applies to the very next message (the node's copy of the app's endpoints is dropped)", async () => {
    const late = await startReceiver();
    try {
      const a = await e.session(app, "wh-late-a");
      await e.session(app, "wh-late-b");
      const conv = await direct(a.user_token, "wh-late-b");
      const send = async (id: string) =>
        expect(
          (
            await e.request("POST", `/api/v1/conversations/${conv.id}/messages`, {
              token: a.user_token,
              body: { client_msg_id: id, text: id },
            })
          ).status,
        ).toBe(201);
      await send("late-1"); // the app's endpoints are read (and kept) without the new one
      const added = (
        await e.admin<WebhookEndpointWithSecret>("POST", `/admin/v1/apps/${app.app_id}/webhooks`, {
          url: late.url,
          events: ["message.new"],
        })
      ).body;
      const newOnes = async () =>
        (await e.admin<WebhookDeliveries>("GET", `/admin/v1/apps/${app.app_id}/webhooks/${added.id}/deliveries`)).body.messages.filter(
          (m) => m.type === "message.new",
        ).length;
      await send("late-2");
      expect(await newOnes()).toBe(1); // written with the message: the new endpoint was seen at once
      const patched = await e.admin("PATCH", `/admin/v1/apps/${app.app_id}/webhooks/${added.id}`, { events: ["message.updated"] });
      expect(patched.status).toBe(200);
      await send("late-3");
      expect(await newOnes()).toBe(1); // no longer asks for message.new: nothing written for it
      expect((await e.admin("DELETE", `/admin/v1/apps/${app.app_id}/webhooks/${added.id}`)).status).toBe(204);
      await send("late-4"); // stored, and still delivered to the endpoints that remain
      await until(() => rx.received.find((r) => (parsed(r).data.message as { text?: string } | undefined)?.text === "late-4"), "late-4");
    } finally {
      await late.close();
    }
  });

  test("in order per conversation: a failing delivery holds back the conversation's later events, not other conversations'; retries follow the injected clock", async () => {
    rx.received.length = 0;
    const a = await e.session(app, "ord-alice");
    await e.session(app, "ord-bob");
    await e.session(app, "ord-carol");
    const c1 = await direct(a.user_token, "ord-bob");
    const c2 = await direct(a.user_token, "ord-carol");
    let failFirst = true;
    rx.respond = (r) => {
      const b = parsed(r);
      if (failFirst && b.data.message && (b.data.message as { text: string }).text === "c1-1") return { status: 500 };
      return { status: 204 };
    };
    for (const [c, t] of [
      [c1, "c1-1"],
      [c1, "c1-2"],
      [c2, "c2-1"],
      [c1, "c1-3"],
      [c2, "c2-2"],
    ] as const) {
      expect(
        (await e.request("POST", `/api/v1/conversations/${c.id}/messages`, { token: a.user_token, body: { client_msg_id: t, text: t } }))
          .status,
      ).toBe(201);
    }
    const texts = () =>
      rx.received.filter((r) => parsed(r).type === "message.new").map((r) => (parsed(r).data.message as { text: string }).text);
    await until(() => texts().includes("c2-2"), "the other conversation");
    await sleep(300);
    // c1-1 failed once; c1-2 and c1-3 wait behind it. c2 went through.
    expect(texts().filter((t) => t.startsWith("c1"))).toEqual(["c1-1"]);
    const d = (await e.admin<WebhookDeliveries>("GET", `/admin/v1/apps/${app.app_id}/webhooks/${ep.id}/deliveries?state=pending`)).body;
    const head = d.messages.find((m) => m.attempts === 1);
    expect(head?.last_status).toBe(500);
    // The first retry is due 5 s later by the engine's clock: nothing happens until then.
    expect(Date.parse(head?.next_attempt_at ?? "") - e.clock.now()).toBe(5000);
    e.clock.advance(4000);
    e.engine.services.webhooks.dispatcher.wake();
    await sleep(300);
    expect(texts().filter((t) => t.startsWith("c1"))).toEqual(["c1-1"]);
    failFirst = false;
    e.clock.advance(1000);
    e.engine.services.webhooks.dispatcher.wake();
    await until(() => texts().includes("c1-3"), "c1 after the retry");
    expect(texts().filter((t) => t.startsWith("c1"))).toEqual(["c1-1", "c1-1", "c1-2", "c1-3"]);
    // The retry carried the same webhook-id.
    const ids = rx.received
      .filter((r) => (parsed(r).data.message as { text?: string } | undefined)?.text === "c1-1")
      .map((r) => r.headers["webhook-id"]);
    expect(new Set(ids).size).toBe(1);
  });

  test("calls and bans are reported; call.ended carries the duration and end reason", async () => {
    rx.received.length = 0;
    rx.respond = () => ({ status: 200 });
    const a = await e.session(app, "call-a");
    const b = await e.session(app, "call-b", { device_id: "phone" });
    const call = (
      await e.request<{ id: string }>("POST", "/api/v1/calls", {
        token: a.user_token,
        body: { callee_identity: "call-b", type: "audio_call" },
      })
    ).body;
    await e.request("POST", `/api/v1/calls/${call.id}/accept`, { token: b.user_token });
    e.clock.advance(42_000);
    await e.request("POST", `/api/v1/calls/${call.id}/end`, { token: a.user_token });
    const ended = await until(() => rx.received.find((r) => parsed(r).type === "call.ended"), "call.ended");
    expect(parsed(ended).data).toMatchObject({ duration_s: 42, end_reason: "hangup", call: { id: call.id } });
    expect(rx.received.map((r) => parsed(r).type)).toEqual(["call.started", "call.ended"]);
    await e.admin("POST", `/admin/v1/apps/${app.app_id}/bans`, { identity: "call-b", reason: "spam" });
    await until(() => rx.received.find((r) => parsed(r).type === "user.banned"), "user.banned");
    await e.admin("DELETE", `/admin/v1/apps/${app.app_id}/bans/call-b`);
    const un = await until(() => rx.received.find((r) => parsed(r).type === "user.unbanned"), "user.unbanned");
    expect(parsed(un).data).toEqual({ identity: "call-b" });
  });

  test("conversations, members and uploads are reported, in order per conversation", async () => {
    const rx2 = await startReceiver();
    let subId = "";
    try {
      const sub = await e.admin<WebhookEndpointWithSecret>("POST", `/admin/v1/apps/${app.app_id}/webhooks`, {
        url: rx2.url,
        events: ["conversation.created", "conversation.updated", "member.added", "member.removed", "upload.created"],
      });
      expect(sub.status).toBe(201);
      subId = sub.body.id;
      const a = await e.session(app, "cv-a");
      for (const i of ["cv-b", "cv-c", "cv-d"]) await e.session(app, i);
      const g = (
        await e.request<{ id: string }>("POST", "/api/v1/conversations", {
          token: a.user_token,
          body: { kind: "group", name: "G", members: ["cv-b", "cv-c"] },
        })
      ).body;
      await e.request("PATCH", `/api/v1/conversations/${g.id}`, { token: a.user_token, body: { name: "G2" } });
      expect(
        (await e.request("POST", `/api/v1/conversations/${g.id}/members`, { token: a.user_token, body: { identities: ["cv-d"] } })).status,
      ).toBeLessThan(300);
      expect((await e.request("DELETE", `/api/v1/conversations/${g.id}/members/cv-c`, { token: a.user_token })).status).toBeLessThan(300);
      const types = () => rx2.received.map((r) => parsed(r).type);
      await until(() => types().includes("member.removed"), "member.removed");
      expect(types()).toEqual(["conversation.created", "conversation.updated", "member.added", "member.removed"]);
      expect(parsed(rx2.received[0] as { body: string }).data).toMatchObject({
        conversation: { conversation_id: g.id, change: "created", name: "G", kind: "group" },
      });
      expect(parsed(rx2.received[1] as { body: string }).data).toMatchObject({ conversation: { name: "G2", change: "updated" } });
      expect(parsed(rx2.received[2] as { body: string }).data).toEqual({
        conversation_id: g.id,
        identity: "cv-d",
        role: "member",
        by: "cv-a",
      });
      // An upload is reported once its bytes are stored.
      const up = await e.request<{ file_token: string; upload_url: string; headers: Record<string, string> }>("POST", "/api/v1/uploads", {
        token: a.user_token,
        body: { kind: "file", filename: "a.txt", content_type: "text/plain", size: 5 },
      });
      expect(up.status).toBeLessThan(300);
      const u = new URL(up.body.upload_url);
      const put = await e.request("PUT", u.pathname + u.search, {
        raw: "hello",
        headers: { ...up.body.headers, "content-type": "text/plain" },
      });
      expect(put.status).toBeLessThan(300);
      await e.request("GET", `/api/v1/uploads/${up.body.file_token}`, { token: a.user_token });
      const got = await until(() => rx2.received.find((r) => parsed(r).type === "upload.created"), "upload.created");
      expect(parsed(got).data).toMatchObject({ identity: "cv-a", file: { file_token: up.body.file_token, size: 5, uploaded: true } });
    } finally {
      if (subId) expect((await e.admin("DELETE", `/admin/v1/apps/${app.app_id}/webhooks/${subId}`)).status).toBe(204);
      await rx2.close();
    }
  });

  test("secret rotation signs with both secrets during the overlap, then only the new one", async () => {
    rx.received.length = 0;
    const rot = await e.admin<WebhookEndpointWithSecret>("POST", `/admin/v1/apps/${app.app_id}/webhooks/${ep.id}/rotate-secret`, {
      overlap_s: 3600,
    });
    expect(rot.status).toBe(200);
    const a = await e.session(app, "rot-a");
    await e.session(app, "rot-b");
    const conv = await direct(a.user_token, "rot-b");
    await e.request("POST", `/api/v1/conversations/${conv.id}/messages`, {
      token: a.user_token,
      body: { client_msg_id: "r1", text: "during" },
    });
    const during = await until(() => rx.received.find((r) => parsed(r).type === "message.new"), "during overlap");
    expect(String(during.headers["webhook-signature"]).split(" ").length).toBe(2);
    const nowS = Math.floor(e.clock.now() / 1000);
    expect(specVerify(ep.secret, during.headers, during.body, nowS)).toBe(true);
    expect(specVerify(rot.body.secret, during.headers, during.body, nowS)).toBe(true);
    e.clock.advance(3601_000);
    // (the user token expired meanwhile, by the same clock)
    const a2 = await e.session(app, "rot-a");
    expect(
      (
        await e.request("POST", `/api/v1/conversations/${conv.id}/messages`, {
          token: a2.user_token,
          body: { client_msg_id: "r2", text: "after" },
        })
      ).status,
    ).toBe(201);
    const after = await until(
      () => rx.received.find((r) => (parsed(r).data.message as { text?: string } | undefined)?.text === "after"),
      "after overlap",
    );
    const nowS2 = Math.floor(e.clock.now() / 1000);
    expect(specVerify(rot.body.secret, after.headers, after.body, nowS2)).toBe(true);
    expect(specVerify(ep.secret, after.headers, after.body, nowS2)).toBe(false);
    ep = { ...ep, secret: rot.body.secret };
  });

  test("retries for 24 h, then the dead-letter list; the endpoint is disabled (webhook.disabled to the other endpoint); replay after re-enabling", async () => {
    rx.received.length = 0;
    rx.respond = () => ({ status: 503 });
    const a = await e.session(app, "dead-a");
    await e.session(app, "dead-b");
    const conv = await direct(a.user_token, "dead-b");
    await e.request("POST", `/api/v1/conversations/${conv.id}/messages`, {
      token: a.user_token,
      body: { client_msg_id: "d1", text: "doomed" },
    });
    await until(() => rx.received.length >= 1, "first attempt");
    // Walk the clock through the retry window; each due retry happens and fails.
    let guard = 0;
    for (;;) {
      const d = (await e.admin<WebhookDeliveries>("GET", `/admin/v1/apps/${app.app_id}/webhooks/${ep.id}/deliveries`)).body;
      const m = d.messages.find((x) => x.state !== "delivered");
      if (!m || m.state === "dead") break;
      if (m.state === "pending" && m.next_attempt_at) {
        e.clock.set(Math.max(e.clock.now(), Date.parse(m.next_attempt_at)));
        e.engine.services.webhooks.dispatcher.wake();
      }
      await sleep(40);
      if (++guard > 400) throw new Error("never dead-lettered");
    }
    const attempts = rx.received.length;
    expect(attempts).toBeGreaterThan(10);
    const dead = (await e.admin<WebhookDeliveries>("GET", `/admin/v1/apps/${app.app_id}/webhooks/${ep.id}/deliveries?state=dead`)).body;
    expect(dead.messages.map((m) => m.type)).toEqual(["message.new"]);
    // The endpoint is disabled right after the dead-lettering commits, in a transaction of its own: wait for it.
    let shown = (await e.admin<WebhookEndpoint>("GET", `/admin/v1/apps/${app.app_id}/webhooks/${ep.id}`)).body;
    for (let i = 0; shown.enabled && i < 200; i++) {
      await sleep(40);
      shown = (await e.admin<WebhookEndpoint>("GET", `/admin/v1/apps/${app.app_id}/webhooks/${ep.id}`)).body;
    }
    expect(shown.enabled).toBe(false);
    expect(shown.disabled_reason).toMatch(/failed/);
    const notice = await until(() => other.received.find((r) => parsed(r).type === "webhook.disabled"), "webhook.disabled");
    expect(parsed(notice).data).toMatchObject({ endpoint_id: ep.id, url: rx.url });
    expect(specVerify(watcher.secret, notice.headers, notice.body, Math.floor(e.clock.now() / 1000))).toBe(true);
    // While disabled, new events are not queued for it.
    await e.request("POST", `/api/v1/conversations/${conv.id}/messages`, {
      token: a.user_token,
      body: { client_msg_id: "d2", text: "while disabled" },
    });
    await sleep(200);
    expect(rx.received.length).toBe(attempts);
    // Re-enable and replay the dead letters: delivered with the same webhook-id.
    rx.respond = () => ({ status: 204 });
    expect((await e.admin("PATCH", `/admin/v1/apps/${app.app_id}/webhooks/${ep.id}`, { enabled: true })).status).toBe(200);
    const rep = await e.admin<{ replayed: number }>("POST", `/admin/v1/apps/${app.app_id}/webhooks/${ep.id}/replay`, { dead: true });
    expect(rep.body.replayed).toBe(1);
    const again = await until(() => rx.received.slice(attempts).find((r) => parsed(r).type === "message.new"), "replayed");
    expect(again.headers["webhook-id"]).toBe(rx.received[0]?.headers["webhook-id"]);
    const bad = await e.admin<{ error: { code: string } }>("POST", `/admin/v1/apps/${app.app_id}/webhooks/${ep.id}/replay`, {
      event_id: "evt_nope",
    });
    expect(bad.status).toBe(404);
  });
});
