/**
 * Writes the README's configuration table from the engine's settings schema (packages/engine/src/core/settings.ts).
 * `npm run docs:config` (write) or `npm run docs:config -- --check` (exit 1 when the README is stale).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { withSettingsTable } from "./config-docs.js";

const file = fileURLToPath(new URL("../README.md", import.meta.url));
const current = readFileSync(file, "utf8");
const next = withSettingsTable(current);
if (process.argv.includes("--check")) {
  if (next !== current) {
    process.stderr.write("README.md's configuration table is stale: run `npm run docs:config`\n");
    process.exit(1);
  }
} else if (next !== current) {
  writeFileSync(file, next);
  process.stdout.write("README.md: configuration table updated\n");
}
