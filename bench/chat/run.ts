/**
 * Chat benchmark: a 50-member group under send load, on SQLite and on PostgreSQL, against a baseline.
 *
 * Two servers in one run, with the same clients: the UTD engine and baseline-server.mjs (plain `ws` +
 * better-sqlite3 / `pg`, pre-shared tokens, each message committed before its ack with the same
 * durability — SQLite `synchronous=FULL`, PostgreSQL `synchronous_commit=on` — group commit allowed).
 * Every member holds a WebSocket. For each store, each send path and each load, the two servers are
 * measured in alternating rounds (best round of each kept):
 *   - paths: over the socket (`message.send` → reply) and over REST (`POST …/messages` → 201);
 *   - loads: full speed (`BENCH_SENDERS` members, one send in flight each, `BENCH_PER_SENDER` each) and a
 *     fixed offered load of `BENCH_RATE` msgs/s for `BENCH_RATE_SECONDS` (open loop: latency counts from
 *     the time a send was due, so a slow server cannot hide its queue).
 * Printed: persisted messages/s (acks / wall time; an ack means stored), deliveries/s (`message.new`
 * frames the other members got), send→deliver p50/p95/p99 (ms), and engine/baseline ratios.
 *
 * Run: `node --conditions=development --import tsx bench/chat/run.ts` (PostgreSQL at 127.0.0.1:5432 if present).
 * Env: BENCH_MEMBERS (50), BENCH_SENDERS (10), BENCH_PER_SENDER (100), BENCH_WARM (20 untimed sends per sender
 * first), BENCH_RATE (300), BENCH_RATE_SECONDS (4), BENCH_ROUNDS (3), BENCH_STORES (sqlite,postgres), BENCH_PATHS (ws,rest), BENCH_ENGINE_NODE_OPTIONS.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type WebSocket from "ws";
import { freshPostgres } from "../../test/helpers/backends.js";
import { startEngine } from "../../test/helpers/engine.js";
import { engineBenchEnv, engineHello, engineNodeArgs, fmt, inBatches, machineLine, percentiles, sleep, spawnPeer } from "../lib/load.js";

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 50);
const SENDERS = Number(process.env.BENCH_SENDERS ?? 10);
const PER_SENDER = Number(process.env.BENCH_PER_SENDER ?? 100);
const WARM = Number(process.env.BENCH_WARM ?? 20);
const RATE = Number(process.env.BENCH_RATE ?? 300);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const STORES = (process.env.BENCH_STORES ?? "sqlite,postgres").split(",");
const PATHS = (process.env.BENCH_PATHS ?? "ws,rest").split(",") as Path[];
const HERE = dirname(fileURLToPath(import.meta.url));

type Path = "ws" | "rest";

/** A chat server with a group of MEMBERS whose members are all connected. */
interface ChatTarget {
  name: string;
  pid: number;
  /** Sends one message as member `s` over `path`; resolves on the ack (reply ok / 201). */
  send(path: Path, s: number, clientMsgId: string, text: string): Promise<void>;
  close(): void;
}

interface Figures {
  msgsPerS: number;
  deliveriesPerS: number;
  delivered: string;
  latency: { p50: number; p95: number; p99: number };
}

/** Shared by both targets: when each message was (due to be) sent, by whom, and what arrived. */
const sentAt = new Map<string, number>();
const senderOf = new Map<string, number>();
let latencies: number[] = [];
let deliveries = 0;
function onFrame(member: number, text: string): void {
  if (!text.startsWith('{"type":"message.new"')) return;
  const id = /"client_msg_id":"([^"]+)"/.exec(text)?.[1];
  if (!id || senderOf.get(id) === member) return;
  const t0 = sentAt.get(id);
  if (t0 === undefined) return;
  deliveries++;
  latencies.push(performance.now() - t0);
}

/** Member sockets speaking the engine's frames (hello → welcome; `message.send` → `reply`). */
async function members(
  wsUrl: string,
  tokens: string[],
): Promise<{ sockets: WebSocket[]; request: (s: number, f: object) => Promise<void> }> {
  const waiting = new Map<string, { res: () => void; rej: (e: Error) => void }>();
  const sockets = await inBatches(tokens.length, 50, async (i) => {
    const { ws } = await engineHello(wsUrl, tokens[i] as string, (text) => {
      if (text.startsWith('{"type":"reply"')) {
        const r = JSON.parse(text) as { id: string; ok: boolean; error?: unknown };
        const w = waiting.get(r.id);
        waiting.delete(r.id);
        if (r.ok) w?.res();
        else w?.rej(new Error(JSON.stringify(r.error)));
      } else onFrame(i, text);
    });
    return ws;
  });
  let n = 0;
  const request = (s: number, f: object) =>
    new Promise<void>((res, rej) => {
      const id = `r${++n}`;
      waiting.set(id, { res, rej });
      (sockets[s] as WebSocket).send(JSON.stringify({ ...f, id }));
    });
  return { sockets, request };
}

