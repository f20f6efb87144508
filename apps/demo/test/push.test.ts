import type { CDPSession } from "playwright-core";
import { describe, expect, it } from "vitest";
import { buildRequest } from "../../../packages/engine/src/modules/push/payloads.js";
import { demoSuite, shot } from "./harness.js";

/**
 * The page's service worker and a Web Push message, in real Chromium. Chromium cannot subscribe offline
 * (pushManager.subscribe asks Google's push service), so the push is delivered over the DevTools protocol
 * (`ServiceWorker.deliverPushMessage`) with the payload the engine's Web Push sender encrypts for a call
 * (`buildRequest`, the same function), to a worker the page registered.
 */
describe("demo page: an incoming-call push shows a notification; Answer takes the call", () => {
  const suite = demoSuite();

  it("delivers a call push to the service worker, shows it, and Answer accepts the call", async (ctx) => {
    if (!suite.ready) return ctx.skip();
    const { browser, engine } = suite;
    const cfg = (await engine.request<{ app_id: string; app_key: string }>("GET", "/demo/config.json")).body;
    const app = { app_id: cfg.app_id, app_key: cfg.app_key, app_secret: "" };

    // Bob signs in once on this browser: the page registers its service worker.
    const bctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    bctx.setDefaultTimeout(15_000);
    await bctx.grantPermissions(["notifications"], { origin: engine.url });
    const page = await bctx.newPage();
    page.on("pageerror", (e) => process.stderr.write(`[page error] ${e.message}\n`));
    await page.goto(engine.url);
    await page.getByTestId("name").fill("bob");
    await page.getByTestId("signin-button").click();
    await page.getByTestId("me").waitFor();
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    const cdp: CDPSession = await bctx.newCDPSession(page);
    const registrations: { registrationId: string; scopeURL: string }[] = [];
    cdp.on("ServiceWorker.workerRegistrationUpdated", (e: { registrations: { registrationId: string; scopeURL: string }[] }) =>
      registrations.push(...e.registrations),
    );
    await cdp.send("ServiceWorker.enable");
    const deadline = Date.now() + 10_000;
    while (!registrations.some((r) => r.scopeURL.startsWith(engine.url)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const reg = registrations.find((r) => r.scopeURL.startsWith(engine.url));
    expect(reg).toBeDefined();

    // Bob signs out: nothing of his is connected when Alice calls.
    await page.getByTestId("signout").click();
    await page.getByTestId("name").waitFor();
    const alice = await engine.session(app, "alice");
    await engine.session(app, "bob");
    const call = (
      await engine.request<{ id: string; status: string }>("POST", "/api/v1/calls", {
        token: alice.user_token,
        body: { callee_identity: "bob", type: "audio_call" },
      })
    ).body;

    // The push the engine's Web Push sender would encrypt for Bob's browser.
    const req = buildRequest(
      {
        id: "push_test",
        app_id: cfg.app_id,
        platform: "web",
        kind: "call.incoming",
        collapse_key: call.id,
        data: JSON.stringify({
          call_id: call.id,
          call_type: "audio_call",
          caller_identity: "alice",
          title: "alice",
          body: "Incoming audio call",
        }),
        priority: "high",
        expires_at: Date.now() + 30_000,
      },
      "{}",
    );
    await cdp.send("ServiceWorker.deliverPushMessage", {
      origin: engine.url,
      registrationId: reg?.registrationId as string,
      data: JSON.stringify(req.web?.payload),
    });

    const [sw] = bctx.serviceWorkers();
    if (!sw) throw new Error("no service worker");
    const shown = await sw.evaluate(async () => {
      const g = self as unknown as { registration: ServiceWorkerRegistration };
      for (let i = 0; i < 100; i++) {
        const ns = await g.registration.getNotifications();
        if (ns.length > 0)
          return ns.map((n) => ({
            title: n.title,
            body: n.body,
            tag: n.tag,
            requireInteraction: n.requireInteraction,
            actions: (n as unknown as { actions: { action: string }[] }).actions.map((a) => a.action),
          }));
        await new Promise((r) => setTimeout(r, 50));
      }
      return [];
    });
    expect(shown).toEqual([
      { title: "alice", body: "Incoming audio call", tag: call.id, requireInteraction: true, actions: ["answer", "decline"] },
    ]);

    // "Answer" on the notification: the click event as the browser dispatches it, with the action.
    await sw.evaluate(async () => {
      const g = self as unknown as { registration: ServiceWorkerRegistration; dispatchEvent(e: Event): boolean };
      const [n] = await g.registration.getNotifications();
      const NE = (self as unknown as { NotificationEvent: new (t: string, i: unknown) => Event }).NotificationEvent;
      g.dispatchEvent(new NE("notificationclick", { notification: n, action: "answer" }));
    });
    // The page signs Bob in again and takes the call.
    await page.getByTestId("me").waitFor();
    await page.locator('[data-testid="call-status"][data-status="active"]').waitFor();
    const after = await engine.request<{ status: string }>("GET", `/api/v1/calls/${call.id}`, { token: alice.user_token });
    expect(after.body.status).toBe("active");
    await shot(page, "10-call-answered-from-notification");
    await bctx.close();
  }, 90_000);
});
