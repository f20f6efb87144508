/**
 * Message search benchmark: query latency over a large message table, on SQLite (FTS5) and PostgreSQL
 * (GIN over to_tsvector('simple', text)).
 *
 * Seeds BENCH_MESSAGES messages (1,000,000 by default) over BENCH_CONVERSATIONS conversations straight into
 * the store (the triggers and the GIN index keep the search index, as on the send path), with texts drawn
 * from a Zipf-like vocabulary of Latin and Urdu words. One reader is a member of BENCH_READER_CONVERSATIONS
 * of them. It then runs a fixed mix of queries through the REST route (`GET /api/v1/search/messages`,
 * Fastify inject: validation, access check, SQL, highlights; no network) and prints, per store:
 *   - seeding time and rows/s
 *   - query latency p50 / p99 (ms) over all queries, and per query kind
 *
 * Full size: `node --conditions=development --import tsx bench/search/run.ts` (PostgreSQL at 127.0.0.1:5432
 * if present). Env: BENCH_MESSAGES (1000000), BENCH_CONVERSATIONS (2000), BENCH_READER_CONVERSATIONS (200),
 * BENCH_QUERIES (40 per kind), BENCH_STORES (sqlite,postgres).
 */
import { type FreshStore, freshStore } from "../../test/helpers/backends.js";
import { type InProcessEngine, startInProcess } from "../../test/helpers/inproc.js";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 2000);
const READER_CONVS = Math.min(CONVERSATIONS, Number(process.env.BENCH_READER_CONVERSATIONS ?? 200));
const QUERIES = Number(process.env.BENCH_QUERIES ?? 40);
const STORES = (process.env.BENCH_STORES ?? "sqlite,postgres").split(",") as ("sqlite" | "postgres")[];
const BATCH = 1000;

