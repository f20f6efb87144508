import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApp as App } from "../../../../test/helpers/engine.js";
import { type InProcessEngine as InProcEngine, startInProcess } from "../../../../test/helpers/inproc.js";
import { WsClient } from "../ws-helpers.js";

/**
 * The attacks of issue 11, run as written against an engine: each must be refused. Every test here
 * failed on the engine before the fix (holes 1, 3, 6, 7 and the "also" list: file modes, /metrics, seats).
 */

type Err = { error: { code: string; message: string; capability?: string } };

function identityToken(secret: string, sub: string, now = Date.now()): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setExpirationTime(Math.floor(now / 1000) + 300)
    .sign(new TextEncoder().encode(secret));
}

describe("hole 1: sessions die with the credentials and mode they were minted under", () => {
  let e: InProcEngine;
  beforeAll(async () => {
    e = await startInProcess({ env: { UTD_USER_TOKEN_TTL_S: "60", UTD_SESSION_MAX_AGE_S: "120" } });
    await e.listen();
  });
  afterAll(() => e?.close());

  it("an open-mode token stops working after the switch to signed mode and a key rotation; its socket closes 4401", async () => {
    const app = await e.createApp({ plan: "pro" });
    const { user_token } = await e.session(app, "mallory");
    const ws = await WsClient.connect((await e.listen()).wsUrl, user_token);
    expect((await e.request("GET", "/api/v1/calls", { token: user_token })).status).toBe(200);
    expect((await e.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { auth_mode: "signed" })).status).toBe(200);
    expect((await ws.closed).code).toBe(4401);
    expect((await e.admin("POST", `/admin/v1/apps/${app.app_id}/rotate-key`, {})).status).toBe(200);
    const after = await e.request<Err>("GET", "/api/v1/calls", { token: user_token });
    expect([after.status, after.body.error.code]).toEqual([401, "unauthorized"]);
    const refreshed = await e.request<Err>("POST", "/api/v1/auth/refresh", { token: user_token });
    expect([refreshed.status, refreshed.body.error.code]).toEqual([401, "unauthorized"]);
    const late = await WsClient.open((await e.listen()).wsUrl);
    late.send({ type: "hello", token: user_token });
    expect((await late.closed).code).toBe(4401);
  });

  it("a key or secret rotation alone voids earlier tokens and closes their sockets with 4401", async () => {
    for (const which of ["key", "secret"] as const) {
      const app = await e.createApp({ plan: "pro" });
      const { user_token } = await e.session(app, "alice");
      const ws = await WsClient.connect((await e.listen()).wsUrl, user_token);
      const rotated = await e.admin<App>("POST", `/admin/v1/apps/${app.app_id}/rotate-key`, { which });
      expect(rotated.status).toBe(200);
      expect((await ws.closed).code).toBe(4401);
      expect((await e.request("GET", "/api/v1/calls", { token: user_token })).status).toBe(401);
      // A session minted afterwards (with the current key) works.
      const fresh = await e.session({ ...app, app_key: rotated.body.app_key }, "alice");
      expect((await e.request("GET", "/api/v1/calls", { token: fresh.user_token })).status).toBe(200);
    }
  });

  it("records the auth mode and the session start in the token", async () => {
    const open = await e.createApp();
    const signed = await e.createApp({ auth_mode: "signed" });
    const a = decodeJwt((await e.session(open, "x")).user_token);
    const b = decodeJwt(
      (await e.session(signed, "x", { identity_token: await identityToken(signed.app_secret, "x", e.clock.now()) })).user_token,
    );
    expect(a.am).toBe("open");
    expect(b.am).toBe("signed");
    expect(typeof a.sst).toBe("number");
  });

  it("refresh cannot carry a session past its absolute lifetime (injected clock)", async () => {
    const app = await e.createApp();
    let token = (await e.session(app, "forever")).user_token;
    const started = e.clock.now();
    // Refresh every 50 s: the token lifetime is 60 s, the session's 120 s.
    for (let i = 0; i < 2; i++) {
      e.clock.advance(50_000);
      const r = await e.request<{ user_token: string; expires_at: string }>("POST", "/api/v1/auth/refresh", { token });
      expect(r.status).toBe(200);
      expect(Date.parse(r.body.expires_at)).toBeLessThanOrEqual(started + 120_000);
      token = r.body.user_token;
    }
    e.clock.advance(19_500);
    const refused = await e.request<Err>("POST", "/api/v1/auth/refresh", { token });
    expect([refused.status, refused.body.error.code]).toEqual([401, "unauthorized"]);
    e.clock.advance(1_000);
    expect((await e.request("GET", "/api/v1/calls", { token })).status).toBe(401);
  });
});

