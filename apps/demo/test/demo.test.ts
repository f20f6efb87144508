import { describe, expect, it } from "vitest";
import { demoSuite, openDemo, png, shot, signIn } from "./harness.js";

// The page `npm start` serves, driven in real Chromium: two browser contexts are two people.
describe("demo page (no LiveKit)", () => {
  const suite = demoSuite();

  it("two people sign in and see each other online", async (ctx) => {
    if (!suite.ready) return ctx.skip();
    const { browser, engine } = suite;
    const a = await openDemo(browser, engine.url);
    await signIn(a.page, "alice");
    const b = await openDemo(browser, engine.url);
    await signIn(b.page, "bob");
    await a.page.locator('[data-testid="person"][data-identity="bob"][data-status="online"]').waitFor();
    await b.page.locator('[data-testid="person"][data-identity="alice"][data-status="online"]').waitFor();
    await shot(a.page, "01-presence-alice");
    await b.ctx.close();
    // Bob's window closed: Alice sees him go offline with a last-seen time.
    await a.page.locator('[data-testid="person"][data-identity="bob"][data-status="offline"]').waitFor({ timeout: 20_000 });
    expect(await a.page.locator('[data-identity="bob"] [data-testid="presence"]').textContent()).toMatch(/Last seen|Offline/);
    await a.ctx.close();
  });
  it("chat: unread badge, typing indicator, read receipt, an inline image, a send while offline, history after a reload, a group", async (ctx) => {
    if (!suite.ready) return ctx.skip();
    const { browser, engine } = suite;
    const a = await openDemo(browser, engine.url);
    await signIn(a.page, "carol");
    const b = await openDemo(browser, engine.url);
    await signIn(b.page, "dave");
    const carol = a.page;
    const dave = b.page;

    // Carol opens the direct conversation with Dave from the people list and writes.
    await carol.locator('[data-testid="person"][data-identity="dave"] [data-testid="chat-with"]').click();
    await carol.getByTestId("composer").fill("Hello Dave!");
    await carol.getByTestId("send").click();
    await carol.locator('[data-testid="message"][data-sender="carol"][data-seq="1"]').waitFor();

    // Dave sees the conversation with one unread message, then opens it.
    const row = dave.locator('[data-testid="conversation"][data-title="carol"]');
    await row.locator('[data-testid="unread"]', { hasText: "1" }).waitFor();
    await shot(dave, "02-chat-unread-dave");
    await row.locator("button").click();
    await dave.locator('[data-testid="message-text"]', { hasText: "Hello Dave!" }).waitFor();
    expect(await row.locator('[data-testid="unread"]').count()).toBe(0);

    // Dave read it: Carol's message carries the receipt.
    await carol.locator('[data-testid="message"][data-seq="1"] [data-testid="receipt"]').waitFor();

    // Dave types: Carol sees the indicator; it clears when he sends.
    await dave.getByTestId("composer").pressSequentially("Hi Car", { delay: 20 });
    await carol.getByTestId("typing").filter({ hasText: "dave" }).waitFor();
    await shot(carol, "03-chat-typing-receipt-carol");
    await dave.getByTestId("composer").pressSequentially("ol");
    await dave.getByTestId("send").click();
    await carol.locator('[data-testid="message-text"]', { hasText: "Hi Carol" }).waitFor();
    await expect.poll(() => carol.getByTestId("typing").textContent(), { timeout: 15_000 }).toBe("");

    // An image: uploaded by Carol, shown inline (decoded) on both sides.
    await carol.getByTestId("image-input").setInputFiles({ name: "red.png", mimeType: "image/png", buffer: png(48, 32, [220, 30, 30]) });
    for (const p of [carol, dave]) {
      const img = p.locator('[data-testid="message"][data-seq="3"] [data-testid="inline-image"]');
      await img.waitFor();
      await p.waitForFunction(() => {
        const el = document.querySelector<HTMLImageElement>('[data-testid="message"][data-seq="3"] [data-testid="inline-image"]');
        return Boolean(el?.complete && el.naturalWidth === 48);
      });
    }
    await shot(dave, "04-chat-image-dave");

    // A message written while the network is down is sent once it is back, exactly once.
    await carol.context().setOffline(true);
    await carol.getByTestId("composer").fill("sent while offline");
    await carol.getByTestId("send").click();
    await carol.locator('[data-testid="message"].pending').waitFor();
    await carol.context().setOffline(false);
    await dave.locator('[data-testid="message-text"]', { hasText: "sent while offline" }).waitFor({ timeout: 30_000 });

    // A reload keeps the sign-in and the history.
    await dave.reload();
    await dave.locator('[data-testid="connection"][data-state="connected"]').waitFor();
    await dave.locator('[data-testid="conversation"][data-title="carol"] button').click();
    await dave.locator('[data-testid="message"]').nth(2).waitFor();
    await dave.locator('[data-testid="message"]').nth(3).waitFor();
    expect(await dave.locator('[data-testid="message-text"]').allTextContents()).toEqual(["Hello Dave!", "Hi Carol", "sent while offline"]);

    // A group: Carol creates it with Dave; Dave sees it arrive with an unread message.
    await carol.getByTestId("group-name").fill("Team");
    await carol.getByTestId("group-members").fill("dave");
    await carol.getByTestId("create-group").click();
    await carol.getByTestId("conversation-title").filter({ hasText: "Team" }).waitFor();
    await carol.getByTestId("composer").fill("Hello team");
    await carol.getByTestId("send").click();
    await dave.locator('[data-testid="conversation"][data-title="Team"] [data-testid="unread"]', { hasText: "1" }).waitFor();
    await a.ctx.close();
    await b.ctx.close();
  }, 90_000);

  it("history pages back: a long conversation opens on its latest 30 messages and loads the older ones", async (ctx) => {
    if (!suite.ready) return ctx.skip();
    const { browser, engine } = suite;
    const cfg = (await (await fetch(`${engine.url}/demo/config.json`)).json()) as { app_id: string; app_key: string };
    const erin = await engine.session({ ...cfg, app_secret: "" }, "erin");
    await engine.session({ ...cfg, app_secret: "" }, "frank");
    const conv = await engine.request<{ id: string }>("POST", "/api/v1/conversations", {
      token: erin.user_token,
      body: { kind: "direct", members: ["frank"] },
    });
    expect(conv.status).toBe(201);
    for (let i = 1; i <= 45; i++) {
      const r = await engine.request("POST", `/api/v1/conversations/${conv.body.id}/messages`, {
        token: erin.user_token,
        body: { client_msg_id: `h${i}`, text: `m${i}` },
      });
      expect(r.status).toBe(201);
    }
    const b = await openDemo(browser, engine.url);
    await signIn(b.page, "frank");
    await b.page.locator('[data-testid="conversation"][data-title="erin"] button').click();
    await b.page.locator('[data-testid="message"][data-seq="45"]').waitFor();
    await expect.poll(() => b.page.locator('[data-testid="message"]').count()).toBe(30);
    expect(await b.page.locator('[data-testid="message-text"]').first().textContent()).toBe("m16");
    await b.page.getByTestId("load-more").click();
    await b.page.locator('[data-testid="message"][data-seq="1"]').waitFor();
    await expect.poll(() => b.page.locator('[data-testid="message"]').count()).toBe(45);
    expect(await b.page.locator('[data-testid="message-text"]').first().textContent()).toBe("m1");
    await shot(b.page, "05-chat-history-paged-frank");
    await b.ctx.close();
  }, 60_000);

  it("a call rings without LiveKit: accepted, the panel says how to enable media, hang-up ends it for both", async (ctx) => {
    if (!suite.ready) return ctx.skip();
    const { browser, engine } = suite;
    const a = await openDemo(browser, engine.url);
    await signIn(a.page, "gina");
    const b = await openDemo(browser, engine.url);
    await signIn(b.page, "hugo");
    await a.page.locator('[data-testid="person"][data-identity="hugo"][data-status="online"] [data-testid="audio-call"]').click();
    await b.page.locator('[data-testid="incoming-call"][data-caller="gina"] [data-testid="accept-call"]').click();
    for (const p of [a.page, b.page]) {
      await p.locator('[data-testid="call-status"][data-status="active"]').waitFor();
      await p.locator('[data-testid="call-panel"] [data-testid="media-off"]').waitFor();
    }
    await shot(b.page, "05-call-without-livekit");
    await b.page.getByTestId("hang-up").click();
    for (const p of [a.page, b.page]) await p.locator('[data-testid="call-status"][data-status="ended"]').waitFor();
    await a.ctx.close();
    await b.ctx.close();
  });

  it("Urdu renders right-to-left with translated strings", async (ctx) => {
    if (!suite.ready) return ctx.skip();
    const { browser, engine } = suite;
    const { ctx: c, page } = await openDemo(browser, `${engine.url}/?lang=ur`);
    await page.getByTestId("signin").waitFor();
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual(["ur", "rtl"]);
    expect(await page.getByTestId("signin-button").textContent()).toBe("سائن اِن");
    await signIn(page, "zainab");
    // Laid out right to left: the people column sits on the right of the content.
    const side = await page.locator("aside.side").boundingBox();
    const content = await page.locator(".content").boundingBox();
    expect(side && content && side.x > content.x).toBe(true);
    // Without LiveKit the media tabs explain how to enable it, in Urdu.
    await page.getByTestId("tab-live").click();
    await page.getByTestId("media-off").waitFor();
    expect(await page.getByTestId("media-off").textContent()).toContain("LiveKit");
    await shot(page, "07-urdu-rtl");
    // The switch goes back to English.
    await page.getByTestId("lang").click();
    await page.waitForFunction(() => document.documentElement.dir === "ltr");
    await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
    expect(await page.getByTestId("me").textContent()).toBe("Signed in as zainab");
    await c.close();
  });
  it("a capability off for the app shows an upsell, not a raw error", async (ctx) => {
    if (!suite.ready) return ctx.skip();
    const { browser, engine } = suite;
    // Chat off (the "signaling" plan): the chat tab explains the plan; presence still works.
    const created = await engine.admin<{ app_id: string; app_key: string }>("POST", "/admin/v1/apps", {
      name: "no chat",
      plan: "signaling",
    });
    expect(created.status).toBe(201);
    const { app_id, app_key } = created.body;
    const q = `?app_id=${app_id}&app_key=${app_key}`;
    const a = await openDemo(browser, `${engine.url}/${q}`);
    await signIn(a.page, "erin");
    await a.page.getByTestId("upsell").filter({ hasText: "Chat is off" }).waitFor();
    expect(await a.page.getByTestId("error").count()).toBe(0);
    await shot(a.page, "09-upsell-chat-off");
    await a.ctx.close();

    // Signalling off: signing in explains it instead of failing with a code.
    expect((await engine.admin("PATCH", `/admin/v1/apps/${app_id}`, { signaling_enabled: false })).status).toBe(200);
    const b = await openDemo(browser, `${engine.url}/${q}`);
    await b.page.getByTestId("name").fill("frank");
    await b.page.getByTestId("signin-button").click();
    await b.page.getByTestId("upsell").waitFor();
    expect(await b.page.getByTestId("upsell").textContent()).toContain("Signalling");
    await b.ctx.close();
  });
});
