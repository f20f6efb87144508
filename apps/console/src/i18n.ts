import en from "./locales/en.json";
import ur from "./locales/ur.json";

/** Every UI string has a key in locales/en.json; ur.json must translate each one (checked by the type below). */
export type Key = keyof typeof en;
export type LocaleId = "en" | "ur";

const LOCALES: Record<LocaleId, { strings: Record<Key, string>; dir: "ltr" | "rtl"; name: string }> = {
  en: { strings: en, dir: "ltr", name: "English" },
  ur: { strings: ur satisfies Record<Key, string>, dir: "rtl", name: "اردو" },
};
const STORAGE_KEY = "utd-console-lang";
let current: LocaleId = "en";

/** Picks the locale (`?lang=` wins, then the saved choice, then the browser's) and sets `lang` and `dir`. */
export function initLocale(): LocaleId {
  const q = new URLSearchParams(location.search).get("lang");
  const saved = localStorage.getItem(STORAGE_KEY);
  const pick = [q, saved, navigator.language.slice(0, 2)].find((l): l is LocaleId => l === "en" || l === "ur");
  current = pick ?? "en";
  document.documentElement.lang = current;
  document.documentElement.dir = LOCALES[current].dir;
  document.title = t("app.title");
  return current;
}

export function locale(): LocaleId {
  return current;
}

/** Switches language and reloads (the session cookie survives). */
export function setLocale(l: LocaleId): void {
  localStorage.setItem(STORAGE_KEY, l);
  const u = new URL(location.href);
  u.searchParams.delete("lang");
  location.replace(u.toString());
}

export function otherLocale(): { id: LocaleId; name: string } {
  const id: LocaleId = current === "en" ? "ur" : "en";
  return { id, name: LOCALES[id].name };
}

/** The string for `key` with `{name}` placeholders filled in. */
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const s = LOCALES[current].strings[key] ?? en[key];
  return s.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

/** A number in the current locale. */
export function num(n: number): string {
  return new Intl.NumberFormat(current === "ur" ? "ur-PK" : "en").format(n);
}

/** A date and time in the current locale. */
export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(current === "ur" ? "ur-PK" : "en", { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}
