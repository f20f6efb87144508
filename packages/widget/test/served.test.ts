import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumOrSkip, launchChromium } from "../../../test/helpers/browser.js";
import { type RunningEngine, startEngine } from "../../../test/helpers/engine.js";
import { buildBrowser } from "../scripts/build-browser.mjs";

/** The engine serves the widget's browser build and the operator inbox at /widget/, same origin as its API. */
describe.skipIf(!chromiumOrSkip("widget asset browser tests"))("widget assets served by the engine", () => {
  let engine: RunningEngine;
  let browser: Browser;
  beforeAll(async () => {
    await buildBrowser();
    engine = await startEngine();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await engine?.stop();
  });

  it("serves utd-widget.js and an operator inbox that works against the engine (open-mode app)", async () => {
    const js = await fetch(`${engine.url}/widget/utd-widget.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toContain("javascript");
    expect(await js.text()).toContain("utd-chat-widget");
    const missing = await engine.request<{ error: { code: string } }>("GET", "/widget/nope.js");
    expect(missing.status).toBe(404);

    const app = await engine.createApp({ auth_mode: "open" });
    await engine.admin("POST", `/admin/v1/apps/${app.app_id}/operators`, { identity: "olga" });
    const vera = (await engine.session(app, "vera")).user_token;
    const conv = (await engine.request<{ id: string }>("POST", "/api/v1/support/conversations", { token: vera, body: {} })).body;
    await engine.request("POST", `/api/v1/support/conversations/${conv.id}/messages`, {
      token: vera,
      body: { client_msg_id: "a", text: "hello?" },
    });

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${engine.url}/widget/operator.html?app_id=${app.app_id}&app_key=${app.app_key}`);
    await page.click("#signin");
    await page.waitForSelector("#me[data-operator=true]");
    await page.locator("#queue button", { hasText: "vera" }).click();
    await page.locator("#log li", { hasText: "hello?" }).waitFor();
    await page.click("#claim");
    await page.waitForSelector("#state[data-state=assigned]");
    await page.fill("#text", "hi vera, olga here");
    await page.press("#text", "Enter");
    await page.locator("#log li.mine", { hasText: "hi vera, olga here" }).waitFor();
    const history = await engine.request<{ messages: { sender: string; text: string }[] }>(
      "GET",
      `/api/v1/conversations/${conv.id}/messages`,
      {
        token: vera,
      },
    );
    expect(history.body.messages.map((m) => [m.sender, m.text])).toEqual([
      ["vera", "hello?"],
      ["olga", "hi vera, olga here"],
    ]);
    expect(errors).toEqual([]);
  }, 60_000);
});
