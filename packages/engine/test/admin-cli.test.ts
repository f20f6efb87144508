import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshPostgres } from "../../../test/helpers/backends.js";
import { utd, utdProcess } from "../../../test/helpers/cli.js";
import { type RunningEngine, startEngine } from "../../../test/helpers/engine.js";

describe("utd CLI on storage (no engine running)", () => {
  const dir = mkdtempSync(join(tmpdir(), "utd-cli-"));
  // Port 0: no engine can answer there, so the CLI works on the storage.
  const env = { UTD_DATA_DIR: dir, UTD_PORT: "0", UTD_ADMIN_TOKEN: "" };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("creates, lists, shows, updates, rotates and reports usage", async () => {
    const created = await utd(["app", "create", "--name", "Shop", "--auth", "signed", "--plan", "pro", "--json"], env);
    expect(created.code).toBe(0);
    const app = JSON.parse(created.stdout) as { app_id: string; app_key: string; app_secret: string; auth_mode: string };
    expect(app).toMatchObject({ auth_mode: "signed" });
    expect(app.app_secret).toMatch(/^sk_/);

    const list = await utd(["app", "list", "--json"], env);
    expect((JSON.parse(list.stdout) as { app_id: string }[]).map((a) => a.app_id)).toEqual([app.app_id]);

    const show = JSON.parse((await utd(["app", "show", app.app_id, "--json"], env)).stdout) as Record<string, unknown>;
    expect(show.app_secret).toBeUndefined();
    expect(JSON.stringify(show)).not.toContain(app.app_secret);

    const upd = await utd(["app", "update", app.app_id, "--plan", "signaling", "--messaging-enabled", "true", "--json"], env);
    expect(JSON.parse(upd.stdout)).toMatchObject({ plan: "signaling", signaling_enabled: true, messaging_enabled: true });

    const busy = await utd(["app", "update", app.app_id, "--auto-busy", "false", "--json"], env);
    expect(JSON.parse(busy.stdout)).toMatchObject({ settings: { auto_busy: false }, plan: "signaling" });

    const rot = JSON.parse((await utd(["app", "rotate-key", app.app_id, "--json"], env)).stdout) as { app_key: string };
    expect(rot.app_key).not.toBe(app.app_key);

    const usage = await utd(["app", "usage", app.app_id, "--json"], env);
    expect(JSON.parse(usage.stdout)).toEqual({ app_id: app.app_id, months: [] });

    const ban = await utd(["user", "ban", "--app", app.app_id, "--identity", "troll", "--reason", "spam", "--json"], env);
    expect(JSON.parse(ban.stdout)).toMatchObject({ identity: "troll", banned: true, reason: "spam" });
    const unban = await utd(["user", "unban", "--app", app.app_id, "--identity", "troll", "--json"], env);
    expect(JSON.parse(unban.stdout)).toMatchObject({ banned: false });
  });

  it.each([
    [["app", "create"], 1, "missing --name"],
    [["app", "create", "--name", "X", "--plan", "gold"], 1, "--plan must be one of"],
    [["app", "update", "app_nope", "--plan", "pro"], 1, "not_found"],
    [["app", "update", "x", "--signaling-enabled", "maybe"], 1, "--signaling-enabled must be"],
    [["app", "update", "x", "--auto-busy", "plan"], 1, "--auto-busy must be true or false"],
    [["app", "frobnicate"], 2, "unknown command"],
    [["app", "list", "--bogus"], 2, "Unknown option"],
    [["nope"], 2, "unknown command"],
  ])("utd %j exits %i with a clear message and changes nothing", async (args, code, message) => {
    const before = (await utd(["app", "list", "--json"], env)).stdout;
    const r = await utd(args, env);
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(message);
    expect((await utd(["app", "list", "--json"], env)).stdout).toBe(before);
  });

  it("the utd process itself: JSON on stdout and exit 0; a usage error on stderr and exit 2", async () => {
    // The cases above run the CLI in-process; this one starts the real process (two calls, not twenty:
    // each costs a Node start plus a TypeScript transform, seconds on a busy machine).
    const list = await utdProcess(["app", "list", "--json"], env);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as unknown[]).length).toBe(1);
    const bad = await utdProcess(["nope"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown command");
  });
});

