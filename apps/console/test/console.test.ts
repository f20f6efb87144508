import { generateKeyPairSync } from "node:crypto";
import { rmSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { axeSerious, buildConsole, chromiumOrSkip, launch, shot } from "./harness.js";

// The operator console (issue 17) in Chromium: every page in English and Urdu, screenshots in
// test-artifacts/console/, axe-core with no serious or critical violation, and the flows an operator
// runs (sign-in, apps, usage, live, users, moderation, webhooks and push).

const PASSWORD = "correct horse battery staple";
const PAGES = ["apps", "usage", "live", "users", "moderation", "webhooks", "operators"] as const;

describe.skipIf(!chromiumOrSkip())("operator console in Chromium", () => {
  let engine: RunningEngine;
  let dist: string;
  let browser: Browser;
  let app: TestApp;
  let conv: string;
  let message: string;
  let vapidPrivate: string;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    dist = await buildConsole();
    engine = await startEngine({ env: { UTD_CONSOLE_DIR: dist, UTD_WEBHOOK_ALLOW_NETWORKS: "loopback" } });
    browser = await launch();
    expect((await engine.admin("POST", "/admin/v1/console/operators", { username: "ops", password: PASSWORD })).status).toBe(201);
    // An app with users, a conversation, a message, an open socket and a failing webhook endpoint.
    app = await engine.createApp({ name: "Acme" });
    const ann = await engine.session(app, "ann", { name: "Ann" });
    await engine.session(app, "bob", { name: "Bob" });
    const c = await engine.request<{ id: string }>("POST", "/api/v1/conversations", {
      token: ann.user_token,
      body: { kind: "group", members: ["bob"], name: "Team" },
    });
    conv = c.body.id;
    const m = await engine.request<{ id: string }>("POST", `/api/v1/conversations/${conv}/messages`, {
      token: ann.user_token,
      body: { text: "hello", client_msg_id: "c1" },
    });
    message = m.body.id;
    // A second message, reported by Bob: the moderation page's flag queue shows it.
    const spam = await engine.request<{ id: string }>("POST", `/api/v1/conversations/${conv}/messages`, {
      token: ann.user_token,
      body: { text: "buy cheap followers", client_msg_id: "c-spam" },
    });
    const bob = await engine.session(app, "bob", { name: "Bob" });
    const reported = await engine.request("POST", "/api/v1/reports", {
      token: bob.user_token,
      body: { kind: "message", conversation_id: conv, message_id: spam.body.id, reason: "spam" },
    });
    expect(reported.status).toBe(201);
    const ws = new WebSocket(ann.ws_url);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => ws.send(JSON.stringify({ type: "hello", token: ann.user_token })));
      ws.on("message", (d) => {
        if (String(d).includes('"welcome"')) resolve();
      });
      ws.once("error", reject);
    });
    sockets.push(ws);
    const hook = await engine.admin("POST", `/admin/v1/apps/${app.app_id}/webhooks`, {
      url: "http://127.0.0.1:9/hook",
      events: ["message.new"],
    });
    expect(hook.status).toBe(201);
    await engine.request("POST", `/api/v1/conversations/${conv}/messages`, {
      token: ann.user_token,
      body: { text: "again", client_msg_id: "c2" },
    });
    // A push credential, which the console shows by fingerprint only.
    const jwk = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ format: "jwk" });
    const pub = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x as string, "base64url"), Buffer.from(jwk.y as string, "base64url")]);
    vapidPrivate = jwk.d as string;
    const vapid = await engine.admin("PUT", `/admin/v1/apps/${app.app_id}/push/vapid`, {
      public_key: pub.toString("base64url"),
      private_key: vapidPrivate,
      subject: "mailto:ops@example.com",
    });
    expect(vapid.status).toBe(200);
  }, 180_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    await browser?.close();
    await engine?.stop();
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  async function open(lang: "en" | "ur"): Promise<{ ctx: BrowserContext; page: Page }> {
    // bypassCSP: only so axe-core can be injected; the page itself runs under the engine's CSP.
    const ctx = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      bypassCSP: true,
      locale: lang === "ur" ? "ur-PK" : "en-US",
    });
    ctx.setDefaultTimeout(15_000);
    const page = await ctx.newPage();
    page.on("pageerror", (e) => process.stderr.write(`[page error] ${e.message}\n`));
    await page.goto(`${engine.url}/console/?lang=${lang}`);
    return { ctx, page };
  }

  async function signIn(page: Page): Promise<void> {
    await page.getByTestId("username").fill("ops");
    await page.getByTestId("password").fill(PASSWORD);
    await page.getByTestId("signin").click();
    await page.getByTestId("who").waitFor();
  }

  async function visit(page: Page, id: (typeof PAGES)[number]): Promise<void> {
    await page.getByTestId(`nav-${id}`).click();
    await page.locator(`main[data-page="${id}"] h2`).waitFor();
  }

  it("serves the console at /console/ under a strict CSP; /console redirects there", async () => {
    const r = await fetch(`${engine.url}/console/`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const redirect = await fetch(`${engine.url}/console`, { redirect: "manual" });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe("/console/");
  });

  it("English: sign-in refuses a wrong password, then every page works and passes axe", async () => {
    const { ctx, page } = await open("en");
    try {
      await page.getByTestId("signin-form").waitFor();
      await shot(page, "en-signin");
      expect(await axeSerious(page)).toEqual([]);
      await page.getByTestId("username").fill("ops");
      await page.getByTestId("password").fill("wrong password");
      await page.getByTestId("signin").click();
      await page.locator(".notice.error").waitFor();
      expect(await page.locator(".notice.error").textContent()).toContain("unauthorized");
      await signIn(page);
      // The session cookie is HttpOnly: the page's script cannot read it.
      expect(await page.evaluate(() => document.cookie)).toBe("");

      // Apps: create (secret once, copy button), edit, rotate with a warning, delete with typed confirmation.
      await page.locator('main[data-page="apps"] h2').waitFor();
      await page.getByTestId("new-name").fill("Temp app");
      await page.getByTestId("create").click();
      await page.getByTestId("secret").waitFor();
      expect(await page.getByTestId("secret").textContent()).toMatch(/^sk_/);
      await page.getByTestId("copy-secret").waitFor();
      await shot(page, "en-apps-created");
      expect(await axeSerious(page)).toEqual([]);
      const created = (await page.locator('[data-testid="created"] .notice.ok').textContent())?.match(/app_\w+/)?.[0] as string;
      expect(created).toBeDefined();
      await page.getByTestId(`app-${created}`).click();
      await page.getByTestId("app-detail").waitFor();
      await page.getByTestId("edit-plan").selectOption("pro");
      await page.getByTestId("edit-signaling").selectOption("off");
      await page.getByTestId("edit-limits").fill('{"max_chatrooms": 7}');
      await page.getByTestId("save").click();
      await page.locator(".notice.ok", { hasText: "Saved" }).waitFor();
      const after = await engine.admin<{ plan: string; signaling_enabled: boolean; limit_overrides: Record<string, number> }>(
        "GET",
        `/admin/v1/apps/${created}`,
      );
      expect(after.body).toMatchObject({ plan: "pro", signaling_enabled: false, limit_overrides: { max_chatrooms: 7 } });
      await page.getByTestId("rotate-secret").click();
      await page.getByTestId("confirm-dialog").waitFor();
      expect(await page.getByTestId("confirm-dialog").textContent()).toContain("voids every user token");
      await shot(page, "en-apps-rotate-warning");
      await page.getByTestId("confirm-go").click();
      await page.locator('[data-testid="app-detail"] [data-testid="secret"]').waitFor();
      await page.getByTestId("delete").click();
      await page.getByTestId("confirm-input").fill("app_wrong");
      expect(await page.getByTestId("confirm-go").isDisabled()).toBe(true);
      await page.getByTestId("confirm-input").fill(created);
      await page.getByTestId("confirm-go").click();
      await page.locator(".notice.ok", { hasText: "deleted" }).waitFor();
      expect((await engine.admin("GET", `/admin/v1/apps/${created}`)).status).toBe(404);
      await shot(page, "en-apps");

      // The rest of the pages act on Acme.
      await page.getByTestId("app-picker").selectOption(app.app_id);

      await visit(page, "usage");
      await page.locator('[data-testid="chart-messages"] canvas').waitFor();
      await page.locator('[data-testid="chart-mau"] canvas').waitFor();
      expect(await page.getByTestId("usage-table").textContent()).toContain("2");
      await shot(page, "en-usage");
      expect(await axeSerious(page)).toEqual([]);

      await visit(page, "live");
      await page.getByTestId("live-sockets").waitFor();
      expect(Number(await page.locator('[data-testid="live-sockets"] .value').textContent())).toBeGreaterThanOrEqual(1);
      const first = await page.getByTestId("live-updated").textContent();
      await page.waitForFunction((before) => document.querySelector('[data-testid="live-updated"]')?.textContent !== before, first);
      await shot(page, "en-live");
      expect(await axeSerious(page)).toEqual([]);

      await visit(page, "users");
      await page.getByTestId("user-search").fill("an");
      await page.getByTestId("user-search-go").click();
      await page.getByTestId("user-ann").click();
      await page.getByTestId("user-detail").waitFor();
      expect(await page.getByTestId("user-sockets").textContent()).toContain("1");
      await page.getByTestId("ban").click();
      await page.getByTestId("unban").waitFor();
      expect((await engine.admin<{ banned: boolean }>("GET", `/admin/v1/apps/${app.app_id}/users/ann`)).body.banned).toBe(true);
      await page.getByTestId("unban").click();
      await page.getByTestId("ban").waitFor();
      await page.getByTestId("revoke").click();
      await page.locator(".notice.ok", { hasText: "Done" }).waitFor();
      await shot(page, "en-users");
      expect(await axeSerious(page)).toEqual([]);

      await visit(page, "moderation");
      // The flag queue: Bob's report, with the message as evidence; deleting the message resolves it.
      await page.getByTestId("report-table").getByText("buy cheap followers").waitFor();
      await shot(page, "en-moderation-queue");
      await page.getByTestId("report-delete").click();
      await page.getByTestId("report-queue-empty").waitFor();
      await page.getByTestId("mod-conversation").fill(conv);
      await page.getByTestId("mod-close").click();
      await page.locator(".notice.ok", { hasText: "closed" }).waitFor();
      await page.getByTestId("mod-reopen").click();
      await page.locator(".notice.ok", { hasText: "open again" }).waitFor();
      await page.getByTestId("mod-message-conversation").fill(conv);
      await page.getByTestId("mod-message").fill(message);
      await page.getByTestId("mod-delete").click();
      await page.locator(".notice.ok", { hasText: "deleted" }).waitFor();
      await shot(page, "en-moderation");
      expect(await axeSerious(page)).toEqual([]);

      await visit(page, "webhooks");
      await page.getByTestId("endpoints-table").waitFor();
      await page.getByTestId("delivery-log").waitFor();
      await page.getByTestId("push-table").waitFor();
      // Fingerprints only: the private key never reaches the page.
      expect(await page.content()).not.toContain(vapidPrivate);
      await page.getByTestId("deliveries-table").waitFor();
      const replay = page.locator('[data-testid^="replay-evt"], [data-testid^="replay-"]:not([data-testid="replay-dead"])').first();
      await replay.click();
      await page.locator(".notice.ok", { hasText: "queued again" }).waitFor();
      await shot(page, "en-webhooks");
      expect(await axeSerious(page)).toEqual([]);

      await visit(page, "operators");
      await page.getByTestId("operators-table").waitFor();
      await page.getByTestId("op-username").fill("second");
      await page.getByTestId("op-password").fill("short");
      await page.getByTestId("op-create").click();
      // The browser refuses a password under 12 characters before anything is sent.
      expect(await page.getByTestId("op-password").evaluate((el) => (el as HTMLInputElement).validity.valid)).toBe(false);
      await page.getByTestId("op-password").fill(PASSWORD);
      await page.getByTestId("op-create").click();
      await page.getByTestId("op-remove-second").waitFor();
      await shot(page, "en-operators");
      expect(await axeSerious(page)).toEqual([]);
      await page.getByTestId("op-remove-second").click();
      await page.getByTestId("confirm-input").fill("second");
      await page.getByTestId("confirm-go").click();
      await page.locator(".notice.ok", { hasText: "removed" }).waitFor();
      const ops = await engine.admin<{ operators: { username: string }[] }>("GET", "/admin/v1/console/operators");
      expect(ops.body.operators.map((o) => o.username)).toEqual(["ops"]);

      await page.getByTestId("signout").click();
      await page.getByTestId("signin-form").waitFor();
    } finally {
      await ctx.close();
    }
  }, 180_000);

  it("Urdu: right-to-left, Urdu letters from the bundled font, every page passes axe", async () => {
    const { ctx, page } = await open("ur");
    try {
      await page.getByTestId("signin-form").waitFor();
      expect(await page.evaluate(() => document.documentElement.dir)).toBe("rtl");
      await page.evaluate(() => document.fonts.ready);
      // The bundled Noto Naskh Arabic face is loaded and covers the Urdu letters on the page (no boxes).
      expect(await page.evaluate(() => document.fonts.check('16px "Noto Naskh Arabic"', "ٹڈڑںےۓ"))).toBe(true);
      await shot(page, "ur-signin");
      expect(await axeSerious(page)).toEqual([]);
      await signIn(page);
      await page.getByTestId("app-picker").selectOption(app.app_id);
      for (const id of PAGES) {
        await visit(page, id);
        if (id === "usage") await page.locator('[data-testid="chart-dau"] canvas').waitFor();
        if (id === "live") await page.getByTestId("live-sockets").waitFor();
        if (id === "users") await page.getByTestId("users-table").waitFor();
        if (id === "webhooks") await page.getByTestId("endpoints-table").waitFor();
        if (id === "operators") await page.getByTestId("operators-table").waitFor();
        await page.evaluate(() => document.fonts.ready);
        await shot(page, `ur-${id}`);
        expect(await axeSerious(page), id).toEqual([]);
      }
    } finally {
      await ctx.close();
    }
  }, 180_000);

  it("keeps the password, the admin token and session cookies out of the engine's log", () => {
    const all = engine.logs.join("\n");
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(engine.adminToken);
    expect(all).not.toMatch(/utd_console=[A-Za-z0-9_-]{20,}/);
  });
});
