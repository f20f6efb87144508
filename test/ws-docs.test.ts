import { readFileSync } from "node:fs";
import { WS_EVENT_TYPES } from "@utd-stream/protocol";
import { describe, expect, it } from "vitest";
import { BEGIN, END, renderEventTable, withEventTable } from "../scripts/ws-docs.js";

const docs = readFileSync(new URL("../docs/websocket.md", import.meta.url), "utf8");

describe("docs/websocket.md event table", () => {
  it("is what the protocol's declarations render (run `npm run docs:ws` when this fails)", () => {
    expect(docs).toBe(withEventTable(docs));
  });

  it("has a row for every declared event and for custom.*", () => {
    const table = renderEventTable();
    for (const type of WS_EVENT_TYPES) expect(table).toContain(`| \`${type}\` |`);
    expect(table).toContain("| `custom.<name>` |");
    expect(table.split("\n")).toHaveLength(WS_EVENT_TYPES.length + 3);
  });

  it("notices a stale table", () => {
    const stale = docs.replace(/^\| `speak\.approved` .*\n/m, "");
    expect(stale).not.toBe(docs);
    expect(withEventTable(stale)).toBe(docs);
    expect(() => withEventTable(docs.replace(END, ""))).toThrow(/markers/);
    expect(docs.indexOf(BEGIN)).toBeGreaterThan(0);
  });
});
