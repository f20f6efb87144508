import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEngine, type SessionBody, startEngine, type TestApp } from "../../../test/helpers/engine.js";

let engine: RunningEngine;
let open: TestApp;
let signed: TestApp;

beforeAll(async () => {
  engine = await startEngine({ env: { UTD_RATE_SESSION_IDENTITY: "5/1", UTD_USER_TOKEN_TTL_S: "60" } });
  open = await engine.createApp({ name: "Open", plan: "pro" });
  signed = await engine.createApp({ name: "Signed", auth_mode: "signed", plan: "signaling" });
});
afterAll(async () => {
  await engine?.stop();
});

function identityToken(secret: string, sub: string, expInS = 60, extra: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(extra)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expInS)
    .sign(new TextEncoder().encode(secret));
}

async function mauOf(app: TestApp): Promise<number> {
  const r = await engine.admin<{ months: { mau: number }[] }>("GET", `/admin/v1/apps/${app.app_id}/usage`);
  return r.body.months.reduce((n, m) => n + m.mau, 0);
}

async function mint(body: Record<string, unknown>, headers?: Record<string, string>) {
  return engine.request<SessionBody & { error?: { code: string; message: string; capability?: string } }>("POST", "/api/v1/auth/session", {
    body,
    ...(headers ? { headers } : {}),
  });
}

describe("session mint — open mode", () => {
  it("returns a user token, expiry, user, capability flags, plan limits and the WebSocket URL", async () => {
    const r = await mint({ app_id: open.app_id, app_key: open.app_key, identity: "alice", name: "Alice", device_id: "web-1" });
    expect(r.status).toBe(200);
    expect(r.body.user_token.split(".")).toHaveLength(3);
    expect(Date.parse(r.body.expires_at) - Date.now()).toBeGreaterThan(50_000);
    expect(Date.parse(r.body.expires_at) - Date.now()).toBeLessThanOrEqual(60_000);
    expect(r.body.user).toEqual({ identity: "alice", name: "Alice" });
    expect(r.body.device_id).toBe("web-1");
    expect(r.body.signaling_enabled).toBe(true);
    expect(r.body.messaging_enabled).toBe(true);
    expect(r.body.plan_limits).toEqual({
      history_days: 90,
      max_group_members: 100,
      max_friends: 1000,
      max_chatrooms: 50,
      max_room_members: 1000,
      room_history: 50,
      max_storage_bytes_per_user: 2 * 1024 ** 3,
      max_storage_bytes_per_app: 200 * 1024 ** 3,
    });
    expect(r.body.ws_url).toBe(`${engine.wsUrl}`);
    expect(r.headers.get("ratelimit-limit")).toBe("5");
  });

  it("the token authenticates, refreshes and can be revoked", async () => {
    const s = await engine.session(open, "carol");
    const refreshed = await engine.request<SessionBody>("POST", "/api/v1/auth/refresh", { token: s.user_token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.user).toMatchObject({ identity: "carol" });
    const revoke = await engine.request("POST", "/api/v1/auth/revoke", { token: refreshed.body.user_token });
    expect(revoke.status).toBe(200);
    for (const t of [s.user_token, refreshed.body.user_token]) {
      const after = await engine.request<{ error: { code: string } }>("POST", "/api/v1/auth/refresh", { token: t });
      expect(after.status).toBe(401);
      expect(after.body.error.code).toBe("unauthorized");
    }
    // A new session after revocation works.
    const again = await engine.session(open, "carol");
    expect((await engine.request("POST", "/api/v1/auth/refresh", { token: again.user_token })).status).toBe(200);
  });

  it("refuses a tampered, foreign or missing token with 401", async () => {
    const s = await engine.session(open, "dave");
    const [h, p, sig] = s.user_token.split(".");
    const forged = [h, p, `${sig?.slice(0, -2)}xx`].join(".");
    const foreign = await new SignJWT({ app: open.app_id, iat_ms: Date.now() })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("dave")
      .setIssuer("utd-stream")
      .setAudience("utd-user")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("not-the-engine-key-not-the-engine-key"));
    for (const token of [forged, foreign, "garbage"]) {
      const r = await engine.request<{ error: { code: string } }>("POST", "/api/v1/auth/refresh", { token });
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe("unauthorized");
    }
    const none = await engine.request<{ error: { code: string } }>("POST", "/api/v1/auth/refresh");
    expect(none.status).toBe(401);
  });

  it("counts MAU once per identity per month", async () => {
    const before = await mauOf(open);
    await engine.session(open, "mau-user");
    await engine.session(open, "mau-user");
    expect(await mauOf(open)).toBe(before + 1);
  });
});

