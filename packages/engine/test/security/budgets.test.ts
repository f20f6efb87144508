import { CHAT_LIMITS, CLOSE_CODES, PRESENCE_MAX_IDENTITIES, PRESENCE_MAX_WATCHED } from "@utd-stream/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { backends, describeBackends, type FreshStore, freshStore } from "../../../../test/helpers/backends.js";
import type { TestApp } from "../../../../test/helpers/engine.js";
import { type InProcessEngine, startInProcess } from "../../../../test/helpers/inproc.js";
import { WsClient } from "../ws-helpers.js";

/**
 * Abuse budgets (issue 11): for every budget, one abuser is stopped with `rate_limited` (and a
 * `Retry-After`) or `limit_exceeded`, and a well-behaved user of the same app is not hurt. Per-app
 * budgets are shown to be out of one user's reach (the per-user budget stops them first) and to leave
 * other apps alone. The clock is a ManualClock, so buckets refill only when a test moves time.
 */

/** Small budgets so each is reached in a few requests. */
const ENV: Record<string, string> = {
  UTD_RATE_SESSION_IDENTITY: "3/1",
  UTD_RATE_SESSION_APP: "8/1",
  UTD_RATE_SESSION_FAILURES_ADDRESS: "4/0.5",
  UTD_RATE_REQUESTS_USER: "6/2",
  UTD_RATE_REQUESTS_APP: "15/5",
  UTD_TRUSTED_PROXIES: "127.0.0.1",
};

type Err = { error: { code: string; limit?: string; retry_after_s?: number } };
type Reply = { status: number; body: Err; headers: Record<string, unknown> };

/** The refusal a budget must give: the code, and Retry-After for rate limits. */
function expectRefused(r: Reply, code: "rate_limited" | "limit_exceeded", limit?: string): void {
  expect([r.status, r.body.error?.code]).toEqual([code === "rate_limited" ? 429 : 403, code]);
  if (code === "rate_limited") expect(Number(r.headers["retry-after"])).toBeGreaterThan(0);
  if (limit) expect(r.body.error.limit).toBe(limit);
}

