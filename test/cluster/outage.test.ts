import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type OwnService, ownPostgres, ownRedis } from "../../bench/cluster/services.js";
import { isBackendUnavailable } from "../../packages/engine/src/core/errors.js";
import { openStore } from "../../packages/engine/src/index.js";
import { has } from "../helpers/backends.js";
import { type RunningEngine, startEngine, type TestApp } from "../helpers/engine.js";

/**
 * A PostgreSQL or Redis outage under an engine node (their own instances, stopped and started here: the
 * shared ones are never touched). A send during the outage fails with the typed, retryable
 * `unavailable` (503 + Retry-After), never `internal`; the node stays up; once the service is back the
 * same send (same client_msg_id, as the SDKs retry) is stored once and reaches the members.
 */
const ready =
  (await has("postgres", "outage tests")) && (await has("redis", "outage tests")) && (await has("redis-cluster", "outage tests"));

describe.skipIf(!ready)("backend outages under an engine node", () => {
  let pg: OwnService;
  let redis: OwnService;
  let engine: RunningEngine;
  let app: TestApp;
  let alice: string;
  let conv: string;

  beforeAll(async () => {
    pg = await ownPostgres();
    redis = await ownRedis("crash");
    engine = await startEngine({ env: { DATABASE_URL: pg.url, REDIS_URL: redis.url } });
    app = await engine.createApp({ plan: "pro" });
    alice = (await engine.session(app, "alice")).user_token;
    await engine.session(app, "bob");
    const r = await engine.request<{ id: string }>("POST", "/api/v1/conversations", {
      token: alice,
      body: { kind: "group", members: ["bob"] },
    });
    expect(r.status).toBe(201);
    conv = r.body.id;
  }, 180_000);
  afterAll(async () => {
    await engine?.stop("SIGKILL");
    await Promise.allSettled([pg?.stop(), redis?.stop()]);
  });

  const send = (id: string) =>
    engine.request<{ id: string; error?: { code: string; retry_after_s?: number } }>("POST", `/api/v1/conversations/${conv}/messages`, {
      token: alice,
      body: { client_msg_id: id, text: id },
    });
  const stored = async (id: string) => {
    const r = await engine.request<{ messages: { client_msg_id: string }[] }>("GET", `/api/v1/conversations/${conv}/messages?limit=100`, {
      token: alice,
    });
    expect(r.status).toBe(200);
    return r.body.messages.filter((m) => m.client_msg_id === id).length;
  };
  /** Retries `send(id)` until it succeeds (the service coming back takes a moment). */
  async function sendUntilStored(id: string): Promise<number> {
    for (let i = 0; i < 300; i++) {
      expect(engine.proc.exitCode, engine.logs.slice(-40).join("\n")).toBeNull();
      const r = await send(id);
      if (r.status === 201 || r.status === 200) return r.status;
      expect(r.body.error?.code).toBe("unavailable");
      await new Promise((res) => setTimeout(res, 200));
    }
    throw new Error(`send ${id} never succeeded`);
  }

  it("PostgreSQL down: a send answers 503 unavailable (retryable), the node stays up, the retry stores it once", async () => {
    await pg.down();
    try {
      const r = await send("pg-1");
      expect(r.status, JSON.stringify(r.body)).toBe(503);
      expect(r.body.error?.code).toBe("unavailable");
      expect(r.headers.get("retry-after")).toBe("1");
      const ready = await engine.request("GET", "/readyz");
      expect(ready.status).toBe(503);
      expect(engine.proc.exitCode, engine.logs.slice(-40).join("\n")).toBeNull();
    } finally {
      await pg.up();
    }
    expect([200, 201]).toContain(await sendUntilStored("pg-1"));
    expect(await sendUntilStored("pg-1")).toBe(200);
    expect(await stored("pg-1")).toBe(1);
  }, 180_000);

  it("Redis down: a send and a hello answer unavailable, the node stays up; after it the retry stores once and bob gets it", async () => {
    const bob = (await engine.session(app, "bob")).user_token;
    await redis.down();
    try {
      const r = await send("redis-1");
      expect(r.status, JSON.stringify(r.body)).toBe(503);
      expect(r.body.error?.code).toBe("unavailable");
      // A socket opened meanwhile is told to come back later, with a typed error.
      const ws = new WebSocket(engine.wsUrl);
      const first = await new Promise<{ type: string; error?: { code: string } }>((resolve, reject) => {
        ws.on("open", () => ws.send(JSON.stringify({ type: "hello", token: bob })));
        ws.on("message", (d) => resolve(JSON.parse(d.toString())));
        ws.on("error", reject);
      });
      ws.terminate();
      expect(first).toMatchObject({ type: "error", error: { code: "unavailable" } });
      expect(engine.proc.exitCode, engine.logs.slice(-40).join("\n")).toBeNull();
    } finally {
      await redis.up();
    }
    // Bob connects once Redis answers again, then the retry announces the stored message to him.
    const frames: { type: string; data?: { client_msg_id?: string } }[] = [];
    let ws: WebSocket | undefined;
    for (let i = 0; i < 60 && !frames.some((f) => f.type === "welcome"); i++) {
      ws?.terminate();
      frames.length = 0;
      const sock = new WebSocket(engine.wsUrl);
      ws = sock;
      sock.on("open", () => sock.send(JSON.stringify({ type: "hello", token: bob })));
      sock.on("message", (d) => frames.push(JSON.parse(d.toString())));
      sock.on("error", () => {});
      await new Promise<void>((res) => {
        const t = setTimeout(res, 3000);
        const done = () => {
          clearTimeout(t);
          res();
        };
        sock.on("message", done);
        sock.on("close", done);
      });
    }
    expect(frames.find((f) => f.type === "welcome")).toBeDefined();
    await sendUntilStored("redis-1");
    const got = () => frames.filter((f) => f.type === "message.new" && f.data?.client_msg_id === "redis-1").length;
    for (let i = 0; i < 300 && got() === 0; i++) await new Promise((res) => setTimeout(res, 100));
    ws?.terminate();
    expect(got()).toBe(1);
    expect(await stored("redis-1")).toBe(1);
  }, 180_000);

  it("PostgreSQL restarted under an open transaction: its next statement fails as unavailable, nothing crashes", async () => {
    // In this process: an unhandled error event on the checked-out connection would fail the test run.
    const store = await openStore({ dataDir: "/nonexistent", databaseUrl: pg.url });
    try {
      let caught: unknown;
      await store.db
        .transaction()
        .execute(async (trx) => {
          await sql`select 1`.execute(trx);
          // The server goes away while the transaction awaits the engine's own code.
          await pg.down();
          await new Promise((r) => setTimeout(r, 300));
          await sql`select 1`.execute(trx);
        })
        .catch((err: unknown) => {
          caught = err;
        });
      expect(caught).toBeDefined();
      expect(isBackendUnavailable(caught), String(caught)).toBe(true);
    } finally {
      await pg.up();
    }
    // The pool dropped the dead connection: the store works again.
    for (let i = 0; ; i++) {
      try {
        await store.ping();
        break;
      } catch (err) {
        if (i > 50) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await store.close();
  }, 180_000);
});

describe("which failures are a backend outage (503 unavailable, retryable)", () => {
  it("connection failures and not-serving-yet replies are; anything else stays internal", () => {
    const yes = [
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
      Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }),
      Object.assign(new Error("the database system is starting up"), { code: "57P03" }),
      new Error("Connection terminated unexpectedly"),
      new Error("Client has encountered a connection error and is not queryable"),
      Object.assign(new Error("Reached the max retries per request limit (which is 2)."), { name: "MaxRetriesPerRequestError" }),
      Object.assign(new Error("LOADING Redis is loading the dataset in memory"), { name: "ReplyError" }),
      Object.assign(new Error("Command aborted due to connection close"), { name: "AbortError" }),
      new AggregateError([
        Object.assign(new Error("a"), { code: "ECONNREFUSED" }),
        Object.assign(new Error("b"), { code: "ECONNREFUSED" }),
      ]),
    ];
    const no = [
      new Error("boom"),
      Object.assign(new Error("duplicate key value violates unique constraint"), { code: "23505" }),
      Object.assign(new Error("ERR Error running script"), { name: "ReplyError" }),
      new AggregateError([Object.assign(new Error("a"), { code: "ECONNREFUSED" }), new Error("b")]),
      undefined,
      "ECONNREFUSED",
    ];
    for (const e of yes) expect(isBackendUnavailable(e), String(e)).toBe(true);
    for (const e of no) expect(isBackendUnavailable(e), String(e)).toBe(false);
  });
});