describe("hole 3: garbage identity tokens cannot block logins", () => {
  let e: InProcEngine;
  let app: App;
  beforeAll(async () => {
    // A trusted proxy on loopback lets the test speak for several client addresses.
    e = await startInProcess({
      env: {
        UTD_RATE_SESSION_IDENTITY: "10/1",
        UTD_RATE_SESSION_APP: "30/1",
        UTD_RATE_SESSION_FAILURES_ADDRESS: "20/0.2",
        UTD_TRUSTED_PROXIES: "127.0.0.1",
      },
    });
    app = await e.createApp({ auth_mode: "signed", plan: "pro" });
  });
  afterAll(() => e?.close());

  const mint = (identity: string, token: string, from: string) =>
    e.request<Err & { user_token?: string }>("POST", "/api/v1/auth/session", {
      body: { app_id: app.app_id, app_key: app.app_key, identity, identity_token: token },
      headers: { "x-forwarded-for": from },
    });

  it("fifteen garbage mints naming the victim leave the victim's own mint working", async () => {
    for (let i = 0; i < 15; i++) expect((await mint("victim", "garbage", "203.0.113.7")).status).toBe(401);
    const ok = await mint("victim", await identityToken(app.app_secret, "victim", e.clock.now()), "198.51.100.1");
    expect(ok.status).toBe(200);
  });

  it("garbage for rotating identities spends the attacker's address budget, not the app's", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 40; i++) codes.push((await mint(`id${i}`, "garbage", "203.0.113.8")).status);
    expect(codes.slice(0, 20).every((c) => c === 401)).toBe(true);
    const refused = await mint("id-late", "garbage", "203.0.113.8");
    expect([refused.status, refused.body.error.code]).toEqual([429, "rate_limited"]);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    // Everyone else still signs in.
    for (const who of ["bob", "carol"]) {
      const ok = await mint(who, await identityToken(app.app_secret, who, e.clock.now()), "198.51.100.2");
      expect(ok.status).toBe(200);
    }
  });

  it("a wrong app key is a failure of the caller's address as well", async () => {
    const bad = await e.request<Err>("POST", "/api/v1/auth/session", {
      body: { app_id: app.app_id, app_key: "pk_wrong", identity: "victim2" },
      headers: { "x-forwarded-for": "203.0.113.8" },
    });
    expect([bad.status, bad.body.error.code]).toEqual([429, "rate_limited"]);
  });
});

describe("hole 6: forwarded headers do not choose the URLs the engine hands out", () => {
  let plain: InProcEngine;
  let proxied: InProcEngine;
  let pinned: InProcEngine;
  beforeAll(async () => {
    plain = await startInProcess();
    proxied = await startInProcess({ env: { UTD_TRUSTED_PROXIES: "127.0.0.1" } });
    pinned = await startInProcess({ env: { UTD_TRUSTED_PROXIES: "127.0.0.1", UTD_PUBLIC_URL: "https://chat.example.com" } });
  });
  afterAll(async () => {
    await plain?.close();
    await proxied?.close();
    await pinned?.close();
  });

  const evil = { host: "engine.test:7800", "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" };
  async function urls(e: InProcEngine): Promise<{ ws: string; upload: string }> {
    const app = await e.createApp({ plan: "pro" });
    const s = await e.request<{ ws_url: string; user_token: string }>("POST", "/api/v1/auth/session", {
      body: { app_id: app.app_id, app_key: app.app_key, identity: "u" },
      headers: evil,
    });
    const up = await e.request<{ upload_url: string }>("POST", "/api/v1/uploads", {
      token: s.body.user_token,
      body: { kind: "file", filename: "a.txt", content_type: "text/plain", size: 3 },
      headers: evil,
    });
    return { ws: s.body.ws_url, upload: up.body.upload_url };
  }

  it("ignores X-Forwarded-Host by default", async () => {
    const u = await urls(plain);
    expect(u.ws).toBe("ws://engine.test:7800/api/v1/ws");
    expect(new URL(u.upload).host).toBe("engine.test:7800");
  });

  it("believes it from a configured proxy, and a configured public URL always wins", async () => {
    expect((await urls(proxied)).ws).toBe("wss://evil.example/api/v1/ws");
    const u = await urls(pinned);
    expect(u.ws).toBe("wss://chat.example.com/api/v1/ws");
    expect(u.upload.startsWith("https://chat.example.com/")).toBe(true);
  });
});

