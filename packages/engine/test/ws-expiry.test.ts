import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createEngine, type Engine, loadConfig } from "../src/index.js";
import { WsClient } from "./ws-helpers.js";

// An in-process engine with a clock the test can move, so a token's expiry comes without waiting for it.
let offset = 0;
const clock = { now: () => Date.now() + offset };
let engine: Engine;
let url: string;
const dir = mkdtempSync(join(tmpdir(), "utd-expiry-"));

beforeAll(async () => {
  const config = loadConfig({
    UTD_PORT: "0",
    UTD_DATA_DIR: dir,
    UTD_USER_TOKEN_TTL_S: "10",
    UTD_ADMIN_TOKEN: "adm",
    UTD_LOG_LEVEL: "warn",
  });
  engine = await createEngine(config, { clock });
  url = await engine.listen();
});
afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post<T>(path: string, body: unknown, token: string): Promise<T> {
  const r = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return (await r.json()) as T;
}

test("an open socket is closed with 4401 when its token expires; a refreshed token (auth) keeps it open", async () => {
  const app = await post<{ app_id: string; app_key: string }>("/admin/v1/apps", { name: "expiry" }, "adm");
  const mint = () => post<{ user_token: string }>("/api/v1/auth/session", { app_id: app.app_id, app_key: app.app_key, identity: "x" }, "");
  const t1 = (await mint()).user_token;
  const t2 = (await mint()).user_token;
  const wsUrl = `${url.replace(/^http/, "ws")}/api/v1/ws`;
  const doomed = await WsClient.connect(wsUrl, t1);
  const kept = await WsClient.connect(wsUrl, t2);
  // 6 s later by the engine's clock: 3–4 s of life left on both tokens (exp has whole seconds), less the real
  // time the mints and connects above took — room for a loaded machine.
  offset += 6_000;
  const fresh = (await mint()).user_token;
  expect(await kept.request("auth", { token: fresh })).toMatchObject({ ok: true });
  // The doomed socket was armed at hello (10 s ahead); re-arm it against the moved clock by re-sending its own token.
  expect(await doomed.request("auth", { token: t1 })).toMatchObject({ ok: true });
  expect((await doomed.closed).code).toBe(4401);
  expect(await kept.request("ping")).toMatchObject({ type: "pong" });
  // And a hello with the expired token is refused.
  offset += 2_000;
  const late = await WsClient.open(wsUrl);
  late.send({ type: "hello", token: t1 });
  expect((await late.closed).code).toBe(4401);
  kept.close();
});
