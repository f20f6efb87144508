import { readFileSync } from "node:fs";
import { WEBHOOK_EVENTS } from "@utd-stream/protocol/schemas";
import { describe, expect, it } from "vitest";
import { BEGIN, END, renderWebhookEvents, withWebhookEvents } from "../scripts/webhook-docs.js";

const docs = readFileSync(new URL("../docs/webhooks.md", import.meta.url), "utf8");

describe("docs/webhooks.md event reference", () => {
  it("is what the protocol's declarations render (run `npm run docs:webhooks` when this fails)", () => {
    expect(docs).toBe(withWebhookEvents(docs));
  });

  it("lists every webhook event with its payload schema", () => {
    const text = renderWebhookEvents();
    for (const type of WEBHOOK_EVENTS) {
      expect(text).toContain(`### \`${type}\``);
      expect(text).toContain(`| [\`${type}\`]`);
    }
    expect(text.match(/```json/g)?.length).toBe(WEBHOOK_EVENTS.length);
  });

  it("notices a stale reference", () => {
    const stale = docs.replace("### `push.failed`", "### `push.gone`");
    expect(withWebhookEvents(stale)).toBe(docs);
    expect(() => withWebhookEvents(docs.replace(END, ""))).toThrow(/markers/);
    expect(docs.indexOf(BEGIN)).toBeGreaterThan(0);
  });
});
