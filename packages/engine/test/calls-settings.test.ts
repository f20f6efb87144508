import type { Call } from "@utd-stream/protocol";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type RunningEngine, startEngine } from "../../../test/helpers/engine.js";

let engine: RunningEngine;
beforeAll(async () => {
  engine = await startEngine();
});
afterAll(() => engine?.stop());

test("with auto_busy switched off through the admin API, a callee already in a call is rung anyway", async () => {
  const app = await engine.createApp({ name: "no-auto-busy" });
  const patched = await engine.admin<{ settings: { auto_busy?: boolean } }>("PATCH", `/admin/v1/apps/${app.app_id}`, {
    settings: { auto_busy: false },
  });
  expect(patched.body.settings).toEqual({ auto_busy: false });
  const [alice, bob, carol] = await Promise.all(["alice", "bob", "carol"].map(async (id) => (await engine.session(app, id)).user_token));
  const call = (path: string, body: unknown, token: string | undefined) => engine.request<Call>("POST", path, { body, token });
  const first = (await call("/api/v1/calls", { callee_identity: "bob", type: "audio_call" }, alice)).body;
  expect((await call(`/api/v1/calls/${first.id}/accept`, {}, bob)).body.status).toBe("active");
  const second = await call("/api/v1/calls", { callee_identity: "bob", type: "audio_call" }, carol);
  expect([second.status, second.body.status]).toEqual([201, "initiating"]);
  // Bob can still answer busy himself.
  expect((await call(`/api/v1/calls/${second.body.id}/busy`, {}, bob)).body.status).toBe("busy");
});

test("with auto_busy on (the default), the same situation answers busy at once", async () => {
  const app = await engine.createApp({ name: "auto-busy" });
  const [alice, bob, carol] = await Promise.all(["alice", "bob", "carol"].map(async (id) => (await engine.session(app, id)).user_token));
  const first = (
    await engine.request<Call>("POST", "/api/v1/calls", { body: { callee_identity: "bob", type: "audio_call" }, token: alice })
  ).body;
  await engine.request("POST", `/api/v1/calls/${first.id}/accept`, { token: bob });
  const second = await engine.request<Call>("POST", "/api/v1/calls", {
    body: { callee_identity: "bob", type: "audio_call" },
    token: carol,
  });
  expect(second.body.status).toBe("busy");
});
