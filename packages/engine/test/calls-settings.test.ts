import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Call } from "@utd-stream/protocol";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createEngine, type Engine, loadConfig } from "../src/index.js";

// The admin API has no field for app settings yet, so this in-process engine sets `auto_busy` in its store.
let engine: Engine;
let url: string;
const dir = mkdtempSync(join(tmpdir(), "utd-calls-settings-"));

beforeAll(async () => {
  engine = await createEngine(loadConfig({ UTD_PORT: "0", UTD_DATA_DIR: dir, UTD_ADMIN_TOKEN: "adm", UTD_LOG_LEVEL: "warn" }));
  url = await engine.listen();
});
afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post<T>(path: string, body: unknown, token: string): Promise<{ status: number; body: T }> {
  const r = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as T };
}

test("with auto_busy off, a callee already in a call is rung anyway", async () => {
  const app = (await post<{ app_id: string; app_key: string }>("/admin/v1/apps", { name: "no-auto-busy" }, "adm")).body;
  await engine.store.db
    .updateTable("apps")
    .set({ settings: JSON.stringify({ auto_busy: false }) })
    .where("id", "=", app.app_id)
    .execute();
  const token = async (identity: string) =>
    (await post<{ user_token: string }>("/api/v1/auth/session", { app_id: app.app_id, app_key: app.app_key, identity }, "")).body
      .user_token;
  const [alice, bob, carol] = [await token("alice"), await token("bob"), await token("carol")];
  const first = (await post<Call>("/api/v1/calls", { callee_identity: "bob", type: "audio_call" }, alice)).body;
  expect((await post<Call>(`/api/v1/calls/${first.id}/accept`, {}, bob)).body.status).toBe("active");
  const second = await post<Call>("/api/v1/calls", { callee_identity: "bob", type: "audio_call" }, carol);
  expect([second.status, second.body.status]).toEqual([201, "initiating"]);
  // Bob can still answer busy himself.
  expect((await post<Call>(`/api/v1/calls/${second.body.id}/busy`, {}, bob)).body.status).toBe("busy");
});
