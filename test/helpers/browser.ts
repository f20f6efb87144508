import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { IN_CI } from "./services.js";

/** Debian's Chromium (`apt-get install -y chromium`); never a downloaded browser. */
export const CHROMIUM = process.env.UTD_CHROMIUM ?? "/usr/bin/chromium";

/** Headless with a fake camera and microphone, no permission prompts, no background traffic. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--autoplay-policy=no-user-gesture-required",
];

/** True when Chromium is installed; otherwise skips loudly (`what` names the suite) — and fails under CI=true. */
export function chromiumOrSkip(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  const msg = `Chromium not found at ${CHROMIUM} (apt-get install -y chromium)`;
  if (IN_CI) throw new Error(`${msg}; CI=true requires it`);
  process.stderr.write(`\n⚠️  SKIPPING ${what}: ${msg}\n\n`);
  return false;
}

/** Launches headless Chromium with the flags above. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}