/** A deterministic PRNG (mulberry32), so both stores get the same data and queries. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = ["ka", "lo", "mi", "ne", "ra", "su", "ti", "vo", "ze", "pa", "do", "gu", "be", "fi", "ho", "ju"];
const URDU = ["سلام", "دوست", "کتاب", "پانی", "شہر", "وقت", "کام", "گھر", "خبر", "بات"];
const VOCAB: string[] = [];
for (let i = 0; VOCAB.length < 5000; i++) {
  const a = SYLLABLES[i % 16] as string;
  const b = SYLLABLES[Math.floor(i / 16) % 16] as string;
  const c = SYLLABLES[Math.floor(i / 256) % 16] as string;
  VOCAB.push(i < 256 ? `${a}${b}` : `${a}${b}${c}${Math.floor(i / 4096) || ""}`);
}
VOCAB.splice(100, URDU.length, ...URDU);

/** A word by Zipf-like rank: low ranks are common. */
function word(r: () => number): string {
  return VOCAB[Math.min(VOCAB.length - 1, Math.floor(VOCAB.length ** r() - 1))] as string;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function seed(node: InProcessEngine): Promise<{ token: string; convIds: string[]; ms: number }> {
  const app = await node.createApp({ plan: "enterprise" });
  const token = (await node.session(app, "reader")).user_token;
  await node.session(app, "writer");
  const db = node.engine.store.db;
  const now = node.clock.now();
  const convIds = Array.from({ length: CONVERSATIONS }, (_, i) => `conv_bench_${i}`);
  const perConv = Math.ceil(MESSAGES / CONVERSATIONS);
  const started = performance.now();
  for (let i = 0; i < convIds.length; i += BATCH) {
    const ids = convIds.slice(i, i + BATCH);
    await db
      .insertInto("conversations")
      .values(
        ids.map((id) => ({
          id,
          app_id: app.app_id,
          kind: "group",
          name: id,
          custom: null,
          created_by: "writer",
          direct_key: null,
          created_at: now - 1,
          updated_at: now,
          last_active_at: now,
          last_seq: perConv,
          closed_at: null,
          member_count: 2,
        })),
      )
      .execute();
  }
  const members = convIds.slice(0, READER_CONVS).flatMap((id) => ["reader", "writer"].map((identity) => ({ id, identity })));
  for (let i = 0; i < members.length; i += BATCH) {
    await db
      .insertInto("conversation_members")
      .values(
        members.slice(i, i + BATCH).map((m) => ({
          conversation_id: m.id,
          app_id: app.app_id,
          identity: m.identity,
          role: "member",
          joined_at: now - 1,
          last_read_seq: 0,
        })),
      )
      .execute();
  }
  const r = rng(42);
  for (let i = 0; i < MESSAGES; i += BATCH) {
    const rows = [];
    for (let j = i; j < Math.min(MESSAGES, i + BATCH); j++) {
      const conv = j % CONVERSATIONS;
      const len = 4 + Math.floor(r() * 12);
      const text = Array.from({ length: len }, () => word(r)).join(" ");
      rows.push({
        id: `msg_bench_${j}`,
        conversation_id: convIds[conv] as string,
        app_id: app.app_id,
        seq: Math.floor(j / CONVERSATIONS) + 1,
        type: "text",
        sender: j % 3 === 0 ? "reader" : "writer",
        text,
        custom: null,
        attachments: j % 50 === 0 ? '[{"file_token":"f"}]' : "[]",
        reply_to: null,
        thread_id: null,
        mentions: null,
        client_msg_id: `c${j}`,
        created_at: now - (MESSAGES - j),
        edited_at: null,
        deleted_at: null,
      });
    }
    await db.insertInto("messages").values(rows).execute();
    if (process.stdout.isTTY && i % 100_000 === 0) process.stdout.write(`  seeded ${i.toLocaleString("en")}\r`);
  }
  if (node.engine.store.dialect === "postgres") await sqlAnalyze(node);
  return { token, convIds, ms: performance.now() - started };
}

async function sqlAnalyze(node: InProcessEngine): Promise<void> {
  const { sql } = await import("kysely");
  await sql`ANALYZE messages`.execute(node.engine.store.db);
  await sql`ANALYZE conversation_members`.execute(node.engine.store.db);
}

type Kind = { name: string; params: (r: () => number, convIds: string[]) => Record<string, string> };
const KINDS: Kind[] = [
  { name: "common word, all conversations", params: (r) => ({ q: VOCAB[Math.floor(r() * 20)] as string }) },
  { name: "rare word, all conversations", params: (r) => ({ q: VOCAB[1000 + Math.floor(r() * 3000)] as string }) },
  { name: "two words (AND)", params: (r) => ({ q: `${VOCAB[Math.floor(r() * 50)]} ${VOCAB[Math.floor(r() * 200)]}` }) },
  { name: "prefix", params: (r) => ({ q: `${(VOCAB[300 + Math.floor(r() * 500)] as string).slice(0, 3)}*` }) },
  { name: "Urdu word", params: (r) => ({ q: URDU[Math.floor(r() * URDU.length)] as string }) },
  {
    name: "one conversation",
    params: (r, c) => ({ q: VOCAB[Math.floor(r() * 100)] as string, conversation_id: c[Math.floor(r() * READER_CONVS)] as string }),
  },
  {
    name: "sender + attachment filter",
    params: (r) => ({ q: VOCAB[Math.floor(r() * 30)] as string, sender: "reader", has_attachment: "true" }),
  },
];

async function run(label: string, store: FreshStore): Promise<void> {
  const node = await startInProcess({ env: store.env });
  try {
    const { token, convIds, ms } = await seed(node);
    console.log(
      `${label}: seeded ${MESSAGES.toLocaleString("en")} messages in ${(ms / 1000).toFixed(1)} s (${Math.round(MESSAGES / (ms / 1000)).toLocaleString("en")} rows/s)`,
    );
    const r = rng(7);
    const all: number[] = [];
    let hits = 0;
    for (const kind of KINDS) {
      const times: number[] = [];
      for (let i = 0; i < QUERIES; i++) {
        const params = new URLSearchParams({ ...kind.params(r, convIds), limit: "20" });
        const t0 = performance.now();
        const res = await node.request<{ hits: unknown[] }>("GET", `/api/v1/search/messages?${params}`, { token });
        times.push(performance.now() - t0);
        if (res.status !== 200) throw new Error(`${kind.name}: ${res.status} ${JSON.stringify(res.body)}`);
        hits += res.body.hits.length;
      }
      times.sort((a, b) => a - b);
      all.push(...times);
      console.log(`  ${kind.name.padEnd(32)} p50 ${pct(times, 50).toFixed(1)} ms  p99 ${pct(times, 99).toFixed(1)} ms`);
    }
    all.sort((a, b) => a - b);
    console.log(
      `  ${label} all queries (${all.length}, ${hits} hits): p50 ${pct(all, 50).toFixed(1)} ms  p99 ${pct(all, 99).toFixed(1)} ms`,
    );
  } finally {
    await node.close();
  }
}

console.log(
  `search: ${MESSAGES.toLocaleString("en")} messages in ${CONVERSATIONS} conversations; the reader is in ${READER_CONVS}; ${QUERIES} queries per kind`,
);
for (const name of STORES) {
  const store = await freshStore(name, "search bench on PostgreSQL");
  if (!store) {
    console.log(`${name}: skipped (not reachable)`);
    continue;
  }
  try {
    await run(name === "sqlite" ? "SQLite FTS5" : "PostgreSQL GIN", store);
  } finally {
    await store.drop();
  }
}
