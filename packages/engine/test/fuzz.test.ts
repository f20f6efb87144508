import { ERROR_CODES } from "@utd-stream/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningEngine, startEngine } from "../../../test/helpers/engine.js";
import { WS_ROWS } from "./security/matrix-rows.js";
import { type Frame, WsClient } from "./ws-helpers.js";

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

  it("answers every WebSocket verb's hostile but well-formed payloads with a reply, never internal, never across tenants", async () => {
    const rand = rng(20261126);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    // Another tenant with a conversation and a signalling room the fuzzer must never reach.
    const other = await engine.createApp({ plan: "pro" });
    const victim = (await engine.session(other, "victim")).user_token;
    await engine.session(other, "friend");
    const theirs = (
      await engine.request<{ id: string }>("POST", "/api/v1/conversations", { token: victim, body: { kind: "group", members: ["friend"] } })
    ).body.id;
    const history = async () =>
      JSON.stringify((await engine.request("GET", `/api/v1/conversations/${theirs}/messages?after=0`, { token: victim })).body);
    const before = await history();
    const { user_token } = await engine.session(app, "fz");
    const mine = (
      await engine.request<{ id: string }>("POST", "/api/v1/conversations", {
        token: (await engine.session(app, "fz-owner")).user_token,
        body: { kind: "group", members: ["fz"] },
      })
    ).body.id;
    expect(mine).toMatch(/^conv_/);
    const ws = await WsClient.connect(engine.wsUrl, user_token);

    const UNICODE = [
      "a\u202Eevil",
      "\u202Dx",
      "x\u2066y\u2069",
      "a\uD800",
      "\uDC00b",
      "e\u0301",
      "\u00E9",
      "\u200B",
      "\uFEFFbom",
      "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}",
      "\u0627\u0644\u0639\u0631\u0628\u064A\u0629",
      "\uFFFF",
      "\u{10FFFF}",
      "\u0000",
      "\u00A0",
      "x".repeat(128),
      "x".repeat(129),
      "../x",
      "__proto__",
      "constructor",
    ];
    const ROOMS = ["lobby", "x".repeat(64), "x".repeat(65), ".", "..", "-", "a/b", "é", "\u202Eroom", "\uD800", "CON", "__proto__"];
    // Deep JSON is spliced into the frame's text (stringifying it here would overflow this process's stack).
    const deepTexts: string[] = [];
    const deep = (n: number): string => {
      let open = "";
      let close = "";
      for (let i = 0; i < n; i++) {
        const arr = rand() < 0.5;
        open += arr ? "[" : '{"k":';
        close = (arr ? "]" : "}") + close;
      }
      deepTexts.push(`${open}1${close}`);
      return `__deep_${deepTexts.length - 1}__`;
    };
    const ids = () =>
      pick([
        mine,
        theirs,
        `conv_${"0".repeat(26)}`,
        `conv_${Math.floor(rand() * 1e16)
          .toString(36)
          .toUpperCase()
          .padEnd(26, "Z")}`,
        "app_x",
        "__proto__",
        mine.toLowerCase(),
        `${mine}\u0000`,
      ]);
    // Huge arrays of short strings stay under the frame limit (64 KiB): the engine must answer, not close.
    const arr = (): string[] => {
      const n = pick([0, 1, 199, 200, 201, 1000, 10_000]);
      return Array.from({ length: n }, () => (n > 200 ? pick(["a", "é", "\uD800", "\u202E"]) : pick(UNICODE)));
    };
    const payload: Record<string, () => Record<string, unknown>> = {
      "message.send": () => ({
        conversation_id: ids(),
        client_msg_id: pick(UNICODE),
        ...(rand() < 0.7 ? { text: pick([pick(UNICODE), "x".repeat(5000), "x".repeat(5001)]) } : {}),
        ...(rand() < 0.5 ? { custom: { d: deep(pick([1, 50, 500, 5000])) } } : {}),
        ...(rand() < 0.3
          ? {
              attachments: arr()
                .slice(0, pick([1, 11, 1000]))
                .map((t) => ({ file_token: t })),
            }
          : {}),
        ...(rand() < 0.2 ? { reply_to: ids() } : {}),
      }),
      "message.read": () => ({ conversation_id: ids(), seq: pick([0, 1, -1, 2 ** 31, Number.MAX_SAFE_INTEGER, 1e308]) }),
      "presence.watch": () => ({ identities: arr() }),
      "presence.unwatch": () => ({ identities: arr() }),
      "typing.start": () => ({ conversation_id: ids() }),
      "typing.stop": () => ({ conversation_id: ids() }),
      "room.join": () => ({ room: pick(ROOMS), ...(rand() < 0.3 ? { token: pick(UNICODE) } : {}) }),
      "room.leave": () => ({ room: pick(ROOMS) }),
      "room.publish": () => ({ room: pick(ROOMS), data: deep(pick([1, 50, 500, 5000])) }),
    };
    const verbs = Object.keys(WS_ROWS);
    expect(
      verbs.filter((v) => !payload[v]),
      "WebSocket verbs without a fuzz payload generator",
    ).toEqual([]);
    const failures: string[] = [];
    let sent = 0;
    const request = async (verb: string, body: Record<string, unknown>) => {
      const id = `fz${sent}`;
      const text = JSON.stringify({ type: verb, id, ...body }).replace(
        /"__deep_(\d+)__"/g,
        (_, i: string) => deepTexts[Number(i)] as string,
      );
      const reply = ws.next((f) => (f.type === "reply" || f.type === "error") && (f.id === id || f.type === "error"), { past: false });
      ws.send(text);
      return Promise.race([reply, ws.closed.then((c) => ({ type: "closed", code: c.code, reason: c.reason }) as Frame)]);
    };
    for (const verb of verbs) {
      for (let round = 0; round < 40; round++) {
        const r = await request(verb, (payload[verb] as () => Record<string, unknown>)());
        sent++;
        if (r.type === "closed") {
          failures.push(`${verb} #${round}: the socket closed (${JSON.stringify(r)})`);
          break;
        }
        // A reply, or an `error` frame for JSON refused before its id could be read (too deep, ill-formed).
        const code = (r.error as { code?: string } | undefined)?.code;
        const typed = code !== undefined && code in ERROR_CODES && code !== "internal";
        if (!((r.type === "reply" && (r.ok === true || typed)) || (r.type === "error" && typed))) {
          failures.push(`${verb} #${round}: ${JSON.stringify(r).slice(0, 300)}`);
        }
      }
    }
    process.stdout.write(`\nWebSocket fuzz: ${sent} hostile frames over ${verbs.length} verbs\n`);
    expect(failures).toEqual([]);
    expect(await ws.request("ping")).toMatchObject({ type: "pong" });
    // Nothing reached the other tenant.
    expect(await history()).toBe(before);
    ws.close();
    expect((await engine.request<{ status: string }>("GET", "/readyz")).body.status).toBe("ready");
  }, 180_000);
});
