// The SDKs as an app gets them: every package packed as `npm publish` would (and checked with publint, attw and
// our tarball checks), then installed into fresh projects outside the repository and used there — the engine
// installed alone runs `npx utd serve`; a plain Node app uses signalling, chat and media against it; `tsc
// --strict` compiles a TypeScript consumer; a Vite app in dev mode shows a live message in Chromium, and so does
// a Vite + React app on @utd-stream/react.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPackages, PUBLISHED } from "../scripts/check-packages.mjs";
import { chromiumOrSkip, launchChromium } from "./helpers/browser.js";
import { freePort } from "./helpers/net.js";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const SMOKE = join(ROOT, "test/smoke");
const run = promisify(execFile);

/** The version of a package installed in the repository (the fresh projects pin the same, so npm's cache serves them). */
const repoVersion = (name: string): string =>
  (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;

/** A minimal environment: nothing of the repository's (no `--conditions=development`, no vitest variables). */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), ...extra };
  for (const k of ["npm_config_cache", "npm_config_registry"]) if (process.env[k]) env[k] = process.env[k] as string;
  return env;
}

async function npmInstall(dir: string, env: Record<string, string>): Promise<void> {
  // Bounded: the registry is reachable here and npm's cache holds what the repository installed.
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], { cwd: dir, env, timeout: 300_000 });
}

/**
 * better-sqlite3 has no prebuilt binary reachable from these machines and compiles for minutes. Its installer
 * (prebuild-install) first looks in a local prebuilds directory: hand it the binary the repository built, for
 * the same version and Node ABI, in prebuild's file layout.
 */
function localSqlitePrebuild(dir: string): Record<string, string> {
  const version = repoVersion("better-sqlite3");
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const binary = join(ROOT, "node_modules/better-sqlite3/build/Release/better_sqlite3.node");
  if (!existsSync(binary)) return {};
  mkdirSync(dir, { recursive: true });
  const staging = join(dir, "staging");
  mkdirSync(join(staging, "build/Release"), { recursive: true });
  cpSync(binary, join(staging, "build/Release/better_sqlite3.node"));
  return { tarball: join(dir, name), staging };
}

/** Spawns a server and resolves once a line of its output matches; rejects (and kills it) after `ms`. */
function startServer(cmd: string, args: string[], opts: { cwd: string; env: Record<string, string> }, ready: RegExp, ms = 60_000) {
  const proc = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const logs: string[] = [];
  const line = new Promise<RegExpExecArray>((ok, fail) => {
    const timer = setTimeout(() => {
      kill(proc);
      fail(new Error(`${cmd} ${args.join(" ")} not ready in ${ms} ms:\n${logs.join("")}`));
    }, ms);
    const onData = (chunk: Buffer) => {
      logs.push(chunk.toString());
      const m = ready.exec(logs.join(""));
      if (m) {
        clearTimeout(timer);
        ok(m);
      }
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", onData);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`${cmd} exited with ${code}:\n${logs.join("")}`));
    });
  });
  return { proc, logs, line };
}

/** Ends a spawned server and what it started (npx → node), by its process group. */
function kill(proc: ChildProcess | undefined): void {
  if (!proc?.pid || proc.exitCode !== null) return;
  try {
    process.kill(-proc.pid, "SIGTERM");
  } catch {
    /* already gone */
  }
}

