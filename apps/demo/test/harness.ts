import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { crc32, deflateSync } from "node:zlib";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { IN_CI } from "../../../test/helpers/services.js";

const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const DEMO = join(ROOT, "apps/demo");
const CLI = join(ROOT, "packages/engine/src/main.ts");
/** Screenshots of each flow (git-ignored). */
export const ARTIFACTS = join(ROOT, "test-artifacts/demo");

/** Chromium flags: headless with a fake camera and microphone (../shared/notes/livekit.md). */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--autoplay-policy=no-user-gesture-required",
];
export const CHROMIUM = process.env.UTD_CHROMIUM ?? "/usr/bin/chromium";

/** True when Chromium is there; skips loudly without it, and fails under CI=true. */
export function chromiumOrSkip(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const msg = `Chromium not found at ${CHROMIUM} (apt-get install -y chromium)`;
  if (IN_CI) throw new Error(`${msg}; CI=true requires it`);
  process.stderr.write(`\n⚠️  SKIPPING demo page browser tests: ${msg}\n\n`);
  return false;
}

/**
 * Builds the page (`vite build`, about a second) into a fresh directory and returns it; pass it to the
 * engine as `UTD_DEMO_DIR`. Each test file builds its own, so parallel files never share a dist/.
 */
export async function buildDemo(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), "utd-demo-dist-"));
  await promisify(execFile)(
    process.execPath,
    [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn", "--outDir", out, "--emptyOutDir"],
    { cwd: DEMO, timeout: 120_000 },
  );
  return out;
}

export interface DemoEngine {
  url: string;
  /** A JSON request with the admin token. */
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  logs: string[];
  proc: ChildProcess;
  stop(): Promise<void>;
}

/**
 * `utd serve --demo` from source (what `npm start` runs) on a free port and a fresh data dir;
 * `demo: false` runs plain `utd serve`.
 */
export async function startDemoEngine(env: Record<string, string> = {}, opts: { demo?: boolean } = {}): Promise<DemoEngine> {
  const dataDir = mkdtempSync(join(tmpdir(), "utd-demo-"));
  const adminToken = `adm_demo_${Math.random().toString(36).slice(2)}`;
  const args = ["--conditions=development", "--import", "tsx", CLI, "serve", ...(opts.demo === false ? [] : ["--demo"])];
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      UTD_PORT: "0",
      UTD_HOST: "127.0.0.1",
      UTD_DATA_DIR: dataDir,
      UTD_LOG_LEVEL: "info",
      UTD_ADMIN_TOKEN: adminToken,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`engine did not start in 30s:\n${logs.join("\n")}`)), 30_000);
    let buf = "";
    proc.stdout?.on("data", (c: Buffer) => {
      buf += c.toString();
      let i = buf.indexOf("\n");
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        logs.push(line);
        if (line.includes('"utd engine ready"')) {
          clearTimeout(timer);
          ok((JSON.parse(line) as { url: string }).url);
        }
        i = buf.indexOf("\n");
      }
    });
    proc.stderr?.on("data", (c: Buffer) => logs.push(c.toString()));
    proc.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`engine exited with ${code}:\n${logs.join("\n")}`));
    });
  });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  return {
    url,
    logs,
    proc,
    async admin<T>(method: string, path: string, body?: unknown) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as T };
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** A fresh browser context (own storage, own fake devices) on the page; page errors go to stderr. */
export async function openDemo(browser: Browser, url: string): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  ctx.setDefaultTimeout(15_000);
  const page = await ctx.newPage();
  page.on("pageerror", (e) => process.stderr.write(`[page error] ${e.message}\n`));
  await page.goto(url);
  return { ctx, page };
}

/** Signs in as `name` and waits for the signed-in page. */
export async function signIn(page: Page, name: string): Promise<void> {
  await page.getByTestId("name").fill(name);
  await page.getByTestId("signin-button").click();
  await page.getByTestId("me").waitFor();
  await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** A solid-colour PNG (to upload as an image). */
export function png(width: number, height: number, rgb: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => rgb).flat())]);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
