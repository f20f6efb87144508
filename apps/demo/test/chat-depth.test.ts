import { describe, it } from "vitest";
import { demoSuite, openDemo, shot, signIn } from "./harness.js";

// Threads, mentions (with autocomplete), block and report in the demo page, in real Chromium.
describe("demo page: chat depth", () => {
  const suite = demoSuite();

  it("mention autocomplete and badge, a thread reply, report and block", async (ctx) => {
    if (!suite.ready) return ctx.skip();
    const { browser, engine } = suite;
    const a = await openDemo(browser, engine.url);
    await signIn(a.page, "erin");
    const b = await openDemo(browser, engine.url);
    await signIn(b.page, "frank");
    const erin = a.page;
    const frank = b.page;

    // Erin types "@fr": the member list suggests frank; a click completes the mention.
    await erin.locator('[data-testid="person"][data-identity="frank"] [data-testid="chat-with"]').click();
    await erin.getByTestId("composer").pressSequentially("hello @fr", { delay: 20 });
    await erin.locator('[data-testid="mention-suggestion"]', { hasText: "@frank" }).click();
    await erin.getByTestId("composer").pressSequentially("ship it?");
    await erin.getByTestId("send").click();
    await erin.locator('[data-testid="message-text"]', { hasText: "hello @frank ship it?" }).waitFor();

    // Frank sees the mention badge, opens the conversation, replies in the thread.
    const row = frank.locator('[data-testid="conversation"][data-title="erin"]');
    await row.locator('[data-testid="mentions"]').waitFor();
    await shot(frank, "20-mention-badge-frank");
    await row.locator("button").click();
    await frank.locator('[data-testid="message"][data-seq="1"] [data-testid="open-thread"]').click();
    await frank.getByTestId("thread-composer").fill("yes, after lunch");
    await frank.getByTestId("thread-send").click();
    await frank.locator('[data-testid="thread-reply"]', { hasText: "yes, after lunch" }).waitFor();

    // Erin's message shows the reply count; her thread view shows the reply.
    const open = erin.locator('[data-testid="message"][data-seq="1"] [data-testid="open-thread"]', { hasText: "1" });
    await open.waitFor();
    await open.click();
    await erin.locator('[data-testid="thread-reply"]', { hasText: "yes, after lunch" }).waitFor();
    await shot(erin, "21-thread-erin");

    // Frank reports Erin's message, then blocks her.
    frank.once("dialog", (d) => void d.accept("spam"));
    await frank.locator('[data-testid="message"][data-seq="1"] [data-testid="report"]').click();
    await frank.getByTestId("block").filter({ hasText: "Block" }).click();
    await frank.getByTestId("block").filter({ hasText: "Unblock" }).waitFor();
    await shot(frank, "22-blocked-frank");
    await a.ctx.close();
    await b.ctx.close();
  });
});
