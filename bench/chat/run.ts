/**
 * Chat benchmark: a 50-member group under send load, on SQLite and on PostgreSQL.
 *
 * Every member holds a WebSocket. `SENDERS` members send `PER_SENDER` messages each over REST, with
 * `SENDERS` requests in flight at once. It prints, per store:
 *   - persisted messages/s  (acknowledged sends / wall time; an ack means the message is stored)
 *   - deliveries/s          (message.new frames received by the other 49 members / wall time)
 *   - send→deliver latency  p50 / p95 / p99 (ms, from just before the POST to each member's frame)
 *
 * Run: `node --conditions=development --import tsx bench/chat/run.ts` (PostgreSQL at 127.0.0.1:5432 if present).
 * Env: BENCH_MEMBERS (50), BENCH_SENDERS (10), BENCH_PER_SENDER (50).
 */
import pgClient from "pg";
import WebSocket from "ws";
import { freshPostgres } from "../../test/helpers/backends.js";
import { type RunningEngine, startEngine } from "../../test/helpers/engine.js";

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 50);
const SENDERS = Number(process.env.BENCH_SENDERS ?? 10);
const PER_SENDER = Number(process.env.BENCH_PER_SENDER ?? 50);
const ENV = {
  UTD_RATE_REQUESTS_USER: "1000000/1000000",
  UTD_RATE_REQUESTS_APP: "1000000/1000000",
  UTD_RATE_SESSION_IDENTITY: "1000000/1000000",
  UTD_RATE_SESSION_APP: "1000000/1000000",
  UTD_LOG_LEVEL: "info",
  // e.g. BENCH_ENGINE_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the engine process.
  ...(process.env.BENCH_ENGINE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_ENGINE_NODE_OPTIONS } : {}),
};

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function connect(
  url: string,
  token: string,
  onMessage: (f: { type: string; data?: { client_msg_id?: string } }) => void,
): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise<void>((res, rej) => {
    ws.once("open", () => res());
    ws.once("error", rej);
  });
  const welcome = new Promise<void>((res) => {
    ws.on("message", (d) => {
      const f = JSON.parse(d.toString()) as { type: string; data?: { client_msg_id?: string } };
      if (f.type === "welcome") res();
      else onMessage(f);
    });
  });
  ws.send(JSON.stringify({ type: "hello", token }));
  await welcome;
  return ws;
}

async function run(label: string, engine: RunningEngine): Promise<void> {
  const app = await engine.createApp({ plan: "enterprise" });
  const ids = Array.from({ length: MEMBERS }, (_, i) => `m${i}`);
  const tokens = await Promise.all(ids.map(async (id) => (await engine.session(app, id)).user_token));
  const owner = tokens[0] as string;
  const g = await engine.request<{ id: string }>("POST", "/api/v1/conversations", {
    token: owner,
    body: { kind: "group", name: "bench", members: ids.slice(1) },
  });
  if (g.status !== 201) throw new Error(`create group: ${g.status} ${JSON.stringify(g.body)}`);
  const sentAt = new Map<string, number>();
  const senderOf = new Map<string, number>();
  const latencies: number[] = [];
  let deliveries = 0;
  const sockets = await Promise.all(
    tokens.map((tok, i) =>
      connect(engine.wsUrl, tok, (f) => {
        if (f.type !== "message.new") return;
        const id = f.data?.client_msg_id;
        if (!id || senderOf.get(id) === i) return;
        const t0 = sentAt.get(id);
        if (t0 === undefined) return;
        deliveries++;
        latencies.push(performance.now() - t0);
      }),
    ),
  );
  // Warm-up: one message through the whole pipeline.
  await engine.request("POST", `/api/v1/conversations/${g.body.id}/messages`, {
    token: owner,
    body: { client_msg_id: "warm", text: "warm" },
  });
  await new Promise((r) => setTimeout(r, 300));
  deliveries = 0;
  latencies.length = 0;

  const expected = SENDERS * PER_SENDER * (MEMBERS - 1);
  const allDelivered = new Promise<void>((res) => {
    const t = setInterval(() => {
      if (deliveries >= expected) {
        clearInterval(t);
        res();
      }
    }, 5);
  });
  const start = performance.now();
  await Promise.all(
    Array.from({ length: SENDERS }, async (_, s) => {
      const tok = tokens[s] as string;
      for (let k = 0; k < PER_SENDER; k++) {
        const id = `s${s}-${k}`;
        senderOf.set(id, s);
        sentAt.set(id, performance.now());
        const r = await engine.request("POST", `/api/v1/conversations/${g.body.id}/messages`, {
          token: tok,
          body: { client_msg_id: id, text: `bench message ${k}` },
        });
        if (r.status !== 201) throw new Error(`send ${id}: ${r.status}`);
      }
    }),
  );
  const acked = performance.now();
  await Promise.race([allDelivered, new Promise((r) => setTimeout(r, 30_000))]);
  const done = performance.now();
  for (const ws of sockets) ws.close();
  const sorted = latencies.sort((a, b) => a - b);
  const total = SENDERS * PER_SENDER;
  console.log(
    JSON.stringify({
      store: label,
      members: MEMBERS,
      messages: total,
      persisted_msgs_per_s: Math.round(total / ((acked - start) / 1000)),
      deliveries: `${deliveries}/${expected}`,
      deliveries_per_s: Math.round(deliveries / ((done - start) / 1000)),
      latency_ms: { p50: +pct(sorted, 50).toFixed(1), p95: +pct(sorted, 95).toFixed(1), p99: +pct(sorted, 99).toFixed(1) },
    }),
  );
}

const sqlite = await startEngine({ env: ENV });
try {
  await run("sqlite", sqlite);
} finally {
  await sqlite.stop();
}
const pg = await freshPostgres();
if (pg) {
  // Diagnostic knob: BENCH_PG_SYNC_COMMIT=off shows how much of the cost is the commit's fsync
  // (the engine acknowledges only committed messages; production keeps synchronous_commit on).
  if (process.env.BENCH_PG_SYNC_COMMIT) {
    const c = new pgClient.Client({ connectionString: pg.url });
    await c.connect();
    await c.query(
      `ALTER DATABASE "${new URL(pg.url).pathname.slice(1)}" SET synchronous_commit = ${process.env.BENCH_PG_SYNC_COMMIT === "off" ? "off" : "on"}`,
    );
    await c.end();
  }
  const engine = await startEngine({ env: { ...ENV, DATABASE_URL: pg.url } });
  try {
    await run("postgres", engine);
  } finally {
    await engine.stop();
    await pg.drop();
  }
}
