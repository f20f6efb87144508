import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FreshStore, freshStore } from "../../../test/helpers/backends.js";
import { CHAT_TEST_ENV, startEngine, world } from "./chat-world.js";

type Json = Record<string, unknown>;
type Msg = { id: string; seq: number; client_msg_id: string; type: string };

/**
 * PostgreSQL, single node: a batch of plain sends is one autocommit statement when no outbox writer has rows
 * to write (`MessagesService.sendBatchAtOnce`). Its checks must see the conversation as of its row lock, not
 * as of its snapshot: a removal or a close committed while it waited for the lock refuses the send.
 */
describe("chat batches in one statement (postgres)", () => {
  let store: FreshStore | undefined;
  let engine: Awaited<ReturnType<typeof startEngine>>;
  let db: pg.Client;

  beforeAll(async () => {
    store = await freshStore("postgres");
    if (!store) return;
    engine = await startEngine({ env: { ...CHAT_TEST_ENV, ...store.env, UTD_WEBHOOK_ALLOW_NETWORKS: "loopback" } });
    db = new pg.Client({ connectionString: store.env.DATABASE_URL });
    await db.connect();
  }, 60_000);
  afterAll(async () => {
    await db?.end();
    await engine?.stop();
    await store?.drop();
  });

  const req = <T = Json>(method: string, path: string, token: string, body?: unknown) => engine.request<T>(method, path, { token, body });
  const send = (token: string, conv: string, client_msg_id: string) =>
    req<Msg>("POST", `/api/v1/conversations/${conv}/messages`, token, { client_msg_id, text: `m ${client_msg_id}` });
  const texts = async (token: string, conv: string) =>
    (await req<{ messages: Msg[] }>("GET", `/api/v1/conversations/${conv}/messages?after=0&limit=100`, token)).body.messages.filter(
      (m) => m.type === "text",
    );

  /** Runs `change` in a transaction that holds the conversation's row lock until a send waits for it, then commits. */
  async function changedWhileSending<R extends { status: number }>(conv: string, change: string[], sending: () => Promise<R>): Promise<R> {
    await db.query("begin");
    for (const q of change) await db.query(q, [conv]);
    const pending = sending();
    // The send's statement is waiting for the row lock.
    for (let i = 0; ; i++) {
      const w = await db.query(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()",
      );
      if (w.rows[0].n > 0) break;
      if (i > 2000) throw new Error("the send never waited for the conversation's lock");
      await new Promise((r) => setTimeout(r, 5));
    }
    await db.query("commit");
    return pending;
  }

  it("a member removed while the batch waited for the lock is refused, and nothing of theirs is stored", async (ctx) => {
    if (!store) return ctx.skip();
    const { t, ids } = await world(engine, 3);
    const [o, gone, b] = ids as [string, string, string];
    const g = (await req<{ id: string }>("POST", "/api/v1/conversations", t[o] as string, { kind: "group", members: [gone, b] })).body;
    // A first send: stored (in one statement), and the sender's access check is reused by the next one.
    expect((await send(t[gone] as string, g.id, "first")).status).toBe(201);
    const late = await changedWhileSending(
      g.id,
      [
        `delete from conversation_members where conversation_id = $1 and identity = '${gone}'`,
        "update conversations set member_count = member_count - 1 where id = $1",
      ],
      () => send(t[gone] as string, g.id, "late"),
    );
    expect(late.status).toBe(404);
    expect((await send(t[b] as string, g.id, "b-1")).status).toBe(201);
    const stored = await texts(t[o] as string, g.id);
    expect(stored.map((m) => m.client_msg_id)).toEqual(["first", "b-1"]);
    expect(stored.map((m) => m.seq)).toEqual([1, 2]);
  });

  it("a conversation closed while the batch waited for the lock refuses the send as a closed one does", async (ctx) => {
    if (!store) return ctx.skip();
    const { t, ids } = await world(engine, 2);
    const [o, b] = ids as [string, string];
    const g = (await req<{ id: string }>("POST", "/api/v1/conversations", t[o] as string, { kind: "group", members: [b] })).body;
    expect((await send(t[b] as string, g.id, "first")).status).toBe(201);
    const late = await changedWhileSending(g.id, ["update conversations set closed_at = 1 where id = $1"], () =>
      send(t[b] as string, g.id, "late"),
    );
    const after = await send(t[b] as string, g.id, "after");
    expect(after.status).not.toBe(201);
    expect(late.status).toBe(after.status);
    expect(late.body).toEqual(after.body);
    expect((await texts(t[o] as string, g.id)).map((m) => m.client_msg_id)).toEqual(["first"]);
  });

  it("a burst mixing retries of stored messages with new ones: the retries answer the stored message, the new ones are stored gap-free", async (ctx) => {
    if (!store) return ctx.skip();
    const { t, ids } = await world(engine, 4, "pro");
    const [o, ...senders] = ids as [string, ...string[]];
    const g = (await req<{ id: string }>("POST", "/api/v1/conversations", t[o] as string, { kind: "group", members: senders })).body;
    const first = await Promise.all(senders.map((s) => send(t[s] as string, g.id, `once-${s}`)));
    expect(first.map((r) => r.status)).toEqual(senders.map(() => 201));
    // The one-statement batch finds a stored client_msg_id by its unique index and stores nothing; the batch
    // then runs as a transaction that answers the retries and stores the rest.
    const mixed = await Promise.all(
      senders.flatMap((s) => [
        send(t[s] as string, g.id, `once-${s}`),
        send(t[s] as string, g.id, `new-${s}-1`),
        send(t[s] as string, g.id, `new-${s}-2`),
      ]),
    );
    for (const i of senders.keys()) {
      const [again, n1, n2] = mixed.slice(3 * i, 3 * i + 3);
      expect(again?.status).toBe(200);
      expect(again?.body.id).toBe(first[i]?.body.id);
      expect([n1?.status, n2?.status]).toEqual([201, 201]);
    }
    const stored = await texts(t[o] as string, g.id);
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 9 }, (_, i) => i + 1));
    expect(new Set(stored.map((m) => m.client_msg_id)).size).toBe(9);
  });

  it("bursts are stored gap-free with read markers; with a message.new webhook every message has its outbox row", async (ctx) => {
    if (!store) return ctx.skip();
    const { app, t, ids } = await world(engine, 4, "pro");
    const [o, ...senders] = ids as [string, ...string[]];
    const g = (await req<{ id: string }>("POST", "/api/v1/conversations", t[o] as string, { kind: "group", members: senders })).body;
    const burst = async (tag: string) => {
      const r = await Promise.all(senders.flatMap((s) => [0, 1, 2].map((i) => send(t[s] as string, g.id, `${tag}-${s}-${i}`))));
      expect(r.every((x) => x.status === 201)).toBe(true);
    };
    await burst("quiet");
    const ep = await engine.admin("POST", `/admin/v1/apps/${app.app_id}/webhooks`, {
      url: "http://127.0.0.1:9/hook",
      events: ["message.new"],
    });
    expect(ep.status).toBe(201);
    await burst("hooked");
    const stored = await texts(t[o] as string, g.id);
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
    const rows = await db.query<{ body: string }>("select body from webhook_outbox where app_id = $1 and type = 'message.new'", [
      app.app_id,
    ]);
    const hooked = rows.rows.map((r) => (JSON.parse(r.body) as { data: { message: Msg } }).data.message);
    expect(hooked.map((m) => m.client_msg_id).sort()).toEqual(
      stored
        .filter((m) => m.client_msg_id.startsWith("hooked"))
        .map((m) => m.client_msg_id)
        .sort(),
    );
    for (const m of hooked) expect(m.seq).toBe(stored.find((s) => s.id === m.id)?.seq);
    // Each sender has read up to their own last message.
    const marks = await db.query<{ identity: string; last_read_seq: string }>(
      "select identity, last_read_seq from conversation_members where conversation_id = $1",
      [g.id],
    );
    for (const s of senders) {
      const last = Math.max(...stored.filter((m) => m.client_msg_id.includes(`-${s}-`)).map((m) => m.seq));
      expect(Number(marks.rows.find((r) => r.identity === s)?.last_read_seq)).toBe(last);
    }
  });
});
