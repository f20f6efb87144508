import { describe, expect, it } from "vitest";
import { BACKENDS, engineFor, world } from "./chat-world.js";
import { sleep, WsClient } from "./ws-helpers.js";

interface Msg {
  id: string;
  seq: number;
  conversation_id: string;
  text: string | null;
  client_msg_id: string | null;
}

describe.each(BACKENDS)("chat over WebSocket on %s", (_name, setup) => {
  const suite = engineFor(setup, { UTD_WS_FRAMES_PER_S: "1000/1000" });
  const req = <T>(method: string, path: string, token: string, body?: unknown) => suite.engine.request<T>(method, path, { token, body });
  const messagesOf = (c: WsClient, conv: string) =>
    c
      .events()
      .filter((f) => f.type === "message.new" && (f.data as Msg).conversation_id === conv)
      .map((f) => f.data as Msg);

  it("members get message.new live; a member offline for 30 messages gets each exactly once, in order, on resume", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(suite.engine, 3);
    const [a, b, c] = ids as [string, string, string];
    const g = (await req<{ id: string }>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: [b, c] })).body;
    const wa = await WsClient.connect(suite.engine.wsUrl, t[a] as string);
    let wb = await WsClient.connect(suite.engine.wsUrl, t[b] as string);
    const first = (await req<Msg>("POST", `/api/v1/conversations/${g.id}/messages`, t[a] as string, { client_msg_id: "w0", text: "hello" }))
      .body;
    expect((await wb.event<Msg>("message.new")).data).toMatchObject({ id: first.id, seq: 1, text: "hello" });
    await wa.event<Msg>("message.new", (m) => m.id === first.id); // the sender's own devices too
    // b goes offline, 30 messages arrive (a retry among them), b resumes.
    const last = wb.events().at(-1);
    const epoch = wb.welcome?.epoch as string;
    wb.close();
    await wb.closed;
    for (let i = 1; i <= 30; i++) {
      await req("POST", `/api/v1/conversations/${g.id}/messages`, t[i % 2 ? a : c] as string, { client_msg_id: `w${i}`, text: `n${i}` });
      if (i === 10) await req("POST", `/api/v1/conversations/${g.id}/messages`, t[c] as string, { client_msg_id: "w10", text: "retry" });
    }
    wb = await WsClient.connect(suite.engine.wsUrl, t[b] as string, { resume: { epoch, seq: last?.seq as number } });
    expect(wb.welcome).toMatchObject({ resumed: true });
    await wb.event<Msg>("message.new", (m) => m.seq === 31);
    await sleep(100);
    expect(messagesOf(wb, g.id).map((m) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 2));
    wa.close();
    wb.close();
  });

  it("concurrent senders to one conversation: every member receives message.new in ascending seq order", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(suite.engine, 4);
    const [a, ...others] = ids as [string, string, string, string];
    const g = (await req<{ id: string }>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: others })).body;
    const sockets = await Promise.all(ids.map((id) => WsClient.connect(suite.engine.wsUrl, t[id] as string)));
    // 4 senders × 15 messages, all in flight at once.
    const N = 60;
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        req("POST", `/api/v1/conversations/${g.id}/messages`, t[ids[i % 4] as string] as string, { client_msg_id: `o${i}`, text: `${i}` }),
      ),
    );
    for (const w of sockets) {
      await w.event<Msg>("message.new", (m) => m.conversation_id === g.id && m.seq === N);
      const seqs = messagesOf(w, g.id).map((m) => m.seq);
      expect(seqs).toEqual(Array.from({ length: N }, (_, i) => i + 1));
      w.close();
    }
  });

  it("a burst of sends shares batches: duplicates in flight answer the stored message, a blocker gets none of the blocked sender's, read markers move", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(suite.engine, 4);
    const [a, b, c, blocker] = ids as [string, string, string, string];
    const g = (await req<{ id: string }>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: [b, c, blocker] }))
      .body;
    expect((await req("PUT", `/api/v1/blocks/${b}`, t[blocker] as string)).status).toBeLessThan(300);
    const sockets = await Promise.all(ids.map((id) => WsClient.connect(suite.engine.wsUrl, t[id] as string)));
    // 3 senders × 10 messages, each sent twice at once (a client retrying while its first try is in flight), over both paths.
    const sends = [a, b, c].flatMap((who, si) =>
      Array.from({ length: 10 }, (_, i) => ({ who, id: `b${i}`, w: sockets[si] as WsClient })).flatMap((x) => [x, x]),
    );
    const answers = await Promise.all(
      sends.map(async ({ who, id, w }, k) => {
        if (k % 2 === 0) {
          const r = await req<Msg>("POST", `/api/v1/conversations/${g.id}/messages`, t[who] as string, {
            client_msg_id: id,
            text: `${who} ${id}`,
          });
          expect([200, 201]).toContain(r.status);
          return r.body;
        }
        const r = await w.request("message.send", { conversation_id: g.id, client_msg_id: id, text: `${who} ${id}` });
        expect(r.ok).toBe(true);
        return r.data as Msg;
      }),
    );
    // Each (sender, client_msg_id) stored once: the two tries of a send answer the same message; seqs 1..30 without gaps.
    for (let k = 0; k < answers.length; k += 2) expect(answers[k + 1]?.id).toBe(answers[k]?.id);
    const seqs = [...new Set(answers.map((m) => m.seq))].sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    for (const [i, w] of sockets.entries()) {
      const mine = ids[i] === blocker ? 20 : 30;
      await w.event<Msg>("message.new", () => messagesOf(w, g.id).length >= mine);
      await sleep(100);
      const got = messagesOf(w, g.id);
      // In seq order, each once; the blocker never gets b's messages.
      expect(got.map((m) => m.seq)).toEqual([...got.map((m) => m.seq)].sort((x, y) => x - y));
      expect(new Set(got.map((m) => m.id)).size).toBe(got.length);
      expect(got.length).toBe(mine);
      if (ids[i] === blocker) expect(got.some((m) => m.text?.startsWith(`${b} `))).toBe(false);
      w.close();
    }
    // Each sender's read marker is at its own last message.
    const convs = await Promise.all(
      [a, b, c].map(async (who) => (await req<{ unread_count: number }>("GET", `/api/v1/conversations/${g.id}`, t[who] as string)).body),
    );
    const lastOf = (who: string) => Math.max(...answers.filter((m) => m.text?.startsWith(`${who} `)).map((m) => m.seq));
    for (const [i, who] of [a, b, c].entries()) expect(convs[i]?.unread_count).toBe(30 - lastOf(who));
  });

  it("receipt.read syncs unread across a user's devices and reaches others only when shared", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { app, t, ids } = await world(suite.engine, 2);
    const [a, b] = ids as [string, string];
    const g = (await req<{ id: string }>("POST", "/api/v1/conversations", t[a] as string, { kind: "direct", members: [b] })).body;
    for (let i = 0; i < 3; i++)
      await req("POST", `/api/v1/conversations/${g.id}/messages`, t[a] as string, { client_msg_id: `x${i}`, text: "x" });
    const phone = await WsClient.connect(suite.engine.wsUrl, (await suite.engine.session(app, b, { device_id: "phone" })).user_token, {
      deviceId: "phone",
    });
    const wa = await WsClient.connect(suite.engine.wsUrl, t[a] as string);
    const laptop = await WsClient.connect(suite.engine.wsUrl, t[b] as string, { deviceId: "laptop" });
    const read = await laptop.request("message.read", { conversation_id: g.id, seq: 2 });
    expect(read).toMatchObject({ ok: true, data: { last_read_seq: 2, unread_count: 1, total_unread: 1 } });
    const synced = await phone.event<{ unread_count: number; total_unread: number }>("receipt.read");
    expect(synced.data).toMatchObject({ conversation_id: g.id, identity: b, last_read_seq: 2, unread_count: 1, total_unread: 1 });
    expect((await wa.event("receipt.read")).data).toEqual({ conversation_id: g.id, identity: b, last_read_seq: 2 });
    // Receipts off: a hears nothing about b's reads (a later message proves the stream moved on).
    await req("PATCH", "/api/v1/chat/settings", t[b] as string, { share_read_receipts: false });
    await laptop.request("message.read", { conversation_id: g.id, seq: 3 });
    await phone.event("receipt.read", (d: { last_read_seq: number }) => d.last_read_seq === 3);
    await req("POST", `/api/v1/conversations/${g.id}/messages`, t[b] as string, { client_msg_id: "y", text: "y" });
    await wa.event<Msg>("message.new", (m) => m.client_msg_id === "y");
    expect(wa.events().filter((f) => f.type === "receipt.read")).toHaveLength(1);
    for (const x of [phone, wa, laptop]) x.close();
  });

  it("message.send over the socket is idempotent, authorised and gated by the chat capability", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { app, t, ids } = await world(suite.engine, 3);
    const [a, b, stranger] = ids as [string, string, string];
    const g = (await req<{ id: string }>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: [b] })).body;
    const wa = await WsClient.connect(suite.engine.wsUrl, t[a] as string);
    const wb = await WsClient.connect(suite.engine.wsUrl, t[b] as string);
    const ws = await WsClient.connect(suite.engine.wsUrl, t[stranger] as string);
    const r1 = await wa.request("message.send", { conversation_id: g.id, client_msg_id: "s1", text: "via ws" });
    const r2 = await wa.request("message.send", { conversation_id: g.id, client_msg_id: "s1", text: "via ws" });
    expect(r1).toMatchObject({ ok: true, data: { seq: 1, text: "via ws" } });
    expect((r2.data as Msg).id).toBe((r1.data as Msg).id);
    await wb.event<Msg>("message.new", (m) => m.seq === 1);
    expect(await wa.request("message.send", { conversation_id: g.id, client_msg_id: "s2" })).toMatchObject({
      ok: false,
      error: { code: "invalid_argument" },
    });
    expect(await wa.request("message.send", { conversation_id: g.id, client_msg_id: "s3", text: "x".repeat(5001) })).toMatchObject({
      ok: false,
      error: { code: "invalid_argument" },
    });
    expect(await ws.request("message.send", { conversation_id: g.id, client_msg_id: "s4", text: "intrude" })).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(await ws.request("message.read", { conversation_id: g.id, seq: 1 })).toMatchObject({ ok: false, error: { code: "not_found" } });
    // Conversation typing reaches the other members only.
    await wa.request("typing.start", { conversation_id: g.id });
    await wb.event("typing.started");
    expect(await ws.request("typing.start", { conversation_id: g.id })).toMatchObject({ ok: false, error: { code: "not_found" } });
    await suite.engine.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { messaging_enabled: false });
    const off = await wa.request("message.send", { conversation_id: g.id, client_msg_id: "s5", text: "x" });
    expect(off).toMatchObject({ ok: false, error: { code: "feature_disabled", capability: "chat" } });
    await suite.engine.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { messaging_enabled: true });
    const h = await req<{ messages: Msg[] }>("GET", `/api/v1/conversations/${g.id}/messages`, t[a] as string);
    expect(h.body.messages.map((m) => m.client_msg_id)).toEqual(["s1"]);
    for (const x of [wa, wb, ws]) x.close();
  });

  it("member and conversation events reach the members, including the one added or removed", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(suite.engine, 3);
    const [a, b, c] = ids as [string, string, string];
    const wc = await WsClient.connect(suite.engine.wsUrl, t[c] as string);
    const g = (await req<{ id: string }>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: [b] })).body;
    await req("POST", `/api/v1/conversations/${g.id}/members`, t[a] as string, { identities: [c] });
    expect((await wc.event("member.added")).data).toMatchObject({ conversation_id: g.id, identity: c, role: "member", by: a });
    await wc.event<Msg>("message.new", (m) => m.conversation_id === g.id);
    await req("PATCH", `/api/v1/conversations/${g.id}`, t[a] as string, { name: "renamed" });
    expect((await wc.event("conversation.updated", (d: { change: string }) => d.change === "updated")).data).toMatchObject({
      name: "renamed",
    });
    await req("DELETE", `/api/v1/conversations/${g.id}/members/${c}`, t[a] as string);
    expect((await wc.event("member.removed")).data).toMatchObject({ conversation_id: g.id, identity: c, by: a });
    wc.close();
  });
});
