import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InProcessEngine, startInProcess } from "../../../test/helpers/inproc.js";
import { main } from "../src/cli.js";
import { REDACT } from "../src/http/logger.js";

// The web console's sign-in (issue 17): operator accounts with scrypt passwords, an HttpOnly
// SameSite=Strict session cookie, a CSRF token on every unsafe method, rate-limited attempts, and the
// admin token for automation. Refused requests change nothing; nothing secret reaches the log.

type Session = { username: string | null; csrf_token: string; expires_at: string };
const PASSWORD = "correct horse battery staple";

function cookieOf(headers: Record<string, unknown>): string {
  const raw = headers["set-cookie"];
  const line = Array.isArray(raw) ? String(raw[0]) : String(raw ?? "");
  return line.split(";")[0] ?? "";
}

describe("console sign-in and sessions", () => {
  let e: InProcessEngine;
  const logged: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        logged.push(String(chunk));
        done();
      },
    });
    e = await startInProcess({ ports: { logger: pino({ level: "trace", redact: { paths: REDACT, censor: "[redacted]" } }, sink) } });
  });
  afterAll(() => e?.close());

  const appCount = async () => ((await e.admin<{ apps: unknown[] }>("GET", "/admin/v1/apps")).body.apps ?? []).length;
  const sessions = async () => (await e.engine.store.db.selectFrom("console_sessions").select("id_hash").execute()).length;

  it("creates operator accounts over the admin API; a bad or taken one is refused and nothing is stored", async () => {
    const short = await e.admin<{ error: { code: string } }>("POST", "/admin/v1/console/operators", { username: "ada", password: "short" });
    expect(short.status).toBe(400);
    expect(short.body.error.code).toBe("invalid_argument");
    const bad = await e.admin<{ error: { code: string } }>("POST", "/admin/v1/console/operators", { username: "A D", password: PASSWORD });
    expect(bad.body.error.code).toBe("invalid_argument");
    const ok = await e.admin<{ username: string }>("POST", "/admin/v1/console/operators", { username: "ada", password: PASSWORD });
    expect(ok.status).toBe(201);
    expect(ok.body.username).toBe("ada");
    const again = await e.admin<{ error: { code: string } }>("POST", "/admin/v1/console/operators", {
      username: "ada",
      password: PASSWORD,
    });
    expect(again.body.error.code).toBe("conflict");
    const row = await e.engine.store.db.selectFrom("console_operators").selectAll().where("username", "=", "ada").executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$/);
    expect(row.password_hash).not.toContain(PASSWORD);
    const list = await e.admin<{ operators: { username: string }[] }>("GET", "/admin/v1/console/operators");
    expect(list.body.operators.map((o) => o.username)).toEqual(["ada"]);
  });

  it("a wrong password opens no session and sets no cookie", async () => {
    const before = await sessions();
    const r = await e.request<{ error: { code: string } }>("POST", "/console/v1/session", {
      body: { username: "ada", password: "wrong password!" },
    });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe("unauthorized");
    expect(r.headers["set-cookie"]).toBeUndefined();
    const unknown = await e.request("POST", "/console/v1/session", { body: { username: "nobody", password: PASSWORD } });
    expect(unknown.status).toBe(401);
    expect(await sessions()).toBe(before);
  });

  it("signs in with a password: HttpOnly SameSite=Strict cookie; reads work, writes need the CSRF token", async () => {
    const r = await e.request<Session>("POST", "/console/v1/session", { body: { username: "ada", password: PASSWORD } });
    expect(r.status).toBe(201);
    const setCookie = String(r.headers["set-cookie"]);
    expect(setCookie).toMatch(/^utd_console=[A-Za-z0-9_-]{40,};/);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(r.body.username).toBe("ada");
    const cookie = cookieOf(r.headers);
    const csrf = r.body.csrf_token;
    // The cookie value itself is not stored (only its hash).
    const stored = await e.engine.store.db.selectFrom("console_sessions").select("id_hash").execute();
    expect(stored.some((s) => cookie.endsWith(s.id_hash))).toBe(false);

    const me = await e.request<Session>("GET", "/console/v1/session", { headers: { cookie } });
    expect(me.body).toMatchObject({ username: "ada", csrf_token: csrf });
    const list = await e.request("GET", "/admin/v1/apps", { headers: { cookie } });
    expect(list.status).toBe(200);

    const before = await appCount();
    const noCsrf = await e.request<{ error: { code: string } }>("POST", "/admin/v1/apps", { headers: { cookie }, body: { name: "x" } });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body.error.code).toBe("forbidden");
    const wrongCsrf = await e.request("POST", "/admin/v1/apps", { headers: { cookie, "x-csrf-token": "nope" }, body: { name: "x" } });
    expect(wrongCsrf.status).toBe(403);
    expect(await appCount()).toBe(before);
    const ok = await e.request("POST", "/admin/v1/apps", { headers: { cookie, "x-csrf-token": csrf }, body: { name: "x" } });
    expect(ok.status).toBe(201);
    expect(await appCount()).toBe(before + 1);

    // A forged cookie opens nothing.
    const forged = await e.request("GET", "/admin/v1/apps", { headers: { cookie: "utd_console=AAAA" } });
    expect(forged.status).toBe(401);
  });

  it("an expired session changes nothing; signing out ends the session", async () => {
    const r = await e.request<Session>("POST", "/console/v1/session", { body: { username: "ada", password: PASSWORD } });
    const cookie = cookieOf(r.headers);
    const csrf = r.body.csrf_token;
    const before = await appCount();
    e.clock.advance(12 * 3600_000 + 1);
    const late = await e.request<{ error: { code: string } }>("POST", "/admin/v1/apps", {
      headers: { cookie, "x-csrf-token": csrf },
      body: { name: "late" },
    });
    expect(late.status).toBe(401);
    expect(late.body.error.code).toBe("unauthorized");
    expect(await appCount()).toBe(before);
    expect((await e.request("GET", "/console/v1/session", { headers: { cookie } })).status).toBe(401);

    const fresh = await e.request<Session>("POST", "/console/v1/session", { body: { username: "ada", password: PASSWORD } });
    const c2 = cookieOf(fresh.headers);
    expect((await e.request("DELETE", "/console/v1/session", { headers: { cookie: c2 } })).status).toBe(403);
    const out = await e.request("DELETE", "/console/v1/session", { headers: { cookie: c2, "x-csrf-token": fresh.body.csrf_token } });
    expect(out.status).toBe(204);
    expect(String(out.headers["set-cookie"])).toContain("Max-Age=0");
    expect((await e.request("GET", "/admin/v1/apps", { headers: { cookie: c2 } })).status).toBe(401);
  });

  it("signs in with the admin token (automation); a wrong token is refused", async () => {
    const bad = await e.request("POST", "/console/v1/session", { body: { admin_token: "adm_wrong" } });
    expect(bad.status).toBe(401);
    const ok = await e.request<Session>("POST", "/console/v1/session", { body: { admin_token: e.adminToken } });
    expect(ok.status).toBe(201);
    expect(ok.body.username).toBeNull();
  });

  it("rate-limits sign-in attempts per address", async () => {
    let last = 0;
    for (let i = 0; i < 8; i++) {
      last = (await e.request("POST", "/console/v1/session", { body: { username: "ada", password: `wrong password ${i}` } })).status;
    }
    expect(last).toBe(429);
    // Even the right password is refused while the budget is spent, and no session opens.
    const before = await sessions();
    const r = await e.request<{ error: { code: string } }>("POST", "/console/v1/session", {
      body: { username: "ada", password: PASSWORD },
    });
    expect(r.body.error.code).toBe("rate_limited");
    expect(await sessions()).toBe(before);
    e.clock.advance(120_000);
  });

  it("keeps passwords, the admin token, cookies and CSRF tokens out of the log", () => {
    const all = logged.join("");
    expect(all.length).toBeGreaterThan(0);
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(e.adminToken);
    expect(all).not.toMatch(/utd_console=[A-Za-z0-9_-]{20,}/);
  });

  it("utd operator create reads the password from standard input", async () => {
    const env = { UTD_URL: "", UTD_DATA_DIR: e.dataDir };
    const out: string[] = [];
    const err: string[] = [];
    const io = (pw: string) => ({ out: (s: string) => out.push(s), err: (s: string) => err.push(s), stdin: async () => `${pw}\n` });
    // Storage given explicitly (the in-process engine listens on no port).
    const code = await main(["operator", "create", "grace", "--password-stdin", "--data-dir", e.dataDir, "--json"], io(PASSWORD), env);
    expect(err.join("\n")).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(out.join("\n"))).toMatchObject({ username: "grace" });
    const short = await main(["operator", "create", "hopper", "--data-dir", e.dataDir], io("short"), env);
    expect(short).toBe(2);
    const badName = await main(["operator", "create", "Bad Name", "--data-dir", e.dataDir], io(PASSWORD), env);
    expect(badName).toBe(2);
    const ops = await e.engine.store.db.selectFrom("console_operators").select("username").orderBy("username").execute();
    expect(ops.map((o) => o.username)).toEqual(["ada", "grace"]);
    const r = await e.request("POST", "/console/v1/session", { body: { username: "grace", password: PASSWORD } });
    expect(r.status).toBe(201);
  });
});
