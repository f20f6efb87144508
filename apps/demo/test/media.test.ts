import { rmSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LiveKitServer, startLiveKit } from "../../../test/helpers/livekit.js";
import { freePort } from "../../../test/helpers/net.js";
import { buildDemo, chromiumOrSkip, type DemoEngine, launch, openDemo, shot, signIn, startDemoEngine } from "./harness.js";

/** Resolves once `viewer` renders decoded video frames from `identity`'s tile. */
function videoFrom(viewer: Page, identity: string): Promise<unknown> {
  return viewer.waitForFunction(
    (who) => {
      const v = document.querySelector<HTMLVideoElement>(
        `[data-testid="tile"][data-identity="${who}"][data-local="false"] video, [data-testid="tile"][data-identity="${who}"]:not([data-local]) video`,
      );
      return Boolean(v && v.videoWidth > 0 && v.readyState >= 2);
    },
    identity,
    { timeout: 25_000 },
  );
}

// The page with media on a real LiveKit: a video call, a live stream's stage, an audio room's seats.
describe("demo page with LiveKit", () => {
  let livekit: LiveKitServer | undefined;
  let engine: DemoEngine | undefined;
  let browser: Browser | undefined;
  let dist: string | undefined;

  beforeAll(async () => {
    if (!chromiumOrSkip()) return;
    const port = await freePort();
    livekit = await startLiveKit(`http://127.0.0.1:${port}/api/v1/livekit/webhook`);
    if (!livekit) return;
    dist = await buildDemo();
    engine = await startDemoEngine({
      UTD_DEMO_DIR: dist,
      UTD_PORT: String(port),
      LIVEKIT_URL: livekit.url,
      LIVEKIT_API_KEY: livekit.apiKey,
      LIVEKIT_API_SECRET: livekit.apiSecret,
    });
    browser = await launch();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await engine?.stop();
    if (dist) rmSync(dist, { recursive: true, force: true });
    await livekit?.stop();
  });

  it("video call: rings, is accepted, both see each other, mute works, hang-up ends it on both sides", async (ctx) => {
    if (!browser || !engine) return ctx.skip();
    const a = await openDemo(browser, engine.url);
    await signIn(a.page, "alice");
    const b = await openDemo(browser, engine.url);
    await signIn(b.page, "bob");
    const [alice, bob] = [a.page, b.page];
    await alice.locator('[data-testid="person"][data-identity="bob"][data-status="online"] [data-testid="video-call"]').click();
    await alice.locator('[data-testid="call-status"][data-status="ringing"]').waitFor();
    await bob.locator('[data-testid="incoming-call"][data-caller="alice"]').waitFor();
    await shot(bob, "05-call-ringing-bob");
    await bob.locator('[data-testid="incoming-call"][data-caller="alice"] [data-testid="accept-call"]').click();
    for (const p of [alice, bob]) await p.locator('[data-testid="call-status"][data-status="active"]').waitFor();
    await Promise.all([videoFrom(alice, "bob"), videoFrom(bob, "alice")]);
    expect(await bob.locator('[data-testid="incoming-call"]').count()).toBe(0);
    await shot(alice, "05-call-active-alice");
    await alice.getByTestId("toggle-mic").click();
    await alice.locator('[data-testid="toggle-mic"][aria-pressed="true"]').waitFor();
    await alice.getByTestId("hang-up").click();
    for (const p of [alice, bob]) await p.locator('[data-testid="call-status"][data-status="ended"]').waitFor();
    expect(await bob.locator('[data-testid="tile"]').count()).toBe(0);
    await a.ctx.close();
    await b.ctx.close();
  }, 90_000);

  it("live stream: the host goes live, a viewer raises a hand, is brought on stage and sent back", async (ctx) => {
    if (!browser || !engine) return ctx.skip();
    const h = await openDemo(browser, engine.url);
    await signIn(h.page, "hana");
    const v = await openDemo(browser, engine.url);
    await signIn(v.page, "vik");
    const [host, viewer] = [h.page, v.page];
    await host.getByTestId("tab-live").click();
    await host.getByTestId("go-live").click();
    await host.getByTestId("live-role").filter({ hasText: "Host" }).waitFor();
    await viewer.getByTestId("tab-live").click();
    await viewer.getByTestId("watch").click();
    await viewer.getByTestId("live-role").filter({ hasText: "Viewer" }).waitFor();
    await videoFrom(viewer, "hana");

    await viewer.getByTestId("raise-hand").click();
    await host.locator('[data-testid="viewer"][data-identity="vik"] [data-testid="hand-raised"]').waitFor();
    await shot(host, "06-live-hand-raised-host");
    await host.locator('[data-testid="viewer"][data-identity="vik"] [data-testid="promote"]').click();
    await viewer.getByTestId("live-role").filter({ hasText: "On stage" }).waitFor();
    await host.locator('[data-testid="stage-member"][data-identity="vik"]').waitFor();
    await videoFrom(host, "vik");
    await shot(host, "06-live-on-stage-host");

    await host.locator('[data-testid="stage-member"][data-identity="vik"] [data-testid="demote"]').click();
    await viewer.getByTestId("live-role").filter({ hasText: "Viewer" }).waitFor();
    await viewer.getByTestId("raise-hand").waitFor();
    await host.locator('[data-testid="tile"][data-identity="vik"]').waitFor({ state: "detached" });
    await h.ctx.close();
    await v.ctx.close();
  }, 120_000);

  it("audio room in request mode: a listener asks, the host approves, the listener takes a seat and leaves it", async (ctx) => {
    if (!browser || !engine) return ctx.skip();
    const h = await openDemo(browser, engine.url);
    await signIn(h.page, "rahim");
    const l = await openDemo(browser, engine.url);
    await signIn(l.page, "lena");
    const [host, listener] = [h.page, l.page];
    await host.getByTestId("tab-room").click();
    await host.getByTestId("seat-mode").selectOption("request");
    await host.getByTestId("open-room").click();
    await host.locator('[data-testid="seat"]').first().waitFor();
    await listener.getByTestId("tab-room").click();
    await listener.getByTestId("join-room").click();
    await listener.getByTestId("request-speak").click();
    await host.locator('[data-testid="speak-request"][data-identity="lena"] [data-testid="approve"]').click();
    await listener.getByTestId("approved").waitFor();
    await listener.locator('[data-testid="seat"][data-index="1"] [data-testid="take-seat"]').click();
    await listener.getByTestId("speaking").filter({ hasText: "on the microphone" }).waitFor();
    await host.locator('[data-testid="seat"][data-index="1"][data-identity="lena"]').waitFor();
    // The host receives the speaker's microphone.
    await host.locator('[data-testid="audio"][data-identity="lena"]').waitFor({ state: "attached" });
    await shot(host, "08-audio-room-seat-host");
    await listener.getByTestId("leave-seat").click();
    await host.locator('[data-testid="seat"][data-index="1"][data-identity=""]').waitFor();
    await h.ctx.close();
    await l.ctx.close();
  }, 120_000);
});
