import { en } from "./en.js";
import type { LiveChatStrings } from "./types.js";
import { ur } from "./ur.js";

export type { LiveChatStrings } from "./types.js";

const LOCALES = new Map<string, LiveChatStrings>([
  ["en", en],
  ["ur", ur],
]);

/** Adds (or replaces) a locale, e.g. `registerLocale("ar", { dir: "rtl", … })`. */
export function registerLocale(tag: string, strings: LiveChatStrings): void {
  LOCALES.set(tag.toLowerCase(), strings);
}

/** The strings for a BCP 47 tag: exact match, then the language alone (`ur-PK` → `ur`), then English. */
export function stringsFor(tag: string | null | undefined): LiveChatStrings {
  const t = (tag ?? "en").toLowerCase();
  return LOCALES.get(t) ?? LOCALES.get(t.split("-")[0] ?? "") ?? en;
}

/** Locale-aware relative time ("2 minutes ago", "2 منٹ پہلے"). */
export function relativeTime(date: Date, now: Date, tag: string): string {
  const s = Math.round((date.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(s);
  let fmt: Intl.RelativeTimeFormat;
  try {
    fmt = new Intl.RelativeTimeFormat(tag, { numeric: "auto" });
  } catch {
    fmt = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
  }
  if (abs < 45) return fmt.format(0, "second");
  if (abs < 45 * 60) return fmt.format(Math.round(s / 60), "minute");
  if (abs < 22 * 3600) return fmt.format(Math.round(s / 3600), "hour");
  return fmt.format(Math.round(s / 86400), "day");
}
