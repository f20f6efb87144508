/**
 * The "Server events" table of docs/websocket.md, rendered from the protocol's event declarations
 * (`WS_EVENTS`, packages/protocol/src/events/): type, recipients, data (its protocol type and fields)
 * and meaning. `scripts/gen-ws-docs.ts` writes it; test/ws-docs.test.ts fails when the file is stale.
 */
import * as protocol from "@utd-stream/protocol/schemas";
import { WS_EVENTS } from "@utd-stream/protocol/schemas";
import { z } from "zod";

export const BEGIN = "<!-- ws-events:begin — generated from packages/protocol/src/events by `npm run docs:ws`; do not edit by hand -->";
export const END = "<!-- ws-events:end -->";

/** The protocol's exported name for a schema (`MessageSchema` → `Message`); the first by name when several share it. */
function typeName(schema: z.ZodType): string | undefined {
  const names = Object.entries(protocol)
    .filter(([name, value]) => value === schema && name.endsWith("Schema"))
    .map(([name]) => name.slice(0, -"Schema".length))
    .sort();
  return names[0];
}

/** Top-level fields of an object schema (`?` when optional). */
function fields(schema: z.ZodType): string {
  if (!(schema instanceof z.ZodObject)) return "any JSON";
  const shape: Record<string, z.ZodType> = schema.shape;
  return `{${Object.entries(shape)
    .map(([key, field]) => (field.isOptional() ? `${key}?` : key))
    .join(", ")}}`;
}

const cell = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");

/** The event table, one row per declared event plus `custom.*`. */
export function renderEventTable(): string {
  const rows = ["| type | to whom | data | meaning |", "| --- | --- | --- | --- |"];
  for (const [type, def] of Object.entries(WS_EVENTS)) {
    const name = typeName(def.data);
    const data = `${name ? `\`${name}\` ` : ""}\`${fields(def.data)}\``;
    rows.push(`| \`${type}\` | ${cell(def.to)} | ${cell(data)} | ${cell(def.doc)} |`);
  }
  rows.push(
    "| `custom.<name>` | whoever the app's backend names | `CustomEventData` (any JSON) | Published by the app's backend (server-side publish, below). |",
  );
  return rows.join("\n");
}

/** `markdown` with the text between the markers replaced by the current table. */
export function withEventTable(markdown: string): string {
  const start = markdown.indexOf(BEGIN);
  const end = markdown.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/websocket.md lacks the ${BEGIN} … ${END} markers`);
  return `${markdown.slice(0, start + BEGIN.length)}\n${renderEventTable()}\n${markdown.slice(end)}`;
}
