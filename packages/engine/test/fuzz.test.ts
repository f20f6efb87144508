import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningEngine, startEngine } from "../../../test/helpers/engine.js";

/**
 * Every route in the OpenAPI document, fed malformed and hostile input (seeded, so a failure replays):
 * the engine must answer with a typed error — never a 5xx, never a non-JSON body — and keep serving.
 */
interface Operation {
  method: string;
  path: string;
  security?: { userToken?: unknown; adminToken?: unknown }[];
  requestBody?: unknown;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIELD_NAMES = [
  "name",
  "identity",
  "text",
  "kind",
  "type",
  "members",
  "room_name",
  "index",
  "client_msg_id",
  "role",
  "seq",
  "token",
  "metadata",
  "custom",
  "plan",
  "count",
  "mode",
];

function hostile(rand: () => number, depth = 0): unknown {
  const pick = Math.floor(rand() * 14);
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return Math.floor(rand() * 2 ** 53) * (rand() < 0.5 ? -1 : 1);
    case 3:
      return [Number.MAX_VALUE, -0, 1e308, 0.1][Math.floor(rand() * 4)];
    case 4:
      return "";
    case 5:
      return "x".repeat(Math.floor(rand() * 5000));
    case 6:
      return ["../../etc/passwd", "'; drop table apps; --", "\u0000\u0001", "%00", "<script>", "🙂".repeat(50), "a b"][
        Math.floor(rand() * 7)
      ];
    case 7:
      return ["app_0000000000", "conv_nope", "1", "-1", "NaN", "Infinity", "__proto__", "constructor"][Math.floor(rand() * 8)];
    case 8:
    case 9:
      if (depth > 3) return {};
      return Object.fromEntries(
        Array.from({ length: 1 + Math.floor(rand() * 5) }, () => [
          FIELD_NAMES[Math.floor(rand() * FIELD_NAMES.length)],
          hostile(rand, depth + 1),
        ]),
      );
    case 10:
      if (depth > 3) return [];
      return Array.from({ length: Math.floor(rand() * 5) }, () => hostile(rand, depth + 1));
    case 11:
      return { __proto__: { admin: true }, constructor: { prototype: { polluted: true } } };
    case 12:
      return JSON.parse(`${'{"a":'.repeat(40)}1${"}".repeat(40)}`);
    default:
      return Math.floor(rand() * 100);
  }
}

const RAW_BODIES = ["{", "[", '{"a":1', "null", '"str"', "1e999999", "\u0000", '{"__proto__":{"x":1}}', "{}".repeat(1000)];

