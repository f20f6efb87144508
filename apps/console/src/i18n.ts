import { createI18n } from "../../shared/i18n.js";
import en from "./locales/en.json";
import ur from "./locales/ur.json";

export type { LocaleId } from "../../shared/i18n.js";
/** Every UI string has a key in locales/en.json; ur.json must translate each one (checked below). */
export type Key = keyof typeof en;

const i18n = createI18n<Key>(en, ur satisfies Record<Key, string>, "utd-console-lang");
export const { t, locale, setLocale, otherLocale } = i18n;

/** Picks the locale and sets `lang`, `dir` and the page title. */
export const initLocale = () => i18n.initLocale("app.title");

/** A number in the current locale. */
export function num(n: number): string {
  return new Intl.NumberFormat(locale() === "ur" ? "ur-PK" : "en").format(n);
}

/** A date and time in the current locale. */
export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(locale() === "ur" ? "ur-PK" : "en", { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}