describe("published packages", () => {
  const work = mkdtempSync(join(tmpdir(), "utd-smoke-"));
  let problems: string[] = [];
  const tarball: Record<string, string> = {};

  beforeAll(() => {
    // Packs every package (prepack/postpack rewrite the manifests; nothing else in this file touches them).
    problems = checkPackages({ keep: work });
    const files = readdirSync(join(work, "tarballs"));
    for (const p of PUBLISHED) {
      const f = files.find((x) => x.startsWith(`utd-stream-${p}-`));
      if (f) tarball[p] = join(work, "tarballs", f);
    }
  }, 180_000);

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it("pass publint, attw and our tarball checks (LICENSE, manifest, dependencies, source maps)", () => {
    expect(problems).toEqual([]);
  });

  it("leave the repository manifests as they were (development condition kept, no backup left)", () => {
    for (const p of PUBLISHED) {
      const dir = join(ROOT, "packages", p);
      const m = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { exports: Record<string, Record<string, string>> };
      expect(m.exports["."]?.development, p).toBe("./src/index.ts");
      expect(existsSync(join(dir, ".package.json.repo")), p).toBe(false);
    }
  });

  it("each carry the repository's LICENSE", () => {
    const license = readFileSync(join(ROOT, "LICENSE"), "utf8");
    for (const p of PUBLISHED) expect(readFileSync(join(ROOT, "packages", p, "LICENSE"), "utf8"), p).toBe(license);
  });

  describe("installed in fresh projects outside the repository", () => {
    const serverDir = join(work, "server");
    const appDir = join(work, "app");
    const adminToken = `adm_${Math.random().toString(36).slice(2)}`;
    let engine: ReturnType<typeof startServer> | undefined;
    let vite: ReturnType<typeof startServer> | undefined;
    let viteReact: ReturnType<typeof startServer> | undefined;
    let browser: Browser | undefined;
    let url = "";
    let app: { app_id: string; app_key: string } = { app_id: "", app_key: "" };

    beforeAll(async () => {
      // The engine alone: its tarball and protocol's (which it depends on), nothing else of ours.
      mkdirSync(serverDir, { recursive: true });
      const prebuild = localSqlitePrebuild(join(work, "prebuilds"));
      if (prebuild.tarball && prebuild.staging) await run("tar", ["czf", prebuild.tarball, "-C", prebuild.staging, "build"]);
      writeFileSync(
        join(serverDir, "package.json"),
        JSON.stringify({
          name: "smoke-server",
          private: true,
          dependencies: { "@utd-stream/engine": `file:${tarball.engine}`, "@utd-stream/protocol": `file:${tarball.protocol}` },
          overrides: { "better-sqlite3": repoVersion("better-sqlite3") },
        }),
      );
      // The app: the SDK tarballs plus what an app would add (ws on Node 20, Vite, types).
      mkdirSync(appDir, { recursive: true });
      writeFileSync(
        join(appDir, "package.json"),
        JSON.stringify({
          name: "smoke-app",
          private: true,
          type: "module",
          dependencies: {
            "@utd-stream/protocol": `file:${tarball.protocol}`,
            "@utd-stream/signaling": `file:${tarball.signaling}`,
            "@utd-stream/media": `file:${tarball.media}`,
            "@utd-stream/widget": `file:${tarball.widget}`,
            "@utd-stream/react": `file:${tarball.react}`,
            react: repoVersion("react"),
            "react-dom": repoVersion("react-dom"),
            ws: repoVersion("ws"),
          },
          devDependencies: {
            vite: repoVersion("vite"),
            "@vitejs/plugin-react": repoVersion("@vitejs/plugin-react"),
            "@types/node": repoVersion("@types/node"),
            "@types/ws": repoVersion("@types/ws"),
          },
        }),
      );
      for (const f of ["node-app.mjs", "consumer.ts", "tsconfig.json", "web/index.html", "web/main.ts"]) {
        cpSync(join(SMOKE, f), join(appDir, f.replace(/^web\//, "")));
      }
      cpSync(join(ROOT, "examples/quickstart.ts"), join(appDir, "quickstart.ts"));
      cpSync(join(SMOKE, "react"), join(appDir, "react"), { recursive: true });
      const sqliteEnv: Record<string, string> = prebuild.tarball
        ? { npm_config_better_sqlite3_local_prebuilds: join(work, "prebuilds") }
        : {};
      await Promise.all([npmInstall(serverDir, cleanEnv(sqliteEnv)), npmInstall(appDir, cleanEnv())]);
    }, 600_000);

    afterAll(async () => {
      await browser?.close();
      kill(vite?.proc);
      kill(viteReact?.proc);
      kill(engine?.proc);
    });

    it("the engine installed alone runs `npx utd serve`", async () => {
      engine = startServer(
        "npx",
        ["utd", "serve"],
        {
          cwd: serverDir,
          env: cleanEnv({
            UTD_PORT: "0",
            UTD_HOST: "127.0.0.1",
            UTD_DATA_DIR: join(serverDir, "data"),
            UTD_ADMIN_TOKEN: adminToken,
            UTD_CORS_ORIGINS: "*",
          }),
        },
        /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*"utd engine ready"/,
      );
      url = (await engine.line)[1] as string;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const r = await fetch(`${url}/admin/v1/apps`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "smoke", plan: "pro" }),
      });
      expect(r.status).toBe(201);
      app = (await r.json()) as typeof app;
    }, 60_000);

    it("a plain Node app uses signalling, chat and media against it", async () => {
      const r = await run(process.execPath, ["node-app.mjs", url, app.app_id, app.app_key], {
        cwd: appDir,
        env: cleanEnv(),
        timeout: 60_000,
      });
      expect(r.stdout.trim().split("\n")).toEqual(["signaling: connected", "chat: delivered", "media: call rejected"]);
    }, 90_000);

    it("`tsc --strict` compiles a TypeScript consumer (and the README's quickstart) against the installed declarations", async () => {
      const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
      const r = await run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: appDir, env: cleanEnv() }).catch(
        (err: { stdout: string }) => ({ stdout: err.stdout }),
      );
      // skipLibCheck is off, so our published declarations are checked too. livekit-client 2.23's own
      // declarations import a module it does not ship (@livekit/throws-transformer): its errors, not ours.
      const errors = r.stdout.split("\n").filter((l) => /error TS/.test(l) && !l.startsWith("node_modules/livekit-client/"));
      expect(errors).toEqual([]);
    }, 90_000);

    it("a Vite app in dev mode shows a live message in Chromium", async (ctx) => {
      if (!chromiumOrSkip("packages smoke test (Vite in Chromium)")) return ctx.skip();
      const port = await freePort();
      vite = startServer(
        process.execPath,
        ["node_modules/vite/bin/vite.js", "--host", "127.0.0.1", "--port", String(port), "--strictPort"],
        { cwd: appDir, env: cleanEnv() },
        /ready in/,
      );
      await vite.line;
      // Both users exist before the page opens its direct conversation with the sender.
      const session = (await (
        await fetch(`${url}/api/v1/auth/session`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ app_id: app.app_id, app_key: app.app_key, identity: "sender" }),
        })
      ).json()) as { user_token: string };
      browser = await launchChromium();
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      const q = new URLSearchParams({ engine: url, app: app.app_id, key: app.app_key });
      await page.goto(`http://127.0.0.1:${port}/?${q}`);
      await page
        .waitForFunction(() => document.title === "ready", undefined, { timeout: 30_000 })
        .catch(() => {
          throw new Error(`the page did not get ready: ${errors.join("; ")}\n${vite?.logs.join("")}`);
        });
      // The sender speaks over plain REST; the page hears it through the installed SDK's socket.
      const auth = { authorization: `Bearer ${session.user_token}`, "content-type": "application/json" };
      const conv = (await (
        await fetch(`${url}/api/v1/conversations`, {
          method: "POST",
          headers: auth,
          body: JSON.stringify({ kind: "direct", members: ["viewer"] }),
        })
      ).json()) as { id: string };
      const sent = await fetch(`${url}/api/v1/conversations/${conv.id}/messages`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ client_msg_id: "smoke-1", text: "hello from the installed SDK" }),
      });
      expect(sent.status).toBe(201);
      await page.locator("#log", { hasText: "hello from the installed SDK" }).waitFor({ timeout: 15_000 });
      expect(errors).toEqual([]);
    }, 120_000);

    it("a Vite + React app in dev mode renders a live message with @utd-stream/react", async (ctx) => {
      if (!chromiumOrSkip("packages smoke test (Vite + React in Chromium)")) return ctx.skip();
      const port = await freePort();
      viteReact = startServer(
        process.execPath,
        ["../node_modules/vite/bin/vite.js", "--host", "127.0.0.1", "--port", String(port), "--strictPort"],
        { cwd: join(appDir, "react"), env: cleanEnv() },
        /ready in/,
      );
      await viteReact.line;
      browser ??= await launchChromium();
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      const q = new URLSearchParams({ engine: url, app: app.app_id, key: app.app_key });
      await page.goto(`http://127.0.0.1:${port}/?${q}`);
      await page
        .waitForFunction(() => document.title === "ready", undefined, { timeout: 30_000 })
        .catch(() => {
          throw new Error(`the React page did not get ready: ${errors.join("; ")}\n${viteReact?.logs.join("")}`);
        });
      const session = (await (
        await fetch(`${url}/api/v1/auth/session`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ app_id: app.app_id, app_key: app.app_key, identity: "react-sender" }),
        })
      ).json()) as { user_token: string };
      const auth = { authorization: `Bearer ${session.user_token}`, "content-type": "application/json" };
      const conv = (await (
        await fetch(`${url}/api/v1/conversations`, {
          method: "POST",
          headers: auth,
          body: JSON.stringify({ kind: "direct", members: ["viewer-react"] }),
        })
      ).json()) as { id: string };
      const sent = await fetch(`${url}/api/v1/conversations/${conv.id}/messages`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ client_msg_id: "smoke-react-1", text: "hello from the installed React bindings" }),
      });
      expect(sent.status).toBe(201);
      await page.locator("#log", { hasText: "hello from the installed React bindings" }).waitFor({ timeout: 15_000 });
      expect(errors).toEqual([]);
    }, 120_000);
  });
});
