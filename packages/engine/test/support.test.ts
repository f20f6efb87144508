import { describe, expect, it } from "vitest";
import { BACKENDS, engineFor, world } from "./chat-world.js";
import { WsClient } from "./ws-helpers.js";

type Json = Record<string, unknown>;
interface Support {
  id: string;
  visitor: string;
  state: string;
  assignee: string | null;
  closed_at: string | null;
  closed_by: string | null;
  last_seq: number;
  last_message: { text: string | null } | null;
}
interface Err {
  error: { code: string; status?: string };
}

describe.each(BACKENDS)("support conversations on %s", (_name, setup) => {
  const suite = engineFor(setup, { UTD_WS_FRAMES_PER_S: "1000/1000" });
  const req = <T = Json>(method: string, path: string, token: string, body?: unknown) =>
    suite.engine.request<T>(method, path, { token, body });
  const S = "/api/v1/support/conversations";
  /** A fresh app with visitors v1, v2, operators o1, o2 and a plain user x; tokens by role name. */
  const team = async () => {
    const { app, t, ids } = await world(suite.engine, 5);
    const [v1, v2, o1, o2, x] = ids as [string, string, string, string, string];
    for (const o of [o1, o2])
      expect((await suite.engine.admin("POST", `/admin/v1/apps/${app.app_id}/operators`, { identity: o })).status).toBe(200);
    const tok = (id: string) => t[id] as string;
    return { app, v1, v2, o1, o2, x, tok };
  };
  /** The visible state of a support conversation, read by its visitor. */
  const state = async (token: string, id: string) => (await req<Support>("GET", `${S}/${id}`, token)).body;

  it("operators are managed by the admin API; bad input and unknown apps are refused and change nothing", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const app = await suite.engine.createApp();
    const base = `/admin/v1/apps/${app.app_id}/operators`;
    expect((await suite.engine.admin("POST", base, { identity: "alice" })).body).toMatchObject({ identity: "alice" });
    expect((await suite.engine.admin("POST", base, { identity: "alice" })).status).toBe(200); // idempotent
    expect((await suite.engine.admin("POST", base, { identity: "bob" })).status).toBe(200);
    const list = async () =>
      (await suite.engine.admin<{ operators: { identity: string }[] }>("GET", base)).body.operators.map((o) => o.identity);
    expect(await list()).toEqual(["alice", "bob"]);
    for (const body of [{}, { identity: "" }, { identity: 42 }, { identity: "x".repeat(300) }, { identity: "a", extra: 1 }]) {
      const r = await suite.engine.admin<Err>("POST", base, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe("invalid_argument");
    }
    expect((await suite.engine.admin<Err>("POST", "/admin/v1/apps/app_nope/operators", { identity: "zed" })).body.error.code).toBe(
      "not_found",
    );
    expect((await suite.engine.admin<Err>("GET", "/admin/v1/apps/app_nope/operators")).status).toBe(404);
    expect((await suite.engine.admin<Err>("DELETE", `${base}/carol`)).body.error.code).toBe("not_found");
    const noAdmin = await suite.engine.request<Err>("POST", base, { body: { identity: "mallory" }, token: "wrong" });
    expect(noAdmin.status).toBe(401);
    expect(await list()).toEqual(["alice", "bob"]);
    expect((await suite.engine.admin("DELETE", `${base}/bob`)).status).toBe(204);
    expect(await list()).toEqual(["alice"]);
    // An operator of one app is nothing in another.
    const other = await suite.engine.createApp();
    expect((await suite.engine.admin<{ operators: unknown[] }>("GET", `/admin/v1/apps/${other.app_id}/operators`)).body.operators).toEqual(
      [],
    );
  });

  it("visitor writes → queue → claim → reply → transfer → visitor closes; both sides see state, assignee and the close", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { v1, o1, o2, tok } = await team();
    const wv = await WsClient.connect(suite.engine.wsUrl, tok(v1));
    const wo1 = await WsClient.connect(suite.engine.wsUrl, tok(o1));
    const wo2 = await WsClient.connect(suite.engine.wsUrl, tok(o2));

    const started = await req<Support>("POST", S, tok(v1), {});
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ visitor: v1, state: "queued", assignee: null });
    const id = started.body.id;
    // One open conversation per visitor: starting again returns it.
    const again = await req<Support>("POST", S, tok(v1), {});
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(id);
    await wo1.event<{ change: string; conversation: Support }>(
      "support.updated",
      (d) => d.change === "started" && d.conversation.id === id,
    );

    // The visitor writes through the chat API; it is a chat conversation of kind support.
    const sent = await req<{ id: string }>("POST", `/api/v1/conversations/${id}/messages`, tok(v1), {
      client_msg_id: "v-1",
      text: "help me",
    });
    expect(sent.status).toBe(201);
    expect((await req<{ kind: string }>("GET", `/api/v1/conversations/${id}`, tok(v1))).body.kind).toBe("support");
    // Operators see it in the queue and can read it before claiming.
    const queue = (await req<{ conversations: Support[] }>("GET", "/api/v1/support/queue?state=queued", tok(o2))).body.conversations;
    expect(queue.map((c) => c.id)).toContain(id);
    expect(queue.find((c) => c.id === id)?.last_message?.text).toBe("help me");
    const pre = await req<{ messages: { text: string }[] }>("GET", `${S}/${id}/messages`, tok(o2));
    expect(pre.body.messages.map((m) => m.text)).toEqual(["help me"]);

    const claimed = await req<Support>("POST", `${S}/${id}/claim`, tok(o1));
    expect(claimed.body).toMatchObject({ state: "assigned", assignee: o1 });
    expect((await req<Support>("POST", `${S}/${id}/claim`, tok(o1))).status).toBe(200); // idempotent for the same operator
    const lost = await req<Err>("POST", `${S}/${id}/claim`, tok(o2));
    expect(lost.status).toBe(409);
    expect(lost.body.error).toMatchObject({ code: "conflict", status: "assigned" });
    expect(await state(tok(v1), id)).toMatchObject({ state: "assigned", assignee: o1 });
    await wv.event<{ change: string; conversation: Support }>(
      "support.updated",
      (d) => d.change === "claimed" && d.conversation.assignee === o1,
    );

    // The assignee replies through chat; the visitor gets it live.
    const reply = await req<{ id: string }>("POST", `/api/v1/conversations/${id}/messages`, tok(o1), {
      client_msg_id: "o-1",
      text: "hi, o1 here",
    });
    expect(reply.status).toBe(201);
    expect((await wv.event<{ id: string; sender: string }>("message.new", (m) => m.id === reply.body.id)).data.sender).toBe(o1);
    // o2 is not in the conversation: chat refuses its sends.
    expect((await req<Err>("POST", `/api/v1/conversations/${id}/messages`, tok(o2), { client_msg_id: "o2-x", text: "no" })).status).toBe(
      404,
    );

    // Transfer to o2: o1 leaves, o2 joins.
    const moved = await req<Support>("POST", `${S}/${id}/transfer`, tok(o1), { to: o2 });
    expect(moved.body).toMatchObject({ state: "assigned", assignee: o2 });
    expect((await req<Err>("POST", `/api/v1/conversations/${id}/messages`, tok(o1), { client_msg_id: "o1-x", text: "late" })).status).toBe(
      404,
    );
    expect((await req("POST", `/api/v1/conversations/${id}/messages`, tok(o2), { client_msg_id: "o2-1", text: "o2 now" })).status).toBe(
      201,
    );

    // The visitor closes: both members get conversation.updated with closed.
    const closed = await req<Support>("POST", `${S}/${id}/close`, tok(v1));
    expect(closed.body).toMatchObject({ state: "closed", closed_by: v1, assignee: o2 });
    for (const w of [wv, wo2]) {
      const ev = await w.event<{ conversation_id: string; change: string; closed: boolean; kind: string }>(
        "conversation.updated",
        (d) => d.conversation_id === id && d.change === "closed",
      );
      expect(ev.data).toMatchObject({ closed: true, kind: "support", by: v1 });
    }
    const after = await req<Err>("POST", `/api/v1/conversations/${id}/messages`, tok(o2), { client_msg_id: "o2-2", text: "x" });
    expect(after.body.error).toMatchObject({ code: "conflict", status: "closed" });
    expect((await req<Err>("POST", `${S}/${id}/claim`, tok(o1))).body.error).toMatchObject({ code: "conflict", status: "closed" });
    expect((await req<Support>("POST", `${S}/${id}/close`, tok(v1))).body.state).toBe("closed"); // idempotent
    // A new start after the close is a new conversation.
    const next = await req<Support>("POST", S, tok(v1), {});
    expect(next.status).toBe(201);
    expect(next.body.id).not.toBe(id);
    expect((await req<{ conversations: Support[] }>("GET", `${S}?state=all`, tok(v1))).body.conversations.map((c) => c.id).sort()).toEqual(
      [id, next.body.id].sort(),
    );
    for (const w of [wv, wo1, wo2]) w.close();
  });

  it("an operator closes; refusals (wrong role, other visitors, other apps, bad input) change nothing", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { v1, v2, o1, o2, x, tok } = await team();
    const id = (await req<Support>("POST", S, tok(v1), {})).body.id;
    await req("POST", `/api/v1/conversations/${id}/messages`, tok(v1), { client_msg_id: "a", text: "secret" });
    const before = await state(tok(v1), id);

    // Visitors see only their own; a plain user is not an operator.
    expect((await req<Err>("GET", `${S}/${id}`, tok(v2))).body.error.code).toBe("not_found");
    expect((await req<Err>("GET", `${S}/${id}/messages`, tok(v2))).body.error.code).toBe("not_found");
    expect((await req<Err>("GET", `/api/v1/conversations/${id}/messages`, tok(v2))).body.error.code).toBe("not_found");
    expect((await req<Err>("POST", `${S}/${id}/close`, tok(v2))).body.error.code).toBe("not_found");
    expect((await req<{ conversations: Support[] }>("GET", S, tok(v2))).body.conversations).toEqual([]);
    expect((await req<Err>("GET", "/api/v1/support/queue", tok(x))).body.error.code).toBe("forbidden");
    expect((await req<Err>("POST", `${S}/${id}/claim`, tok(x))).body.error.code).toBe("forbidden");
    expect((await req<Err>("POST", `${S}/${id}/claim`, tok(v1))).body.error.code).toBe("forbidden");
    expect((await req<{ operator: boolean }>("GET", "/api/v1/support/me", tok(x))).body.operator).toBe(false);
    expect((await req<{ operator: boolean }>("GET", "/api/v1/support/me", tok(o1))).body.operator).toBe(true);
    // Support conversations are not created through the chat API.
    expect((await req<Err>("POST", "/api/v1/conversations", tok(v1), { kind: "support" })).body.error.code).toBe("invalid_argument");
    // Bad input.
    for (const [path, body] of [
      [S, { custom: "nope" }],
      [S, { extra: 1 }],
      [`${S}/${id}/transfer`, {}],
      [`${S}/${id}/transfer`, { to: 7 }],
    ] as const) {
      const r = await req<Err>("POST", path, tok(o1), body);
      expect(r.status, `${path} ${JSON.stringify(body)}`).toBe(400);
    }
    expect((await req<Err>("GET", `${S}/x y`, tok(o1))).status).toBe(400);
    expect((await req<Err>("GET", "/api/v1/support/queue?state=bogus", tok(o1))).status).toBe(400);
    expect((await req<Err>("GET", `${S}/conv_unknown`, tok(o1))).body.error.code).toBe("not_found");
    expect((await req<Err>("POST", `${S}/${id}/transfer`, tok(o1), { to: o2 })).body.error).toMatchObject({
      code: "conflict",
      status: "queued",
    });
    // Another app's operator sees nothing, even with the id.
    const other = await team();
    expect((await req<Err>("GET", `${S}/${id}`, other.tok(other.o1))).body.error.code).toBe("not_found");
    expect((await req<Err>("POST", `${S}/${id}/claim`, other.tok(other.o1))).body.error.code).toBe("not_found");
    expect((await req<Err>("POST", `${S}/${id}/close`, other.tok(other.o1))).body.error.code).toBe("not_found");
    expect(
      (await req<{ conversations: Support[] }>("GET", "/api/v1/support/queue?state=all", other.tok(other.o1))).body.conversations,
    ).toEqual([]);
    expect(await state(tok(v1), id)).toEqual(before);

    // Claimed by o1: o2 may neither transfer nor close it; transferring to a non-operator is refused.
    await req("POST", `${S}/${id}/claim`, tok(o1));
    const claimed = await state(tok(v1), id);
    expect((await req<Err>("POST", `${S}/${id}/transfer`, tok(o2), { to: o2 })).body.error.code).toBe("forbidden");
    expect((await req<Err>("POST", `${S}/${id}/close`, tok(o2))).body.error.code).toBe("forbidden");
    expect((await req<Err>("POST", `${S}/${id}/transfer`, tok(o1), { to: x })).body.error.code).toBe("invalid_argument");
    expect((await req<Err>("POST", `${S}/${id}/transfer`, tok(o1), { to: v1 })).body.error.code).toBe("invalid_argument");
    expect((await req<Err>("POST", `${S}/${id}/transfer`, tok(o1), { to: o1 })).body.error.code).toBe("invalid_argument");
    // Chat's own close/rename rules do not let a member close it behind support's back.
    expect((await req<Err>("POST", `/api/v1/conversations/${id}/close`, tok(v1))).body.error.code).toBe("forbidden");
    expect(await state(tok(v1), id)).toEqual(claimed);

    // The assignee closes; the visitor is told.
    const wv = await WsClient.connect(suite.engine.wsUrl, tok(v1));
    const done = await req<Support>("POST", `${S}/${id}/close`, tok(o1));
    expect(done.body).toMatchObject({ state: "closed", closed_by: o1 });
    const ev = await wv.event<{ conversation_id: string; change: string }>(
      "conversation.updated",
      (d) => d.conversation_id === id && d.change === "closed",
    );
    expect(ev.data).toMatchObject({ closed: true, by: o1 });
    wv.close();
  });

  it("while queued, the visitor's messages reach every operator live; once claimed, only the members", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { v1, v2, o1, o2, x, tok } = await team();
    const id = (await req<Support>("POST", S, tok(v1), {})).body.id;
    const w1 = await WsClient.connect(suite.engine.wsUrl, tok(o1));
    const w2 = await WsClient.connect(suite.engine.wsUrl, tok(o2));
    const wx = await WsClient.connect(suite.engine.wsUrl, tok(x));
    const first = await req<{ id: string; seq: number }>("POST", `${S}/${id}/messages`, tok(v1), { client_msg_id: "q1", text: "anyone?" });
    expect(first.status).toBe(201);
    for (const w of [w1, w2]) await w.event<{ id: string }>("message.new", (m) => m.id === first.body.id);
    // A retry is the same message and is not delivered again.
    const retry = await req<{ id: string }>("POST", `${S}/${id}/messages`, tok(v1), { client_msg_id: "q1", text: "anyone?" });
    expect(retry.status).toBe(200);
    expect(retry.body.id).toBe(first.body.id);
    // Refusals: another visitor, a plain user, bad bodies; nothing is stored.
    expect((await req<Err>("POST", `${S}/${id}/messages`, tok(v2), { client_msg_id: "z", text: "x" })).body.error.code).toBe("not_found");
    expect((await req<Err>("POST", `${S}/${id}/messages`, tok(x), { client_msg_id: "z", text: "x" })).body.error.code).toBe("not_found");
    expect((await req<Err>("POST", `${S}/${id}/messages`, tok(v1), { client_msg_id: "z" })).status).toBe(400);
    expect((await req<Err>("POST", `${S}/${id}/messages`, tok(v1), { client_msg_id: "z", text: "x".repeat(5001) })).status).toBe(400);
    expect((await req<Err>("POST", `${S}/${id}/messages`, tok(o2), { client_msg_id: "z", text: "not mine" })).body.error.code).toBe(
      "not_found",
    );
    expect((await state(tok(v1), id)).last_seq).toBe(first.body.seq);

    await req("POST", `${S}/${id}/claim`, tok(o1));
    const second = await req<{ id: string }>("POST", `${S}/${id}/messages`, tok(v1), { client_msg_id: "q2", text: "thanks" });
    await w1.event<{ id: string }>("message.new", (m) => m.id === second.body.id);
    const reply = await req<{ id: string }>("POST", `${S}/${id}/messages`, tok(o1), { client_msg_id: "r1", text: "hi" });
    expect(reply.status).toBe(201);
    await w1.event<{ id: string }>("message.new", (m) => m.id === reply.body.id);
    const seenBy = (w: WsClient) =>
      w
        .events()
        .filter((f) => f.type === "message.new")
        .map((f) => (f.data as { id: string }).id);
    expect(seenBy(w2)).toEqual([first.body.id]);
    expect(seenBy(wx)).toEqual([]);
    for (const w of [w1, w2, wx]) w.close();
  });

  it("removing an operator sends what they were handling back to the queue", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { app, v1, o1, o2, tok } = await team();
    const id = (await req<Support>("POST", S, tok(v1), {})).body.id;
    await req("POST", `${S}/${id}/claim`, tok(o1));
    const wv = await WsClient.connect(suite.engine.wsUrl, tok(v1));
    expect((await suite.engine.admin("DELETE", `/admin/v1/apps/${app.app_id}/operators/${o1}`)).status).toBe(204);
    await wv.event<{ change: string; conversation: Support }>(
      "support.updated",
      (d) => d.change === "requeued" && d.conversation.id === id,
    );
    expect(await state(tok(v1), id)).toMatchObject({ state: "queued", assignee: null });
    expect((await req<Err>("POST", `/api/v1/conversations/${id}/messages`, tok(o1), { client_msg_id: "gone", text: "x" })).status).toBe(
      404,
    );
    expect((await req<Err>("GET", "/api/v1/support/queue", tok(o1))).body.error.code).toBe("forbidden");
    expect((await req<Support>("POST", `${S}/${id}/claim`, tok(o2))).body).toMatchObject({ state: "assigned", assignee: o2 });
    const members = await req<{ members: { identity: string }[] }>("GET", `/api/v1/conversations/${id}/members`, tok(v1));
    expect(members.body.members.map((m) => m.identity).sort()).toEqual([v1, o2].sort());
    wv.close();
  });

  it("the chat API cannot change a support conversation's members (leave/remove are refused; nothing changes)", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { v1, o1, tok } = await team();
    const id = (await req<Support>("POST", S, tok(v1), {})).body.id;
    await req("POST", `${S}/${id}/claim`, tok(o1));
    for (const who of [v1, o1]) {
      const r = await req<Err>("POST", `/api/v1/conversations/${id}/leave`, tok(who));
      expect([r.status, r.body.error.code]).toEqual([403, "forbidden"]);
    }
    const removed = await req<Err>("DELETE", `/api/v1/conversations/${id}/members/${encodeURIComponent(v1)}`, tok(o1));
    expect([removed.status, removed.body.error.code]).toEqual([403, "forbidden"]);
    const members = await req<{ members: { identity: string }[] }>("GET", `/api/v1/conversations/${id}/members`, tok(v1));
    expect(members.body.members.map((m) => m.identity).sort()).toEqual([v1, o1].sort());
    for (const [who, cid] of [
      [v1, "l2"],
      [o1, "l3"],
    ] as const) {
      expect((await req("POST", `/api/v1/conversations/${id}/messages`, tok(who), { client_msg_id: cid, text: "still here" })).status).toBe(
        201,
      );
    }
  });

  it("an app without the chat capability gets feature_disabled everywhere and nothing is created", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { app, t, ids } = await world(suite.engine, 2, "signaling");
    const [v, o] = ids as [string, string];
    await suite.engine.admin("POST", `/admin/v1/apps/${app.app_id}/operators`, { identity: o });
    for (const [method, path, token] of [
      ["POST", S, t[v]],
      ["GET", S, t[v]],
      ["GET", "/api/v1/support/queue", t[o]],
      ["POST", `${S}/conv_x/claim`, t[o]],
      ["POST", `${S}/conv_x/close`, t[v]],
    ] as const) {
      const r = await req<Err>(method, path, token as string, method === "POST" ? {} : undefined);
      expect(r.status, path).toBe(403);
      expect(r.body.error).toMatchObject({ code: "feature_disabled", capability: "chat" });
    }
    await suite.engine.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { messaging_enabled: true });
    expect((await req<{ conversations: Support[] }>("GET", "/api/v1/support/queue?state=all", t[o] as string)).body.conversations).toEqual(
      [],
    );
  });

  it("the queue lists the most recently active first, with each last message", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { v1, v2, o1, tok } = await team();
    const a = (await req<Support>("POST", S, tok(v1), {})).body.id;
    const b = (await req<Support>("POST", S, tok(v2), {})).body.id;
    const ids = async () => (await req<{ conversations: Support[] }>("GET", "/api/v1/support/queue", tok(o1))).body.conversations;
    expect((await ids()).map((c) => c.id).sort()).toEqual([a, b].sort());
    await req("POST", `${S}/${a}/messages`, tok(v1), { client_msg_id: "n1", text: "newest" });
    const list = await ids();
    expect(list.map((c) => c.id)).toEqual([a, b]);
    expect(list.map((c) => c.last_message?.text ?? null)).toEqual(["newest", null]);
  });

  it("concurrent starts by one visitor give one conversation; concurrent claims give one assignee", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { v1, o1, o2, tok } = await team();
    const starts = await Promise.all([0, 1, 2, 3].map(() => req<Support>("POST", S, tok(v1), {})));
    expect(new Set(starts.map((r) => r.body.id)).size).toBe(1);
    expect(starts.filter((r) => r.status === 201).length).toBe(1);
    const id = starts[0]?.body.id as string;
    const claims = await Promise.all([o1, o2, o1, o2].map((o) => req<Support & Err>("POST", `${S}/${id}/claim`, tok(o))));
    const winners = new Set(claims.filter((r) => r.status === 200).map((r) => r.body.assignee));
    expect(winners.size).toBe(1);
    const final = await state(tok(v1), id);
    expect([...winners]).toEqual([final.assignee]);
    const members = await req<{ members: { identity: string }[] }>("GET", `/api/v1/conversations/${id}/members`, tok(v1));
    expect(members.body.members.map((m) => m.identity).sort()).toEqual([v1, final.assignee].sort());
  });
});
