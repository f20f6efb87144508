import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEngine, startEngine } from "./helpers/engine.js";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const EXAMPLE = join(ROOT, "examples/rooms.ts");
const run = promisify(execFile);

describe("examples/rooms.ts (the README's signalling-rooms example)", () => {
  let engine: RunningEngine;
  beforeAll(async () => {
    engine = await startEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it("is the README's block, verbatim", () => {
    const m = /<!-- examples\/rooms\.ts[^>]*-->\s*```ts\n([\s\S]*?)```/.exec(readFileSync(join(ROOT, "README.md"), "utf8"));
    expect(m?.[1], "README.md has no block after <!-- examples/rooms.ts … -->").toBeDefined();
    expect(m?.[1]).toBe(readFileSync(EXAMPLE, "utf8"));
  });

  it("runs against a real engine, prints the members and the broadcast, and exits 0 by itself", async () => {
    const app = await engine.createApp({ name: "rooms example", plan: "pro" });
    const env = { ...process.env, UTD_URL: engine.url, UTD_APP_ID: app.app_id, UTD_APP_KEY: app.app_key };
    const r = await run(process.execPath, ["--conditions=development", "--import", "tsx", EXAMPLE], { cwd: ROOT, env, timeout: 60_000 });
    expect(r.stdout.trim().split("\n")).toEqual([
      "watching: Alice",
      "watching: Alice, Bob",
      'Alice: {"action":"pause","at":754.2}',
      "watching: Alice",
    ]);
    expect(r.stderr).toBe("");
  }, 90_000);
});
