import { type Browser, chromium } from "playwright-core";
import { CHROMIUM, hasChromium } from "./backends.js";

export { CHROMIUM } from "./backends.js";

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
  return hasChromium(what);
}

/** Launches headless Chromium with the flags above. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}
