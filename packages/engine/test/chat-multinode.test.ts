import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshPostgres, redisUrlOrSkip } from "../../../test/helpers/backends.js";
import type { RunningEngine, TestApp } from "../../../test/helpers/engine.js";
import { CHAT_TEST_ENV, startEngine } from "./chat-world.js";
import { WsClient } from "./ws-helpers.js";

// Two nodes need both PostgreSQL and Redis (test/helpers/backends.ts decides; absent: skipped loudly, CI fails).
const pg = await freshPostgres("multi-node tests");
const redisUrl = pg ? await redisUrlOrSkip("multi-node tests") : undefined;
if (pg && !redisUrl) await pg.drop();

interface Msg {
  id: string;
  seq: number;
  conversation_id: string;
  client_msg_id: string | null;
}

/** Chat across two engine nodes sharing PostgreSQL and Redis. */
describe.skipIf(!pg || !redisUrl)("chat on two engine nodes (PostgreSQL + Redis)", () => {
  let n1: RunningEngine;
  let n2: RunningEngine;
  let app: TestApp;
  const dirs = [mkdtempSync(join(tmpdir(), "utd-chat-n1-")), mkdtempSync(join(tmpdir(), "utd-chat-n2-"))];
  beforeAll(async () => {
    const env = {
      ...CHAT_TEST_ENV,
      DATABASE_URL: pg?.url as string,
      REDIS_URL: redisUrl as string,
      UTD_TOKEN_SECRET: "shared-token-secret-for-both-chat-nodes-0123456789",
    };
    [n1, n2] = await Promise.all([startEngine({ env, dataDir: dirs[0] }), startEngine({ env, dataDir: dirs[1] })]);
    app = await n1.createApp({ plan: "pro" });
  });
  afterAll(async () => {
    await Promise.all([n1?.stop(), n2?.stop()]);
    await pg?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("messages and receipts cross nodes; concurrent sends through both nodes keep seq gap-free", async () => {
    const alice = (await n1.session(app, "mn-alice")).user_token;
    const bob = (await n2.session(app, "mn-bob")).user_token;
    const g = (
      await n1.request<{ id: string }>("POST", "/api/v1/conversations", { token: alice, body: { kind: "group", members: ["mn-bob"] } })
    ).body;
    const aw = await WsClient.connect(n1.wsUrl, alice);
    const bw = await WsClient.connect(n2.wsUrl, bob);
    const first = (
      await n1.request<Msg>("POST", `/api/v1/conversations/${g.id}/messages`, { token: alice, body: { client_msg_id: "x0", text: "hi" } })
    ).body;
    expect((await bw.event<Msg>("message.new", (m) => m.id === first.id)).data.seq).toBe(1);
    await n2.request("POST", `/api/v1/conversations/${g.id}/read`, { token: bob, body: { seq: 1 } });
    expect((await aw.event("receipt.read")).data).toEqual({ conversation_id: g.id, identity: "mn-bob", last_read_seq: 1 });
    // 40 sends, half through each node, all at once; the same client id sent to both nodes is stored once.
    const sends = Array.from({ length: 40 }, (_, i) =>
      (i % 2 ? n1 : n2).request<Msg>("POST", `/api/v1/conversations/${g.id}/messages`, {
        token: i % 4 < 2 ? alice : bob,
        body: { client_msg_id: `c${i}`, text: `m${i}` },
      }),
    );
    const dup = [n1, n2].map((n) =>
      n.request<Msg>("POST", `/api/v1/conversations/${g.id}/messages`, { token: alice, body: { client_msg_id: "dup", text: "d" } }),
    );
    const results = await Promise.all([...sends, ...dup]);
    expect(results.every((r) => r.status === 201 || r.status === 200)).toBe(true);
    const dupIds = results.slice(40).map((r) => r.body.id);
    expect(new Set(dupIds).size).toBe(1);
    const h = await n2.request<{ messages: Msg[] }>("GET", `/api/v1/conversations/${g.id}/messages?after=0&limit=200`, { token: bob });
    expect(h.body.messages.map((m) => m.seq)).toEqual(Array.from({ length: 42 }, (_, i) => i + 1));
    // Each node's member got every message exactly once (concurrent sends may arrive out of seq order; clients order by seq).
    await aw.event<Msg>("message.new", (m) => m.seq === 42);
    await bw.event<Msg>("message.new", (m) => m.seq === 42);
    for (const w of [aw, bw]) {
      const seqs = w
        .events()
        .filter((f) => f.type === "message.new")
        .map((f) => (f.data as Msg).seq);
      expect(seqs.sort((x, y) => x - y)).toEqual(Array.from({ length: 42 }, (_, i) => i + 1));
    }
    aw.close();
    bw.close();
  });
});
