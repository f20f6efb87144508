import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDemo, type DemoEngine, startDemoEngine } from "./harness.js";

// The engine's hook for the page: apps/demo/dist at `/`, and GET /demo/config.json only with --demo.
describe("engine serving the demo page", () => {
  let demo: DemoEngine;
  let plain: DemoEngine;
  let dist: string | undefined;
  const unbuilt = mkdtempSync(join(tmpdir(), "utd-demo-unbuilt-"));

  beforeAll(async () => {
    dist = await buildDemo();
    [demo, plain] = await Promise.all([
      startDemoEngine({ UTD_DEMO_DIR: dist }),
      startDemoEngine({ UTD_DEMO_DIR: unbuilt }, { demo: false }),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([demo?.stop(), plain?.stop()]);
    if (dist) rmSync(dist, { recursive: true, force: true });
    rmSync(unbuilt, { recursive: true, force: true });
  });

  it("serves the built page at / and its hashed assets, leaving the API's JSON 404 for unknown paths", async () => {
    const page = await fetch(`${demo.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const html = await page.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${demo.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("cache-control")).toContain("immutable");
    const missing = await fetch(`${demo.url}/assets/nope.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "not_found" } });
    // Path tricks do not leave the dist directory.
    const outside = await fetch(`${demo.url}/..%2f..%2fpackage.json`);
    expect(outside.status).toBe(404);
    // Not built: `/` is the API's 404, nothing else changes.
    const none = await fetch(`${plain.url}/`);
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ error: { code: "not_found" } });
    expect((await fetch(`${plain.url}/healthz`)).status).toBe(200);
  });

  it("GET /demo/config.json gives the demo app's publishable id and key, and only in --demo mode", async () => {
    const r = await fetch(`${demo.url}/demo/config.json`);
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    const cfg = (await r.json()) as { app_id: string; app_key: string; livekit: boolean };
    expect(cfg.livekit).toBe(false);
    expect(cfg.app_key).toMatch(/^pk_/);
    const app = await demo.admin<{ app_id: string; auth_mode: string; app_secret?: string }>("GET", `/admin/v1/apps/${cfg.app_id}`);
    expect(app.status).toBe(200);
    expect(app.body.auth_mode).toBe("open");
    expect(JSON.stringify(cfg)).not.toContain("sk_");
    // The key works: it mints a session for any name (open mode).
    const s = await fetch(`${demo.url}/api/v1/auth/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ app_id: cfg.app_id, app_key: cfg.app_key, identity: "anyone" }),
    });
    expect(s.status).toBe(200);

    const off = await fetch(`${plain.url}/demo/config.json`);
    expect(off.status).toBe(404);
    expect(await off.json()).toMatchObject({ error: { code: "not_found" } });
  });
});
