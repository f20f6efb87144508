// The media hooks in Chromium on a real LiveKit: a page (test/browser, Vite dev mode) joins a live stream or an
// audio room and renders useRoom, useParticipants, useTracks + <VideoTrack>, useStage and useSeats.
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, it } from "vitest";
import { chromiumOrSkip, launchChromium } from "../../../test/helpers/browser.js";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { type LiveKitServer, startLiveKit } from "../../../test/helpers/livekit.js";
import { freePort } from "../../../test/helpers/net.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../../..");

function startVite(port: number): Promise<ChildProcess> {
  const proc = spawn(
    process.execPath,
    [join(ROOT, "node_modules/vite/bin/vite.js"), "--host", "127.0.0.1", "--port", String(port), "--strictPort"],
    { cwd: join(HERE, "browser"), stdio: ["ignore", "pipe", "pipe"], detached: true },
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

describe("@utd-stream/react media hooks in Chromium with LiveKit", () => {
  let livekit: LiveKitServer | undefined;
  let engine: RunningEngine | undefined;
  let vite: ChildProcess | undefined;
  let browser: Browser | undefined;
  let app: TestApp;
  let base = "";

  beforeAll(async () => {
    if (!chromiumOrSkip("react media hooks")) return;
    const port = await freePort();
    livekit = await startLiveKit(`http://127.0.0.1:${port}/api/v1/livekit/webhook`);
    if (!livekit) return;
    engine = await startEngine({
      env: {
        UTD_PORT: String(port),
        UTD_CORS_ORIGINS: "*",
        LIVEKIT_URL: livekit.url,
        LIVEKIT_API_KEY: livekit.apiKey,
        LIVEKIT_API_SECRET: livekit.apiSecret,
      },
    });
    app = await engine.createApp({ plan: "pro" });
    const vitePort = await freePort();
    vite = await startVite(vitePort);
    base = `http://127.0.0.1:${vitePort}/`;
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (vite?.pid && vite.exitCode === null) process.kill(-vite.pid, "SIGTERM");
    await engine?.stop();
    await livekit?.stop();
  });

  async function open(me: string, mode: "live" | "audio", host: boolean): Promise<Page> {
    const ctx = await (browser as Browser).newContext();
    ctx.setDefaultTimeout(25_000);
    const page = await ctx.newPage();
    page.on("pageerror", (e) => process.stderr.write(`[${me} page error] ${e.message}\n`));
    const q = new URLSearchParams({
      engine: (engine as RunningEngine).url,
      app: app.app_id,
      key: app.app_key,
      me,
      mode,
      host: host ? "1" : "0",
    });
    await page.goto(`${base}?${q}`);
    await page.getByTestId("join").click();
    await page.locator('[data-testid="room"][data-connected="true"]').waitFor();
    return page;
  }

  const video = (page: Page, who: string) =>
    page.waitForFunction((id) => {
      const v = document.querySelector<HTMLVideoElement>(`[data-testid="tile"][data-identity="${id}"] video`);
      return Boolean(v && v.videoWidth > 0);
    }, who);

  it("live stream: the viewer sees the host; raises a hand; the host's useStage shows it and invites; the viewer may publish", async (ctx) => {
    if (!browser || !engine) return ctx.skip();
    const host = await open("stage-host", "live", true);
    await host.getByTestId("go-live").click();
    await video(host, "stage-host");
    const viewer = await open("stage-viewer", "live", false);
    await viewer.locator('[data-testid="room"][data-can-publish="false"]').waitFor();
    await viewer.getByTestId("others").filter({ hasText: "stage-host" }).waitFor();
    await video(viewer, "stage-host");
    await viewer.getByTestId("raise").click();
    await host.locator('[data-testid="hand"][data-identity="stage-viewer"]').click();
    await viewer.locator('[data-testid="room"][data-can-publish="true"]').waitFor();
    await host.getByTestId("members").filter({ hasText: "stage-viewer" }).waitFor();
    await host.locator('[data-testid="hand"]').waitFor({ state: "detached" });
    await host.context().close();
    await viewer.context().close();
  }, 120_000);

  it("audio room: a listener takes a seat (useSeats on both pages) and is granted publish", async (ctx) => {
    if (!browser || !engine) return ctx.skip();
    const host = await open("seat-host", "audio", true);
    await host.locator('[data-testid="seat"]').first().waitFor();
    const listener = await open("seat-listener", "audio", false);
    await listener.locator('[data-testid="seat"][data-index="2"]').click();
    await listener.locator('[data-testid="room"][data-can-publish="true"]').waitFor();
    await host.locator('[data-testid="seat"][data-index="2"][data-identity="seat-listener"]').waitFor();
    await listener.getByTestId("stand").click();
    await host.locator('[data-testid="seat"][data-index="2"][data-identity=""]').waitFor();
    await host.context().close();
    await listener.context().close();
  }, 120_000);
});
