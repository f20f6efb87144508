import { CLOSE_CODES } from "@utd-stream/protocol";
import { describe, expect, it } from "vitest";
import { FrameBudget, frameSize, heartbeatVerdict } from "./connection.js";
import { closeOnAppChange } from "./handshake.js";
import { decodeFrame } from "./verbs.js";

describe("frame budget", () => {
  it("spends the burst, refuses past it, refills with time, and closes a socket that keeps pushing", () => {
    const b = new FrameBudget(3, 2, 0);
    expect([b.take(0), b.take(0), b.take(0)]).toEqual(["ok", "ok", "ok"]);
    // Over budget: refused up to `burst` times in a row, then the socket is closed.
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual(["refuse", "refuse", "refuse", "close"]);
    // 2 frames a second: after 500 ms one token is back, and an accepted frame resets the refusal run.
    expect(b.take(500)).toBe("ok");
    expect(b.take(500)).toBe("refuse");
    // Refill is capped at the burst.
    expect([b.take(60_000), b.take(60_000), b.take(60_000), b.take(60_000)]).toEqual(["ok", "ok", "ok", "refuse"]);
  });
});

describe("heartbeat", () => {
  const cfg = { heartbeatS: 10, helloTimeoutS: 5 };
  it("closes a socket without hello after the hello timeout, whatever it sent", () => {
    expect(heartbeatVerdict({ state: "new", openedAt: 0, lastSeen: 5_900 }, 6_000, cfg)).toBe("no_hello");
    expect(heartbeatVerdict({ state: "authenticating", openedAt: 0, lastSeen: 0 }, 5_000, cfg)).toBe("ok");
  });
  it("pings a socket about to be quiet for a heartbeat and closes one silent for two", () => {
    const open = (lastSeen: number) => ({ state: "open" as const, openedAt: 0, lastSeen });
    expect(heartbeatVerdict(open(0), 9_000, cfg)).toBe("ok");
    expect(heartbeatVerdict(open(0), 9_500, cfg)).toBe("ping");
    expect(heartbeatVerdict(open(0), 20_000, cfg)).toBe("ping");
    expect(heartbeatVerdict(open(0), 20_001, cfg)).toBe("silent");
    expect(heartbeatVerdict({ state: "closed", openedAt: 0, lastSeen: 0 }, 99_000, cfg)).toBe("ok");
  });
});

describe("frame decoding", () => {
  const text = (s: string) => Buffer.from(s, "utf8");
  it("accepts a JSON object with a string type (fragments too) and keeps its other fields", () => {
    expect(decodeFrame(text('{"type":"typing.start","id":"r1","x":1}'), false)).toEqual({
      frame: { type: "typing.start", id: "r1", x: 1 },
    });
    expect(decodeFrame([text('{"type":'), text('"ping"}')], false)).toEqual({ frame: { type: "ping" } });
    expect(frameSize([text("ab"), text("cde")])).toBe(5);
  });
  it("refuses binary, malformed JSON and frames without a type, answering a usable request id", () => {
    const code = (r: ReturnType<typeof decodeFrame>) => ("error" in r ? r.error.code : "ok");
    expect(code(decodeFrame(text('{"type":"ping"}'), true))).toBe("invalid_argument");
    expect(code(decodeFrame(text("{nope"), false))).toBe("invalid_argument");
    expect(decodeFrame(text('{"id":"r2"}'), false)).toMatchObject({ id: "r2", error: { code: "invalid_argument" } });
    expect(decodeFrame(text(`{"id":"${"x".repeat(65)}"}`), false)).not.toHaveProperty("id");
    expect(decodeFrame(text("[1,2]"), false)).not.toHaveProperty("id");
  });
});

describe("app changes on open sockets", () => {
  const ctx = { claims: { issuedAt: 1_000, authMode: "open" as const } };
  const app = { signalingEnabled: true, messagingEnabled: true, tokensValidAfter: 0, authMode: "open" as const };
  it("closes sockets of a deleted app, of rotated credentials or another auth mode, and of an app with no real-time capability left", () => {
    expect(closeOnAppChange(ctx, undefined)).toEqual({ code: CLOSE_CODES.unauthorized, reason: "app deleted" });
    expect(closeOnAppChange(ctx, { ...app, tokensValidAfter: 1_001 })).toEqual({
      code: CLOSE_CODES.unauthorized,
      reason: "the app's credentials changed",
    });
    expect(closeOnAppChange(ctx, { ...app, authMode: "signed" })).toEqual({
      code: CLOSE_CODES.unauthorized,
      reason: "the app's auth mode changed",
    });
    expect(closeOnAppChange(ctx, { ...app, signalingEnabled: false, messagingEnabled: false })).toEqual({
      code: CLOSE_CODES.forbidden,
      reason: "capability disabled",
    });
  });
  it("keeps the others: one capability left, a token issued at or after tokens_valid_after, a token that predates auth modes", () => {
    expect(closeOnAppChange(ctx, { ...app, signalingEnabled: false })).toBeUndefined();
    expect(closeOnAppChange(ctx, { ...app, messagingEnabled: false })).toBeUndefined();
    expect(closeOnAppChange(ctx, { ...app, tokensValidAfter: 1_000 })).toBeUndefined();
    expect(closeOnAppChange({ claims: { issuedAt: 1_000, authMode: null } }, { ...app, authMode: "signed" })).toBeUndefined();
  });
});
