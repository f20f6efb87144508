import { describe, expect, it } from "vitest";
import { BACKENDS, engineFor, world as makeWorld } from "./chat-world.js";
import { WsClient } from "./ws-helpers.js";

type Json = Record<string, unknown>;
interface Summary {
  reply_count: number;
  last_reply_at: string | null;
  last_reply_seq: number;
  participants: string[];
}
interface Msg {
  id: string;
  seq: number;
  text: string | null;
  sender: string | null;
  thread_id: string | null;
  thread: Summary | null;
  mentions: string[];
  deleted: boolean;
}
interface Thread {
  conversation_id: string;
  parent: Msg;
  last_read_seq: number;
  unread_count: number;
}
interface Err {
  error: { code: string };
}

describe.each(BACKENDS)("threads and mentions on %s", (_name, setup) => {
  const suite = engineFor(setup);
  const req = <T = Json>(method: string, path: string, token: string, body?: unknown) =>
    suite.engine.request<T>(method, path, { token, body });
  let k = 0;
  const send = async (token: string, conv: string, text: string, extra: Json = {}) => {
    const r = await req<Msg>("POST", `/api/v1/conversations/${conv}/messages`, token, { client_msg_id: `t${++k}`, text, ...extra });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  };
  const group = async (token: string, members: string[]) =>
    (await req<{ id: string }>("POST", "/api/v1/conversations", token, { kind: "group", members })).body.id;
  const history = async (token: string, conv: string, q = "") =>
    (await req<{ messages: Msg[]; has_more: boolean; last_seq: number }>("GET", `/api/v1/conversations/${conv}/messages${q}`, token)).body;
  const threads = async (token: string, q = "") =>
    (await req<{ threads: Thread[]; next_before: string | null; total_unread: number }>("GET", `/api/v1/threads${q}`, token)).body;

  it("replies stay out of the main timeline; the parent carries the summary; each participant has an unread count", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await makeWorld(suite.engine, 3);
    const [a, b, c] = ids as [string, string, string];
    const g = await group(t[a] as string, [b, c]);
    const wc = await WsClient.connect(suite.engine.wsUrl, t[c] as string);
    const parent = await send(t[a] as string, g, "shall we ship on friday?");
    const r1 = await send(t[b] as string, g, "yes", { thread_id: parent.id });
    expect(r1.thread_id).toBe(parent.id);
    const upd = await wc.event<Json>("thread.updated", (d) => d.reply_count === 1);
    expect(upd.data).toMatchObject({ conversation_id: g, thread_id: parent.id, participants: [a, b], last_reply_seq: r1.seq });
    await send(t[c] as string, g, "after the freeze", { thread_id: parent.id });
    const after = await send(t[a] as string, g, "main timeline goes on");

    // The main timeline: parent and the later message, not the replies; the parent shows the thread.
    const main = await history(t[b] as string, g);
    expect(main.messages.map((m) => m.text)).toEqual(["shall we ship on friday?", "main timeline goes on"]);
    expect(main.messages[0]?.thread).toMatchObject({ reply_count: 2, participants: [a, b, c] });
    expect(main.messages[0]?.thread?.last_reply_at).not.toBeNull();
    // The option shows them there too.
    expect((await history(t[b] as string, g, "?include_threads=true")).messages.map((m) => m.text)).toEqual([
      "shall we ship on friday?",
      "yes",
      "after the freeze",
      "main timeline goes on",
    ]);
    // The thread's own history, paged.
    const first = await req<{ messages: Msg[]; has_more: boolean; last_seq: number }>(
      "GET",
      `/api/v1/conversations/${g}/threads/${parent.id}/messages?limit=1`,
      t[b] as string,
    );
    expect(first.body.messages.map((m) => m.text)).toEqual(["after the freeze"]);
    expect(first.body.has_more).toBe(true);
    const older = await req<{ messages: Msg[]; has_more: boolean }>(
      "GET",
      `/api/v1/conversations/${g}/threads/${parent.id}/messages?before=${first.body.messages[0]?.seq}`,
      t[b] as string,
    );
    expect(older.body.messages.map((m) => m.text)).toEqual(["yes"]);
    expect(older.body.has_more).toBe(false);

    // Conversation unread counts main-timeline messages only; the last message is the main one.
    const convs = await req<{ conversations: { unread_count: number; last_message: Msg }[] }>(
      "GET",
      "/api/v1/conversations",
      t[b] as string,
    );
    expect(convs.body.conversations[0]?.last_message.id).toBe(after.id);
    // A thread reply does not move the main read position: both of a's main messages are unread for b.
    expect(convs.body.conversations[0]?.unread_count).toBe(2);

    // Thread unread: a (parent's sender) has 2 unread replies, b has 1 (c's), c has 0.
    const ta = await threads(t[a] as string);
    expect(ta.threads.map((x) => [x.parent.id, x.unread_count])).toEqual([[parent.id, 2]]);
    expect(ta.total_unread).toBe(2);
    expect((await threads(t[b] as string)).threads[0]?.unread_count).toBe(1);
    expect((await threads(t[c] as string)).threads[0]?.unread_count).toBe(0);
    const read = await req<Json>("POST", `/api/v1/conversations/${g}/threads/${parent.id}/read`, t[a] as string, { seq: 999 });
    expect(read.body).toMatchObject({ thread_id: parent.id, unread_count: 0, last_read_seq: 3 });
    expect((await threads(t[a] as string)).total_unread).toBe(0);

    // Deleting a reply takes it out of the count.
    const del = await req<Msg>("DELETE", `/api/v1/conversations/${g}/messages/${r1.id}`, t[b] as string);
    expect(del.status).toBe(200);
    await wc.event<Json>("thread.updated", (d) => d.reply_count === 1);
    expect((await history(t[c] as string, g)).messages[0]?.thread?.reply_count).toBe(1);
    wc.close();
  });

  it("bad thread_id is refused and nothing is stored; threads list pages; non-members are refused", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await makeWorld(suite.engine, 3);
    const [a, b, c] = ids as [string, string, string];
    const g = await group(t[a] as string, [b]);
    const other = await group(t[a] as string, [c]);
    const p1 = await send(t[a] as string, g, "one");
    const reply = await send(t[b] as string, g, "r", { thread_id: p1.id });
    const elsewhere = await send(t[a] as string, other, "elsewhere");
    const before = await history(t[a] as string, g, "?include_threads=true");
    for (const thread_id of [reply.id, elsewhere.id, "msg_nope", "bad id!"]) {
      const r = await req<Err>("POST", `/api/v1/conversations/${g}/messages`, t[a] as string, {
        client_msg_id: `bad${++k}`,
        text: "x",
        thread_id,
      });
      expect(r.status, thread_id).toBe(400);
      expect(r.body.error.code).toBe("invalid_argument");
    }
    // Over WebSocket too.
    const wa = await WsClient.connect(suite.engine.wsUrl, t[a] as string);
    expect(await wa.request("message.send", { conversation_id: g, client_msg_id: "wsbad", text: "x", thread_id: reply.id })).toMatchObject({
      ok: false,
      error: { code: "invalid_argument" },
    });
    const ok = await wa.request("message.send", { conversation_id: g, client_msg_id: "wsok", text: "via ws", thread_id: p1.id });
    expect(ok).toMatchObject({ ok: true, data: { thread_id: p1.id } });
    wa.close();
    const now = await history(t[a] as string, g, "?include_threads=true");
    expect(now.messages.length).toBe(before.messages.length + 1);
    expect(now.last_seq).toBe(before.last_seq + 1);
    // A deleted parent cannot get new replies.
    const p2 = await send(t[a] as string, g, "two");
    await req("DELETE", `/api/v1/conversations/${g}/messages/${p2.id}`, t[a] as string);
    const dead = await req<Err>("POST", `/api/v1/conversations/${g}/messages`, t[b] as string, {
      client_msg_id: "dead",
      text: "x",
      thread_id: p2.id,
    });
    expect(dead.body.error.code).toBe("invalid_argument");
    // Paging over threads: two threads, most recent reply first.
    const p3 = await send(t[a] as string, g, "three");
    await send(t[b] as string, g, "r3", { thread_id: p3.id });
    const page1 = await threads(t[b] as string, "?limit=1");
    expect(page1.threads.map((x) => x.parent.id)).toEqual([p3.id]);
    expect(page1.next_before).not.toBeNull();
    const page2 = await threads(t[b] as string, `?limit=1&before=${page1.next_before}`);
    expect(page2.threads.map((x) => x.parent.id)).toEqual([p1.id]);
    expect(page2.next_before).toBeNull();
    // c is not in g: its threads are not c's, and its thread history is not found.
    expect((await threads(t[c] as string)).threads).toEqual([]);
    const nope = await req<Err>("GET", `/api/v1/conversations/${g}/threads/${p1.id}/messages`, t[c] as string);
    expect(nope.body.error.code).toBe("not_found");
    const bad = await req<Err>("GET", "/api/v1/threads?before=nope", t[a] as string);
    expect(bad.body.error.code).toBe("invalid_argument");
  });

  it("mentions: @identity of members only, per-conversation counts until read, over REST and WebSocket", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await makeWorld(suite.engine, 4);
    const [a, b, c, d] = ids as [string, string, string, string];
    const g = await group(t[a] as string, [b, c]);
    const m1 = await send(t[a] as string, g, `hey @${b}, and (@${c})! not @${d} (not a member), not mail@${b}, @nobody`);
    expect(m1.mentions).toEqual([b, c]);
    const wb = await WsClient.connect(suite.engine.wsUrl, t[b] as string);
    const ws = await wb.request("message.send", { conversation_id: g, client_msg_id: "wsm", text: `@${c} @${c} @${a}` });
    expect(ws).toMatchObject({ ok: true, data: { mentions: [c, a] } });
    const live = await wb.event<Msg>("message.new", (m) => m.id === m1.id || m.mentions.length === 2);
    expect(live.data.mentions.length).toBe(2);
    wb.close();
    const conv = async (who: string) =>
      (
        await req<{ conversations: { id: string; mention_count: number; unread_count: number }[] }>(
          "GET",
          "/api/v1/conversations",
          t[who] as string,
        )
      ).body.conversations[0];
    expect((await conv(c))?.mention_count).toBe(2);
    expect((await conv(b))?.mention_count).toBe(0); // b sent after being mentioned: read
    expect((await conv(a))?.mention_count).toBe(1);
    const unread = (
      await req<{ total_mentions: number; conversations: { mention_count: number }[] }>("GET", "/api/v1/unread", t[c] as string)
    ).body;
    expect(unread.total_mentions).toBe(2);
    await req("POST", `/api/v1/conversations/${g}/read`, t[c] as string, { seq: m1.seq });
    expect((await conv(c))?.mention_count).toBe(1);
    // A deleted message's mentions no longer count, and its tombstone lists none.
    const last = (await history(t[c] as string, g)).messages.at(-1) as Msg;
    const del = await req<Msg>("DELETE", `/api/v1/conversations/${g}/messages/${last.id}`, t[b] as string);
    expect(del.body.mentions).toEqual([]);
    expect((await conv(c))?.mention_count).toBe(0);
    // An edit does not change who was mentioned (mentions are parsed at send).
    expect((await history(t[a] as string, g)).messages[0]?.mentions).toEqual([b, c]);
  });
});
