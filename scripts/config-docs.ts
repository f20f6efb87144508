import { settingsTable } from "../packages/engine/src/core/settings.js";

export const BEGIN = "<!-- settings:begin (generated from packages/engine/src/core/settings.ts: npm run docs:config) -->";
export const END = "<!-- settings:end -->";

/** `readme` with the text between the settings markers replaced by the generated table. */
export function withSettingsTable(readme: string): string {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md lacks the markers ${BEGIN} … ${END}`);
  return `${readme.slice(0, a + BEGIN.length)}\n${settingsTable()}\n${readme.slice(b)}`;
}
