import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshPostgres } from "../../../test/helpers/backends.js";
import { utd, utdProcess } from "../../../test/helpers/cli.js";
import { type RunningEngine, startEngine } from "../../../test/helpers/engine.js";
import { startInProcess } from "../../../test/helpers/inproc.js";
import { VERSION } from "../src/version.js";

describe("utd CLI on storage named with --data-dir (no engine running)", () => {
  const dir = mkdtempSync(join(tmpdir(), "utd-cli-"));
  // Port 0: no engine can answer there; the storage is named explicitly on every call.
  const env = { UTD_PORT: "0", UTD_ADMIN_TOKEN: "" };
  const run = (args: string[]) => utd([...args, "--data-dir", dir], env);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("creates, lists, shows, updates, rotates and reports usage", async () => {
    const created = await run(["app", "create", "--name", "Shop", "--auth", "signed", "--plan", "pro", "--json"]);
    expect(created.code).toBe(0);
    const app = JSON.parse(created.stdout) as { app_id: string; app_key: string; app_secret: string; auth_mode: string };
    expect(app).toMatchObject({ auth_mode: "signed" });
    expect(app.app_secret).toMatch(/^sk_/);

    const list = await run(["app", "list", "--json"]);
    expect((JSON.parse(list.stdout) as { app_id: string }[]).map((a) => a.app_id)).toEqual([app.app_id]);

    const show = JSON.parse((await run(["app", "show", app.app_id, "--json"])).stdout) as Record<string, unknown>;
    expect(show.app_secret).toBeUndefined();
    expect(JSON.stringify(show)).not.toContain(app.app_secret);

    const upd = await run(["app", "update", app.app_id, "--plan", "signaling", "--messaging-enabled", "true", "--json"]);
    expect(JSON.parse(upd.stdout)).toMatchObject({ plan: "signaling", signaling_enabled: true, messaging_enabled: true });

    const busy = await run(["app", "update", app.app_id, "--auto-busy", "false", "--json"]);
    expect(JSON.parse(busy.stdout)).toMatchObject({ settings: { auto_busy: false }, plan: "signaling" });

    const rot = JSON.parse((await run(["app", "rotate-key", app.app_id, "--json"])).stdout) as { app_key: string };
    expect(rot.app_key).not.toBe(app.app_key);

    const usage = await run(["app", "usage", app.app_id, "--json"]);
    expect(JSON.parse(usage.stdout)).toEqual({ app_id: app.app_id, months: [] });
    const all = JSON.parse((await run(["usage", "--month", "2026-02", "--json"])).stdout) as unknown;
    expect(all).toEqual({ month: "2026-02", apps: [{ app_id: app.app_id, name: "Shop", plan: "signaling", mau: 0 }], total_mau: 0 });

    const ban = await run(["user", "ban", "--app", app.app_id, "--identity", "troll", "--reason", "spam", "--json"]);
    expect(JSON.parse(ban.stdout)).toMatchObject({ identity: "troll", banned: true, reason: "spam" });
    const users = JSON.parse((await run(["user", "list", "--app", app.app_id, "--json"])).stdout) as unknown;
    expect(users).toMatchObject({ users: [{ identity: "troll", banned: true, ban_reason: "spam" }], next_cursor: null });
    const one = JSON.parse((await run(["user", "show", "--app", app.app_id, "--identity", "troll", "--json"])).stdout) as unknown;
    expect(one).toMatchObject({ app_id: app.app_id, identity: "troll", banned: true });
    const unban = await run(["user", "unban", "--app", app.app_id, "--identity", "troll", "--json"]);
    expect(JSON.parse(unban.stdout)).toMatchObject({ banned: false });
    const nobody = await run(["user", "show", "--app", app.app_id, "--identity", "nobody"]);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain("not_found");
  });

  it.each([
    [["app", "create"], 2, "required option '--name <name>' not specified"],
    [["app", "create", "--name", " "], 2, "must not be empty"],
    [["app", "create", "--name", "X", "--plan", "gold"], 2, "Allowed choices are free, signaling, pro, enterprise"],
    [["app", "update", "app_nope", "--plan", "pro"], 1, "not_found"],
    [["app", "update", "x", "--signaling-enabled", "maybe"], 2, "expected true, false or plan"],
    [["app", "update", "x", "--auto-busy", "plan"], 2, "expected true or false"],
    [["app", "usage", "x", "--month", "2026-13"], 2, "expected a calendar month YYYY-MM"],
    [["usage", "--month", "26-01"], 2, "expected a calendar month YYYY-MM"],
    [["app", "show", "no spaces"], 2, "expected an app id"],
    [["user", "ban", "--app", "x", "--identity", "has space"], 2, "without whitespace"],
    [["user", "list", "--app", "x", "--limit", "0"], 2, "expected an integer from 1 to 500"],
    [["app", "frobnicate"], 2, "unknown command 'frobnicate'"],
    [["app", "list", "--bogus"], 2, "unknown option '--bogus'"],
    [["nope"], 2, "unknown command 'nope'"],
  ])("utd %j exits %i with a clear message and changes nothing", async (args, code, message) => {
    const before = (await run(["app", "list", "--json"])).stdout;
    const r = await run(args);
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(message);
    expect((await run(["app", "list", "--json"])).stdout).toBe(before);
  });

  it("the utd process itself: JSON on stdout and exit 0; a usage error on stderr and exit 2", async () => {
    // The cases above run the CLI in-process; this one starts the real process (two calls, not twenty:
    // each costs a Node start plus a TypeScript transform, seconds on a busy machine).
    const list = await utdProcess(["app", "list", "--json", "--data-dir", dir], env);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as unknown[]).length).toBe(1);
    const bad = await utdProcess(["nope"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown command");
  });
});

