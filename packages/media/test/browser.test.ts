import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumOrSkip } from "../../../test/helpers/browser.js";
import type { TestApp } from "../../../test/helpers/engine.js";
import { type MediaStack, startMediaStack } from "../../../test/helpers/livekit.js";
import { bundleSdk, launch, openPage, servePage } from "./harness.js";

// Page-side code runs in the browser, where the bundle defines `window.UTD` and tests keep objects on `window.t`.
type SDK = typeof import("../src/index.js");
interface PageState {
  client: InstanceType<SDK["UTDStreamClient"]>;
  call: InstanceType<SDK["UTDCallSession"]>;
  live: InstanceType<SDK["UTDLiveStreamSession"]>;
  room: InstanceType<SDK["UTDAudioRoomSession"]>;
}
type SessionKey = "call" | "live" | "room";
declare global {
  interface Window {
    UTD: SDK;
    t: PageState;
  }
}

/** In the page: resolves once a remote participant's video track of `identity` renders frames. */
async function waitForVideoFrom(page: Page, sessionKey: SessionKey, identity: string): Promise<void> {
  await page.evaluate(
    async ({ sessionKey, identity }) => {
      const session = window.t[sessionKey];
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const p = session.room.room.remoteParticipants.get(identity);
        const pub = p && [...p.videoTrackPublications.values()].find((x) => x.track);
        if (pub?.track) {
          const el = document.createElement("video");
          el.muted = true;
          document.body.appendChild(el);
          pub.track.attach(el);
          while (Date.now() < deadline && el.videoWidth === 0) await new Promise((r) => setTimeout(r, 50));
          if (el.videoWidth > 0) return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no video frames from ${identity}`);
    },
    { sessionKey, identity },
  );
}

/** In the page: whether the session receives a subscribed track of `kind` from `identity`. */
function hasTrackFrom(page: Page, sessionKey: SessionKey, identity: string, kind: "audio" | "video"): Promise<boolean> {
  return page.evaluate(
    ({ sessionKey, identity, kind }) => {
      const p = window.t[sessionKey].room.room.remoteParticipants.get(identity);
      const pubs = p ? [...(kind === "audio" ? p.audioTrackPublications : p.videoTrackPublications).values()] : [];
      return pubs.some((x) => x.isSubscribed && x.track);
    },
    { sessionKey, identity, kind },
  );
}

async function until(what: string, fn: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("@utd-stream/media in headless Chromium on a real LiveKit", () => {
  let stack: MediaStack | undefined;
  let browser: Browser | undefined;
  let site: { url: string; close(): Promise<void> } | undefined;
  let app: TestApp;

  beforeAll(async () => {
    if (!chromiumOrSkip("browser media tests")) return;
    stack = await startMediaStack();
    if (!stack) return;
    app = await stack.engine.createApp();
    site = await servePage(stack.engine.url, await bundleSdk());
    browser = await launch();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await stack?.stop();
  });

  async function page(): Promise<Page> {
    if (!browser || !site) throw new Error("no browser");
    const p = await openPage(browser, site.url);
    await p.evaluate(
      ({ appId, appKey }) => {
        window.t = { client: new window.UTD.UTDStreamClient({ appId, appKey, baseUrl: location.origin }) } as PageState;
      },
      { appId: app.app_id, appKey: app.app_key },
    );
    return p;
  }

  it("video call: each page receives the other's video", async (ctx) => {
    if (!browser) return ctx.skip();
    const [a, b] = await Promise.all([page(), page()]);
    const callId = await a.evaluate(async () => {
      await window.t.client.authenticate({ identity: "alice" });
      window.t.call = window.t.client.callSession(window.UTD.UTDStreamType.videoCall);
      return (await window.t.call.start({ calleeIdentity: "bob" })).id as string;
    });
    await b.evaluate(async () => {
      await window.t.client.authenticate({ identity: "bob" });
      window.t.call = window.t.client.callSession("video_call");
    });
    const t0 = performance.now();
    await b.evaluate(async (id) => {
      await window.t.call.accept(id);
    }, callId);
    await Promise.all([waitForVideoFrom(a, "call", "bob"), waitForVideoFrom(b, "call", "alice")]);
    process.stderr.write(
      `\n[media] browser video call: accept → both pages rendering the other's video: ${(performance.now() - t0).toFixed(0)} ms\n`,
    );
    expect(await a.evaluate(() => window.t.call.status.value)).toBe("active");

    await a.evaluate(() => window.t.call.end());
    await until("bob's session to see the end", async () => (await b.evaluate(() => window.t.call.status.value)) === "ended");
    // A duplicate end is tolerated.
    await b.evaluate(() => window.t.call.end());
  });

  it("live stream: a viewer is promoted to the stage (publishes video the host sees) and demoted", async (ctx) => {
    if (!browser) return ctx.skip();
    const [h, v] = await Promise.all([page(), page()]);
    await h.evaluate(async () => {
      window.t.live = await window.t.client.joinLiveStream({ identity: "host", roomName: "show", asHost: true });
      await window.t.live.goLive({ withVideo: true });
    });
    await v.evaluate(async () => {
      window.t.live = await window.t.client.joinLiveStream({ identity: "viewer", roomName: "show" });
    });
    await waitForVideoFrom(v, "live", "host");
    expect(await v.evaluate(() => window.t.live.canPublish.value)).toBe(false);
    // The SDK never elevates itself: a viewer's camera is refused by the SFU.
    const refused = await v.evaluate(() =>
      window.t.live.room.setCamera(true).then(
        () => "published",
        (e: Error) => e.message,
      ),
    );
    expect(refused).not.toBe("published");

    await v.evaluate(() => window.t.live.requestStage());
    // The host's queue of raised hands follows `stage.updated`, and is read back from the engine on refresh.
    await until("the host's raised hands", async () =>
      (await h.evaluate(() => window.t.live.raisedHands.value.map((r: { identity: string }) => r.identity))).includes("viewer"),
    );
    await h.evaluate(() => window.t.live.raisedHands.set([]));
    await h.evaluate(() => window.t.live.refreshStage());
    expect(await h.evaluate(() => window.t.live.raisedHands.value.map((r: { identity: string }) => r.identity))).toEqual(["viewer"]);
    await h.evaluate(() => window.t.live.inviteToStage("viewer"));
    expect(await h.evaluate(() => window.t.live.raisedHands.value)).toEqual([]);
    expect(await h.evaluate(() => window.t.live.stage.value.map((m: { identity: string }) => m.identity))).toEqual(["host", "viewer"]);
    await v.evaluate(async () => {
      await window.t.live.canPublish.when((x: boolean) => x, 10_000);
      await window.t.live.goLive({ withVideo: true });
    });
    await waitForVideoFrom(h, "live", "viewer");
    await until("the viewer's stage store to update", async () => (await v.evaluate(() => window.t.live.stage.value.length)) === 2);

    await h.evaluate(() => window.t.live.removeFromStage("viewer"));
    await v.evaluate(() => window.t.live.canPublish.when((x: boolean) => !x, 10_000));
    await until("the demoted viewer's video to go", async () => !(await hasTrackFrom(h, "live", "viewer", "video")));
    await until("the viewer's stage store to update", async () => (await v.evaluate(() => window.t.live.stage.value.length)) === 1);

    // A session is reusable: leave, then rejoin (a fresh token is minted), and the host's video comes back.
    await v.evaluate(() => window.t.live.leave());
    expect(await v.evaluate(() => window.t.live.connected.value)).toBe(false);
    await v.evaluate(() => window.t.live.rejoin());
    expect(await v.evaluate(() => window.t.live.connected.value)).toBe(true);
    await waitForVideoFrom(v, "live", "host");
  });

  it("audio room in request mode: refused until approved, then the seat's microphone reaches the host", async (ctx) => {
    if (!browser) return ctx.skip();
    const [h, l] = await Promise.all([page(), page()]);
    await h.evaluate(async () => {
      window.t.room = await window.t.client.joinAudioRoom({
        identity: "h",
        roomName: "club",
        asHost: true,
        seatCount: 4,
        seatMode: "request",
      });
    });
    await l.evaluate(async () => {
      window.t.room = await window.t.client.joinAudioRoom({ identity: "l", roomName: "club" });
    });
    const early = await l.evaluate(() =>
      window.t.room.takeSeat(1).then(
        () => "sat",
        (e: { statusCode: number; code: string }) => `${e.statusCode} ${e.code}`,
      ),
    );
    expect(early).toBe("403 forbidden");
    const requestId = await l.evaluate(async () => (await window.t.room.requestToSpeak()).requestId as number);
    await until("the host to see the request", async () =>
      h.evaluate((id) => window.t.room.speakEvents.value?.requestId === id, requestId),
    );
    await h.evaluate((id) => window.t.room.approveSpeaker(id), requestId);
    await l.evaluate(() => window.t.room.takeSeat(1));
    expect(await l.evaluate(() => window.t.room.canPublish.value)).toBe(true);
    await until("the host to receive the speaker's audio", () => hasTrackFrom(h, "room", "l", "audio"));
    expect(await h.evaluate(() => window.t.room.seats.value?.seats[1]?.identity)).toBe("l");
    // Audio only, whatever the client tries.
    const camera = await l.evaluate(() =>
      window.t.room.room.setCamera(true).then(
        () => "published",
        (e: Error) => e.message,
      ),
    );
    expect(camera).not.toBe("published");

    await l.evaluate(() => window.t.room.leaveSeat());
    await until("the speaker's track to go", async () => !(await hasTrackFrom(h, "room", "l", "audio")));
  });
});
