import { describe, expect, it } from "vitest";
import { demoSuite, openDemo, shot, signIn } from "./harness.js";

// The "Watch together" tab: a signalling room (UTDSignaling.room) in real Chromium, two and then three people.
describe("demo page: watch together (signalling rooms)", () => {
  const suite = demoSuite();

  it("members appear in each other's list; play and pause reach the others; a late joiner is synced; leaving shows", async (ctx) => {
    if (!suite.ready) return ctx.skip();
    const { browser, engine } = suite;
    const open = async (name: string) => {
      const p = await openDemo(browser, engine.url);
      await signIn(p.page, name);
      await p.page.getByTestId("tab-watch").click();
      await p.page.getByTestId("watch-room").fill("film-club");
      await p.page.getByTestId("watch-join").click();
      await p.page.getByTestId("watch-status").waitFor();
      return p;
    };
    const a = await open("wally");
    const b = await open("wanda");
    const member = (page: typeof a.page, id: string) => page.locator(`[data-testid="watch-member"][data-identity="${id}"]`);
    await member(a.page, "wanda").waitFor();
    await member(b.page, "wally").waitFor();

    await a.page.getByTestId("watch-play").click();
    await b.page.locator('[data-testid="watch-status"][data-playing="true"][data-by="wally"]').waitFor();
    await shot(b.page, "watch-01-playing-wanda");
    await b.page.getByTestId("watch-pause").click();
    await a.page.locator('[data-testid="watch-status"][data-playing="false"][data-by="wanda"]').waitFor();
    expect(await a.page.getByTestId("watch-status").textContent()).toContain("wanda paused");

    // A late joiner is told where the party is by the member who has been there longest.
    const c = await open("walt");
    await c.page.locator('[data-testid="watch-status"][data-playing="false"][data-by="wanda"]').waitFor();
    expect(await c.page.getByTestId("watch-member").count()).toBe(3);
    await shot(c.page, "watch-02-late-joiner");

    await b.page.getByTestId("watch-leave").click();
    await member(a.page, "wanda").waitFor({ state: "detached" });
    await member(c.page, "wanda").waitFor({ state: "detached" });
    for (const p of [a, b, c]) await p.ctx.close();
  });
});
