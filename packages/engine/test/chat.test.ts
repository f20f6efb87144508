import { describe, expect, it } from "vitest";
import type { TestApp } from "../../../test/helpers/engine.js";
import { BACKENDS, engineFor, world as makeWorld } from "./chat-world.js";

type Json = Record<string, unknown>;
interface Msg {
  id: string;
  seq: number;
  text: string | null;
  sender: string | null;
  type: string;
  deleted: boolean;
  client_msg_id: string | null;
  reactions: Record<string, string[]>;
  custom: Json | null;
}
interface Conv {
  id: string;
  kind: string;
  role: string | null;
  last_seq: number;
  unread_count: number;
  last_read_seq: number;
  member_count: number;
  closed: boolean;
  members: string[];
  last_message: Msg | null;
}
interface Err {
  error: { code: string; limit?: string; capability?: string; status?: string };
}

describe.each(BACKENDS)("chat on %s", (_name, setup) => {
  const suite = engineFor(setup);

  const world = (count: number, plan = "free"): Promise<{ app: TestApp; t: Record<string, string>; ids: string[] }> =>
    makeWorld(suite.engine, count, plan);
  const req = <T = Json>(method: string, path: string, token: string, body?: unknown) =>
    suite.engine.request<T>(method, path, { token, body });
  const send = (token: string, conv: string, client_msg_id: string, extra: Json = {}) =>
    req<Msg>("POST", `/api/v1/conversations/${conv}/messages`, token, { client_msg_id, text: `m ${client_msg_id}`, ...extra });
  const history = async (token: string, conv: string, q = "") =>
    (await req<{ messages: Msg[]; has_more: boolean; last_seq: number }>("GET", `/api/v1/conversations/${conv}/messages${q}`, token)).body;

  it("direct: one per pair whoever creates it; bad member lists refused", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(3);
    const [a, b, c] = ids as [string, string, string];
    const first = await req<Conv>("POST", "/api/v1/conversations", t[a] as string, { kind: "direct", members: [b] });
    expect(first.status).toBe(201);
    expect(first.body.members.sort()).toEqual([a, b].sort());
    const again = await req<Conv>("POST", "/api/v1/conversations", t[b] as string, { kind: "direct", members: [a] });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const concurrent = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        req<Conv>("POST", "/api/v1/conversations", t[i % 2 ? a : c] as string, { kind: "direct", members: [i % 2 ? c : a] }),
      ),
    );
    expect(new Set(concurrent.map((r) => r.body.id)).size).toBe(1);
    for (const body of [
      { kind: "direct", members: [a] },
      { kind: "direct", members: [b, c] },
      { kind: "direct" },
      { kind: "direct", members: ["nobody_here"] },
      { kind: "nope", members: [b] },
      { kind: "direct", members: [b], extra: 1 },
    ]) {
      const r = await req<Err>("POST", "/api/v1/conversations", t[a] as string, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe("invalid_argument");
    }
    const list = await req<{ conversations: Conv[] }>("GET", "/api/v1/conversations", t[a] as string);
    expect(list.body.conversations.map((x) => x.kind)).toEqual(["direct", "direct"]);
  });

  it("sends are durable, idempotent by client_msg_id and gap-free under concurrency", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(4);
    const [a, b, c, d] = ids as [string, string, string, string];
    const conv = (await req<Conv>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", name: "g", members: [b, c, d] })).body;
    const s1 = await send(t[a] as string, conv.id, "same-1");
    expect(s1.status).toBe(201);
    expect(s1.body.seq).toBe(1);
    const retry = await send(t[a] as string, conv.id, "same-1", { text: "different text" });
    expect(retry.status).toBe(200);
    expect(retry.body.id).toBe(s1.body.id);
    expect(retry.body.text).toBe(s1.body.text);
    // The same client id from another sender is a different message.
    const other = await send(t[b] as string, conv.id, "same-1");
    expect(other.status).toBe(201);
    expect(other.body.seq).toBe(2);
    // Ten concurrent retries of one new send: exactly one message.
    const dupes = await Promise.all(Array.from({ length: 10 }, () => send(t[c] as string, conv.id, "race-1")));
    expect(new Set(dupes.map((r) => r.body.id)).size).toBe(1);
    expect(dupes.filter((r) => r.status === 201)).toHaveLength(1);
    // 4 senders × 15 concurrent sends: seqs 4..63 without gaps or duplicates.
    const all = await Promise.all(ids.flatMap((id) => Array.from({ length: 15 }, (_, i) => send(t[id] as string, conv.id, `c-${i}`))));
    expect(all.every((r) => r.status === 201)).toBe(true);
    const seqs = all.map((r) => r.body.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => i + 4));
    const h = await history(t[d] as string, conv.id, "?after=0&limit=200");
    expect(h.messages.map((m) => m.seq)).toEqual(Array.from({ length: 63 }, (_, i) => i + 1));
    expect(h.last_seq).toBe(63);
  });

  it("an offline member catches up 30 messages exactly once, in order, by paging history", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(3);
    const [a, b, off] = ids as [string, string, string];
    const conv = (await req<Conv>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: [b, off] })).body;
    for (let i = 0; i < 30; i++) await send(t[i % 2 ? a : b] as string, conv.id, `x${i}`);
    const seen: number[] = [];
    let after = 0;
    for (;;) {
      const page = await history(t[off] as string, conv.id, `?after=${after}&limit=7`);
      seen.push(...page.messages.map((m) => m.seq));
      if (!page.has_more) break;
      after = page.messages.at(-1)?.seq ?? after;
    }
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const back = await history(t[off] as string, conv.id, "?before=11&limit=5");
    expect(back.messages.map((m) => m.seq)).toEqual([6, 7, 8, 9, 10]);
    expect(back.has_more).toBe(true);
    const newest = await history(t[off] as string, conv.id, "?limit=3");
    expect(newest.messages.map((m) => m.seq)).toEqual([28, 29, 30]);
    const unread = await req<{ total: number }>("GET", "/api/v1/unread", t[off] as string);
    expect(unread.body.total).toBe(30);
  });

  it("unread counts stay right across devices and reads; receipts can be hidden", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { app, t, ids } = await world(3);
    const [a, b, c] = ids as [string, string, string];
    const g = (await req<Conv>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: [b, c] })).body;
    const dm = (await req<Conv>("POST", "/api/v1/conversations", t[a] as string, { kind: "direct", members: [b] })).body;
    for (let i = 0; i < 5; i++) await send(t[a] as string, g.id, `g${i}`);
    for (let i = 0; i < 2; i++) await send(t[a] as string, dm.id, `d${i}`);
    await send(t[b] as string, g.id, "own"); // b's own message: counts as read up to it
    const phone = (await suite.engine.session(app, b, { device_id: "phone" })).user_token;
    const u1 = await req<{ total: number; conversations: { conversation_id: string; unread_count: number }[] }>(
      "GET",
      "/api/v1/unread",
      phone,
    );
    expect(u1.body.total).toBe(2);
    expect(u1.body.conversations).toEqual([expect.objectContaining({ conversation_id: dm.id, unread_count: 2 })]);
    await send(t[a] as string, g.id, "after-own");
    const read = await req<{ last_read_seq: number; unread_count: number; total_unread: number }>(
      "POST",
      `/api/v1/conversations/${g.id}/read`,
      t[b] as string,
      { seq: 3 },
    );
    expect(read.status).toBe(200);
    // Reads never move backwards, and past the end they stop at the last seq.
    expect(read.body).toMatchObject({ last_read_seq: 6, unread_count: 1, total_unread: 3 });
    const far = await req<{ last_read_seq: number; total_unread: number }>("POST", `/api/v1/conversations/${g.id}/read`, phone, {
      seq: 999,
    });
    expect(far.body).toMatchObject({ last_read_seq: 7, total_unread: 2 });
    const list = await req<{ conversations: Conv[] }>("GET", "/api/v1/conversations", t[b] as string);
    expect(list.body.conversations.map((x) => [x.id, x.unread_count])).toEqual([
      [g.id, 0],
      [dm.id, 2],
    ]);
    expect(list.body.conversations[0]?.last_message?.text).toBe("m after-own");
    // A deleted message no longer counts as unread.
    const dmHist = await history(t[a] as string, dm.id);
    await req("DELETE", `/api/v1/conversations/${dm.id}/messages/${dmHist.messages[0]?.id}`, t[a] as string);
    expect((await req<{ total: number }>("GET", "/api/v1/unread", t[b] as string)).body.total).toBe(1);
    // Hidden receipts: others see null, the user sees their own.
    for (const bad of [{ share_read_receipts: "no" }, {}, { share_read_receipts: false, x: 1 }]) {
      expect((await req<Err>("PATCH", "/api/v1/chat/settings", t[b] as string, bad)).status).toBe(400);
    }
    expect((await req("GET", "/api/v1/chat/settings", t[b] as string)).body).toEqual({ share_read_receipts: true });
    const off = await req("PATCH", "/api/v1/chat/settings", t[b] as string, { share_read_receipts: false });
    expect(off.body).toEqual({ share_read_receipts: false });
    const seenByA = await req<{ members: { identity: string; last_read_seq: number | null }[] }>(
      "GET",
      `/api/v1/conversations/${g.id}/members`,
      t[a] as string,
    );
    expect(seenByA.body.members.find((m) => m.identity === b)?.last_read_seq).toBeNull();
    const seenByB = await req<{ members: { identity: string; last_read_seq: number | null }[] }>(
      "GET",
      `/api/v1/conversations/${g.id}/members`,
      t[b] as string,
    );
    expect(seenByB.body.members.find((m) => m.identity === b)?.last_read_seq).toBe(7);
    for (const bad of [{ seq: -1 }, { seq: "3" }, {}, { seq: 1.5 }]) {
      const r = await req<Err>("POST", `/api/v1/conversations/${g.id}/read`, t[c] as string, bad);
      expect(r.status).toBe(400);
    }
    expect((await req<{ total: number }>("GET", "/api/v1/unread", t[c] as string)).body.total).toBe(7);
  });

  it("edit, delete (tombstone) and reactions follow the rules", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(3);
    const [a, b, c] = ids as [string, string, string];
    const g = (await req<Conv>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: [b] })).body;
    const m = (await send(t[b] as string, g.id, "e1", { custom: { k: 1 } })).body;
    const path = `/api/v1/conversations/${g.id}/messages/${m.id}`;
    expect((await req<Err>("PATCH", path, t[a] as string, { text: "hijack" })).status).toBe(403);
    expect((await req<Err>("PATCH", path, t[c] as string, { text: "x" })).status).toBe(404);
    expect((await req<Err>("PATCH", path, t[b] as string, {})).status).toBe(400);
    expect((await history(t[b] as string, g.id)).messages[0]).toMatchObject({ text: "m e1", edited_at: null });
    // Renaming needs owner/admin; a member is refused and the name stays.
    expect((await req<Err>("PATCH", `/api/v1/conversations/${g.id}`, t[b] as string, { name: "mine now" })).status).toBe(403);
    expect((await req<Err>("PATCH", `/api/v1/conversations/${g.id}`, t[a] as string, { name: 7 })).status).toBe(400);
    expect((await req<Conv & { name: string | null }>("GET", `/api/v1/conversations/${g.id}`, t[b] as string)).body.name).toBeNull();
    const ed = await req<Msg & { edited_at: string }>("PATCH", path, t[b] as string, { text: "fixed" });
    expect(ed.status).toBe(200);
    expect(ed.body.text).toBe("fixed");
    expect(ed.body.edited_at).toBeTruthy();
    for (const who of [a, b, a]) await req("POST", `${path}/reactions`, t[who] as string, { reaction: "👍" });
    const r2 = await req<Msg>("POST", `${path}/reactions`, t[a] as string, { reaction: "🎉" });
    expect(r2.body.reactions).toEqual({ "👍": [a, b], "🎉": [a] });
    expect((await req<Err>("POST", `${path}/reactions`, t[c] as string, { reaction: "x" })).status).toBe(404);
    expect((await req<Err>("POST", `${path}/reactions`, t[a] as string, { reaction: "two words" })).status).toBe(400);
    // One user may put at most 20 different reactions on a message (b has 👍 already); the refused one changes nothing.
    for (let i = 0; i < 19; i++) await req("POST", `${path}/reactions`, t[b] as string, { reaction: `r${i}` });
    const tooMany = await req<Err>("POST", `${path}/reactions`, t[b] as string, { reaction: "one-more" });
    expect(tooMany.status).toBe(400);
    expect((await req<Msg>("POST", `${path}/reactions`, t[b] as string, { reaction: "r0" })).body.reactions["one-more"]).toBeUndefined();
    for (let i = 0; i < 19; i++) await req("DELETE", `${path}/reactions/r${i}`, t[b] as string);
    const un = await req<Msg>("DELETE", `${path}/reactions/${encodeURIComponent("🎉")}`, t[a] as string);
    expect(un.body.reactions).toEqual({ "👍": [a, b] });
    // The owner may delete others' messages; a plain member may not.
    const m2 = (await send(t[a] as string, g.id, "e2")).body;
    expect((await req<Err>("DELETE", `/api/v1/conversations/${g.id}/messages/${m2.id}`, t[b] as string)).status).toBe(403);
    const del = await req<Msg>("DELETE", path, t[a] as string);
    expect(del.body).toMatchObject({ deleted: true, text: null, custom: null, reactions: {} });
    const h = await history(t[b] as string, g.id);
    expect(h.messages.find((x) => x.id === m.id)).toMatchObject({ deleted: true, text: null, seq: m.seq });
    expect((await req<Err>("PATCH", path, t[b] as string, { text: "again" })).body.error.code).toBe("conflict");
    const reply = await send(t[a] as string, g.id, "r1", { reply_to: m2.id });
    expect(reply.status).toBe(201);
    expect((await send(t[a] as string, g.id, "r2", { reply_to: "msg_nope" })).status).toBe(400);
  });

  it("refuses bad messages with typed errors and stores nothing", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(2);
    const [a, b] = ids as [string, string];
    const g = (await req<Conv>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: [b] })).body;
    const bad: Json[] = [
      { client_msg_id: "b1", text: "x".repeat(5001) },
      { client_msg_id: "b2", custom: { big: "y".repeat(5000) } },
      { client_msg_id: "b3", attachments: Array.from({ length: 11 }, (_, i) => ({ file_token: `file_${i}` })) },
      { client_msg_id: "b4" },
      { client_msg_id: "b5", text: 42 },
      { client_msg_id: "bad id with spaces", text: "x" },
      { text: "no client id" },
      { client_msg_id: "b6", text: "x", sender: "someone-else" },
      { client_msg_id: "b7", text: "" },
    ];
    for (const body of bad) {
      const r = await req<Err>("POST", `/api/v1/conversations/${g.id}/messages`, t[a] as string, body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.body.error.code).toBe("invalid_argument");
    }
    const unknownFile = await req<Err>("POST", `/api/v1/conversations/${g.id}/messages`, t[a] as string, {
      client_msg_id: "b8",
      attachments: [{ file_token: "file_nope" }],
    });
    expect(unknownFile.status).toBe(404);
    const raw = await suite.engine.request<Err>("POST", `/api/v1/conversations/${g.id}/messages`, { token: t[a], raw: "{not json" });
    expect(raw.status).toBe(400);
    // Bodies past the engine's limit are refused before parsing.
    const huge = await req<Err>("POST", `/api/v1/conversations/${g.id}/messages`, t[a] as string, {
      client_msg_id: "huge",
      text: "y".repeat(200_000),
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe("payload_too_large");
    const ok = await send(t[a] as string, g.id, "fine", { text: "x".repeat(5000) });
    expect(ok.body.seq).toBe(1);
    expect((await history(t[b] as string, g.id)).messages).toHaveLength(1);
  });

  it("authorisation: non-members, other apps and unknown ids see nothing and change nothing", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(3);
    const [a, b, stranger] = ids as [string, string, string];
    const other = await world(1);
    const outsider = other.t[other.ids[0] as string] as string;
    const g = (await req<Conv>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: [b] })).body;
    const m = (await send(t[a] as string, g.id, "s1")).body;
    const paths: [string, string, unknown?][] = [
      ["GET", `/api/v1/conversations/${g.id}`],
      ["GET", `/api/v1/conversations/${g.id}/messages`],
      ["GET", `/api/v1/conversations/${g.id}/members`],
      ["POST", `/api/v1/conversations/${g.id}/messages`, { client_msg_id: "z", text: "intrude" }],
      ["POST", `/api/v1/conversations/${g.id}/messages/${m.id}/reactions`, { reaction: "x" }],
      ["PATCH", `/api/v1/conversations/${g.id}/messages/${m.id}`, { text: "x" }],
      ["DELETE", `/api/v1/conversations/${g.id}/messages/${m.id}`],
      ["POST", `/api/v1/conversations/${g.id}/read`, { seq: 1 }],
      ["POST", `/api/v1/conversations/${g.id}/members`, { identities: [stranger] }],
      ["POST", `/api/v1/conversations/${g.id}/close`],
      ["PATCH", `/api/v1/conversations/${g.id}`, { name: "mine" }],
      ["POST", `/api/v1/conversations/${g.id}/join`],
    ];
    for (const token of [t[stranger] as string, outsider]) {
      for (const [method, path, body] of paths) {
        const r = await req<Err>(method, path, token, body);
        expect(r.status, `${method} ${path}`).toBe(404);
        expect(r.body.error.code).toBe("not_found");
      }
    }
    for (const [method, path, body] of paths.slice(0, 4)) {
      expect((await req<Err>(method, path.replace(g.id, "conv_unknown"), t[a] as string, body)).status).toBe(404);
      expect((await req<Err>(method, path.replace(g.id, "bad id!"), t[a] as string, body)).status).toBe(400);
    }
    expect((await req<{ conversations: Conv[] }>("GET", "/api/v1/conversations", t[stranger] as string)).body.conversations).toEqual([]);
    expect((await suite.engine.request<Err>("GET", "/api/v1/conversations")).status).toBe(401);
    const h = await history(t[a] as string, g.id);
    expect(h.messages.map((x) => [x.text, x.reactions])).toEqual([["m s1", {}]]);
    expect((await req<Conv>("GET", `/api/v1/conversations/${g.id}`, t[a] as string)).body).toMatchObject({
      name: null,
      member_count: 2,
      closed: false,
    });
  });

  it("groups: roles, add/remove/leave, ownership passes on, max_group_members", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(12);
    const [o, ad, m1, m2, ...rest] = ids as [string, string, string, string, ...string[]];
    const g = (await req<Conv>("POST", "/api/v1/conversations", t[o] as string, { kind: "group", name: "team", members: [ad, m1] })).body;
    expect(g.role).toBe("owner");
    expect((await req<Err>("PATCH", `/api/v1/conversations/${g.id}/members/${ad}`, t[m1] as string, { role: "admin" })).status).toBe(403);
    expect((await req("PATCH", `/api/v1/conversations/${g.id}/members/${ad}`, t[o] as string, { role: "admin" })).status).toBe(200);
    expect((await req<Err>("PATCH", `/api/v1/conversations/${g.id}/members/${ad}`, t[o] as string, { role: "owner" })).status).toBe(400);
    await send(t[o] as string, g.id, "before-m2");
    // A plain member cannot add; an admin can.
    expect((await req<Err>("POST", `/api/v1/conversations/${g.id}/members`, t[m1] as string, { identities: [m2] })).status).toBe(403);
    const added = await req<{ members: { identity: string }[] }>("POST", `/api/v1/conversations/${g.id}/members`, t[ad] as string, {
      identities: [m2],
    });
    expect(added.body.members.map((x) => x.identity)).toContain(m2);
    // The newcomer sees the history, but none of it counts as unread.
    expect((await history(t[m2] as string, g.id)).messages.some((x) => x.text === "m before-m2")).toBe(true);
    expect((await req<{ total: number }>("GET", "/api/v1/unread", t[m2] as string)).body.total).toBe(0);
    // Free plan: max_group_members = 10 (4 members now). Seven more is one too many: refused, nothing added.
    const over = await req<Err>("POST", `/api/v1/conversations/${g.id}/members`, t[o] as string, { identities: rest.slice(0, 7) });
    expect(over.status).toBe(403);
    expect(over.body.error).toMatchObject({ code: "limit_exceeded", limit: "max_group_members" });
    expect((await req<Conv>("GET", `/api/v1/conversations/${g.id}`, t[o] as string)).body.member_count).toBe(4);
    expect((await req("POST", `/api/v1/conversations/${g.id}/members`, t[o] as string, { identities: rest.slice(0, 6) })).status).toBe(200);
    const bigCreate = await req<Err>("POST", "/api/v1/conversations", t[o] as string, { kind: "group", members: ids.slice(1, 11) });
    expect(bigCreate.body.error).toMatchObject({ code: "limit_exceeded", limit: "max_group_members" });
    // Admin cannot remove the owner or another admin; the owner can remove anyone.
    expect((await req<Err>("DELETE", `/api/v1/conversations/${g.id}/members/${o}`, t[ad] as string)).status).toBe(403);
    expect((await req("DELETE", `/api/v1/conversations/${g.id}/members/${m1}`, t[ad] as string)).status).toBe(204);
    expect((await req<Err>("GET", `/api/v1/conversations/${g.id}/messages`, t[m1] as string)).status).toBe(404);
    // The owner leaves: the admin becomes owner.
    expect((await req("POST", `/api/v1/conversations/${g.id}/leave`, t[o] as string)).status).toBe(204);
    const after = await req<{ members: { identity: string; role: string }[] }>(
      "GET",
      `/api/v1/conversations/${g.id}/members`,
      t[ad] as string,
    );
    expect(after.body.members.find((x) => x.identity === ad)?.role).toBe("owner");
    expect(after.body.members.some((x) => x.identity === o)).toBe(false);
    const sys = await history(t[ad] as string, g.id);
    const systemMsgs = sys.messages.filter((x) => x.type === "system");
    expect(systemMsgs.every((x) => x.sender === null)).toBe(true);
    // added m2, added six more, removed m1, owner left
    expect(systemMsgs.length).toBe(4);
    // Direct members are fixed.
    const dm = (await req<Conv>("POST", "/api/v1/conversations", t[m1] as string, { kind: "direct", members: [m2] })).body;
    expect((await req<Err>("POST", `/api/v1/conversations/${dm.id}/leave`, t[m1] as string)).status).toBe(403);
    expect((await req<Err>("POST", `/api/v1/conversations/${dm.id}/members`, t[m1] as string, { identities: [o] })).status).toBe(400);
  });

  it("a member removed right after sending is refused at the next send, alone or in a batch with others, and nothing of theirs is stored", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(4);
    const [o, gone, b, c] = ids as [string, string, string, string];
    const g = (await req<Conv>("POST", "/api/v1/conversations", t[o] as string, { kind: "group", members: [gone, b, c] })).body;
    // Each sender's access check is reused by its next sends for a moment (the send re-checks under the lock).
    for (const id of [gone, b, c]) expect((await send(t[id] as string, g.id, `first-${id}`)).status).toBe(201);
    expect((await req("DELETE", `/api/v1/conversations/${g.id}/members/${gone}`, t[o] as string)).status).toBe(204);
    expect((await send(t[gone] as string, g.id, "after-1")).status).toBe(404);
    // Sent together with members' sends (one batch): theirs are stored, the removed member's is refused.
    const mixed = await Promise.all([
      send(t[b] as string, g.id, "b-2"),
      send(t[gone] as string, g.id, "after-2"),
      send(t[c] as string, g.id, "c-2"),
      send(t[b] as string, g.id, "b-3"),
    ]);
    expect(mixed.map((r) => r.status)).toEqual([201, 404, 201, 201]);
    const h = await history(t[o] as string, g.id, "?after=0&limit=50");
    const stored = h.messages.filter((m) => m.type === "text").map((m) => m.client_msg_id);
    expect(stored.slice(0, 3)).toEqual([`first-${gone}`, `first-${b}`, `first-${c}`]);
    expect(stored.slice(3).sort()).toEqual(["b-2", "b-3", "c-2"]);
    expect(h.messages.map((m) => m.seq)).toEqual(Array.from({ length: h.messages.length }, (_, i) => i + 1));
  });

  it("chatrooms: open to the app's users, max_chatrooms counts open rooms, close/reopen", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(3);
    const [a, b, c] = ids as [string, string, string];
    const room = await req<Conv>("POST", "/api/v1/conversations", t[a] as string, { kind: "chatroom", name: "lobby" });
    expect(room.status).toBe(201);
    // Free plan: max_chatrooms = 1.
    const second = await req<Err>("POST", "/api/v1/conversations", t[b] as string, { kind: "chatroom", name: "two" });
    expect(second.status).toBe(403);
    expect(second.body.error).toMatchObject({ code: "limit_exceeded", limit: "max_chatrooms" });
    const rooms = await req<{ conversations: Conv[] }>("GET", "/api/v1/chatrooms", t[b] as string);
    expect(rooms.body.conversations.map((x) => [x.id, x.role])).toEqual([[room.body.id, null]]);
    // Not joined yet: forbidden, not invisible.
    expect((await send(t[b] as string, room.body.id, "early")).status).toBe(403);
    await send(t[a] as string, room.body.id, "before-join");
    const joined = await req<Conv>("POST", `/api/v1/conversations/${room.body.id}/join`, t[b] as string);
    expect(joined.body).toMatchObject({ role: "member", unread_count: 0, member_count: 2 });
    expect((await send(t[b] as string, room.body.id, "hi")).status).toBe(201);
    expect((await req("POST", `/api/v1/conversations/${room.body.id}/leave`, t[b] as string)).status).toBe(204);
    // Only owner/admin close; closing frees the slot; a closed room takes no messages.
    expect((await req<Err>("POST", `/api/v1/conversations/${room.body.id}/close`, t[c] as string)).status).toBe(403);
    await req("POST", `/api/v1/conversations/${room.body.id}/join`, t[c] as string);
    expect((await req<Err>("POST", `/api/v1/conversations/${room.body.id}/close`, t[c] as string)).status).toBe(403);
    const closed = await req<Conv>("POST", `/api/v1/conversations/${room.body.id}/close`, t[a] as string);
    expect(closed.body.closed).toBe(true);
    const refused = await send(t[a] as string, room.body.id, "late");
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: "conflict", status: "closed" } });
    expect((await req<Err>("POST", `/api/v1/conversations/${room.body.id}/join`, t[b] as string)).status).toBe(409);
    const other = await req<Conv>("POST", "/api/v1/conversations", t[b] as string, { kind: "chatroom", name: "two" });
    expect(other.status).toBe(201);
    const reopen = await req<Err>("POST", `/api/v1/conversations/${room.body.id}/reopen`, t[a] as string);
    expect(reopen.body.error).toMatchObject({ code: "limit_exceeded", limit: "max_chatrooms" });
    await req("POST", `/api/v1/conversations/${other.body.id}/close`, t[b] as string);
    expect((await req<Conv>("POST", `/api/v1/conversations/${room.body.id}/reopen`, t[a] as string)).body.closed).toBe(false);
    expect((await send(t[a] as string, room.body.id, "back")).status).toBe(201);
    expect((await req<Err>("POST", "/api/v1/conversations", t[a] as string, { kind: "chatroom", members: [b] })).status).toBe(400);
  });

  it("admin moderation closes an abandoned chatroom to free its max_chatrooms slot; refusals change nothing", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { app, t, ids } = await world(2);
    const [a, b] = ids as [string, string];
    const room = await req<Conv>("POST", "/api/v1/conversations", t[a] as string, { kind: "chatroom", name: "abandoned" });
    expect((await req("POST", `/api/v1/conversations/${room.body.id}/leave`, t[a] as string)).status).toBe(204);
    const blocked = await req<Err>("POST", "/api/v1/conversations", t[b] as string, { kind: "chatroom", name: "mine" });
    expect(blocked.body.error).toMatchObject({ code: "limit_exceeded", limit: "max_chatrooms" });
    const admin = (method: string, path: string, token = suite.engine.adminToken) =>
      suite.engine.request<Err & Conv>(method, path, { token });
    const other = await suite.engine.createApp({ name: "other" });
    for (const [path, token, status, code] of [
      [`/admin/v1/apps/${app.app_id}/conversations/${room.body.id}/close`, "adm_wrong", 401, "unauthorized"],
      [`/admin/v1/apps/${app.app_id}/conversations/${room.body.id}/close`, t[a] as string, 401, "unauthorized"],
      [`/admin/v1/apps/${other.app_id}/conversations/${room.body.id}/close`, undefined, 404, "not_found"],
      [`/admin/v1/apps/app_nope/conversations/${room.body.id}/close`, undefined, 404, "not_found"],
      [`/admin/v1/apps/${app.app_id}/conversations/conv_nope/close`, undefined, 404, "not_found"],
      [`/admin/v1/apps/${app.app_id}/conversations/bad%20id/close`, undefined, 400, "invalid_argument"],
    ] as const) {
      const r = await admin("POST", path, token);
      expect([path, r.status, r.body.error.code]).toEqual([path, status, code]);
    }
    expect((await req<Conv>("GET", "/api/v1/chatrooms", t[b] as string)).body).toMatchObject({ conversations: [{ id: room.body.id }] });
    const closed = await admin("POST", `/admin/v1/apps/${app.app_id}/conversations/${room.body.id}/close`);
    expect([closed.status, closed.body.closed]).toEqual([200, true]);
    const mine = await req<Conv>("POST", "/api/v1/conversations", t[b] as string, { kind: "chatroom", name: "mine" });
    expect(mine.status).toBe(201);
    // Reopening respects the limit, for moderators too.
    const reopen = await admin("POST", `/admin/v1/apps/${app.app_id}/conversations/${room.body.id}/reopen`);
    expect([reopen.status, reopen.body.error.limit]).toEqual([403, "max_chatrooms"]);
  });

  it("chatroom members page in join order with a cursor; bad paging input is refused", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(7);
    const [owner, ...rest] = ids as [string, ...string[]];
    const room = await req<Conv>("POST", "/api/v1/conversations", t[owner] as string, { kind: "chatroom", name: "big" });
    for (const id of rest) expect((await req("POST", `/api/v1/conversations/${room.body.id}/join`, t[id] as string)).status).toBe(200);
    type Page = { members: { identity: string }[]; next_after: string | null };
    const seen: string[] = [];
    let after: string | null = null;
    const sizes: number[] = [];
    do {
      const q: string = `?limit=3${after ? `&after=${encodeURIComponent(after)}` : ""}`;
      const page: { status: number; body: Page } = await req<Page>(
        "GET",
        `/api/v1/conversations/${room.body.id}/members${q}`,
        t[owner] as string,
      );
      expect(page.status).toBe(200);
      sizes.push(page.body.members.length);
      seen.push(...page.body.members.map((m) => m.identity));
      after = page.body.next_after;
    } while (after);
    expect(sizes).toEqual([3, 3, 1]);
    expect(seen).toEqual(ids);
    const all = await req<Page>("GET", `/api/v1/conversations/${room.body.id}/members`, t[owner] as string);
    expect(all.body).toMatchObject({ next_after: null });
    expect(all.body.members).toHaveLength(7);
    for (const q of ["?limit=0", "?limit=501", "?limit=x", "?after=nope", "?bogus=1"]) {
      const bad = await req<Err>("GET", `/api/v1/conversations/${room.body.id}/members${q}`, t[owner] as string);
      expect([q, bad.status, bad.body.error.code]).toEqual([q, 400, "invalid_argument"]);
    }
  });

  it("conversation list: most recently active first with last message", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(4);
    const [a, b, c, d] = ids as [string, string, string, string];
    const convs: Conv[] = [];
    for (const peer of [b, c, d])
      convs.push((await req<Conv>("POST", "/api/v1/conversations", t[a] as string, { kind: "direct", members: [peer] })).body);
    await send(t[c] as string, convs[1]?.id as string, "c1");
    await send(t[b] as string, convs[0]?.id as string, "b1");
    const list = (await req<{ conversations: Conv[] }>("GET", "/api/v1/conversations?limit=2", t[a] as string)).body.conversations;
    expect(list.map((x) => x.id)).toEqual([convs[0]?.id, convs[1]?.id]);
    expect(list.map((x) => x.last_message?.text)).toEqual(["m b1", "m c1"]);
    // Paging with the cursor walks all three, newest first, without repeats.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { conversations: Conv[]; next_before: string | null } } = await req(
        "GET",
        `/api/v1/conversations?limit=1${cursor ? `&before=${cursor}` : ""}`,
        t[a] as string,
      );
      seen.push(...page.body.conversations.map((x) => x.id));
      cursor = page.body.next_before;
    } while (cursor);
    expect(seen).toEqual([convs[0]?.id, convs[1]?.id, convs[2]?.id]);
    expect((await req<Err>("GET", "/api/v1/conversations?before=garbage", t[a] as string)).status).toBe(400);
    expect((await req<Err>("GET", "/api/v1/conversations?limit=0", t[a] as string)).status).toBe(400);
    expect((await req<Err>("GET", "/api/v1/conversations?kind=secret", t[a] as string)).status).toBe(400);
  });

  it("chat capability off: every chat path answers 403 feature_disabled (chat)", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { app, t, ids } = await world(2);
    const [a, b] = ids as [string, string];
    const g = (await req<Conv>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: [b] })).body;
    expect((await suite.engine.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { messaging_enabled: false })).status).toBe(200);
    const tok = t[a] as string;
    const paths: [string, string, unknown?][] = [
      ["GET", "/api/v1/conversations"],
      ["POST", "/api/v1/conversations", { kind: "group", members: [b] }],
      ["GET", "/api/v1/chatrooms"],
      ["GET", `/api/v1/conversations/${g.id}`],
      ["GET", `/api/v1/conversations/${g.id}/messages`],
      ["POST", `/api/v1/conversations/${g.id}/messages`, { client_msg_id: "q", text: "x" }],
      ["POST", `/api/v1/conversations/${g.id}/read`, { seq: 0 }],
      ["GET", `/api/v1/conversations/${g.id}/members`],
      ["POST", `/api/v1/conversations/${g.id}/leave`],
      ["GET", "/api/v1/unread"],
      ["GET", "/api/v1/chat/settings"],
      ["GET", "/api/v1/friends"],
      ["POST", "/api/v1/friends/requests", { identity: b }],
      ["POST", "/api/v1/uploads", { kind: "file", filename: "a.txt", content_type: "text/plain", size: 3 }],
    ];
    for (const [method, path, body] of paths) {
      const r = await req<Err>(method, path, tok, body);
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error).toMatchObject({ code: "feature_disabled", capability: "chat" });
    }
    await suite.engine.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { messaging_enabled: true });
    expect((await history(tok, g.id)).messages).toEqual([]);
    expect((await req<{ members: unknown[] }>("GET", `/api/v1/conversations/${g.id}/members`, tok)).body.members).toHaveLength(2);
  });
});