describe("session mint — signed mode", () => {
  it("accepts a backend-signed identity token for the same identity", async () => {
    const jwt = await identityToken(signed.app_secret, "bob");
    const r = await mint({ app_id: signed.app_id, app_key: signed.app_key, identity: "bob", identity_token: jwt });
    expect(r.status).toBe(200);
    expect(r.body.signaling_enabled).toBe(true);
    expect(r.body.messaging_enabled).toBe(false);
  });

  it.each([
    ["missing identity_token", async () => undefined],
    ["wrong secret", async () => identityToken("sk_wrong_wrong_wrong_wrong_wrong_wrong", "bob")],
    ["sub of another identity", async () => identityToken(signed.app_secret, "mallory")],
    ["expired", async () => identityToken(signed.app_secret, "bob", -60)],
    ["exp too far ahead", async () => identityToken(signed.app_secret, "bob", 24 * 3600)],
    [
      "no exp",
      async () => new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("bob").sign(new TextEncoder().encode(signed.app_secret)),
    ],
    ["not a JWT", async () => "hello"],
  ])("refuses %s with 401 and records nothing", async (name, make) => {
    const before = await mauOf(signed);
    const token = await make();
    const r = await mint({
      app_id: signed.app_id,
      app_key: signed.app_key,
      identity: `refused-${name.replace(/\W+/g, "-")}`,
      ...(token ? { identity_token: token } : {}),
    });
    expect(r.status).toBe(401);
    expect(r.body.error?.code).toBe("unauthorized");
    expect(await mauOf(signed)).toBe(before);
  });
});

describe("bans", () => {
  it("a banned identity gets 403 banned on mint and on its existing tokens; unban restores minting", async () => {
    const s = await engine.session(open, "eve");
    const ban = await engine.admin("POST", `/admin/v1/apps/${open.app_id}/bans`, { identity: "eve", reason: "abuse" });
    expect(ban.status).toBe(200);
    const m = await mint({ app_id: open.app_id, app_key: open.app_key, identity: "eve" });
    expect(m.status).toBe(403);
    expect(m.body.error?.code).toBe("banned");
    const old = await engine.request<{ error: { code: string } }>("POST", "/api/v1/auth/refresh", { token: s.user_token });
    expect(old.status).toBe(403);
    expect(old.body.error.code).toBe("banned");
    expect((await engine.admin("DELETE", `/admin/v1/apps/${open.app_id}/bans/eve`)).status).toBe(200);
    // Tokens from before the ban stay dead; a fresh mint works.
    expect((await engine.request("POST", "/api/v1/auth/refresh", { token: s.user_token })).status).toBe(401);
    expect((await mint({ app_id: open.app_id, app_key: open.app_key, identity: "eve" })).status).toBe(200);
  });
});

describe("capabilities", () => {
  it("flags follow the plan and per-app overrides, and are always present", async () => {
    const app = await engine.createApp({ name: "Caps", plan: "free" });
    await engine.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { signaling_enabled: false, limit_overrides: { max_friends: 3 } });
    const s = await engine.session(app, "frank");
    expect(s.signaling_enabled).toBe(false);
    expect(s.messaging_enabled).toBe(true);
    expect(s.plan_limits).toMatchObject({ max_friends: 3, history_days: 7 });
  });
});

describe("rate limits", () => {
  it("a burst of session mints from one identity is cut off with 429, Retry-After and RateLimit headers", async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, () => mint({ app_id: open.app_id, app_key: open.app_key, identity: "burst" })),
    );
    const ok = results.filter((r) => r.status === 200).length;
    const limited = results.filter((r) => r.status === 429);
    expect(ok).toBeLessThanOrEqual(6);
    expect(limited.length).toBeGreaterThanOrEqual(34);
    const l = limited[0];
    expect(l?.body.error?.code).toBe("rate_limited");
    expect(Number(l?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(l?.headers.get("ratelimit-limit")).toBe("5");
    expect(l?.headers.get("ratelimit-remaining")).toBe("0");
    // Another identity of the same app is not affected.
    expect((await mint({ app_id: open.app_id, app_key: open.app_key, identity: "calm" })).status).toBe(200);
  });
});

