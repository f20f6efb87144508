import type { PushToken } from "@utd-stream/protocol";
import { afterAll, beforeAll, expect, test } from "vitest";
import { backends, describeBackends, type FreshStore, freshStore } from "../../../test/helpers/backends.js";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";

type Err = { error: { code: string } };
type List = { tokens: PushToken[] };

describeBackends(await backends("store"), "push tokens", (store) => {
  let e: RunningEngine;
  let app: TestApp;
  let db: FreshStore | undefined;
  beforeAll(async () => {
    db = await freshStore(store);
    e = await startEngine({ env: db?.env ?? {} });
    app = await e.createApp();
  });
  afterAll(async () => {
    await e?.stop();
    await db?.drop();
  });
  const list = async (token: string) => (await e.request<List>("GET", "/api/v1/push/tokens", { token })).body.tokens;
  const reg = (token: string, body: unknown) => e.request<PushToken>("POST", "/api/v1/push/tokens", { token, body });

  test("register is deduplicated; a rotated token replaces the device's old one; listing is per user", async () => {
    const a = await e.session(app, "pt-alice", { device_id: "phone" });
    const r1 = await reg(a.user_token, { platform: "fcm", token: "tok-1" });
    expect(r1.status).toBe(200);
    expect(r1.body).toMatchObject({ platform: "fcm", token: "tok-1", device_id: "phone" });
    const r2 = await reg(a.user_token, { platform: "fcm", token: "tok-1" });
    expect(r2.body.id).toBe(r1.body.id);
    await reg(a.user_token, { platform: "apns_voip", token: "voip-1" });
    expect((await list(a.user_token)).length).toBe(2);
    // Token rotation on the same device and platform replaces the old token.
    await reg(a.user_token, { platform: "fcm", token: "tok-2" });
    expect((await list(a.user_token)).map((t) => t.token).sort()).toEqual(["tok-2", "voip-1"]);
    // Same token registered by another user on that device moves to them.
    const b = await e.session(app, "pt-bob", { device_id: "shared" });
    await reg(b.user_token, { platform: "fcm", token: "tok-2" });
    expect((await list(a.user_token)).map((t) => t.token)).toEqual(["voip-1"]);
    expect((await list(b.user_token)).map((t) => t.token)).toEqual(["tok-2"]);
  });

  test("remove by id (own only), unregister by token or device, and sign-out-everywhere clears them", async () => {
    const a = await e.session(app, "pr-alice", { device_id: "d1" });
    const b = await e.session(app, "pr-bob");
    const t1 = (await reg(a.user_token, { platform: "web", token: '{"endpoint":"https://push.example/1"}' })).body;
    const t2 = (await reg(a.user_token, { platform: "apns", token: "abcd", device_id: "d2" })).body;
    await reg(a.user_token, { platform: "fcm", token: "f-3", device_id: "d3" });
    // Bob cannot remove Alice's token: it looks absent.
    const foreign = await e.request<Err>("DELETE", `/api/v1/push/tokens/${t1.id}`, { token: b.user_token });
    expect([foreign.status, foreign.body.error.code]).toEqual([404, "not_found"]);
    expect((await list(a.user_token)).length).toBe(3);
    expect((await e.request("DELETE", `/api/v1/push/tokens/${t1.id}`, { token: a.user_token })).status).toBe(204);
    expect((await e.request("DELETE", `/api/v1/push/tokens/${t1.id}`, { token: a.user_token })).status).toBe(404);
    const un = await e.request<{ removed: number }>("POST", "/api/v1/push/tokens/unregister", {
      token: a.user_token,
      body: { token: t2.token },
    });
    expect(un.body.removed).toBe(1);
    expect((await list(a.user_token)).map((t) => t.token)).toEqual(["f-3"]);
    await e.request("POST", "/api/v1/auth/revoke", { token: a.user_token });
    const again = await e.session(app, "pr-alice");
    expect(await list(again.user_token)).toEqual([]);
  });

  test("bad input is refused and stores nothing", async () => {
    const a = await e.session(app, "pb-alice");
    const bad: unknown[] = [
      {},
      { platform: "sms", token: "x" },
      { platform: "fcm" },
      { platform: "fcm", token: "" },
      { platform: "fcm", token: "x".repeat(5000) },
      { platform: "fcm", token: 12 },
      { platform: "fcm", token: "x", device_id: "bad id" },
      { platform: "fcm", token: "x", extra: 1 },
    ];
    for (const body of bad) {
      const r = await e.request<Err>("POST", "/api/v1/push/tokens", { token: a.user_token, body });
      expect([r.status, r.body.error.code], JSON.stringify(body)).toEqual([400, "invalid_argument"]);
    }
    const un = await e.request<Err>("POST", "/api/v1/push/tokens/unregister", { token: a.user_token, body: {} });
    expect(un.status).toBe(400);
    expect((await e.request<Err>("DELETE", "/api/v1/push/tokens/bad$id", { token: a.user_token })).status).toBe(400);
    expect((await e.request("GET", "/api/v1/push/tokens")).status).toBe(401);
    expect(await list(a.user_token)).toEqual([]);
  });
});
