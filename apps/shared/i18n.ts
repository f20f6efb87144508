/**
 * English and Urdu for the demo page and the operator console: one string table per locale (Urdu must
 * translate every English key, which the caller's `satisfies` checks), `lang` and `dir` on the document,
 * and the choice kept across reloads.
 */
export type LocaleId = "en" | "ur";

const DIR: Record<LocaleId, "ltr" | "rtl"> = { en: "ltr", ur: "rtl" };
const NAME: Record<LocaleId, string> = { en: "English", ur: "اردو" };

/** The locale functions of one app; `storageKey` keeps its choice apart from the other app's. */
export function createI18n<K extends string>(en: Record<K, string>, ur: Record<K, string>, storageKey: string) {
  const strings: Record<LocaleId, Record<K, string>> = { en, ur };
  let current: LocaleId = "en";

  /** The string for `key` with `{name}` placeholders filled in. */
  function t(key: K, vars: Record<string, string | number> = {}): string {
    const s = strings[current][key] ?? en[key];
    return s.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
  }

  return {
    t,
    /** Picks the locale (`?lang=` wins, then the saved choice, then the browser's) and sets `lang`, `dir` and the title. */
    initLocale(titleKey: K): LocaleId {
      const q = new URLSearchParams(location.search).get("lang");
      const saved = localStorage.getItem(storageKey);
      const pick = [q, saved, navigator.language.slice(0, 2)].find((l): l is LocaleId => l === "en" || l === "ur");
      current = pick ?? "en";
      document.documentElement.lang = current;
      document.documentElement.dir = DIR[current];
      document.title = t(titleKey);
      return current;
    },
    /** The current locale. */
    locale(): LocaleId {
      return current;
    },
    /** Switches language by reloading the page (the sign-in survives a reload). */
    setLocale(l: LocaleId): void {
      localStorage.setItem(storageKey, l);
      const u = new URL(location.href);
      u.searchParams.delete("lang");
      location.replace(u.toString());
    },
    /** The locale the switch button offers. */
    otherLocale(): { id: LocaleId; name: string } {
      const id: LocaleId = current === "en" ? "ur" : "en";
      return { id, name: NAME[id] };
    },
  };
}