describe("hole 7: stage, seat and room routes answer feature_disabled when signalling is off", () => {
  let e: InProcEngine;
  beforeAll(async () => {
    e = await startInProcess();
  });
  afterAll(() => e?.close());

  it("every user-facing room path refuses with 403 feature_disabled (capability signaling)", async () => {
    const app = await e.createApp({ plan: "pro" });
    const { user_token } = await e.session(app, "host");
    expect((await e.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { signaling_enabled: false })).status).toBe(200);
    const paths: [string, string, unknown?][] = [
      ["GET", "/api/v1/rooms/show/stage"],
      ["POST", "/api/v1/rooms/show/stage/invite", { identity: "x" }],
      ["POST", "/api/v1/rooms/show/stage/remove", { identity: "x" }],
      ["POST", "/api/v1/rooms/show/stage/request"],
      ["POST", "/api/v1/rooms/show/stage/leave"],
      ["GET", "/api/v1/rooms/lobby/seats"],
      ["POST", "/api/v1/rooms/lobby/seats", { seat_count: 4 }],
      ["POST", "/api/v1/rooms/lobby/seats/0/take"],
      ["POST", "/api/v1/rooms/lobby/seats/leave"],
      ["POST", "/api/v1/rooms/lobby/seats/requests"],
      ["POST", "/api/v1/rooms/lobby/seats/requests/1/approve"],
      ["POST", "/api/v1/rooms/lobby/seats/invite", { identity: "x" }],
      ["GET", "/api/v1/rooms/lobby"],
      ["POST", "/api/v1/rooms/lobby/hosts", { identity: "x" }],
      ["POST", "/api/v1/token", { room_name: "lobby", type: "audio_room" }],
    ];
    for (const [method, path, body] of paths) {
      const r = await e.request<Err>(method, path, { token: user_token, ...(body !== undefined ? { body } : {}) });
      expect([method, path, r.status, r.body.error.code, r.body.error.capability]).toEqual([
        method,
        path,
        403,
        "feature_disabled",
        "signaling",
      ]);
    }
  });
});

