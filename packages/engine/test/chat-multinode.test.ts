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

/** The conversation seqs of the `message.new` events a socket received, in arrival order. */
function newSeqs(w: WsClient, conversationId: string): number[] {
  return w
    .events()
    .filter((f) => f.type === "message.new" && (f.data as Msg).conversation_id === conversationId)
    .map((f) => (f.data as Msg).seq);
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
      // A node's copy of an app's filters would serve 10 min: a change must reach the other node by the bus.
      UTD_APP_SETTING_CACHE_S: "600",
    };
    [n1, n2] = await Promise.all([startEngine({ env, dataDir: dirs[0] }), startEngine({ env, dataDir: dirs[1] })]);
    app = await n1.createApp({ plan: "pro" });
  });
  afterAll(async () => {
    await Promise.all([n1?.stop(), n2?.stop()]);
    await pg?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("a filter change made through one node applies to sends on the other at once (the bus drops its copy)", async () => {
    const alice = (await n2.session(app, "mn-filter-alice")).user_token;
    await n2.session(app, "mn-filter-bob");
    const g = (
      await n2.request<{ id: string }>("POST", "/api/v1/conversations", {
        token: alice,
        body: { kind: "group", members: ["mn-filter-bob"] },
      })
    ).body;
    let k = 0;
    const sendOnNode2 = async () => {
      const r = await n2.request<{ text: string }>("POST", `/api/v1/conversations/${g.id}/messages`, {
        token: alice,
        body: { client_msg_id: `mf-${++k}`, text: "a darn word" },
      });
      expect(r.status).toBe(201);
      return r.body.text;
    };
    expect(await sendOnNode2()).toBe("a darn word"); // node 2 reads the app's filters (none) and keeps them
    const put = await n1.admin("PUT", `/admin/v1/apps/${app.app_id}/chat/filters`, {
      words: [{ term: "darn", action: "mask" }],
      link_policy: "allow",
    });
    expect(put.status).toBe(200);
    // The bus message arrives within milliseconds; 5 s is far below the 10 min its copy would otherwise serve.
    let text = await sendOnNode2();
    for (const end = Date.now() + 5000; text.includes("darn") && Date.now() < end; ) {
      await new Promise((r) => setTimeout(r, 50));
      text = await sendOnNode2();
    }
    expect(text).not.toContain("darn");
  });

  it("a key rotation through one node refuses older tokens on the other's REST at once (its app copy is dropped by the bus)", async () => {
    const own = await n1.createApp({ plan: "pro" });
    const token = (await n2.session(own, "mn-rot-alice")).user_token;
    const list = () => n2.request("GET", "/api/v1/conversations", { token });
    expect((await list()).status).toBe(200); // node 2 reads the app and keeps it (for up to a minute)
    const rot = await n1.admin("POST", `/admin/v1/apps/${own.app_id}/rotate-key`, {});
    expect(rot.status).toBe(200);
    // The bus message arrives within milliseconds; 5 s is far below the minute its copy would otherwise serve.
    let status = (await list()).status;
    for (const end = Date.now() + 5000; status === 200 && Date.now() < end; ) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await list()).status;
    }
    expect(status).toBe(401);
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
    // Each node's member got every message exactly once, in seq order.
    await aw.event<Msg>("message.new", (m) => m.seq === 42);
    await bw.event<Msg>("message.new", (m) => m.seq === 42);
    for (const w of [aw, bw]) expect(newSeqs(w, g.id)).toEqual(Array.from({ length: 42 }, (_, i) => i + 1));
    aw.close();
    bw.close();
  });

  it("a conversation's events reach every member in seq order, with senders on both nodes at once", async () => {
    // Six members, each with a socket on each node; every one sends over both sockets at once (the batched
    // path) and over REST through the other node (the single path), while members are added (system
    // messages take seqs too). Every socket must see 1..N in order: a client that catches up from its
    // highest seen seq would otherwise skip the ones that arrive late.
    const who = Array.from({ length: 6 }, (_, i) => `ord-${i}`);
    const tokens = await Promise.all(who.map(async (w, i) => (await (i % 2 ? n2 : n1).session(app, w)).user_token));
    for (const extra of ["ord-x1", "ord-x2", "ord-x3"]) await n2.session(app, extra);
    const g = (
      await n1.request<{ id: string }>("POST", "/api/v1/conversations", {
        token: tokens[0] as string,
        body: { kind: "group", members: who.slice(1) },
      })
    ).body;
    const sockets = await Promise.all(tokens.flatMap((t) => [WsClient.connect(n1.wsUrl, t), WsClient.connect(n2.wsUrl, t)]));
    const PER = 10;
    const sends: Promise<unknown>[] = [];
    for (let round = 0; round < PER; round++) {
      sockets.forEach((s, k) => {
        sends.push(s.request("message.send", { conversation_id: g.id, client_msg_id: `w${k}-${round}`, text: `ws ${k} ${round}` }));
      });
      tokens.forEach((t, i) => {
        sends.push(
          (round % 2 ? n1 : n2).request("POST", `/api/v1/conversations/${g.id}/messages`, {
            token: t,
            body: { client_msg_id: `r${i}-${round}`, text: `rest ${i} ${round}` },
          }),
        );
      });
      if (round % 4 === 1) {
        sends.push(
          (round % 8 === 1 ? n2 : n1).request("POST", `/api/v1/conversations/${g.id}/members`, {
            token: tokens[0] as string,
            body: { identities: [`ord-x${(round - 1) / 4 + 1}`] },
          }),
        );
      }
    }
    const results = await Promise.all(sends);
    for (const r of results) {
      const status = (r as { status?: number }).status;
      if (status !== undefined) expect(status).toBeLessThan(300);
      else expect((r as { type: string }).type).toBe("reply");
    }
    const total = sockets.length * PER + tokens.length * PER + 3;
    const h = await n2.request<{ messages: Msg[] }>("GET", `/api/v1/conversations/${g.id}/messages?after=0&limit=200`, {
      token: tokens[1] as string,
    });
    expect(h.body.messages.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    for (const s of sockets) {
      await s.event<Msg>("message.new", (m) => m.conversation_id === g.id && m.seq === total);
      expect(newSeqs(s, g.id)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      s.close();
    }
  });
});
