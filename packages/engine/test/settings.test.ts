import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { withSettingsTable } from "../../../scripts/config-docs.js";
import { utd } from "../../../test/helpers/cli.js";
import { freePort } from "../../../test/helpers/net.js";
import { loadConfig } from "../src/core/config.js";
import { readConfigFile, SETTINGS } from "../src/core/settings.js";

const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const SRC = join(ROOT, "packages/engine/src");
/** Variables the CLI reads to find an engine; not engine settings. */
const CLI_ONLY = new Set(["UTD_URL"]);

describe("one configuration schema", () => {
  const dir = mkdtempSync(join(tmpdir(), "utd-settings-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("loadConfig takes numbers and rate buckets from the schema: its defaults, and its minimums (naming the setting)", () => {
    const c = loadConfig({});
    const int = (env: string) => Number(SETTINGS.find((s) => s.env === env)?.default);
    expect(c.port).toBe(int("UTD_PORT"));
    expect(c.bodyLimit).toBe(int("UTD_BODY_LIMIT"));
    expect(c.sessionMaxAgeS).toBe(int("UTD_SESSION_MAX_AGE_S"));
    expect(c.push.maxAttempts).toBe(int("UTD_PUSH_MAX_ATTEMPTS"));
    expect(c.webhooks.pollMs).toBe(int("UTD_WEBHOOK_POLL_MS"));
    const [burst, perSecond] = (SETTINGS.find((s) => s.env === "UTD_RATE_REQUESTS_USER")?.default ?? "").split("/").map(Number);
    expect(c.rateLimits.requestsPerUser).toEqual({ burst, perSecond });
    expect(loadConfig({ UTD_BODY_LIMIT: "4096", UTD_RATE_REQUESTS_USER: "7/2" })).toMatchObject({
      bodyLimit: 4096,
      rateLimits: { requestsPerUser: { burst: 7, perSecond: 2 } },
    });
    expect(() => loadConfig({ UTD_BODY_LIMIT: "10" })).toThrow(/UTD_BODY_LIMIT \(--body-limit\) must be an integer >= 1024/);
    expect(() => loadConfig({ UTD_PUSH_POLL_MS: "1" })).toThrow(/UTD_PUSH_POLL_MS \(--push-poll-ms\) must be an integer >= 10/);
    expect(c.appSettingCacheS).toBe(int("UTD_APP_SETTING_CACHE_S"));
    expect(loadConfig({ UTD_APP_SETTING_CACHE_S: "0" }).appSettingCacheS).toBe(0); // 0: no copy kept
    for (const bad of ["-1", "2.5", "two"])
      expect(() => loadConfig({ UTD_APP_SETTING_CACHE_S: bad })).toThrow(
        /UTD_APP_SETTING_CACHE_S \(--app-setting-cache-s\) must be an integer/,
      );
  });

  it("the README's configuration table is generated from it (run `npm run docs:config` when this fails)", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(withSettingsTable(readme)).toBe(readme);
  });

  it("declares every variable the engine source reads, once, with a unique flag and key", () => {
    const read = new Set<string>();
    for (const f of readdirSync(SRC, { recursive: true }) as string[]) {
      if (!f.endsWith(".ts") || f.endsWith(".test.ts") || f.endsWith("settings.ts")) continue;
      for (const m of readFileSync(join(SRC, f), "utf8").matchAll(
        /\b(UTD_[A-Z0-9_]*[A-Z0-9]|DATABASE_URL|REDIS_URL|LIVEKIT_(?:URL|API_KEY|API_SECRET))\b/g,
      ))
        read.add(m[1] as string);
    }
    const declared = new Set(SETTINGS.map((s) => s.env));
    const missing = [...read].filter((v) => !declared.has(v) && !CLI_ONLY.has(v));
    expect(missing, "declare these in core/settings.ts").toEqual([]);
    for (const k of ["env", "flag", "key"] as const) expect(new Set(SETTINGS.map((s) => s[k])).size).toBe(SETTINGS.length);
    for (const s of SETTINGS) expect(s.doc.length, s.env).toBeGreaterThan(5);
  });

  it.each([
    [["serve", "--port", "abc"], {}, 'UTD_PORT (--port) must be an integer >= 0, got "abc"'],
    [["serve"], { UTD_SQLITE_SYNC: "fast" }, "UTD_SQLITE_SYNC (--sqlite-sync) must be one of FULL, NORMAL"],
    [["serve"], { DATABASE_URL: "mysql://db/x" }, "DATABASE_URL (--database-url) must be a URL with scheme postgres or postgresql"],
    [["serve", "--rate-requests-user", "lots"], {}, "UTD_RATE_REQUESTS_USER (--rate-requests-user) must be"],
    [["serve", "--ws-heartbeat-s", "-1"], {}, "UTD_WS_HEARTBEAT_S (--ws-heartbeat-s) must be an integer"],
  ])("utd %j with %j refuses to start, naming the setting, and creates nothing", async (args, env, message) => {
    const dataDir = join(dir, `d${Math.random().toString(36).slice(2)}`);
    const r = await utd([...args, "--data-dir", dataDir], { UTD_PORT: "0", ...env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("a secret's bad value is not echoed", async () => {
    const r = await utd(["serve", "--data-dir", join(dir, "nope")], { UTD_PORT: "0", UTD_METRICS_PORT: "secret-ish" });
    expect(r.stderr).toContain("UTD_METRICS_PORT (--metrics-port) must be an integer");
    const hidden = SETTINGS.filter((s) => s.secret).map((s) => s.env);
    expect(hidden).toEqual(expect.arrayContaining(["UTD_ADMIN_TOKEN", "UTD_MASTER_KEY", "LIVEKIT_API_SECRET"]));
  });

  it("reads a TOML or JSON config file; unknown keys and bad files are refused naming the key", async () => {
    const toml = join(dir, "utd.toml");
    // Ports from the OS, though nothing here listens: no fixed port anywhere in the suite.
    const [port, other] = [await freePort(), await freePort()];
    writeFileSync(
      toml,
      `port = ${port}\nhost = "127.0.0.2"\nrate_requests_user = "7/7"\nUTD_WS_HEARTBEAT_S = 11\ns3_force_path_style = true\n`,
    );
    const env = await readConfigFile(toml);
    expect(env).toEqual({
      UTD_PORT: String(port),
      UTD_HOST: "127.0.0.2",
      UTD_RATE_REQUESTS_USER: "7/7",
      UTD_WS_HEARTBEAT_S: "11",
      UTD_S3_FORCE_PATH_STYLE: "true",
    });
    const c = loadConfig({ ...env, UTD_DATA_DIR: dir });
    expect(c.port).toBe(port);
    expect(c.host).toBe("127.0.0.2");
    expect(c.rateLimits.requestsPerUser).toEqual({ burst: 7, perSecond: 7 });
    const json = join(dir, "utd.json");
    writeFileSync(json, JSON.stringify({ port: other, databse_url: "postgres://x/y" }));
    const unknown = await utd(["serve", "--config", json, "--data-dir", join(dir, "nope")], { UTD_PORT: "1" });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown setting "databse_url"');
    writeFileSync(json, "{ port: ");
    expect((await utd(["serve", "--config", json], {})).stderr).toContain("is not valid JSON");
    writeFileSync(json, JSON.stringify({ port: "eighty" }));
    // An empty variable does not override the file (the file's bad port must be what is refused).
    const bad = await utd(["serve", "--config", json, "--data-dir", join(dir, "nope")], { UTD_PORT: "" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('UTD_PORT (--port) must be an integer >= 0, got "eighty"');
    expect((await utd(["serve", "--config", join(dir, "missing.toml")], {})).stderr).toContain("cannot read config file");
  });

  it("utd serve --help lists a flag for every setting", async () => {
    const help = (await utd(["serve", "--help"], {})).stdout;
    for (const s of SETTINGS) expect(help, s.flag).toContain(`--${s.flag}`);
  });
});