describe("data directory modes", () => {
  it("creates the data dir 0700 and the SQLite files, keys and uploads 0600", async () => {
    const parent = mkdtempSync(join(tmpdir(), "utd-modes-"));
    const dir = join(parent, "data");
    const e = await startInProcess({ dataDir: dir });
    try {
      const app = await e.createApp({ plan: "pro" });
      const { user_token } = await e.session(app, "u");
      const up = await e.request<{ upload_url: string }>("POST", "/api/v1/uploads", {
        token: user_token,
        body: { kind: "file", filename: "a.txt", content_type: "text/plain", size: 3 },
      });
      const put = new URL(up.body.upload_url);
      const stored = await e.request("PUT", `${put.pathname}${put.search}`, { raw: "abc", headers: { "content-type": "text/plain" } });
      expect(stored.status).toBe(200);
      const mode = (p: string) => statSync(p).mode & 0o777;
      expect(mode(dir)).toBe(0o700);
      for (const f of ["utd.sqlite", "utd.sqlite-wal", "utd.sqlite-shm", "keys.json"]) {
        if (existsSync(join(dir, f))) expect([f, mode(join(dir, f))]).toEqual([f, 0o600]);
      }
      expect(mode(join(dir, "files"))).toBe(0o700);
      expect(mode(join(dir, "files", app.app_id))).toBe(0o700);
      const [file] = readdirSync(join(dir, "files", app.app_id));
      expect(mode(join(dir, "files", app.app_id, file as string))).toBe(0o600);
    } finally {
      await e.close();
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it("tightens a database file an older engine left world-readable", async () => {
    const dir = mkdtempSync(join(tmpdir(), "utd-old-"));
    writeFileSync(join(dir, "utd.sqlite"), "");
    chmodSync(join(dir, "utd.sqlite"), 0o644);
    const e = await startInProcess({ dataDir: dir });
    try {
      expect(statSync(join(dir, "utd.sqlite")).mode & 0o777).toBe(0o600);
    } finally {
      await e.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("/metrics access", () => {
  it("needs a bearer: the admin token by default, UTD_METRICS_TOKEN when set", async () => {
    const def = await startInProcess();
    const tok = await startInProcess({ env: { UTD_METRICS_TOKEN: "m3trics" } });
    try {
      expect((await def.request("GET", "/metrics")).status).toBe(401);
      expect((await def.request("GET", "/metrics", { token: "nope" })).status).toBe(401);
      const ok = await def.request<string>("GET", "/metrics", { token: def.adminToken });
      expect(ok.status).toBe(200);
      expect(ok.body).toContain("utd_http_requests_total");
      expect((await tok.request("GET", "/metrics", { token: tok.adminToken })).status).toBe(401);
      expect((await tok.request("GET", "/metrics", { token: "m3trics" })).status).toBe(200);
    } finally {
      await def.close();
      await tok.close();
    }
  });

  it("moves to its own listener with UTD_METRICS_PORT (gone from the API port)", async () => {
    const e = await startInProcess({ env: { UTD_METRICS_PORT: "0" } });
    try {
      await e.listen();
      expect((await e.request("GET", "/metrics", { token: e.adminToken })).status).toBe(404);
      const url = e.engine.metricsUrl;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const r = await fetch(url as string);
      expect(r.status).toBe(200);
      expect(await r.text()).toContain("utd_http_requests_total");
      expect((await fetch((url as string).replace("/metrics", "/api/v1/calls"))).status).toBe(404);
    } finally {
      await e.close();
    }
  });
});

describe("holes 2 and 5: file tokens and storage", () => {
  let e: InProcEngine;
  beforeAll(async () => {
    e = await startInProcess({ env: { UTD_UPLOAD_UNATTACHED_GRACE_S: "3600" } });
  });
  afterAll(() => e?.close());

  type Presign = { file_token: string; upload_url: string };
  /** Reserves and stores `size` bytes as `token`'s user. */
  async function upload(token: string, size = 3): Promise<string> {
    const p = await e.request<Presign>("POST", "/api/v1/uploads", {
      token,
      body: { kind: "file", filename: "f.bin", content_type: "application/octet-stream", size },
    });
    expect(p.status).toBe(201);
    const u = new URL(p.body.upload_url);
    const put = await e.request("PUT", `${u.pathname}${u.search}`, {
      raw: "x".repeat(size),
      headers: { "content-type": "application/octet-stream" },
    });
    expect(put.status).toBe(200);
    return p.body.file_token;
  }
  const group = async (token: string, members: string[]) =>
    (await e.request<{ id: string }>("POST", "/api/v1/conversations", { token, body: { kind: "group", members } })).body.id;
  const send = (token: string, conv: string, file: string, id: string) =>
    e.request<Err>("POST", `/api/v1/conversations/${conv}/messages`, {
      token,
      body: { client_msg_id: id, attachments: [{ file_token: file }] },
    });
  const messages = async (token: string, conv: string) =>
    (await e.request<{ messages: unknown[] }>("GET", `/api/v1/conversations/${conv}/messages?after=0`, { token })).body.messages;

  it("hole 2: a removed member cannot give themselves a file again through a group of their own", async () => {
    const app = await e.createApp({ plan: "pro" });
    const [owner, ex, friend] = (await Promise.all(["owner", "ex", "friend"].map(async (i) => (await e.session(app, i)).user_token))) as [
      string,
      string,
      string,
    ];
    const g = await group(owner, ["ex"]);
    const file = await upload(owner);
    expect((await send(owner, g, file, "m1")).status).toBe(201);
    expect((await e.request("GET", `/api/v1/uploads/${file}`, { token: ex })).status).toBe(200);
    expect((await e.request("DELETE", `/api/v1/conversations/${g}/members/ex`, { token: owner })).status).toBe(204);
    const own = await group(ex, ["friend"]);
    const attach = await send(ex, own, file, "steal");
    expect([attach.status, attach.body.error.code]).toEqual([403, "forbidden"]);
    expect(await messages(ex, own)).toEqual([]);
    expect((await e.request("GET", `/api/v1/uploads/${file}`, { token: ex })).status).toBe(403);
    expect((await e.request("GET", `/api/v1/uploads/${file}`, { token: friend })).status).toBe(403);

    // A file its uploader never sent: nobody else may send it either.
    const unsent = await upload(owner);
    expect((await send(ex, own, unsent, "steal2")).status).toBe(403);
    // Whoever may download a file now may forward it.
    const member = (await e.session(app, "member")).user_token;
    const g2 = await group(owner, ["member"]);
    const shared = await upload(owner);
    expect((await send(owner, g2, shared, "m2")).status).toBe(201);
    const fwd = await group(member, ["friend"]);
    expect((await send(member, fwd, shared, "fwd")).status).toBe(201);
    expect((await e.request("GET", `/api/v1/uploads/${shared}`, { token: friend })).status).toBe(200);
  });

  it("hole 5: per-user and per-app storage quotas answer limit_exceeded; others of the app are not hurt", async () => {
    const app = await e.createApp({ plan: "pro" });
    const patch = await e.admin("PATCH", `/admin/v1/apps/${app.app_id}`, {
      limit_overrides: { max_storage_bytes_per_user: 1000, max_storage_bytes_per_app: 2000 },
    });
    expect(patch.status).toBe(200);
    const hog = (await e.session(app, "hog")).user_token;
    const nice = (await e.session(app, "nice")).user_token;
    await upload(hog, 600);
    // An open reservation counts as well as stored bytes.
    const reserve = (token: string, size: number) =>
      e.request<Err>("POST", "/api/v1/uploads", {
        token,
        body: { kind: "file", filename: "r.bin", content_type: "application/octet-stream", size },
      });
    expect((await reserve(hog, 300)).status).toBe(201);
    const over = await reserve(hog, 200);
    expect([over.status, over.body.error.code, (over.body.error as { limit?: string }).limit]).toEqual([
      403,
      "limit_exceeded",
      "max_storage_bytes_per_user",
    ]);
    await upload(nice, 900);
    const third = (await e.session(app, "third")).user_token;
    expect((await reserve(third, 150)).status).toBe(201);
    const appOver = await reserve(third, 100);
    expect([appOver.status, (appOver.body.error as { limit?: string }).limit]).toEqual([403, "max_storage_bytes_per_app"]);
    // Another app is not affected.
    const other = await e.createApp({ plan: "pro" });
    expect((await reserve((await e.session(other, "x")).user_token, 5000)).status).toBe(201);
  });

  it("hole 5: files never attached are purged after the grace period; attached ones stay", async () => {
    const app = await e.createApp({ plan: "pro" });
    const a = (await e.session(app, "a")).user_token;
    await e.session(app, "b");
    const loose = await upload(a, 10);
    const kept = await upload(a, 10);
    const g = await group(a, ["b"]);
    expect((await send(a, g, kept, "k")).status).toBe(201);
    const onDisk = (f: string) => existsSync(join(e.dataDir, "files", app.app_id, f));
    e.clock.advance(30 * 60_000);
    await e.engine.services.uploads.purge(await e.engine.services.apps.list());
    expect(onDisk(loose)).toBe(true);
    e.clock.advance(31 * 60_000);
    await e.engine.services.uploads.purge(await e.engine.services.apps.list());
    expect(onDisk(loose)).toBe(false);
    const again = (await e.session(app, "a")).user_token;
    expect((await e.request("GET", `/api/v1/uploads/${loose}`, { token: again })).status).toBe(404);
    expect(onDisk(kept)).toBe(true);
    expect((await e.request<{ uploaded: boolean }>("GET", `/api/v1/uploads/${kept}`, { token: again })).body.uploaded).toBe(true);
  });
});

describe("found by the WebSocket fuzz: deep JSON and ill-formed Unicode", () => {
  let e: InProcEngine;
  beforeAll(async () => {
    e = await startInProcess();
  });
  afterAll(() => e?.close());

  it("a 5,000-deep custom field is refused with invalid_argument (it answered 500 internal), nothing stored", async () => {
    const app = await e.createApp({ plan: "pro" });
    const t = (await e.session(app, "a")).user_token;
    await e.session(app, "b");
    const conv = (await e.request<{ id: string }>("POST", "/api/v1/conversations", { token: t, body: { kind: "group", members: ["b"] } }))
      .body.id;
    const deep = `${"[".repeat(5000)}1${"]".repeat(5000)}`;
    const r = await e.request<Err>("POST", `/api/v1/conversations/${conv}/messages`, {
      token: t,
      raw: `{"client_msg_id":"d","custom":{"d":${deep}}}`,
    });
    expect([r.status, r.body.error.code]).toEqual([400, "invalid_argument"]);
    expect(
      (await e.request<{ messages: unknown[] }>("GET", `/api/v1/conversations/${conv}/messages?after=0`, { token: t })).body.messages,
    ).toEqual([]);
  });

  it("identities with lone surrogates are refused (PostgreSQL would store x\\uD800 and x\\uDBFF as the same user)", async () => {
    const app = await e.createApp();
    for (const raw of ['"x\\uD800"', '"x\\uDBFF"', '"\\uDC00x"']) {
      const r = await e.request<Err>("POST", "/api/v1/auth/session", {
        raw: `{"app_id":"${app.app_id}","app_key":"${app.app_key}","identity":${raw}}`,
      });
      expect([raw, r.status, r.body.error.code]).toEqual([raw, 400, "invalid_argument"]);
    }
    expect((await e.session(app, "x\u{1F600}")).user_token).toBeTruthy();
  });
});

describe("hole 4: WebSocket requests pay the REST budgets, and sockets per identity are capped", () => {
  let e: InProcEngine;
  beforeAll(async () => {
    // The shipped defaults (the in-process helper raises them for other suites).
    e = await startInProcess({ env: { UTD_RATE_REQUESTS_USER: "120/30", UTD_RATE_REQUESTS_APP: "5000/2000" } });
  });
  afterAll(() => e?.close());

  it("ten sockets of one user sending 900 message.send frames get through only the user's budget (120)", async () => {
    const app = await e.createApp({ plan: "pro" });
    const { wsUrl } = await e.listen();
    const token = (await e.session(app, "spammer")).user_token;
    await e.session(app, "b");
    const conv = (await e.request<{ id: string }>("POST", "/api/v1/conversations", { token, body: { kind: "group", members: ["b"] } })).body
      .id;
    const sockets = await Promise.all(Array.from({ length: 10 }, () => WsClient.connect(wsUrl, token)));
    const replies = await Promise.all(
      Array.from({ length: 900 }, (_, i) =>
        (sockets[i % 10] as WsClient).request("message.send", { conversation_id: conv, client_msg_id: `s${i}`, text: "spam" }),
      ),
    );
    const ok = replies.filter((r) => r.ok === true).length;
    // The clock does not move: exactly the burst (minus the REST call that created the group) goes through.
    expect(ok).toBe(119);
    expect(replies.filter((r) => (r.error as { code?: string } | undefined)?.code === "rate_limited")).toHaveLength(900 - ok);
    for (const s of sockets) s.close();
  }, 60_000);

  it("300 sockets for one identity: only the newest 20 stay open", async () => {
    const app = await e.createApp({ plan: "pro" });
    const { wsUrl } = await e.listen();
    const token = (await e.session(app, "hoarder")).user_token;
    const sockets: WsClient[] = [];
    for (let i = 0; i < 300; i++) sockets.push(await WsClient.connect(wsUrl, token));
    const closed = await Promise.all(sockets.slice(0, 280).map((s) => s.closed));
    expect(new Set(closed.map((c) => c.code))).toEqual(new Set([4409]));
    for (const s of sockets.slice(280)) expect(await s.request("ping")).toMatchObject({ type: "pong" });
    for (const s of sockets.slice(280)) s.close();
  }, 60_000);
});
