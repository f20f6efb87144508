import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WebhookEndpointWithSecret } from "@utd-stream/protocol";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { type Receiver, startReceiver } from "../../../test/helpers/receiver.js";
import { sleep } from "./ws-helpers.js";

/**
 * `kill -9` of the engine with webhook deliveries queued, and in the middle of delivering them: every event
 * arrives, in order per conversation; the only repeats are deliveries that were in flight at the kill, with
 * the same webhook-id (receivers de-duplicate on it). The counts are printed.
 */
describe("webhook outbox survives kill -9", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "utd-wh-kill-"));
  let rx: Receiver;
  let e: RunningEngine;
  let app: TestApp;
  const N = 30;
  const start = () => startEngine({ dataDir, env: { UTD_WEBHOOK_ALLOW_NETWORKS: "loopback", UTD_WEBHOOK_LEASE_MS: "1500" } });

  beforeAll(async () => {
    rx = await startReceiver();
    e = await start();
    app = await e.createApp({ plan: "pro" });
    const created = await e.admin<WebhookEndpointWithSecret>("POST", `/admin/v1/apps/${app.app_id}/webhooks`, {
      url: rx.url,
      events: ["message.new"],
    });
    expect(created.status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await e?.stop("SIGKILL");
    await rx?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function sendMany(tag: string): Promise<string[]> {
    const a = await e.session(app, `${tag}-a`);
    await e.session(app, `${tag}-b`);
    const conv = (
      await e.request<{ id: string }>("POST", "/api/v1/conversations", {
        token: a.user_token,
        body: { kind: "direct", members: [`${tag}-b`] },
      })
    ).body;
    const texts: string[] = [];
    for (let i = 0; i < N; i++) {
      const t = `${tag}-${i}`;
      expect(
        (await e.request("POST", `/api/v1/conversations/${conv.id}/messages`, { token: a.user_token, body: { client_msg_id: t, text: t } }))
          .status,
      ).toBe(201);
      texts.push(t);
    }
    return texts;
  }

  function count(texts: string[]) {
    const got = rx.received
      .map((r) => ({
        id: String(r.headers["webhook-id"]),
        text: (JSON.parse(r.body) as { data: { message: { text: string } } }).data.message.text,
      }))
      .filter((x) => texts.includes(x.text));
    const distinct = new Map<string, string>();
    for (const g of got) distinct.set(g.text, g.id);
    // Order: the first arrival of each event follows the send order.
    const firsts: string[] = [];
    for (const g of got) if (!firsts.includes(g.text)) firsts.push(g.text);
    const sameId = got.every((g) => distinct.get(g.text) === g.id);
    return {
      received: got.length,
      distinct: distinct.size,
      lost: texts.length - distinct.size,
      duplicates: got.length - distinct.size,
      inOrder: firsts.join() === texts.slice(0, firsts.length).join(),
      sameId,
    };
  }
  async function untilAll(texts: string[]) {
    const end = Date.now() + 30_000;
    while (count(texts).distinct < texts.length && Date.now() < end) await sleep(100);
    await sleep(500);
    return count(texts);
  }

  test("killed with the events stored and none delivered", async () => {
    rx.respond = () => ({ status: 503 });
    const texts = await sendMany("k1");
    await e.stop("SIGKILL");
    const refused = rx.received.length;
    rx.received.length = 0;
    rx.respond = () => ({ status: 204 });
    e = await start();
    const c = await untilAll(texts);
    console.log(
      `webhook kill -9 before delivery: events=${N} refused-before-kill=${refused} delivered=${c.distinct} lost=${c.lost} duplicates=${c.duplicates} in-order=${c.inOrder}`,
    );
    expect(c).toMatchObject({ distinct: N, lost: 0, duplicates: 0, inOrder: true, sameId: true });
  }, 120_000);

  test("killed in the middle of delivering", async () => {
    rx.received.length = 0;
    rx.respond = () => ({ status: 204, delayMs: 80 });
    const texts = await sendMany("k2");
    const end = Date.now() + 15_000;
    while (count(texts).received < 5 && Date.now() < end) await sleep(10);
    await e.stop("SIGKILL");
    const atKill = count(texts).received;
    rx.respond = () => ({ status: 204 });
    e = await start();
    const c = await untilAll(texts);
    console.log(
      `webhook kill -9 mid-delivery: events=${N} received-before-kill=${atKill} delivered=${c.distinct} lost=${c.lost} repeats-of-in-flight=${c.duplicates} (same webhook-id: ${c.sameId}) in-order=${c.inOrder}`,
    );
    expect(c.lost).toBe(0);
    expect(c.inOrder).toBe(true);
    expect(c.sameId).toBe(true);
    // One conversation delivers one event at a time: at most the one in flight repeats.
    expect(c.duplicates).toBeLessThanOrEqual(1);
  }, 120_000);
});
