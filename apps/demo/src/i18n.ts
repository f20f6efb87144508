import { createI18n } from "../../shared/i18n.js";
import en from "./locales/en.json";
import ur from "./locales/ur.json";

export type { LocaleId } from "../../shared/i18n.js";
/** Every UI string has a key in locales/en.json; ur.json must translate each one (checked below). */
export type Key = keyof typeof en;

const i18n = createI18n<Key>(en, ur satisfies Record<Key, string>, "utd-demo-lang");
export const { t, locale, setLocale, otherLocale } = i18n;

/** Picks the locale and sets `lang`, `dir` and the page title. */
export const initLocale = () => i18n.initLocale("app.title");

/** "5 minutes ago" in the current locale. */
export function ago(d: Date): string {
  const s = Math.round((d.getTime() - Date.now()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });
  if (Math.abs(s) < 60) return rtf.format(s, "second");
  if (Math.abs(s) < 3600) return rtf.format(Math.round(s / 60), "minute");
  if (Math.abs(s) < 86400) return rtf.format(Math.round(s / 3600), "hour");
  return rtf.format(Math.round(s / 86400), "day");
}

/** Hours and minutes in the current locale. */
export function time(d: Date): string {
  return new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit" }).format(d);
}
