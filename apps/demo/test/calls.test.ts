import type { Page } from "playwright-core";
import { describe, it } from "vitest";
import { demoSuite, openDemo, shot, signIn } from "./harness.js";

// Call outcomes as the page shows them (no LiveKit needed: ringing is signalling only).
describe("demo page: busy, missed and answered elsewhere", () => {
  const suite = demoSuite({ UTD_CALL_RING_TIMEOUT_S: "2" });

  const ring = async (caller: Page, callee: string) =>
    caller.locator(`[data-testid="person"][data-identity="${callee}"][data-status="online"] [data-testid="audio-call"]`).click();

  it("the callee answers busy: the caller's panel says busy", async (ctx) => {
    if (!suite.ready) return ctx.skip();
    const { browser, engine } = suite;
    const a = await openDemo(browser, engine.url);
    await signIn(a.page, "ines");
    const b = await openDemo(browser, engine.url);
    await signIn(b.page, "jon");
    await ring(a.page, "jon");
    await b.page.locator('[data-testid="incoming-call"][data-caller="ines"] [data-testid="busy-call"]').click();
    await a.page.locator('[data-testid="call-status"][data-status="busy"]').waitFor();
    await b.page.locator('[data-testid="incoming-call"]').waitFor({ state: "detached" });
    await shot(a.page, "06-call-busy-caller");
    await a.ctx.close();
    await b.ctx.close();
  });

  it("the callee's ringing acknowledgement may overtake the caller's own invite answer: the caller still shows ringing", async (ctx) => {
    if (!suite.ready) return ctx.skip();
    const { browser, engine } = suite;
    const a = await openDemo(browser, engine.url);
    await signIn(a.page, "olga");
    const b = await openDemo(browser, engine.url);
    await signIn(b.page, "pete");
    // Hold Olga's invite response back until Pete's device has acknowledged: the event comes first.
    await a.page.route("**/api/v1/calls", async (route) => {
      const response = await route.fetch();
      await b.page.locator('[data-testid="incoming-call"][data-caller="olga"]').waitFor();
      await new Promise((r) => setTimeout(r, 500));
      await route.fulfill({ response });
    });
    await ring(a.page, "pete");
    await a.page.locator('[data-testid="call-status"][data-status="ringing"]').waitFor();
    await a.ctx.close();
    await b.ctx.close();
  });

  it("nobody answers within the ring timeout: missed for the caller, a missed-call notice for the callee", async (ctx) => {
    if (!suite.ready) return ctx.skip();
    const { browser, engine } = suite;
    const a = await openDemo(browser, engine.url);
    await signIn(a.page, "kim");
    const b = await openDemo(browser, engine.url);
    await signIn(b.page, "lea");
    await ring(a.page, "lea");
    await b.page.locator('[data-testid="incoming-call"][data-caller="kim"]').waitFor();
    await a.page.locator('[data-testid="call-status"][data-status="missed"]').waitFor({ timeout: 15_000 });
    await b.page.locator('[data-testid="incoming-call"]').waitFor({ state: "detached" });
    await b.page.getByTestId("toasts").getByText("Missed call from kim").waitFor();
    await shot(b.page, "07-call-missed-callee");
    await a.ctx.close();
    await b.ctx.close();
  });

  it("the callee has two devices: both ring, one accepts, the other is told it was answered elsewhere", async (ctx) => {
    if (!suite.ready) return ctx.skip();
    const { browser, engine } = suite;
    const a = await openDemo(browser, engine.url);
    await signIn(a.page, "max");
    const phone = await openDemo(browser, engine.url);
    await signIn(phone.page, "nora");
    const laptop = await openDemo(browser, engine.url);
    await signIn(laptop.page, "nora");
    await ring(a.page, "nora");
    for (const d of [phone, laptop]) await d.page.locator('[data-testid="incoming-call"][data-caller="max"]').waitFor();
    await phone.page.locator('[data-testid="incoming-call"][data-caller="max"] [data-testid="accept-call"]').click();
    await a.page.locator('[data-testid="call-status"][data-status="active"]').waitFor();
    await laptop.page.getByTestId("toasts").getByText("Answered on another device.").waitFor();
    await laptop.page.locator('[data-testid="incoming-call"]').waitFor({ state: "detached" });
    await shot(laptop.page, "08-call-answered-elsewhere");
    for (const c of [a, phone, laptop]) await c.ctx.close();
  });
});
