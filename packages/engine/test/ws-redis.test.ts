import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Call, Presence } from "@utd-stream/protocol";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freshPostgres, redisUrlOrSkip } from "../../../test/helpers/backends.js";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { WsClient } from "./ws-helpers.js";

// Two nodes need both PostgreSQL and Redis (test/helpers/backends.ts decides; absent: skipped loudly, CI fails).
const pg = await freshPostgres("multi-node tests");
const redisUrl = pg ? await redisUrlOrSkip("multi-node tests") : undefined;
if (pg && !redisUrl) await pg.drop();

describe.skipIf(!pg || !redisUrl)("two engine nodes (PostgreSQL + Redis)", () => {
  let n1: RunningEngine;
  let n2: RunningEngine;
  let app: TestApp;
  const dirs = [mkdtempSync(join(tmpdir(), "utd-n1-")), mkdtempSync(join(tmpdir(), "utd-n2-"))];
  beforeAll(async () => {
    const env = {
      DATABASE_URL: pg?.url as string,
      REDIS_URL: redisUrl as string,
      UTD_TOKEN_SECRET: "shared-token-secret-for-both-nodes-0123456789",
      UTD_PRESENCE_GRACE_S: "0",
    };
    [n1, n2] = await Promise.all([startEngine({ env, dataDir: dirs[0] }), startEngine({ env, dataDir: dirs[1] })]);
    app = await n1.createApp();
  });
  afterAll(async () => {
    await Promise.all([n1?.stop(), n2?.stop()]);
    await pg?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test("events, presence and bans reach users connected to the other node", async () => {
    const alice = await n1.session(app, "alice");
    const bob = await n2.session(app, "bob", { device_id: "bob-phone" });
    const aw = await WsClient.connect(n1.wsUrl, alice.user_token);
    await aw.request("presence.watch", { identities: ["bob"] });
    const bw = await WsClient.connect(n2.wsUrl, bob.user_token);
    // Presence: bob connected to node 2, alice watches from node 1.
    const online = await aw.event<Presence>("presence.changed", (p) => p.identity === "bob" && p.status === "online");
    expect(online.data.devices).toEqual(["bob-phone"]);
    // Either node answers presence.
    const p = await n1.request<{ presence: Presence[] }>("GET", "/api/v1/presence?identities=bob", { token: alice.user_token });
    expect(p.body.presence[0]?.status).toBe("online");

    // A call made on node 1 rings bob on node 2; bob's accept on node 2 reaches alice on node 1.
    const call = (
      await n1.request<Call>("POST", "/api/v1/calls", { token: alice.user_token, body: { callee_identity: "bob", type: "audio_call" } })
    ).body;
    await bw.event<{ call: Call }>("call.incoming", (d) => d.call.id === call.id);
    await n2.request("POST", `/api/v1/calls/${call.id}/accept`, { token: bob.user_token, body: {} });
    await aw.event<{ call: Call }>("call.accepted", (d) => d.call.id === call.id);

    // Typing over node 1's socket reaches node 2.
    await aw.request("typing.start", { to: "bob" });
    await bw.event("typing.started");

    // A ban through node 1's admin API closes bob's socket on node 2.
    await n1.admin("POST", `/admin/v1/apps/${app.app_id}/bans`, { identity: "bob" });
    expect((await bw.closed).code).toBe(4403);
    await aw.event<Presence>("presence.changed", (x) => x.identity === "bob" && x.status === "offline");
    aw.close();
  });
});