async function restSend(url: string, token: string, body: object): Promise<void> {
  const r = await fetch(url, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
  });
  const text = await r.text();
  if (r.status !== 201) throw new Error(`send: ${r.status} ${text}`);
}

function reset(): void {
  sentAt.clear();
  senderOf.clear();
  latencies = [];
  deliveries = 0;
}

async function drain(expected: number): Promise<number> {
  const deadline = performance.now() + 30_000;
  while (deliveries < expected && performance.now() < deadline) await sleep(5);
  return performance.now();
}

/** Full speed: SENDERS members, one send in flight each, PER_SENDER sends each. */
async function fullSpeed(t: ChatTarget, path: Path, tag: string): Promise<Figures> {
  reset();
  const total = SENDERS * PER_SENDER;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: SENDERS }, async (_, s) => {
      for (let k = 0; k < PER_SENDER; k++) {
        const id = `${tag}-${s}-${k}`;
        senderOf.set(id, s);
        sentAt.set(id, performance.now());
        await t.send(path, s, id, `bench message ${k}`);
      }
    }),
  );
  const acked = performance.now();
  const expected = total * (MEMBERS - 1);
  const done = await drain(expected);
  return {
    msgsPerS: total / ((acked - start) / 1000),
    deliveriesPerS: deliveries / ((done - start) / 1000),
    delivered: `${deliveries}/${expected}`,
    latency: percentiles(latencies),
  };
}

/** Fixed offered load: RATE msgs/s for RATE_SECONDS, round robin over SENDERS, not waiting for acks. */
async function fixedRate(t: ChatTarget, path: Path, tag: string): Promise<Figures> {
  reset();
  const total = Math.round(RATE * RATE_SECONDS);
  const start = performance.now();
  const acks: Promise<void>[] = [];
  let k = 0;
  while (k < total) {
    const now = performance.now();
    while (k < total && start + (k * 1000) / RATE <= now) {
      const id = `${tag}-${k}`;
      const s = k % SENDERS;
      senderOf.set(id, s);
      sentAt.set(id, start + (k * 1000) / RATE); // latency from when it was due
      acks.push(t.send(path, s, id, `bench message ${k}`));
      k++;
    }
    await sleep(2);
  }
  await Promise.all(acks);
  const acked = performance.now();
  const expected = total * (MEMBERS - 1);
  const done = await drain(expected);
  return {
    msgsPerS: total / ((acked - start) / 1000),
    deliveriesPerS: deliveries / ((done - start) / 1000),
    delivered: `${deliveries}/${expected}`,
    latency: percentiles(latencies),
  };
}

