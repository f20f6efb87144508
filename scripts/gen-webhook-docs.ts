/**
 * Writes the event reference of docs/webhooks.md from the protocol's declarations.
 * `npm run docs:webhooks` (write) or `npm run docs:webhooks -- --check` (exit 1 when the file is stale).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { withWebhookEvents } from "./webhook-docs.js";

const file = fileURLToPath(new URL("../docs/webhooks.md", import.meta.url));
const current = readFileSync(file, "utf8");
const next = withWebhookEvents(current);
if (process.argv.includes("--check")) {
  if (next !== current) {
    process.stderr.write("docs/webhooks.md is stale: run `npm run docs:webhooks`\n");
    process.exit(1);
  }
} else if (next !== current) {
  writeFileSync(file, next);
  process.stdout.write("docs/webhooks.md: event reference updated\n");
}