describe("bad input is refused with a typed error and stores nothing", () => {
  const cases: [string, () => Promise<{ status: number; body: unknown }>, number, string][] = [
    ["malformed JSON", () => engine.request("POST", "/api/v1/auth/session", { raw: '{"app_id": ' }), 400, "invalid_argument"],
    ["a JSON array", () => engine.request("POST", "/api/v1/auth/session", { raw: "[1,2]" }), 400, "invalid_argument"],
    ["wrong types", () => mint({ app_id: 5, app_key: true, identity: ["x"] }), 400, "invalid_argument"],
    ["missing fields", () => mint({ app_id: "x" }), 400, "invalid_argument"],
    ["unknown field", () => mint({ app_id: "a", app_key: "b", identity: "c", admin: true }), 400, "invalid_argument"],
    ["identity with whitespace", () => mint({ app_id: "a", app_key: "b", identity: "a b" }), 400, "invalid_argument"],
    ["oversized identity", () => mint({ app_id: "a", app_key: "b", identity: "x".repeat(129) }), 400, "invalid_argument"],
    ["oversized body", () => mint({ app_id: "a", app_key: "b", identity: "c", name: "n".repeat(100_000) }), 413, "payload_too_large"],
    [
      "not JSON",
      () => engine.request("POST", "/api/v1/auth/session", { raw: "app_id=x", headers: { "content-type": "text/plain" } }),
      415,
      "unsupported_media_type",
    ],
    ["unknown app", () => mint({ app_id: "app_nope", app_key: "pk_nope", identity: "x" }), 401, "unauthorized"],
    ["wrong key", () => mint({ app_id: open.app_id, app_key: "pk_wrong", identity: "wrong-key-user" }), 401, "unauthorized"],
    ["another app's key", () => mint({ app_id: open.app_id, app_key: signed.app_key, identity: "cross-app-user" }), 401, "unauthorized"],
    ["unknown route", () => engine.request("GET", "/api/v1/nope"), 404, "not_found"],
  ];
  it.each(cases)("%s", async (_name, run, status, code) => {
    const before = await mauOf(open);
    const r = await run();
    expect(r.status).toBe(status);
    expect((r.body as { error: { code: string; message: string } }).error.code).toBe(code);
    expect((r.body as { error: { message: string } }).error.message.length).toBeGreaterThan(0);
    expect(await mauOf(open)).toBe(before);
  });

  it("nothing was stored for refused identities", async () => {
    const apps = await engine.admin<{ apps: { app_id: string }[] }>("GET", "/admin/v1/apps");
    expect(apps.body.apps.map((a) => a.app_id)).not.toContain("app_nope");
    const usage = await engine.admin<{ months: { mau: number }[] }>("GET", `/admin/v1/apps/${open.app_id}/usage`);
    expect(usage.status).toBe(200);
  });
});

describe("operations", () => {
  it("serves health, readiness, metrics, the OpenAPI document and docs", async () => {
    expect((await engine.request<{ status: string }>("GET", "/healthz")).body.status).toBe("ok");
    expect((await engine.request<{ status: string }>("GET", "/readyz")).body.status).toBe("ready");
    const metrics = await engine.request<string>("GET", "/metrics", { token: engine.adminToken });
    expect(metrics.body).toContain('utd_http_requests_total{method="POST",route="/api/v1/auth/session",status="200"}');
    const doc = await engine.request<{ openapi: string; paths: Record<string, unknown> }>("GET", "/openapi.json");
    expect(doc.body.openapi).toBe("3.1.0");
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(["/api/v1/auth/session", "/admin/v1/apps"]));
    expect((await fetch(`${engine.url}/docs/`)).status).toBe(200);
  });

  it("never logs tokens, keys or secrets", async () => {
    const s = await engine.session(open, "logcheck", { name: "Log" });
    await engine.request("POST", "/api/v1/auth/refresh", { token: s.user_token });
    const logs = engine.logs.join("\n");
    for (const secret of [s.user_token, open.app_key, open.app_secret, signed.app_secret, engine.adminToken]) {
      expect(logs).not.toContain(secret);
    }
  });
});

describe("empty bodies", () => {
  it("a POST whose body is optional accepts no body, an empty JSON body, and {}", async () => {
    const s = await engine.session(open, "empty-body");
    for (const o of [{}, { raw: "" }, { raw: "{}" }]) {
      const r = await engine.request("POST", "/api/v1/auth/refresh", { token: s.user_token, ...o });
      expect(r.status).toBe(200);
    }
    const bad = await engine.request<{ error: { code: string } }>("POST", "/api/v1/auth/refresh", { token: s.user_token, raw: "{" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_argument");
  });
});

describe("CORS", () => {
  it("answers preflights only for configured origins", async () => {
    const withCors = await startEngine({ env: { UTD_CORS_ORIGINS: "https://shop.example.com" } });
    try {
      const preflight = (origin: string, base: string) =>
        fetch(`${base}/api/v1/auth/session`, {
          method: "OPTIONS",
          headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
        });
      const ok = await preflight("https://shop.example.com", withCors.url);
      expect(ok.headers.get("access-control-allow-origin")).toBe("https://shop.example.com");
      const other = await preflight("https://evil.example.com", withCors.url);
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
      // The default engine allows no cross-origin callers at all.
      const none = await preflight("https://shop.example.com", engine.url);
      expect(none.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await withCors.stop();
    }
  });
});