describeBackends(await backends("store"), "abuse budgets", (store) => {
  let e: InProcessEngine;
  let db: FreshStore | undefined;
  let seq = 0;
  beforeAll(async () => {
    db = await freshStore(store, "abuse budgets on PostgreSQL");
    e = await startInProcess({ env: { ...ENV, ...(db?.env ?? {}) } });
  });
  afterAll(async () => {
    await e?.close();
    await db?.drop();
  });

  /** A fresh app (every test starts with full app budgets) and a way to mint from an address. */
  async function fresh(plan = "pro"): Promise<{ app: TestApp; mint(identity: string, from?: string, extra?: object): Promise<Reply> }> {
    const app = await e.createApp({ name: `budget-${++seq}`, plan });
    const mint = (identity: string, from = "198.51.100.10", extra: object = {}) =>
      e.request<Err>("POST", "/api/v1/auth/session", {
        body: { app_id: app.app_id, app_key: app.app_key, identity, ...extra },
        headers: { "x-forwarded-for": from },
      }) as Promise<Reply>;
    return { app, mint };
  }
  /** Moves the clock far enough that every bucket is full again. */
  const refill = () => e.clock.advance(60_000);

  it("sessions per identity: the abuser's identity is stopped; another identity of the app is not", async () => {
    refill();
    const { mint } = await fresh();
    for (let i = 0; i < 3; i++) expect((await mint("abuser")).status).toBe(200);
    // Hammering on: refused every time, and none of it spends the app's budget (8).
    for (let i = 0; i < 10; i++) expectRefused(await mint("abuser"), "rate_limited");
    expect((await mint("nice")).status).toBe(200);
  });

  it("sessions per app: past it the app is refused, other apps are not; one identity never reaches it", async () => {
    refill();
    const { mint } = await fresh();
    // One identity is stopped by its own budget (3) long before the app's (8).
    for (let i = 0; i < 6; i++) await mint("solo");
    expect((await mint("nice-1")).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await mint(`many-${i}`)).status).toBe(200);
    expectRefused(await mint("many-x"), "rate_limited");
    const other = await fresh();
    expect((await other.mint("nice")).status).toBe(200);
  });

  it("failed sessions per address: the failing address is stopped; the victim it names and other addresses are not", async () => {
    refill();
    const { app, mint } = await fresh();
    for (let i = 0; i < 4; i++) expect((await mint("victim", "203.0.113.50", { app_key: "pk_wrong" })).status).toBe(401);
    expectRefused(await mint("victim", "203.0.113.50", { app_key: "pk_wrong" }), "rate_limited");
    expect((await mint("victim", "198.51.100.11")).status).toBe(200);
    expect(app.app_id).toBeTruthy();
  });

  it("requests per user over REST: the abuser gets 429 + Retry-After; another user of the app goes on", async () => {
    refill();
    const { app } = await fresh();
    const abuser = (await e.session(app, "abuser")).user_token;
    const nice = (await e.session(app, "nice")).user_token;
    for (let i = 0; i < 6; i++) expect((await e.request("GET", "/api/v1/calls", { token: abuser })).status).toBe(200);
    // Refused requests do not spend the app's budget (15): the rest of the app is unaffected.
    for (let i = 0; i < 20; i++) expectRefused((await e.request<Err>("GET", "/api/v1/calls", { token: abuser })) as Reply, "rate_limited");
    expect((await e.request("GET", "/api/v1/calls", { token: nice })).status).toBe(200);
  });

  it("requests per app over REST: out of one user's reach; past it the app waits, other apps do not", async () => {
    refill();
    const { app } = await fresh();
    const users = await Promise.all(["a", "b", "c"].map(async (i) => (await e.session(app, i)).user_token));
    let refused: Reply | undefined;
    for (let i = 0; i < 18 && !refused; i++) {
      const r = (await e.request<Err>("GET", "/api/v1/calls", { token: users[i % 3] })) as Reply;
      if (r.status !== 200) refused = r;
    }
    expect(refused).toBeDefined();
    expectRefused(refused as Reply, "rate_limited");
    const other = await fresh();
    const outsider = (await e.session(other.app, "x")).user_token;
    expect((await e.request("GET", "/api/v1/calls", { token: outsider })).status).toBe(200);
  });

  it("requests per user over WebSocket: frames spend the REST budget, across all of the user's sockets", async () => {
    refill();
    const { app } = await fresh();
    const { wsUrl } = await e.listen();
    const abuserToken = (await e.session(app, "ws-abuser")).user_token;
    const sockets = await Promise.all([1, 2, 3].map(() => WsClient.connect(wsUrl, abuserToken)));
    const nice = await WsClient.connect(wsUrl, (await e.session(app, "ws-nice")).user_token);
    const replies = [];
    for (let i = 0; i < 12; i++) replies.push(await (sockets[i % 3] as WsClient).request("presence.watch", { identities: ["x"] }));
    expect(replies.filter((r) => r.ok === true)).toHaveLength(6);
    const refused = replies.filter((r) => r.ok === false);
    expect(refused).toHaveLength(6);
    for (const r of refused) {
      expect(r.error).toMatchObject({ code: "rate_limited" });
      expect((r.error as { retry_after_s?: number }).retry_after_s).toBeGreaterThan(0);
    }
    // The same budget as REST: spent over the socket, REST refuses too.
    expectRefused((await e.request<Err>("GET", "/api/v1/calls", { token: abuserToken })) as Reply, "rate_limited");
    // Another user of the app is not hurt.
    expect(await nice.request("presence.watch", { identities: ["x"] })).toMatchObject({ ok: true });
    for (const c of [...sockets, nice]) c.close();
  });

  it("requests per app over WebSocket: past it the app's frames are refused; another app's are not", async () => {
    refill();
    const { app } = await fresh();
    const { wsUrl } = await e.listen();
    const users = await Promise.all(
      ["w1", "w2", "w3", "w4"].map(async (i) => WsClient.connect(wsUrl, (await e.session(app, i)).user_token)),
    );
    let refused: Record<string, unknown> | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const r = await (users[i % 4] as WsClient).request("presence.watch", { identities: ["x"] });
      if (r.ok === false) refused = r;
    }
    expect(refused?.error).toMatchObject({ code: "rate_limited" });
    const other = await fresh();
    const outsider = await WsClient.connect(wsUrl, (await e.session(other.app, "x")).user_token);
    expect(await outsider.request("presence.watch", { identities: ["y"] })).toMatchObject({ ok: true });
    for (const c of [...users, outsider]) c.close();
  });

  it("sockets per identity: the 21st socket closes the oldest with 4409; another identity keeps its sockets", async () => {
    refill();
    const { app } = await fresh();
    const { wsUrl } = await e.listen();
    const token = (await e.session(app, "many-tabs")).user_token;
    const nice = await WsClient.connect(wsUrl, (await e.session(app, "one-tab")).user_token);
    const tabs: WsClient[] = [];
    for (let i = 0; i < 20; i++) tabs.push(await WsClient.connect(wsUrl, token));
    const newest = await WsClient.connect(wsUrl, token);
    expect((await (tabs[0] as WsClient).closed).code).toBe(CLOSE_CODES.tooManySockets);
    // The rest, the newest and the other identity's socket stay up.
    for (const c of [tabs[1], tabs[19], newest, nice] as WsClient[]) expect(await c.request("ping")).toMatchObject({ type: "pong" });
    const more = await WsClient.connect(wsUrl, token);
    expect((await (tabs[1] as WsClient).closed).code).toBe(CLOSE_CODES.tooManySockets);
    for (const c of [...tabs.slice(2), newest, more, nice]) c.close();
  });

  it("bytes stored per user and per app: limit_exceeded, and the rest of the app keeps uploading", async () => {
    refill();
    const { app } = await fresh();
    await e.admin("PATCH", `/admin/v1/apps/${app.app_id}`, {
      limit_overrides: { max_storage_bytes_per_user: 100, max_storage_bytes_per_app: 250 },
    });
    const reserve = async (identity: string, size: number) =>
      (await e.request<Err>("POST", "/api/v1/uploads", {
        token: (await e.session(app, identity)).user_token,
        body: { kind: "file", filename: "x.bin", content_type: "application/octet-stream", size },
      })) as Reply;
    refill();
    expect((await reserve("hog", 100)).status).toBe(201);
    expectRefused(await reserve("hog", 1), "limit_exceeded", "max_storage_bytes_per_user");
    expect((await reserve("nice", 100)).status).toBe(201);
    refill();
    expect((await reserve("third", 50)).status).toBe(201);
    expectRefused(await reserve("fourth", 1), "limit_exceeded", "max_storage_bytes_per_app");
  });

  it("watch-list size: limit_exceeded past PRESENCE_MAX_WATCHED; the socket and other users go on", async () => {
    refill();
    const { app } = await fresh();
    const { wsUrl } = await e.listen();
    const abuser = await WsClient.connect(wsUrl, (await e.session(app, "watcher")).user_token);
    const ids = Array.from({ length: PRESENCE_MAX_WATCHED }, (_, i) => `w${i}`);
    for (let i = 0; i < ids.length; i += PRESENCE_MAX_IDENTITIES) {
      const r = await abuser.request("presence.watch", { identities: ids.slice(i, i + PRESENCE_MAX_IDENTITIES) });
      expect(r).toMatchObject({ ok: true });
    }
    expect(await abuser.request("presence.watch", { identities: ["one-more"] })).toMatchObject({
      ok: false,
      error: { code: "limit_exceeded", limit: "max_watched_identities" },
    });
    expect(await abuser.request("ping")).toMatchObject({ type: "pong" });
    const nice = await WsClient.connect(wsUrl, (await e.session(app, "nice-watcher")).user_token);
    expect(await nice.request("presence.watch", { identities: ["w1"] })).toMatchObject({ ok: true });
    abuser.close();
    nice.close();
  });

  it("message, metadata and frame sizes: refused with a typed error, nothing stored; normal sizes pass", async () => {
    refill();
    const { app } = await fresh();
    const a = (await e.session(app, "a")).user_token;
    await e.session(app, "b");
    refill();
    const conv = (await e.request<{ id: string }>("POST", "/api/v1/conversations", { token: a, body: { kind: "group", members: ["b"] } }))
      .body.id;
    const send = (body: object) => e.request<Err>("POST", `/api/v1/conversations/${conv}/messages`, { token: a, body });
    expect((await send({ client_msg_id: "big", text: "x".repeat(CHAT_LIMITS.maxTextLength + 1) })).body.error.code).toBe(
      "invalid_argument",
    );
    expect((await send({ client_msg_id: "meta", custom: { blob: "x".repeat(CHAT_LIMITS.maxCustomBytes) } })).body.error.code).toBe(
      "invalid_argument",
    );
    const call = await e.request<Err>("POST", "/api/v1/calls", {
      token: a,
      body: { callee_identity: "b", type: "audio_call", metadata: { blob: "x".repeat(5000) } },
    });
    expect([call.status, call.body.error.code]).toEqual([400, "invalid_argument"]);
    const body = await e.request<Err>("POST", `/api/v1/conversations/${conv}/messages`, {
      token: a,
      raw: JSON.stringify({ client_msg_id: "huge", text: "y".repeat(200_000) }),
    });
    expect([body.status, body.body.error.code]).toEqual([413, "payload_too_large"]);
    expect(
      (await e.request<{ messages: unknown[] }>("GET", `/api/v1/conversations/${conv}/messages?after=0`, { token: a })).body.messages,
    ).toEqual([]);
    expect((await send({ client_msg_id: "ok", text: "x".repeat(CHAT_LIMITS.maxTextLength) })).status).toBe(201);
    // Many bad values in one frame get a bounded answer (no amplification): the first issues only.
    const { wsUrl: url } = await e.listen();
    const many = await WsClient.connect(url, (await e.session(app, "many")).user_token);
    const bad = await many.request("presence.watch", { identities: Array.from({ length: PRESENCE_MAX_IDENTITIES }, () => "a b") });
    expect(bad).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    expect((bad.error as { issues: unknown[] }).issues.length).toBeLessThanOrEqual(10);
    expect(JSON.stringify(bad).length).toBeLessThan(4096);
    many.close();
    // A frame over the size limit closes only that socket (4413).
    const { wsUrl } = await e.listen();
    const big = await WsClient.connect(wsUrl, (await e.session(app, "framer")).user_token);
    const nice = await WsClient.connect(wsUrl, (await e.session(app, "nice-framer")).user_token);
    big.send({ type: "ping", pad: "z".repeat(70_000) });
    expect((await big.closed).code).toBe(CLOSE_CODES.frameTooLarge);
    expect(await nice.request("ping")).toMatchObject({ type: "pong" });
    nice.close();
  });

  it("frames per socket: a flooding socket gets rate_limited then 4429; another socket of the app is not hurt", async () => {
    refill();
    const { app } = await fresh();
    const { wsUrl } = await e.listen();
    const flood = await WsClient.connect(wsUrl, (await e.session(app, "flooder")).user_token);
    const nice = await WsClient.connect(wsUrl, (await e.session(app, "calm")).user_token);
    for (let i = 0; i < 3000; i++) flood.send({ type: "ping", id: `p${i}` });
    const closed = await flood.closed;
    expect(closed.code).toBe(CLOSE_CODES.rateLimited);
    // Each refused request is answered as its own reply, so a client's pending request settles at once.
    const refused = flood.frames.filter((f) => f.type === "reply" && (f.error as { code?: string })?.code === "rate_limited");
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((f) => typeof f.id === "string" && /^p\d+$/.test(f.id as string))).toBe(true);
    expect(flood.frames.some((f) => f.type === "error")).toBe(false);
    expect(await nice.request("ping")).toMatchObject({ type: "pong" });
    nice.close();
  });
});
