import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { UTDStreamClient, UTDStreamType } from "../src/index.js";

// Only REST and the signalling socket are used here (no media), so this runs under Node against a real engine without LiveKit.
describe("UTDStreamClient re-authenticates an expired or revoked user token", () => {
  let engine: RunningEngine;
  let app: TestApp;
  beforeAll(async () => {
    engine = await startEngine();
    app = await engine.createApp({ plan: "pro" });
  });
  afterAll(() => engine?.stop());

  it("a call started after the token was revoked mints a new session once and succeeds", async () => {
    const client = new UTDStreamClient({ appId: app.app_id, appKey: app.app_key, baseUrl: engine.url, WebSocket });
    const token = await client.authenticate({ identity: "media-reauth" });
    expect((await engine.request("POST", "/api/v1/auth/revoke", { token })).status).toBe(200);
    const call = await client.callSession(UTDStreamType.audioCall).start({ calleeIdentity: "someone" });
    expect(call.status).toBe("initiating");
    // The old token is still refused: the client really minted a new one.
    expect((await engine.request("GET", "/api/v1/calls", { token })).status).toBe(401);
    client.disconnect();
  });

  it("a banned user is not re-authenticated: the ban surfaces", async () => {
    const client = new UTDStreamClient({ appId: app.app_id, appKey: app.app_key, baseUrl: engine.url, WebSocket });
    await client.authenticate({ identity: "media-banned" });
    await engine.admin("POST", `/admin/v1/apps/${app.app_id}/bans`, { identity: "media-banned" });
    await expect(client.callSession(UTDStreamType.audioCall).start({ calleeIdentity: "someone" })).rejects.toMatchObject({
      code: "banned",
      isBanned: true,
    });
  });
});