describe("utd CLI through a running engine's admin API", () => {
  let engine: RunningEngine;
  let env: Record<string, string>;
  beforeAll(async () => {
    engine = await startEngine();
    env = { UTD_DATA_DIR: engine.dataDir, UTD_PORT: new URL(engine.url).port, UTD_ADMIN_TOKEN: engine.adminToken };
  });
  afterAll(() => engine?.stop());

  it("acts on the engine at once: an app created by the CLI mints sessions, a ban refuses them", async () => {
    const app = JSON.parse((await utd(["app", "create", "--name", "Live", "--json"], env)).stdout) as { app_id: string; app_key: string };
    const s = await engine.session({ ...app, app_secret: "" }, "vic");
    expect(s.user_token).toBeTruthy();
    const ban = await utd(["user", "ban", "--app", app.app_id, "--identity", "vic"], env);
    expect(ban.code).toBe(0);
    expect(ban.stdout).toContain("banned vic");
    const refreshed = await engine.request<{ error: { code: string } }>("POST", "/api/v1/auth/refresh", { token: s.user_token });
    expect(refreshed.body.error.code).toBe("banned");
    const usage = JSON.parse((await utd(["app", "usage", app.app_id, "--json"], env)).stdout) as { months: { mau: number }[] };
    expect(usage.months[0]?.mau).toBe(1);
  });

  it("a wrong admin token is refused by the engine", async () => {
    const r = await utd(["app", "list"], { ...env, UTD_ADMIN_TOKEN: "adm_wrong" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unauthorized");
  });
});

describe("admin API guards and validation", () => {
  let engine: RunningEngine;
  beforeAll(async () => {
    engine = await startEngine();
  });
  afterAll(() => engine?.stop());

  it("refuses missing and wrong admin tokens, and user tokens", async () => {
    const app = await engine.createApp();
    const s = await engine.session(app, "u1");
    for (const token of [undefined, "adm_wrong", s.user_token]) {
      const r = await engine.request<{ error: { code: string } }>("GET", "/admin/v1/apps", token ? { token } : {});
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe("unauthorized");
    }
  });

  it.each([
    ["POST", "/admin/v1/apps", { name: "" }, 400, "invalid_argument"],
    ["POST", "/admin/v1/apps", { name: "x", plan: "gold" }, 400, "invalid_argument"],
    ["POST", "/admin/v1/apps", { name: "x", auth_mode: "closed" }, 400, "invalid_argument"],
    ["PATCH", "/admin/v1/apps/app_nope", { plan: "pro" }, 404, "not_found"],
    ["PATCH", "/admin/v1/apps/APP", { limit_overrides: { max_friends: -1 } }, 400, "invalid_argument"],
    ["PATCH", "/admin/v1/apps/APP", { signaling_enabled: "yes" }, 400, "invalid_argument"],
    ["PATCH", "/admin/v1/apps/APP", { settings: { auto_busy: "no" } }, 400, "invalid_argument"],
    ["PATCH", "/admin/v1/apps/APP", { settings: { unknown_setting: true } }, 400, "invalid_argument"],
    ["POST", "/admin/v1/apps/APP/bans", { identity: "has space" }, 400, "invalid_argument"],
    ["POST", "/admin/v1/apps/app_nope/bans", { identity: "x" }, 404, "not_found"],
    ["GET", "/admin/v1/apps/APP/usage?month=11-2026", undefined, 400, "invalid_argument"],
  ])("%s %s %j → %i %s, nothing changed", async (method, path, body, status, code) => {
    const app = await engine.createApp({ name: "Target" });
    const before = await engine.admin("GET", `/admin/v1/apps/${app.app_id}`);
    const r = await engine.admin<{ error: { code: string } }>(method, path.replace("APP", app.app_id), body);
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect((await engine.admin("GET", `/admin/v1/apps/${app.app_id}`)).body).toEqual(before.body);
  });
});

describe("PostgreSQL-backed engine", () => {
  it("mints sessions and keeps apps across a restart with DATABASE_URL", async (ctx) => {
    const pg = await freshPostgres();
    if (!pg) return ctx.skip();
    let engine = await startEngine({ env: { DATABASE_URL: pg.url } });
    try {
      const app = await engine.createApp({ name: "PG" });
      const s = await engine.session(app, "pg-user");
      expect(s.user_token).toBeTruthy();
      engine = await engine.restart();
      // Same data dir: same token key, so tokens minted before the restart still authenticate.
      expect((await engine.request("POST", "/api/v1/auth/refresh", { token: s.user_token })).status).toBe(200);
      expect((await engine.admin<{ name: string }>("GET", `/admin/v1/apps/${app.app_id}`)).body.name).toBe("PG");
      const usage = await engine.admin<{ months: { mau: number }[] }>("GET", `/admin/v1/apps/${app.app_id}/usage`);
      expect(usage.body.months[0]?.mau).toBe(1);
    } finally {
      await engine.stop();
      await pg.drop();
    }
  });
});

describe("graceful shutdown", () => {
  it("SIGTERM drains and exits 0; readiness reflects storage", async () => {
    const engine = await startEngine();
    expect((await engine.request("GET", "/readyz")).status).toBe(200);
    expect(await engine.stop("SIGTERM")).toBe(0);
    expect(engine.logs.join("\n")).toContain("shutting down");
  });
});
