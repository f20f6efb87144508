/**
 * Writes the server-event table of docs/websocket.md from the protocol's declarations.
 * `npm run docs:ws` (write) or `npm run docs:ws -- --check` (exit 1 when the file is stale).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { withEventTable } from "./ws-docs.js";

const file = fileURLToPath(new URL("../docs/websocket.md", import.meta.url));
const current = readFileSync(file, "utf8");
const next = withEventTable(current);
if (process.argv.includes("--check")) {
  if (next !== current) {
    process.stderr.write("docs/websocket.md is stale: run `npm run docs:ws`\n");
    process.exit(1);
  }
} else if (next !== current) {
  writeFileSync(file, next);
  process.stdout.write("docs/websocket.md: event table updated\n");
}
