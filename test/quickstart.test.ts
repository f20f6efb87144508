import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEngine, startEngine } from "./helpers/engine.js";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const QUICKSTART = join(ROOT, "examples/quickstart.ts");
const run = promisify(execFile);

/** The tutorial block of the README: the ```ts fence right after the quickstart marker comment. */
function readmeTutorial(readme: string): string | undefined {
  const m = /<!-- examples\/quickstart\.ts[^>]*-->\s*```ts\n([\s\S]*?)```/.exec(readme);
  return m?.[1];
}

describe("examples/quickstart.ts", () => {
  let engine: RunningEngine;
  beforeAll(async () => {
    engine = await startEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it("is the README's tutorial, verbatim", () => {
    const tutorial = readmeTutorial(readFileSync(join(ROOT, "README.md"), "utf8"));
    expect(tutorial, "README.md has no quickstart block after <!-- examples/quickstart.ts … -->").toBeDefined();
    expect(tutorial).toBe(readFileSync(QUICKSTART, "utf8"));
  });

  it("runs against a real engine, prints what the README says, and exits 0 by itself", async () => {
    const app = await engine.createApp({ name: "quickstart", plan: "pro" });
    const env = { ...process.env, UTD_URL: engine.url, UTD_APP_ID: app.app_id, UTD_APP_KEY: app.app_key };
    // Exiting matters: a client left open would keep the process alive until the timeout kills it.
    const r = await run(process.execPath, ["--conditions=development", "--import", "tsx", QUICKSTART], {
      cwd: ROOT,
      env,
      timeout: 60_000,
    });
    const lines = r.stdout.trim().split("\n");
    expect(lines).toContain("bob is online");
    expect(lines).toContain("bob unread: 0");
    expect(lines).toContain("bob unread: 1");
    expect(lines).toContain("bob answered");
    expect(lines.indexOf("bob unread: 0")).toBeLessThan(lines.indexOf("bob unread: 1"));
    expect(r.stdout).not.toMatch(/could not answer|upsell/);
    expect(r.stderr).toBe("");
  }, 90_000);
});
