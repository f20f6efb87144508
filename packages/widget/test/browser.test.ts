import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumOrSkip, launchChromium } from "../../../test/helpers/browser.js";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { type ExampleServer, startExampleServer } from "../examples/server.js";

const ENV = {
  UTD_RATE_REQUESTS_USER: "100000/100000",
  UTD_RATE_REQUESTS_APP: "100000/100000",
  UTD_RATE_SESSION_IDENTITY: "100000/100000",
  UTD_RATE_SESSION_APP: "100000/100000",
};

type HostEvent = { type: string; data: { id?: string; text?: string; sender?: string; conversationId?: string; closedBy?: string } };

// What examples/host.ts puts on the page's window.
declare global {
  interface Window {
    hostEvents: HostEvent[];
    UTDWidget: typeof import("../src/index.js");
  }
}

/**
 * The Livecaller experience end to end in real Chromium: the host page and the operator inbox from
 * packages/widget/examples, against a real engine (signed mode: the visitor logs in with a JWT).
 */
describe.skipIf(!chromiumOrSkip("widget browser tests"))("live chat widget, event bus and operator inbox in Chromium", () => {
  let engine: RunningEngine;
  let app: TestApp;
  let site: ExampleServer;
  let browser: Browser;
  let visitorCtx: BrowserContext;
  let operatorCtx: BrowserContext;

  beforeAll(async () => {
    engine = await startEngine({ env: ENV });
    app = await engine.createApp({ auth_mode: "signed" });
    expect((await engine.admin("POST", `/admin/v1/apps/${app.app_id}/operators`, { identity: "olga" })).status).toBe(200);
    site = await startExampleServer({ engineUrl: engine.url, appId: app.app_id, appKey: app.app_key, appSecret: app.app_secret });
    browser = await launchChromium();
    visitorCtx = await browser.newContext();
    operatorCtx = await browser.newContext();
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await engine?.stop();
  });

  const events = (page: Page) => page.evaluate(() => window.hostEvents);
  const received = async (page: Page) =>
    (await events(page)).filter((e) => e.type === "conversationMessageReceived").map((e) => e.data.text);
  const waitEvent = (page: Page, type: string, pred = "true") =>
    page.waitForFunction(`window.hostEvents.some((e) => e.type === ${JSON.stringify(type)} && (${pred}))`, undefined, { timeout: 15_000 });
  const step = (name: string) => {
    if (process.env.UTD_DEBUG) process.stderr.write(`step: ${name}\n`);
  };
  const widgetState = (page: Page) => page.locator("utd-chat-widget .root").getAttribute("data-state");

  it("visitor writes → operator claims and replies → widget closed, reply heard once → reload resumes → expired token → operator closes → Urdu is RTL", async () => {
    const visitor = await visitorCtx.newPage();
    const errors: string[] = [];
    visitor.on("pageerror", (e) => errors.push(e.message));
    if (process.env.UTD_DEBUG) visitor.on("console", (m) => process.stderr.write(`[visitor] ${m.text()}\n`));
    await visitor.goto(`${site.url}/host.html`);
    await visitor.waitForFunction(() => typeof window.UTDWidget === "object");
    // Before any login the background listener is a no-op.
    expect(await visitor.evaluate(() => window.UTDWidget.startBackgroundEvents())).toBe(false);

    // --- the visitor logs in with a backend-issued JWT, opens the widget and writes (with an attachment).
    step("the visitor logs in with a backend-issue");
    await visitor.click("#login");
    await visitor.waitForFunction(() => document.getElementById("who")?.textContent === "signed in as vera");
    await visitor.click("#open");
    const widget = visitor.locator("utd-chat-widget");
    await expect.poll(() => widgetState(visitor)).toBe("ready");
    expect(await widget.locator("textarea").getAttribute("placeholder")).toBe("Type a message…");
    // The attach button is an inline SVG paperclip with an accessible name, not a font glyph.
    expect(await widget.locator("label.attach svg path").count()).toBe(1);
    expect(await widget.locator("label.attach").getAttribute("aria-label")).toBe("Attach a file");
    expect((await widget.locator("label.attach").textContent())?.trim()).toBe("");
    await widget.locator("textarea").fill("Hello, my order is late");
    await widget.locator("textarea").press("Enter");
    await expect.poll(() => widgetState(visitor)).toBe("queued");
    await waitEvent(visitor, "conversationWasStarted");
    await widget
      .locator("input[type=file]")
      .setInputFiles({ name: "receipt.png", mimeType: "image/png", buffer: Buffer.from("89504e470d0a1a0a", "hex") });
    await widget.locator("textarea").fill("here is the receipt");
    await widget.locator("button[type=submit]").click();
    await expect.poll(() => widget.locator("li.msg.mine").count()).toBe(2);
    expect(await widget.locator("li.msg.mine .attachment.image img").getAttribute("alt")).toBe("receipt.png");

    // --- the operator signs in, sees the queue, claims, replies to the visitor's first message.
    step("the operator signs in, sees the queue, c");
    const operator = await operatorCtx.newPage();
    operator.on("pageerror", (e) => errors.push(e.message));
    await operator.goto(`${site.url}/operator.html`);
    await operator.click("#signin");
    await operator.waitForSelector("#me[data-operator=true]");
    const row = operator.locator("#queue button", { hasText: "vera" });
    await row.waitFor();
    expect(await row.getAttribute("data-state")).toBe("queued");
    await row.click();
    await operator.locator("#log li", { hasText: "Hello, my order is late" }).waitFor();
    await operator.locator("#log li a.attachment", { hasText: "receipt.png" }).waitFor();
    // Still queued: what the visitor writes now reaches the team's inbox live.
    await widget.locator("textarea").fill("are you there?");
    await widget.locator("textarea").press("Enter");
    await operator.locator("#log li", { hasText: "are you there?" }).waitFor();
    await operator.click("#claim");
    await operator.waitForSelector("#state[data-state=assigned]");
    await expect.poll(() => widgetState(visitor)).toBe("assigned");
    expect(await widget.locator(".status").textContent()).toBe("You're chatting with olga");
    // Typing and read state reach the widget; timestamps are relative and locale-aware.
    await operator.locator("#text").pressSequentially("Let me");
    await widget.locator(".typing", { hasText: "olga is typing…" }).waitFor();
    await operator.fill("#text", "");
    await operator.locator("#queue button", { hasText: "vera" }).click(); // opening it marks it read
    await widget.locator("li.msg.mine .seen").waitFor();
    expect(await widget.locator("li.msg.mine time").first().textContent()).toBe("now");

    // Offline: the message waits, marked failed; back online it goes out once (same client id).
    await visitorCtx.setOffline(true);
    await widget.locator("textarea").fill("sent while offline");
    await widget.locator("textarea").press("Enter");
    await widget.locator("li.pending.failed button.retry").waitFor();
    await visitorCtx.setOffline(false);
    await operator.locator("#log li", { hasText: "sent while offline" }).waitFor();
    await expect.poll(() => widget.locator("li.pending").count()).toBe(0);
    expect(await widget.locator("li.msg.mine", { hasText: "sent while offline" }).count()).toBe(1);

    // The visitor closes the widget; the host page keeps listening through the background listener.
    await visitor.evaluate(() => window.UTDWidget.startBackgroundEvents());
    await widget.locator("button.close").click();
    expect(await visitor.locator("utd-chat-widget").count()).toBe(0);

    await operator.locator("#log li", { hasText: "Hello, my order is late" }).locator("footer button").click();
    await operator.fill("#text", "Sorry! Checking it now");
    await operator.press("#text", "Enter");
    await operator.fill("#text", "It ships today");
    await operator.press("#text", "Enter");
    await waitEvent(visitor, "conversationMessageReceived", "e.data.text === 'It ships today'");
    // Exactly once each, in order, and never the visitor's own messages.
    expect(await received(visitor)).toEqual(["Sorry! Checking it now", "It ships today"]);
    const started = (await events(visitor)).filter((e) => e.type === "conversationWasStarted");
    expect(started).toHaveLength(1);
    const conversationId = started[0]?.data.id as string;

    // Re-opening the widget shows the history (with the reply quote) without announcing anything again.
    await visitor.click("#open");
    await widget.locator("li.msg.theirs", { hasText: "It ships today" }).waitFor();
    expect(await widget.locator("li.msg.theirs", { hasText: "Sorry! Checking it now" }).locator(".quote").textContent()).toBe(
      "Hello, my order is late",
    );
    await operator.fill("#text", "sync 1");
    await operator.press("#text", "Enter");
    await waitEvent(visitor, "conversationMessageReceived", "e.data.text === 'sync 1'");
    expect(await received(visitor)).toEqual(["Sorry! Checking it now", "It ships today", "sync 1"]);

    // --- the page goes away; a reply arrives meanwhile; the page comes back (then a plain reload):
    step("the page goes away; a reply arrives mean");
    // the background listener resumes from the stored session with no new login.
    const mintsBefore = site.stats.sessionMints;
    await visitor.goto("about:blank");
    await operator.fill("#text", "written while you were away");
    await operator.press("#text", "Enter");
    await operator.locator("#log li", { hasText: "written while you were away" }).waitFor();
    await visitor.goto(`${site.url}/host.html`);
    await waitEvent(visitor, "conversationMessageReceived", "e.data.text === 'written while you were away'");
    expect(await received(visitor)).toEqual(["written while you were away"]); // nothing older again
    await visitor.reload();
    await visitor.waitForFunction(() => typeof window.UTDWidget === "object");
    await visitor.waitForFunction(() => document.getElementById("who")?.textContent === "signed in as vera");
    await operator.fill("#text", "after the reload");
    await operator.press("#text", "Enter");
    await waitEvent(visitor, "conversationMessageReceived", "e.data.text === 'after the reload'");
    expect(await received(visitor)).toEqual(["after the reload"]);
    expect(site.stats.sessionMints).toBe(mintsBefore);

    // --- an expired token: the stored JWT is expired and the user token revoked → conversationAuthFailed.
    step("an expired token: the stored JWT is expi");
    await visitor.goto(`${site.url}/host.html?boot=0`);
    await visitor.waitForFunction(() => typeof window.UTDWidget === "object");
    const stored = await visitor.evaluate(() => localStorage.getItem("utd-stream.livechat.session"));
    const session = JSON.parse(stored as string) as { userToken: string; identityToken: string };
    session.identityToken = site.jwt("vera", -60);
    await visitor.evaluate((s) => localStorage.setItem("utd-stream.livechat.session", s), JSON.stringify(session));
    expect((await engine.request("POST", "/api/v1/auth/revoke", { token: session.userToken })).status).toBe(200);
    await visitor.evaluate(() => window.UTDWidget.startBackgroundEvents());
    await waitEvent(visitor, "conversationAuthFailed");
    const failed = (await events(visitor)).find((e) => e.type === "conversationAuthFailed");
    expect(failed?.data.conversationId).toBe(conversationId);
    // The SDK already dropped the stored session.
    expect(await visitor.evaluate(() => localStorage.getItem("utd-stream.livechat.session"))).toBeNull();

    // --- the host logs in again; the operator closes; the visitor sees conversationWasClosed.
    step("the host logs in again; the operator clo");
    await visitor.click("#login");
    await waitEvent(visitor, "conversationWasStarted", `e.data.id === ${JSON.stringify(conversationId)}`);
    await visitor.click("#open");
    await expect.poll(() => widgetState(visitor)).toBe("assigned");
    await operator.click("#close");
    await waitEvent(visitor, "conversationWasClosed");
    const closed = (await events(visitor)).filter((e) => e.type === "conversationWasClosed");
    expect(closed).toEqual([{ type: "conversationWasClosed", data: { id: conversationId, closedBy: "olga" } }]);
    await expect.poll(() => widgetState(visitor)).toBe("closed");
    // Nothing from the old conversation was announced again after the re-login.
    expect(await received(visitor)).toEqual([]);

    // --- Urdu renders right to left (and English left to right).
    step("Urdu renders right to left (and English ");
    expect(await widget.locator(".root").getAttribute("dir")).toBe("ltr");
    await visitor.selectOption("#lang", "ur");
    await expect.poll(() => widget.locator(".root").getAttribute("dir")).toBe("rtl");
    expect(await widget.locator(".root").evaluate((el) => getComputedStyle(el).direction)).toBe("rtl");
    expect(await widget.locator("h2").textContent()).toBe("ہم سے بات کریں");
    expect(await widget.locator("textarea").getAttribute("placeholder")).toBe("پیغام لکھیں…");
    expect(await widget.locator(".status").textContent()).toContain("یہ گفتگو ختم ہو گئی ہے۔");

    // --- a logout in one tab signs the other tabs of the origin out too.
    const tab2 = await visitorCtx.newPage();
    await tab2.goto(`${site.url}/host.html`);
    await tab2.waitForFunction(() => document.getElementById("who")?.textContent === "signed in as vera");
    await visitor.click("#logout");
    await tab2.waitForFunction(() => window.UTDWidget.liveChat().connection.value === "signed_out");
    expect(await tab2.evaluate(() => localStorage.getItem("utd-stream.livechat.session"))).toBeNull();

    expect(errors).toEqual([]);
  }, 120_000);

  it("a visitor banned while the page is open: conversationAuthFailed, the stored session dropped, the chat shown unavailable", async () => {
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${site.url}/host.html`);
      await page.waitForFunction(() => typeof window.UTDWidget === "object");
      await page.fill("#identity", "troll");
      await page.click("#login");
      await page.waitForFunction(() => document.getElementById("who")?.textContent === "signed in as troll");
      await page.click("#open");
      const widget = page.locator("utd-chat-widget");
      await expect.poll(() => widgetState(page)).toBe("ready");
      await widget.locator("textarea").fill("spam spam spam");
      await widget.locator("textarea").press("Enter");
      await waitEvent(page, "conversationWasStarted");
      const conversationId = (await events(page)).find((e) => e.type === "conversationWasStarted")?.data.id;

      expect((await engine.admin("POST", `/admin/v1/apps/${app.app_id}/bans`, { identity: "troll", reason: "spam" })).status).toBe(200);
      await waitEvent(page, "conversationAuthFailed");
      const failed = (await events(page)).filter((e) => e.type === "conversationAuthFailed");
      expect(failed).toHaveLength(1);
      expect(failed[0]?.data.conversationId).toBe(conversationId);
      expect(await page.evaluate(() => localStorage.getItem("utd-stream.livechat.session"))).toBeNull();
      await expect.poll(() => widgetState(page)).toBe("unavailable");
      expect(await widget.locator(".status").textContent()).toBe("Chat is not available.");
      expect(await widget.locator("textarea").isDisabled()).toBe(true);
      // It stays that way: no reconnect loop brings it back.
      await page.waitForTimeout(1500);
      expect(await page.evaluate(() => window.UTDWidget.liveChat().connection.value)).toBe("unavailable");
      // Logging in again is refused (banned) and keeps the chat unavailable.
      await page.click("#login");
      await page.waitForTimeout(500);
      expect(await widgetState(page)).toBe("unavailable");
      expect(errors.filter((e) => !/banned/.test(e))).toEqual([]);
    } finally {
      await ctx.close();
    }
  }, 60_000);
});
