import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { chromiumOrSkip as chromiumOrSkipFor, launchChromium } from "../../../test/helpers/browser.js";

const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const CONSOLE = join(ROOT, "apps/console");
/** Screenshots of every page, in English and Urdu (git-ignored). */
export const ARTIFACTS = join(ROOT, "test-artifacts/console");
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/** Builds the console (`vite build`) into a fresh directory; pass it to the engine as `UTD_CONSOLE_DIR`. */
export async function buildConsole(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), "utd-console-dist-"));
  await promisify(execFile)(
    process.execPath,
    [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn", "--outDir", out, "--emptyOutDir"],
    { cwd: CONSOLE, timeout: 120_000 },
  );
  return out;
}

export const launch = launchChromium;

/** True when Chromium is there; skips loudly without it, and fails under CI=true. */
export const chromiumOrSkip = (): boolean => chromiumOrSkipFor("console browser tests");

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** axe-core's serious and critical violations on the page as it is now ("id: target…" lines). */
export async function axeSerious(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: AXE });
  const results = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            ctx?: unknown,
            opts?: unknown,
          ): Promise<{ violations: { id: string; impact: string | null; nodes: { target: unknown[] }[] }[] }>;
        };
      }
    ).axe;
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  return results
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.targets.join(" ")}`);
}
