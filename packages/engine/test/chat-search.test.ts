import type { SearchMessagesResponse } from "@utd-stream/protocol";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { backends, describeBackends, type FreshStore, freshStore } from "../../../test/helpers/backends.js";
import type { TestApp } from "../../../test/helpers/engine.js";
import { type InProcessEngine, startInProcess } from "../../../test/helpers/inproc.js";
import { searchTerms } from "../src/modules/chat/search.js";

const DAY = 86_400_000;

describeBackends(await backends("store"), "message search", (impl) => {
  let db: FreshStore | undefined;
  let node: InProcessEngine;
  beforeAll(async () => {
    db = await freshStore(impl);
    if (!db) return;
    node = await startInProcess({ env: db.env });
  });
  afterAll(async () => {
    await node?.close();
    await db?.drop();
  });

  let n = 0;
  /** A free app (history_days 7) with signed-in users; tokens by identity. */
  async function world(count: number): Promise<{ app: TestApp; t: Record<string, string>; ids: string[] }> {
    const app = await node.createApp({ plan: "free" });
    const ids = Array.from({ length: count }, (_, i) => `s${++n}_${i}`);
    const t: Record<string, string> = {};
    for (const id of ids) t[id] = (await node.session(app, id)).user_token;
    return { app, t, ids };
  }
  const conv = async (token: string, members: string[]) =>
    (await node.request<{ id: string }>("POST", "/api/v1/conversations", { token, body: { kind: "group", members } })).body.id;
  let k = 0;
  const send = async (token: string, c: string, text: string) => {
    const r = await node.request<{ id: string }>("POST", `/api/v1/conversations/${c}/messages`, {
      token,
      body: { text, client_msg_id: `c${++k}` },
    });
    expect(r.status).toBe(201);
    return r.body.id;
  };
  const search = (token: string, params: Record<string, string>) =>
    node.request<SearchMessagesResponse & { error?: { code: string } }>("GET", `/api/v1/search/messages?${new URLSearchParams(params)}`, {
      token,
    });
  const texts = (r: { status: number; body: SearchMessagesResponse }) => {
    expect(r.status).toBe(200);
    return r.body.hits.map((h) => h.message.text);
  };
  /** SQLite: the FTS index agrees with the messages table (fails on an entry a trigger forgot to remove). */
  const indexIntact = async () => {
    if (impl !== "sqlite") return;
    await sql`INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)`.execute(node.engine.store.db);
  };
  /** The highlighted substrings of each hit. */
  const marks = (r: { body: SearchMessagesResponse }) =>
    r.body.hits.map((h) => h.highlights.map((x) => (h.message.text ?? "").slice(x.start, x.end)));

  it("finds words in one conversation and across all of the caller's, ranked and highlighted", async () => {
    const { t, ids } = await world(3);
    const [a, b, c] = ids as [string, string, string];
    const ab = await conv(t[a] as string, [b]);
    const ac = await conv(t[a] as string, [c]);
    await send(t[a] as string, ab, "the deploy failed again");
    await send(t[b] as string, ab, "Deploy deploy deploy: rollback now");
    await send(t[a] as string, ac, "lunch after the DEPLOY?");
    await send(t[a] as string, ac, "nothing to see");
    const all = await search(t[a] as string, { q: "deploy" });
    expect(all.status).toBe(200);
    expect(texts(all)).toHaveLength(3);
    // The message that says it three times in few words ranks first; matches are case-insensitive.
    expect(texts(all)[0]).toBe("Deploy deploy deploy: rollback now");
    expect(marks(all)[0]).toEqual(["Deploy", "deploy", "deploy"]);
    const one = await search(t[a] as string, { q: "deploy", conversation_id: ac });
    expect(texts(one)).toEqual(["lunch after the DEPLOY?"]);
    expect(marks(one)).toEqual([["DEPLOY"]]);
    // Every term must match; a trailing * matches a prefix.
    expect(texts(await search(t[a] as string, { q: "deploy failed" }))).toEqual(["the deploy failed again"]);
    expect(texts(await search(t[a] as string, { q: "roll*" }))).toEqual(["Deploy deploy deploy: rollback now"]);
    // c is only in ac: b's conversation is not searched for c.
    expect(texts(await search(t[c] as string, { q: "deploy" }))).toEqual(["lunch after the DEPLOY?"]);
  });

  it("finds Urdu words (and Arabic, Cyrillic, Devanagari, accented Latin)", async () => {
    const { t, ids } = await world(2);
    const [a, b] = ids as [string, string];
    const g = await conv(t[a] as string, [b]);
    await send(t[a] as string, g, "کل صبح میٹنگ ہے، براہ کرم وقت پر آئیں");
    await send(t[b] as string, g, "میٹنگ منسوخ ہو گئی");
    await send(t[b] as string, g, "مرحبا بالعالم");
    await send(t[b] as string, g, "Привет, как дела?");
    await send(t[b] as string, g, "नमस्ते दुनिया");
    await send(t[b] as string, g, "Café crème à Zürich");
    const urdu = await search(t[a] as string, { q: "میٹنگ" });
    expect(texts(urdu).sort()).toEqual(["کل صبح میٹنگ ہے، براہ کرم وقت پر آئیں", "میٹنگ منسوخ ہو گئی"].sort());
    expect(marks(urdu)).toEqual([["میٹنگ"], ["میٹنگ"]]);
    expect(texts(await search(t[a] as string, { q: "منسوخ میٹنگ" }))).toEqual(["میٹنگ منسوخ ہو گئی"]);
    expect(texts(await search(t[a] as string, { q: "وقت" }))).toEqual(["کل صبح میٹنگ ہے، براہ کرم وقت پر آئیں"]);
    expect(texts(await search(t[a] as string, { q: "بالعالم" }))).toEqual(["مرحبا بالعالم"]);
    expect(texts(await search(t[a] as string, { q: "привет" }))).toEqual(["Привет, как дела?"]);
    expect(texts(await search(t[a] as string, { q: "दुनिया" }))).toEqual(["नमस्ते दुनिया"]);
    expect(texts(await search(t[a] as string, { q: "zürich" }))).toEqual(["Café crème à Zürich"]);
    // SQLite's tokenizer folds Latin accents; PostgreSQL's `simple` configuration does not (docs/chat.md).
    expect(texts(await search(t[a] as string, { q: "zurich" }))).toEqual(impl === "sqlite" ? ["Café crème à Zürich"] : []);
    // Arabic-script harakat are kept on both: a word written with a zer is another word.
    expect(texts(await search(t[a] as string, { q: "مِیٹنگ" }))).toEqual([]);
  });

  it("filters by sender, date range and attachment; pages by cursor", async () => {
    const { t, ids } = await world(2);
    const [a, b] = ids as [string, string];
    const g = await conv(t[a] as string, [b]);
    const start = node.clock.now();
    await send(t[a] as string, g, "report one");
    node.clock.advance(60_000);
    await send(t[b] as string, g, "report two");
    node.clock.advance(60_000);
    await send(t[a] as string, g, "report three");
    expect(texts(await search(t[b] as string, { q: "report", sender: a })).sort()).toEqual(["report one", "report three"]);
    const mid = new Date(start + 60_000).toISOString();
    expect(texts(await search(t[b] as string, { q: "report", from: mid, to: mid }))).toEqual(["report two"]);
    expect(texts(await search(t[b] as string, { q: "report", has_attachment: "true" }))).toEqual([]);
    expect(texts(await search(t[b] as string, { q: "report", has_attachment: "false" }))).toHaveLength(3);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: SearchMessagesResponse } = await search(t[b] as string, {
        q: "report",
        limit: "2",
        ...(cursor ? { cursor } : {}),
      });
      expect(page.status).toBe(200);
      seen.push(...(texts(page) as string[]));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual(["report one", "report three", "report two"]);
  });

  it("an edited message is found by its new text only; a deleted or expired one is never found", async () => {
    const { app, t, ids } = await world(2);
    const [a, b] = ids as [string, string];
    const g = await conv(t[a] as string, [b]);
    const m1 = await send(t[a] as string, g, "alpha original");
    const m2 = await send(t[a] as string, g, "bravo to delete");
    const edit = await node.request("PATCH", `/api/v1/conversations/${g}/messages/${m1}`, {
      token: t[a] as string,
      body: { text: "alpha edited" },
    });
    expect(edit.status).toBe(200);
    expect(texts(await search(t[b] as string, { q: "original" }))).toEqual([]);
    expect(texts(await search(t[b] as string, { q: "edited" }))).toEqual(["alpha edited"]);
    expect((await node.request("DELETE", `/api/v1/conversations/${g}/messages/${m2}`, { token: t[a] as string })).status).toBe(200);
    expect(texts(await search(t[b] as string, { q: "bravo" }))).toEqual([]);
    await indexIntact();
    // Past the free plan's 7 days: not served even before the purge runs, and gone from the index after it.
    node.clock.advance(8 * DAY);
    for (const id of ids) t[id] = (await node.session(app, id)).user_token;
    expect(texts(await search(t[b] as string, { q: "alpha" }))).toEqual([]);
    const chat = node.engine.services.chat;
    const apps = await node.engine.services.apps.list();
    expect(await chat.purgeExpired(apps)).toBeGreaterThanOrEqual(2);
    await indexIntact();
    expect(texts(await search(t[b] as string, { q: "alpha" }))).toEqual([]);
    // The index still works after the purge.
    await send(t[a] as string, g, "alpha fresh");
    expect(texts(await search(t[b] as string, { q: "alpha" }))).toEqual(["alpha fresh"]);
  });

  it("never finds what the caller may not read, and says why for another's conversation", async () => {
    const { t, ids } = await world(3);
    const [a, b, c] = ids as [string, string, string];
    const ab = await conv(t[a] as string, [b]);
    await send(t[a] as string, ab, "secret plan zebra");
    // c is not a member: across conversations nothing; naming the conversation is not_found.
    expect(texts(await search(t[c] as string, { q: "zebra" }))).toEqual([]);
    const named = await search(t[c] as string, { q: "zebra", conversation_id: ab });
    expect([named.status, named.body.error?.code]).toEqual([404, "not_found"]);
    expect((await search(t[c] as string, { q: "zebra", conversation_id: "conv_nope" })).status).toBe(404);
    // Another app's user with the same identity sees nothing.
    const other = await world(1);
    const sameName = (await node.session(other.app, a)).user_token;
    expect(texts(await search(sameName, { q: "zebra" }))).toEqual([]);
    expect((await search(sameName, { q: "zebra", conversation_id: ab })).status).toBe(404);
    // A removed member no longer finds the conversation's messages.
    expect((await node.request("DELETE", `/api/v1/conversations/${ab}/members/${b}`, { token: t[a] as string })).status).toBeLessThan(300);
    expect(texts(await search(t[b] as string, { q: "zebra" }))).toEqual([]);
    expect(texts(await search(t[a] as string, { q: "zebra" }))).toEqual(["secret plan zebra"]);
    // No token: 401.
    expect((await node.request("GET", "/api/v1/search/messages?q=zebra")).status).toBe(401);
  });

  it("refuses bad input with a typed error", async () => {
    const { t, ids } = await world(1);
    const tok = t[ids[0] as string] as string;
    const bad: Record<string, string>[] = [
      {},
      { q: "" },
      { q: "   " },
      { q: "!!! ??? ***" },
      { q: "x".repeat(201) },
      { q: Array.from({ length: 11 }, (_, i) => `w${i}`).join(" ") },
      { q: "a", from: "yesterday" },
      { q: "a", to: "2026-13-40T00:00:00Z" },
      { q: "a", from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z" },
      { q: "a", has_attachment: "maybe" },
      { q: "a", cursor: "12" },
      { q: "a", cursor: "o5000" },
      { q: "a", limit: "0" },
      { q: "a", limit: "51" },
      { q: "a", unknown: "1" },
      { q: 'a" OR "b' + "(".repeat(5) + " NEAR/ ^" },
    ];
    for (const params of bad.slice(0, -1)) {
      const r = await search(tok, params);
      expect([r.status, r.body.error?.code], JSON.stringify(params)).toEqual([400, "invalid_argument"]);
      expect(r.body.hits).toBeUndefined();
    }
    // Query syntax is not passed through: quotes, parentheses and operators are just separators.
    const r = await search(tok, bad.at(-1) as Record<string, string>);
    expect(r.status).toBe(200);
  });
});

it("splits a query into terms without query syntax", () => {
  expect(searchTerms('deploy "OR" fail* (x) میٹنگ')).toEqual([
    { word: "deploy", prefix: false },
    { word: "or", prefix: false },
    { word: "fail", prefix: true },
    { word: "x", prefix: false },
    { word: "میٹنگ", prefix: false },
  ]);
});
