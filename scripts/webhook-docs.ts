/**
 * The "Events" part of docs/webhooks.md, rendered from the protocol's webhook declarations
 * (`WEBHOOK_EVENT_SCHEMAS`, packages/protocol/src/webhooks.ts): every event with its meaning and the JSON
 * Schema of its `data`. `scripts/gen-webhook-docs.ts` writes it; test/webhook-docs.test.ts fails when stale.
 */
import { WEBHOOK_EVENT_SCHEMAS } from "@utd-stream/protocol/schemas";
import { z } from "zod";

export const BEGIN =
  "<!-- webhook-events:begin — generated from packages/protocol/src/webhooks.ts by `npm run docs:webhooks`; do not edit by hand -->";
export const END = "<!-- webhook-events:end -->";

export function renderWebhookEvents(): string {
  const out: string[] = ["| event | meaning |", "| --- | --- |"];
  for (const [type, def] of Object.entries(WEBHOOK_EVENT_SCHEMAS)) out.push(`| [\`${type}\`](#${type.replace(".", "")}) | ${def.doc} |`);
  for (const [type, def] of Object.entries(WEBHOOK_EVENT_SCHEMAS)) {
    const { $schema: _drop, ...schema } = z.toJSONSchema(def.data, { io: "output", unrepresentable: "any" }) as Record<string, unknown>;
    out.push("", `### \`${type}\``, "", def.doc, "", "`data`:", "", "```json", JSON.stringify(schema, null, 2), "```");
  }
  return out.join("\n");
}

/** The document with its generated part replaced by the current rendering. */
export function withWebhookEvents(doc: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`docs/webhooks.md needs the ${BEGIN} … ${END} markers`);
  return `${doc.slice(0, a + BEGIN.length)}\n${renderWebhookEvents()}\n${doc.slice(b)}`;
}
