// examples/react-chat in Chromium: the Vite dev server (what `npm run dev -w examples/react-chat` runs) in
// front of a real engine (`utd serve --demo`, as `npm start`) and a real LiveKit. Two people sign in, chat
// (history paging, typing, receipts, an image upload), and make a video call with two live tiles.
// Screenshots go to test-artifacts/react-chat/.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { png } from "../apps/demo/test/harness.js";
import { chromiumOrSkip, launchChromium } from "./helpers/browser.js";
import { type RunningEngine, startEngine } from "./helpers/engine.js";
import { type LiveKitServer, startLiveKit } from "./helpers/livekit.js";
import { freePort } from "./helpers/net.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const EXAMPLE = join(ROOT, "examples/react-chat");
const ARTIFACTS = join(ROOT, "test-artifacts/react-chat");

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** `vite` (dev mode) for the example, proxying to `engineUrl`; resolves once it listens. */
function startVite(port: number, engineUrl: string): Promise<ChildProcess> {
  const proc = spawn(
    process.execPath,
    [join(ROOT, "node_modules/vite/bin/vite.js"), "--host", "127.0.0.1", "--port", String(port), "--strictPort"],
    { cwd: EXAMPLE, env: { ...process.env, UTD_ENGINE_URL: engineUrl }, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let out = "";
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`vite not ready:\n${out}`)), 60_000);
    const onData = (c: Buffer) => {
      out += c.toString();
      if (/ready in/.test(out)) {
        clearTimeout(timer);
        ok(proc);
      }
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", onData);
    proc.once("exit", (code) => fail(new Error(`vite exited with ${code}:\n${out}`)));
  });
}

/** Resolves once `page` shows decoded video frames in `identity`'s tile. */
function videoFrom(page: Page, identity: string): Promise<unknown> {
  return page.waitForFunction(
    (who) => {
      const v = document.querySelector<HTMLVideoElement>(`[data-testid="tile"][data-identity="${who}"] video`);
      return Boolean(v && v.videoWidth > 0 && v.readyState >= 2);
    },
    identity,
    { timeout: 30_000 },
  );
}

describe("examples/react-chat in Chromium", () => {
  let livekit: LiveKitServer | undefined;
  let engine: RunningEngine | undefined;
  let vite: ChildProcess | undefined;
  let browser: Browser | undefined;
  let url = "";
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    if (!chromiumOrSkip("react-chat example")) return;
    const port = await freePort();
    livekit = await startLiveKit(`http://127.0.0.1:${port}/api/v1/livekit/webhook`);
    if (!livekit) return;
    engine = await startEngine({
      env: {
        UTD_DEMO: "1",
        UTD_PORT: String(port),
        LIVEKIT_URL: livekit.url,
        LIVEKIT_API_KEY: livekit.apiKey,
        LIVEKIT_API_SECRET: livekit.apiSecret,
        UTD_PRESENCE_GRACE_S: "0",
      },
    });
    const vitePort = await freePort();
    vite = await startVite(vitePort, engine.url);
    url = `http://127.0.0.1:${vitePort}/`;
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    if (vite?.pid && vite.exitCode === null) process.kill(-vite.pid, "SIGTERM");
    await engine?.stop();
    await livekit?.stop();
  });

  async function signIn(name: string): Promise<Page> {
    const ctx = await (browser as Browser).newContext({ viewport: { width: 1200, height: 800 } });
    contexts.push(ctx);
    ctx.setDefaultTimeout(20_000);
    const page = await ctx.newPage();
    page.on("pageerror", (e) => process.stderr.write(`[${name} page error] ${e.message}\n`));
    await page.goto(url);
    await page.getByTestId("name").fill(name);
    await page.getByTestId("signin").click();
    await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
    return page;
  }

  it("two people chat (paging, typing, receipts, an image) and make a video call", async (ctx) => {
    if (!browser || !engine) return ctx.skip();
    const alice = await signIn("alice");
    const bob = await signIn("bob");

    // Alice opens the conversation and sends 25 messages: bob's window shows the newest 20 first.
    await alice.getByTestId("new-chat").fill("bob");
    await alice.getByTestId("new-chat").press("Enter");
    for (let i = 1; i <= 25; i++) {
      await alice.getByTestId("composer").fill(`message ${i}`);
      await alice.getByTestId("send").click();
    }
    await alice.locator('[data-testid="message"]:not([data-pending])', { hasText: "message 25" }).waitFor();
    await bob.getByTestId("conversation").filter({ hasText: "alice" }).click();
    await bob.getByTestId("message").filter({ hasText: "message 25" }).waitFor();
    expect(await bob.getByTestId("message").count()).toBe(20);
    await bob.getByTestId("load-older").click();
    await bob
      .getByTestId("message")
      .filter({ hasText: /^alice: message 1$/ })
      .waitFor();
    expect(await bob.getByTestId("message").count()).toBe(25);
    // Bob has read it all: alice sees the receipt.
    await alice.getByTestId("seen").filter({ hasText: "bob" }).waitFor();
    // Typing, live.
    await bob.getByTestId("composer").pressSequentially("hi al");
    await alice.getByTestId("typing").filter({ hasText: "bob is typing" }).waitFor();
    await bob.getByTestId("send").click();
    await alice.getByTestId("message").filter({ hasText: "hi al" }).waitFor();
    await shot(alice, "01-chat-alice");
    // An image with progress.
    await alice.getByTestId("image").setInputFiles({ name: "red.png", mimeType: "image/png", buffer: png(64, 48, [220, 30, 30]) });
    await alice.locator('[data-testid="upload-progress"][data-state="done"]').waitFor();
    await bob.getByTestId("attachment").waitFor();
    await bob.waitForFunction(() => (document.querySelector<HTMLImageElement>('[data-testid="attachment"]')?.naturalWidth ?? 0) === 64);
    await shot(bob, "02-chat-image-bob");

    // The video call: it rings at bob's, bob accepts, both see two tiles with live video.
    await alice.getByTestId("video-call").click();
    await bob.locator('[data-testid="incoming-call"][data-caller="alice"]').waitFor();
    await shot(bob, "03-call-ringing-bob");
    await bob.getByTestId("accept").click();
    for (const p of [alice, bob]) await p.locator('[data-testid="call-status"][data-status="active"]').waitFor();
    await Promise.all([videoFrom(alice, "bob"), videoFrom(bob, "alice"), videoFrom(alice, "alice"), videoFrom(bob, "bob")]);
    expect(await alice.getByTestId("tile").count()).toBe(2);
    expect(await bob.getByTestId("tile").count()).toBe(2);
    await shot(alice, "04-call-alice");
    await shot(bob, "04-call-bob");
    await alice.getByTestId("hang-up").click();
    await bob.locator('[data-testid="call-status"][data-status="ended"]').waitFor();
  }, 180_000);
});
