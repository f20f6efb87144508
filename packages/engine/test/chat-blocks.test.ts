import { describe, expect, it } from "vitest";
import { BACKENDS, engineFor, world as makeWorld } from "./chat-world.js";
import { sleep, WsClient } from "./ws-helpers.js";

type Json = Record<string, unknown>;
interface Msg {
  id: string;
  seq: number;
  text: string | null;
  sender: string | null;
}
interface Err {
  error: { code: string };
}

describe.each(BACKENDS)("block and mute on %s", (_name, setup) => {
  const suite = engineFor(setup);
  const req = <T = Json>(method: string, path: string, token: string, body?: unknown) =>
    suite.engine.request<T>(method, path, { token, body });
  let k = 0;
  const send = (token: string, conv: string, text: string) =>
    req<Msg & Err>("POST", `/api/v1/conversations/${conv}/messages`, token, { client_msg_id: `b${++k}`, text });
  const history = async (token: string, conv: string) =>
    (await req<{ messages: Msg[] }>("GET", `/api/v1/conversations/${conv}/messages`, token)).body.messages.map((m) => m.text);

  it("block list: idempotent, listed, refused for yourself and unknown users with nothing stored", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await makeWorld(suite.engine, 3);
    const [a, b, c] = ids as [string, string, string];
    const first = await req<{ identity: string; created_at: string }>("PUT", `/api/v1/blocks/${b}`, t[a] as string);
    expect(first.status).toBe(200);
    const again = await req<{ created_at: string }>("PUT", `/api/v1/blocks/${b}`, t[a] as string);
    expect(again.body.created_at).toBe(first.body.created_at);
    await req("PUT", `/api/v1/blocks/${c}`, t[a] as string);
    for (const [who, code] of [
      [a, "invalid_argument"],
      ["nobody_here", "not_found"],
      ["bad id", "invalid_argument"],
    ] as const) {
      const r = await req<Err>("PUT", `/api/v1/blocks/${encodeURIComponent(who)}`, t[a] as string);
      expect(r.body.error.code, who).toBe(code);
    }
    const list = await req<{ blocked: { identity: string }[] }>("GET", "/api/v1/blocks", t[a] as string);
    expect(list.body.blocked.map((x) => x.identity).sort()).toEqual([b, c].sort());
    expect((await req("DELETE", `/api/v1/blocks/${c}`, t[a] as string)).status).toBe(204);
    expect((await req("DELETE", `/api/v1/blocks/${c}`, t[a] as string)).status).toBe(204);
    expect(
      (await req<{ blocked: { identity: string }[] }>("GET", "/api/v1/blocks", t[a] as string)).body.blocked.map((x) => x.identity),
    ).toEqual([b]);
    // Lists are per user: b blocked nobody.
    expect((await req<{ blocked: unknown[] }>("GET", "/api/v1/blocks", t[b] as string)).body.blocked).toEqual([]);
  });

  it("a blocked user cannot start a DM or send in one (REST and WebSocket); their group messages are hidden from the blocker", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await makeWorld(suite.engine, 3);
    const [a, b, c] = ids as [string, string, string];
    const dm = (await req<{ id: string }>("POST", "/api/v1/conversations", t[a] as string, { kind: "direct", members: [b] })).body.id;
    const g = (await req<{ id: string }>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: [b, c] })).body.id;
    await send(t[b] as string, g, "before the block");
    await req("PUT", `/api/v1/blocks/${b}`, t[a] as string);
    const wa = await WsClient.connect(suite.engine.wsUrl, t[a] as string);
    const wb = await WsClient.connect(suite.engine.wsUrl, t[b] as string);

    // Direct: no new DM, no message in the existing one.
    const create = await req<Err>("POST", "/api/v1/conversations", t[b] as string, { kind: "direct", members: [a] });
    expect([create.status, create.body.error.code]).toEqual([403, "blocked"]);
    const inDm = await send(t[b] as string, dm, "let me in");
    expect([inDm.status, inDm.body.error.code]).toEqual([403, "blocked"]);
    expect(await wb.request("message.send", { conversation_id: dm, client_msg_id: "ws-dm", text: "x" })).toMatchObject({
      ok: false,
      error: { code: "blocked" },
    });
    expect(await history(t[a] as string, dm)).toEqual([]);
    // The blocker may still write (the app decides what to show).
    expect((await send(t[a] as string, dm, "from the blocker")).status).toBe(201);

    // Group: b's messages are hidden from a (history, search, events, unread, last message), not from c.
    await send(t[c] as string, g, "from c");
    const hidden = await send(t[b] as string, g, "hidden words");
    expect(hidden.status).toBe(201);
    await wb.event<Msg>("message.new", (m) => m.id === hidden.body.id);
    await sleep(200);
    expect(wa.events().some((f) => (f.data as Msg).id === hidden.body.id)).toBe(false);
    expect(await history(t[a] as string, g)).toEqual(["from c"]);
    expect(await history(t[c] as string, g)).toEqual(["before the block", "from c", "hidden words"]);
    const found = await req<{ hits: unknown[] }>("GET", `/api/v1/search/messages?q=hidden`, t[a] as string);
    expect(found.body.hits).toEqual([]);
    expect((await req<{ hits: unknown[] }>("GET", `/api/v1/search/messages?q=hidden`, t[c] as string)).body.hits).toHaveLength(1);
    const convs = await req<{ conversations: { id: string; unread_count: number; last_message: Msg | null }[] }>(
      "GET",
      "/api/v1/conversations",
      t[a] as string,
    );
    const ga = convs.body.conversations.find((x) => x.id === g);
    expect(ga?.last_message?.text).toBe("from c");
    expect(ga?.unread_count).toBe(1);
    // Unblocked: everything shows again.
    await req("DELETE", `/api/v1/blocks/${b}`, t[a] as string);
    expect(await history(t[a] as string, g)).toEqual(["before the block", "from c", "hidden words"]);
    expect((await send(t[b] as string, dm, "friends again")).status).toBe(201);
    wa.close();
    wb.close();
  });

  it("a blocked caller's call is refused and never rings on any of the callee's devices", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { app, t, ids } = await makeWorld(suite.engine, 2, "pro");
    const [a, b] = ids as [string, string];
    await req("PUT", `/api/v1/blocks/${b}`, t[a] as string);
    const phone = await WsClient.connect(suite.engine.wsUrl, (await suite.engine.session(app, a, { device_id: "phone" })).user_token, {
      deviceId: "phone",
    });
    const laptop = await WsClient.connect(suite.engine.wsUrl, (await suite.engine.session(app, a, { device_id: "laptop" })).user_token, {
      deviceId: "laptop",
    });
    const call = await req<Err>("POST", "/api/v1/calls", t[b] as string, { callee_identity: a, type: "audio_call", client_call_id: "blk" });
    expect([call.status, call.body.error.code]).toEqual([403, "blocked"]);
    // Nothing stored (so nothing to ring, push or time out), nothing delivered.
    expect((await req<{ calls: unknown[] }>("GET", "/api/v1/calls", t[a] as string)).body.calls).toEqual([]);
    expect((await req<{ calls: unknown[] }>("GET", "/api/v1/calls", t[b] as string)).body.calls).toEqual([]);
    await sleep(300);
    for (const dev of [phone, laptop]) expect(dev.events().filter((f) => f.type.startsWith("call."))).toEqual([]);
    // The blocker can still call; once unblocked, b can too.
    expect((await req("POST", "/api/v1/calls", t[a] as string, { callee_identity: b, type: "audio_call" })).status).toBe(201);
    await req("DELETE", `/api/v1/blocks/${b}`, t[a] as string);
    phone.close();
    laptop.close();
  });

  it("muting a user keeps their messages out of badges; muting a conversation keeps it out of the total", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await makeWorld(suite.engine, 3);
    const [a, b, c] = ids as [string, string, string];
    const g = (await req<{ id: string }>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: [b, c] })).body.id;
    const m = await req<{ muted: { identity: string }[] }>("PUT", `/api/v1/mutes/users/${b}`, t[a] as string);
    expect(m.status).toBe(200);
    expect(
      (await req<{ muted: { identity: string }[] }>("GET", "/api/v1/mutes/users", t[a] as string)).body.muted.map((x) => x.identity),
    ).toEqual([b]);
    await send(t[b] as string, g, "muted voice");
    await send(t[c] as string, g, "loud voice");
    // Still visible, but only c's message counts.
    expect(await history(t[a] as string, g)).toEqual(["muted voice", "loud voice"]);
    const unread = async () =>
      (await req<{ total: number; conversations: { unread_count: number; muted: boolean }[] }>("GET", "/api/v1/unread", t[a] as string))
        .body;
    expect((await unread()).total).toBe(1);
    const mc = await req<Json>("PUT", `/api/v1/conversations/${g}/mute`, t[a] as string, { muted: true });
    expect(mc.status).toBe(200);
    const u = await unread();
    expect(u.total).toBe(0);
    expect(u.conversations).toEqual([expect.objectContaining({ unread_count: 1, muted: true })]);
    const conv = await req<{ muted: boolean; unread_count: number }>("GET", `/api/v1/conversations/${g}`, t[a] as string);
    expect(conv.body).toMatchObject({ muted: true, unread_count: 1 });
    expect((await req<Err>("PUT", `/api/v1/mutes/users/${a}`, t[a] as string)).body.error.code).toBe("invalid_argument");
  });
});
