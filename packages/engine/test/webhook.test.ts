import { createHash } from "node:crypto";
import { AccessToken } from "livekit-server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEngine, TestApp } from "../../../test/helpers/engine.js";
import { type MediaStack, startMediaStack } from "../../../test/helpers/livekit.js";

interface ErrBody {
  error: { code: string; message: string };
}

describe("LiveKit webhook receiver", () => {
  let stack: MediaStack | undefined;
  let engine: RunningEngine;
  let app: TestApp;

  beforeAll(async () => {
    stack = await startMediaStack();
    if (!stack) return;
    engine = stack.engine;
    app = await engine.createApp();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** A webhook signed as LiveKit signs it: a JWT from the API key whose `sha256` claim hashes the raw body. */
  async function sign(body: string, key: string, secret: string): Promise<string> {
    const at = new AccessToken(key, secret);
    at.sha256 = createHash("sha256").update(body).digest("base64");
    return at.toJwt();
  }
  const post = (raw: string, authorization?: string, contentType = "application/webhook+json") =>
    engine.request<ErrBody>("POST", "/api/v1/livekit/webhook", {
      raw,
      headers: { "content-type": contentType, ...(authorization ? { authorization } : {}) },
    });

  it("accepts a correctly signed body and refuses unsigned, tampered or foreign-key webhooks without acting on them", async (ctx) => {
    if (!stack) return ctx.skip();
    const { apiKey, apiSecret } = stack.livekit;
    // A room the engine knows, which a forged room_finished would wipe.
    const s = await engine.session(app, "owner");
    expect(
      (
        await engine.request("POST", "/api/v1/token", {
          token: s.user_token,
          body: { room_name: "keep", type: "live_stream", role: "host" },
        })
      ).status,
    ).toBe(200);
    const finished = JSON.stringify({ event: "room_finished", id: "EV_forged", createdAt: "1", room: { name: `${app.app_id}:room:keep` } });

    const refused: [string, string | undefined, number][] = [
      [finished, undefined, 401],
      [finished, "garbage", 401],
      [finished, await sign(finished, apiKey, "another-secret-that-is-long-enough-0123456789"), 401],
      [finished, await sign(`${finished} `, apiKey, apiSecret), 401],
    ];
    for (const [body, auth, status] of refused) {
      const r = await post(body, auth);
      expect([r.status, r.body.error.code]).toEqual([status, "unauthorized"]);
    }
    expect((await engine.request("GET", "/api/v1/rooms/keep", { token: s.user_token })).status).toBe(200);

    const ok = await post(finished, await sign(finished, apiKey, apiSecret));
    expect(ok.status).toBe(200);
    // The signed room_finished closed the room in the engine: its name is free again.
    expect((await engine.request("GET", "/api/v1/rooms/keep", { token: s.user_token })).status).toBe(404);
  });

  it("ignores events for rooms it did not name", async (ctx) => {
    if (!stack) return ctx.skip();
    const body = JSON.stringify({
      event: "participant_left",
      id: "EV_x",
      createdAt: "1",
      room: { name: "someone-elses-room" },
      participant: { identity: "x" },
    });
    expect((await post(body, await sign(body, stack.livekit.apiKey, stack.livekit.apiSecret))).status).toBe(200);
  });
});