async function engineTarget(store: string, databaseUrl?: string) {
  const engine = await startEngine({
    env: engineBenchEnv(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    nodeArgs: engineNodeArgs(),
  });
  const app = await engine.createApp({ plan: "enterprise" });
  const ids = Array.from({ length: MEMBERS }, (_, i) => `m${i}`);
  const tokens = await inBatches(MEMBERS, 25, async (i) => (await engine.session(app, ids[i] as string)).user_token);
  const g = await engine.request<{ id: string }>("POST", "/api/v1/conversations", {
    token: tokens[0],
    body: { kind: "group", name: "bench", members: ids.slice(1) },
  });
  if (g.status !== 201) throw new Error(`create group: ${g.status} ${JSON.stringify(g.body)}`);
  const { sockets, request } = await members(engine.wsUrl, tokens);
  const url = `${engine.url}/api/v1/conversations/${g.body.id}/messages`;
  const target: ChatTarget = {
    name: `UTD engine (${store})`,
    pid: engine.proc.pid as number,
    send: (path, s, client_msg_id, text) =>
      path === "ws"
        ? request(s, { type: "message.send", conversation_id: g.body.id, client_msg_id, text })
        : restSend(url, tokens[s] as string, { client_msg_id, text }),
    close: () => {
      for (const ws of sockets) ws.terminate();
    },
  };
  return { target, stop: () => engine.stop() };
}

async function baselineTarget(store: string, databaseUrl?: string) {
  const dir = mkdtempSync(join(tmpdir(), "utd-baseline-"));
  const tokens = Array.from({ length: MEMBERS }, () => randomBytes(16).toString("hex"));
  const peer = await spawnPeer(
    join(HERE, "baseline-server.mjs"),
    databaseUrl ? ["postgres", databaseUrl] : ["sqlite", join(dir, "baseline.db")],
    { env: { BASELINE_TOKENS: JSON.stringify(Object.fromEntries(tokens.map((t, i) => [t, `m${i}`]))) } },
  );
  const { sockets, request } = await members(`ws://127.0.0.1:${peer.port}`, tokens);
  const url = `http://127.0.0.1:${peer.port}/conversations/g/messages`;
  const target: ChatTarget = {
    name: `baseline (${store})`,
    pid: peer.proc.pid as number,
    send: (path, s, client_msg_id, text) =>
      path === "ws"
        ? request(s, { type: "message.send", conversation_id: "g", client_msg_id, text })
        : restSend(url, tokens[s] as string, { client_msg_id, text }),
    close: () => {
      for (const ws of sockets) ws.terminate();
    },
  };
  return {
    target,
    stop: async () => {
      peer.proc.kill("SIGTERM");
      if (peer.proc.exitCode === null) await new Promise((r) => peer.proc.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function line(f: Figures): string {
  return `${fmt(f.msgsPerS).padStart(6)} msgs/s, ${fmt(f.deliveriesPerS).padStart(7)} deliveries/s (${f.delivered}), p50/p95/p99 ${f.latency.p50}/${f.latency.p95}/${f.latency.p99} ms`;
}

const better = (a: Figures | undefined, b: Figures): Figures => (!a || b.msgsPerS > a.msgsPerS ? b : a);

async function runStore(store: string, engineDb?: string, baselineDb?: string): Promise<void> {
  const e = await engineTarget(store, engineDb);
  const b = await baselineTarget(store, baselineDb);
  try {
    for (const path of PATHS) {
      // Warm-up, untimed: WARM sends per sender at full speed through each pipeline, so that neither
      // server's first timed round pays for its JIT (a round at full speed lasts well under a second).
      for (const t of [e.target, b.target]) {
        reset();
        await Promise.all(
          Array.from({ length: SENDERS }, async (_, s) => {
            for (let k = 0; k < WARM; k++) await t.send(path, s, `warm-${path}-${s}-${k}`, "warm");
          }),
        );
      }
      await sleep(200);
      for (const [mode, fn] of [
        [`full speed (${SENDERS} senders × ${PER_SENDER})`, fullSpeed],
        [`fixed ${RATE} msgs/s × ${RATE_SECONDS}s`, fixedRate],
      ] as const) {
        let fe: Figures | undefined;
        let fb: Figures | undefined;
        for (let round = 0; round < ROUNDS; round++) {
          const tag = `${store}-${path}-${mode.slice(0, 4)}-${round}`;
          fe = better(fe, await fn(e.target, path, `e-${tag}`));
          fb = better(fb, await fn(b.target, path, `b-${tag}`));
        }
        if (!fe || !fb) throw new Error("no rounds");
        const via = path === "ws" ? "socket" : "REST";
        console.log(`chat ${store}, over the ${via}, ${mode}:`);
        console.log(`  engine   : ${line(fe)}`);
        console.log(`  baseline : ${line(fb)}`);
        console.log(
          `  engine/baseline: ${(fe.msgsPerS / fb.msgsPerS).toFixed(2)} msgs/s, p99 ${(fe.latency.p99 / fb.latency.p99).toFixed(2)}×`,
        );
      }
    }
  } finally {
    e.target.close();
    b.target.close();
    await e.stop();
    await b.stop();
  }
}

console.log(`chat: ${MEMBERS}-member group, best of ${ROUNDS} alternating rounds; ${machineLine()}`);
if (STORES.includes("sqlite")) await runStore("sqlite");
if (STORES.includes("postgres")) {
  const pe = await freshPostgres();
  const pb = await freshPostgres();
  if (pe && pb) {
    try {
      await runStore("postgres", pe.url, pb.url);
    } finally {
      await pe.drop();
      await pb.drop();
    }
  } else console.log("chat postgres: skipped (no PostgreSQL at 127.0.0.1:5432)");
}