describe("hostile input on every route never breaks the engine", () => {
  let engine: RunningEngine;
  let userToken: string;
  let ops: Operation[];
  let app: Awaited<ReturnType<RunningEngine["createApp"]>>;

  beforeAll(async () => {
    engine = await startEngine({
      env: {
        UTD_RATE_REQUESTS_USER: "1000000/1000000",
        UTD_RATE_REQUESTS_APP: "1000000/1000000",
        UTD_RATE_SESSION_IDENTITY: "1000000/1000000",
        UTD_WS_FRAMES_PER_S: "100000/100000",
      },
    });
    app = await engine.createApp({ plan: "pro" });
    userToken = (await engine.session(app, "fuzzer")).user_token;
    const doc = await engine.request<{ paths: Record<string, Record<string, Omit<Operation, "method" | "path">>> }>("GET", "/openapi.json");
    ops = Object.entries(doc.body.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, ...op })),
    );
  });
  afterAll(() => engine?.stop());

  it("covers the API surface", () => {
    expect(ops.length).toBeGreaterThan(60);
  });

  it("answers every malformed request with a typed 4xx (never 5xx) and stays healthy", async () => {
    const rand = rng(20261123);
    const failures: string[] = [];
    for (const op of ops) {
      for (let round = 0; round < 12; round++) {
        const path = op.path.replace(/\{[^}]+\}|:[a-z_]+/g, () => encodeURIComponent(String(hostile(rand) ?? "x")).slice(0, 300) || "x");
        const headers: Record<string, string> = {};
        const asAdmin = op.security?.some((s) => "adminToken" in s);
        const asUser = op.security?.some((s) => "userToken" in s);
        if (asAdmin) headers.authorization = `Bearer ${engine.adminToken}`;
        else if (asUser || round % 3 === 0) headers.authorization = `Bearer ${userToken}`;
        const withBody = op.method !== "GET" && op.method !== "DELETE";
        const opts: { headers: Record<string, string>; raw?: string; body?: unknown } = { headers };
        if (withBody) {
          if (round % 4 === 3) opts.raw = RAW_BODIES[Math.floor(rand() * RAW_BODIES.length)] as string;
          else opts.body = hostile(rand);
        }
        const query =
          round % 2 === 0 ? `?limit=${encodeURIComponent(String(hostile(rand)))}&before=${encodeURIComponent(String(hostile(rand)))}` : "";
        const r = await engine.request<{ error?: { code?: string; message?: string } }>(op.method, `${path}${query}`, opts);
        const typed = r.status < 400 || (typeof r.body === "object" && r.body !== null && typeof r.body.error?.code === "string");
        // This engine runs without LiveKit on purpose: media routes answer the typed 503 media_unavailable.
        const expected503 = r.status === 503 && r.body.error?.code === "media_unavailable";
        if ((r.status >= 500 && !expected503) || !typed)
          failures.push(`${op.method} ${path}${query} → ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
    expect((await engine.request<{ status: string }>("GET", "/readyz")).body.status).toBe("ready");
  }, 120_000);

  it("answers hostile WebSocket frames with typed errors and keeps the socket up", async () => {
    const rand = rng(42);
    const ws = new WebSocket(engine.wsUrl);
    const frames: { type?: string; ok?: boolean; error?: { code?: string } }[] = [];
    let closed: number | undefined;
    ws.on("message", (data) => frames.push(JSON.parse(String(data))));
    ws.on("close", (code) => {
      closed = code;
    });
    await new Promise((r) => ws.once("open", r));
    // A fresh user: the REST pass above may have revoked the first one's tokens (it fuzzes /auth/revoke too).
    const { user_token } = await engine.session(app, "ws-fuzzer");
    ws.send(JSON.stringify({ type: "hello", token: user_token, device_id: "fuzz" }));
    await expect.poll(() => frames.some((f) => f.type === "welcome")).toBe(true);
    const verbs = [
      "message.send",
      "message.read",
      "presence.watch",
      "presence.unwatch",
      "typing.start",
      "typing.stop",
      "hello",
      "nope",
      "__proto__",
    ];
    for (let i = 0; i < 300; i++) {
      const pick = i % 5;
      if (pick === 0) ws.send(RAW_BODIES[Math.floor(rand() * RAW_BODIES.length)] as string);
      else if (pick === 1) ws.send(JSON.stringify(hostile(rand)));
      else {
        const frame = { type: verbs[Math.floor(rand() * verbs.length)], id: `f${i}`, ...(hostile(rand) as object) };
        ws.send(JSON.stringify({ ...frame, type: frame.type, id: `f${i}` }));
      }
    }
    ws.send(JSON.stringify({ type: "ping", id: "last" }));
    await expect.poll(() => frames.some((f) => f.type === "pong"), { timeout: 15_000 }).toBe(true);
    expect(closed).toBeUndefined();
    const errors = frames.filter((f) => f.type === "error" || (f.type === "reply" && f.ok === false));
    expect(errors.length).toBeGreaterThan(50);
    for (const e of errors) expect(typeof e.error?.code).toBe("string");
    ws.close();
    expect((await engine.request<{ status: string }>("GET", "/readyz")).body.status).toBe("ready");
  });
});
