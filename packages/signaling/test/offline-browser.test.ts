import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, CHROMIUM_ARGS, chromiumOrSkip } from "../../../test/helpers/browser.js";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";

const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const ARTIFACTS = join(ROOT, "test-artifacts/offline");

/** A page that runs the chat SDK with its IndexedDB cache and shows one conversation's messages. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>offline chat</title><ol id="log"></ol>
<script type="module">
import { ChatSessionRegistry, IndexedDbChatStorage } from "/offline-test/sdk.js";
const cfg = JSON.parse(decodeURIComponent(location.hash.slice(1)));
const session = await new ChatSessionRegistry().getSession({
  appId: cfg.appId, userId: cfg.userId, token: cfg.token, baseUrl: cfg.baseUrl,
  offline: { storage: new IndexedDbChatStorage() },
});
const ref = session.conversation(cfg.conversationId);
ref.subscribeMessages((msgs) => {
  const log = document.getElementById("log");
  log.replaceChildren(...msgs.map((m) => {
    const li = document.createElement("li");
    li.textContent = m.text + (m.pending ? " (pending)" : "");
    li.dataset.pending = String(Boolean(m.pending));
    li.dataset.text = m.text;
    return li;
  }));
});
window.chat = { session, send: (t) => ref.send(t).catch(() => {}) };
</script>`;

// The offline test: DevTools network emulation offline, three sends, a reload (the page and the
// SDK come from the browser's routes, so the reload works offline; the engine is unreachable), pending
// messages shown from IndexedDB at once, then online: each delivered exactly once, in order.
describe("offline-first chat SDK in Chromium", () => {
  const ready = chromiumOrSkip("offline chat SDK in Chromium");
  let engine: RunningEngine;
  let app: TestApp;
  let browser: Browser;
  let sdk: string;

  beforeAll(async () => {
    if (!ready) return;
    engine = await startEngine({
      env: { UTD_RATE_REQUESTS_USER: "100000/100000", UTD_RATE_SESSION_IDENTITY: "100000/100000" },
    });
    app = await engine.createApp({ plan: "pro" });
    const out = await build({
      entryPoints: [join(ROOT, "packages/signaling/src/index.ts")],
      bundle: true,
      format: "esm",
      platform: "browser",
      conditions: ["development"],
      write: false,
      logLevel: "silent",
    });
    sdk = out.outputFiles[0]?.text ?? "";
    // A page served by a route counts as public address space: let it reach the engine on loopback.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        ...CHROMIUM_ARGS,
        "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessChecks",
      ],
      headless: true,
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await engine?.stop();
  });

  it("offline: send 3, reload, see them pending; online: delivered exactly once, in order", async (ctx) => {
    if (!ready) return ctx.skip();
    mkdirSync(ARTIFACTS, { recursive: true });
    const alice = (await engine.session(app, "alice")).user_token;
    const bob = (await engine.session(app, "bob")).user_token;
    const conv = (
      await engine.request<{ id: string }>("POST", "/api/v1/conversations", { token: alice, body: { kind: "direct", members: ["bob"] } })
    ).body.id;
    await engine.request("POST", `/api/v1/conversations/${conv}/messages`, {
      token: alice,
      body: { client_msg_id: "first", text: "online first" },
    });

    const bctx = await browser.newContext();
    // The page and the SDK are served by the browser's routes on the engine's origin (so the reload works
    // offline, and no cross-origin rules apply); only the engine's API goes over the network.
    const base = `${engine.url}/offline-test`;
    await bctx.route(`${base}/**`, (r) =>
      new URL(r.request().url()).pathname === "/offline-test/sdk.js"
        ? r.fulfill({ contentType: "text/javascript", body: sdk })
        : r.fulfill({ contentType: "text/html", body: PAGE }),
    );
    const page = await bctx.newPage();
    page.on("pageerror", (e) => console.error("pageerror", e.message));
    const cfg = { appId: app.app_id, userId: "alice", token: alice, baseUrl: engine.url, conversationId: conv };
    await page.goto(`${base}/page#${encodeURIComponent(JSON.stringify(cfg))}`);
    await page.locator('li[data-text="online first"][data-pending="false"]').waitFor();

    // Offline (DevTools network emulation): three sends wait in the outbox.
    await bctx.setOffline(true);
    for (const n of [1, 2, 3])
      await page.evaluate((t) => {
        // Not awaited: a send made offline resolves only once it is delivered.
        void (window as unknown as { chat: { send(t: string): Promise<void> } }).chat.send(t);
      }, `offline ${n}`);
    await expect
      .poll(() =>
        page.evaluate(
          async () =>
            (await (window as unknown as { chat: { session: { cache: { outbox(): Promise<unknown[]> } } } }).chat.session.cache.outbox())
              .length,
        ),
      )
      .toBe(3);

    // Reload while offline: the history and the three pending messages show at once, from IndexedDB.
    await page.reload();
    await page.locator('li[data-pending="true"]').nth(2).waitFor();
    expect(
      await page.locator("li").evaluateAll((els) => els.map((e) => [e.getAttribute("data-text"), e.getAttribute("data-pending")])),
    ).toEqual([
      ["online first", "false"],
      ["offline 1", "true"],
      ["offline 2", "true"],
      ["offline 3", "true"],
    ]);
    await page.screenshot({ path: join(ARTIFACTS, "01-offline-after-reload-pending.png"), fullPage: true });

    // Online: the outbox goes out.
    await bctx.setOffline(false);
    await expect.poll(() => page.locator('li[data-pending="true"]').count(), { timeout: 45_000 }).toBe(0);
    await page.locator('li[data-text="offline 3"][data-pending="false"]').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "02-online-delivered.png"), fullPage: true });
    // The other side has each exactly once, in order.
    const h = await engine.request<{ messages: { text: string }[] }>("GET", `/api/v1/conversations/${conv}/messages`, { token: bob });
    expect(h.body.messages.map((m) => m.text)).toEqual(["online first", "offline 1", "offline 2", "offline 3"]);
    await bctx.close();
  }, 120_000);
});
