import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { crc32, deflateSync } from "node:zlib";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { chromiumOrSkip as chromiumOrSkipFor, launchChromium } from "../../../test/helpers/browser.js";
import { type RunningEngine, startEngine } from "../../../test/helpers/engine.js";

const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const DEMO = join(ROOT, "apps/demo");
const _CLI = join(ROOT, "packages/engine/src/main.ts");
/** Screenshots of each flow (git-ignored). */
export const ARTIFACTS = join(ROOT, "test-artifacts/demo");

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

/** The engine behind the page (`test/helpers/engine.ts`). */
export type DemoEngine = RunningEngine;

/**
 * `utd serve --demo` from source (what `npm start` runs, `UTD_DEMO=1`) on a free port and a fresh data dir;
 * `demo: false` runs plain `utd serve`.
 */
export function startDemoEngine(env: Record<string, string> = {}, opts: { demo?: boolean } = {}): Promise<DemoEngine> {
  return startEngine({ env: { ...(opts.demo === false ? {} : { UTD_DEMO: "1" }), ...env } });
}

/** Headless Chromium with fake devices. */
export const launch = launchChromium;

/** True when Chromium is there; skips loudly without it, and fails under CI=true. */
export const chromiumOrSkip = (): boolean => chromiumOrSkipFor("demo page browser tests");

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

/** A suite's page, engine and browser; `ready` is false when Chromium is absent (the suite skips loudly). */
export interface DemoSuite {
  readonly engine: DemoEngine;
  readonly browser: Browser;
  readonly ready: boolean;
}

/** Builds the page, starts `utd serve --demo` (with `env`) and a browser before the suite; stops them after. */
export function demoSuite(env: Record<string, string> = {}): DemoSuite {
  const suite = { engine: undefined as unknown as DemoEngine, browser: undefined as unknown as Browser, ready: false };
  let dist: string | undefined;
  beforeAll(async () => {
    if (!chromiumOrSkip()) return;
    dist = await buildDemo();
    suite.engine = await startDemoEngine({ UTD_DEMO_DIR: dist, ...env });
    suite.browser = await launch();
    suite.ready = true;
  }, 120_000);
  afterAll(async () => {
    await suite.browser?.close();
    await suite.engine?.stop();
    if (dist) rmSync(dist, { recursive: true, force: true });
  });
  return suite;
}