describe("utd CLI with no engine running and no storage named", () => {
  it("says so, exits 3 and creates nothing", async () => {
    const parent = mkdtempSync(join(tmpdir(), "utd-cli-none-"));
    const dataDir = join(parent, "data");
    try {
      for (const args of [["app", "create", "--name", "Lost"], ["app", "list", "--json"], ["user", "list", "--app", "app_x"], ["usage"]]) {
        const r = await utd(args, { UTD_PORT: "0", UTD_DATA_DIR: dataDir, UTD_ADMIN_TOKEN: "" });
        expect(r.code).toBe(3);
        expect(r.stderr).toContain("no UTD Stream engine answers at http://127.0.0.1:0");
        expect(r.stderr).toContain("--data-dir");
        expect(r.stdout).toBe("");
      }
      // --help never touches storage either.
      expect((await utd(["app", "--help"], { UTD_PORT: "0", UTD_DATA_DIR: dataDir })).code).toBe(0);
      expect(existsSync(dataDir)).toBe(false);
      // A --data-dir that does not exist is refused rather than created.
      const missing = await utd(["app", "list", "--data-dir", dataDir], { UTD_PORT: "0" });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("is not a directory");
      // --database-url alone would need keys from somewhere: refused before connecting.
      const keyless = await utd(["app", "list", "--database-url", "postgres://127.0.0.1:1/x"], {
        UTD_PORT: "0",
        UTD_DATA_DIR: dataDir,
        UTD_MASTER_KEY: "",
        UTD_TOKEN_SECRET: "",
      });
      expect(keyless.code).toBe(2);
      expect(keyless.stderr).toContain("--database-url also needs the engine's keys");
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it("--version, and --help on every command, exit 0 with usage on stdout", async () => {
    const v = await utd(["--version"], {});
    expect(v.stdout.trim()).toBe(VERSION);
    const commands = [
      [],
      ["serve"],
      ["app"],
      ...["create", "list", "show", "rotate-key", "update", "usage", "delete"].map((c) => ["app", c]),
      ["usage"],
      ["user"],
      ...["list", "show", "erase", "export", "ban", "unban"].map((c) => ["user", c]),
      ["operator"],
      ...["add", "remove", "list"].map((c) => ["operator", c]),
      ["push"],
      ...["set-apns", "set-fcm", "set-vapid", "show"].map((c) => ["push", c]),
    ];
    for (const c of commands) {
      const r = await utd([...c, "--help"], { UTD_PORT: "0" });
      expect(r.code, c.join(" ")).toBe(0);
      expect(r.stdout).toContain(`Usage: utd${c.length ? ` ${c.join(" ")}` : ""} `);
      expect(r.stderr).toBe("");
    }
    expect((await utd(["serve", "--help"], {})).stdout).toContain("--database-url <value>");
    expect((await utd(["--help"], {})).stdout).toContain("Exit codes: 0 done");
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
    await engine.session({ ...app, app_secret: "" }, "vic_2");
    await engine.session({ ...app, app_secret: "" }, "v%c");
    const page = JSON.parse(
      (await utd(["user", "list", "--app", app.app_id, "--limit", "1", "--search", "vic", "--json"], env)).stdout,
    ) as {
      users: { identity: string }[];
      next_cursor: string | null;
    };
    expect(page.users.map((u) => u.identity)).toEqual(["vic"]);
    expect(page.next_cursor).toBe("vic");
    const rest = JSON.parse(
      (await utd(["user", "list", "--app", app.app_id, "--search", "vic", "--cursor", "vic", "--json"], env)).stdout,
    ) as { users: { identity: string }[]; next_cursor: string | null };
    expect(rest).toMatchObject({ users: [{ identity: "vic_2" }], next_cursor: null });
    // % and _ in the search are literal characters, not patterns.
    const literal = JSON.parse((await utd(["user", "list", "--app", app.app_id, "--search", "v%", "--json"], env)).stdout) as {
      users: { identity: string }[];
    };
    expect(literal.users.map((u) => u.identity)).toEqual(["v%c"]);
    const shown = JSON.parse((await utd(["user", "show", "--app", app.app_id, "--identity", "vic", "--json"], env)).stdout) as unknown;
    expect(shown).toMatchObject({ identity: "vic", banned: true });
    const total = JSON.parse((await utd(["usage", "--json"], env)).stdout) as { total_mau: number };
    expect(total.total_mau).toBe(3);
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
    ["GET", "/admin/v1/apps/APP/usage?month=2026-13", undefined, 400, "invalid_argument"],
    ["GET", "/admin/v1/apps/APP/users?limit=0", undefined, 400, "invalid_argument"],
    ["GET", "/admin/v1/apps/app_nope/users", undefined, 404, "not_found"],
    ["GET", "/admin/v1/apps/APP/users/nobody", undefined, 404, "not_found"],
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
    // In-process engines, one after the other on the same database and data dir: what a restart keeps is
    // in those two places (spawning two processes for it took most of this suite's time under load).
    const dataDir = mkdtempSync(join(tmpdir(), "utd-cli-pg-"));
    const env = { DATABASE_URL: pg.url };
    let engine = await startInProcess({ env, dataDir });
    try {
      const app = await engine.createApp({ name: "PG" });
      const s = await engine.session(app, "pg-user");
      expect(s.user_token).toBeTruthy();
      await engine.close();
      engine = await startInProcess({ env, dataDir });
      // Same data dir: same token key, so tokens minted before the restart still authenticate.
      expect((await engine.request("POST", "/api/v1/auth/refresh", { token: s.user_token })).status).toBe(200);
      expect((await engine.admin<{ name: string }>("GET", `/admin/v1/apps/${app.app_id}`)).body.name).toBe("PG");
      const usage = await engine.admin<{ months: { mau: number }[] }>("GET", `/admin/v1/apps/${app.app_id}/usage`);
      expect(usage.body.months[0]?.mau).toBe(1);
    } finally {
      await engine.close();
      await pg.drop();
      rmSync(dataDir, { recursive: true, force: true });
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
