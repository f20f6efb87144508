/**
 * Idle authenticated sockets across engine nodes, and one event to all of them through the bus.
 *
 * N engine processes over their own PostgreSQL and Redis (bench/cluster/services.ts; the shared ones
 * are left alone), S users inserted in one statement, S sockets opened by several client processes
 * (bench/cluster/sockets-client.ts; each holds at most SOCKETS_PER_PROC, under the box's 20,000
 * open-file cap), socket i to node i mod N, every one authenticated (`hello` → `welcome`). Prints:
 *
 * - the handshakes (time, rate, failures);
 * - RSS per node, and per socket (RSS growth since the node was ready, over its sockets);
 * - CPU each node spends per minute at idle (heartbeat pings, presence lease renewals), over SOCKETS_IDLE_S;
 * - one `custom.bench` event to every user through the bus (`POST /admin/v1/apps/{id}/events`, 5,000
 *   identities per request, the requests spread over the nodes): time until the last socket got it;
 * - cross-node cost: the bytes (and messages) each node received from Redis per event it delivered to
 *   a socket during that publish (run it with SOCKETS_NODES=3 and 6: it must not grow with the nodes).
 *
 * Run: `node --conditions=development --import tsx bench/cluster/sockets.ts` (or `npm run bench:cluster:sockets`)
 * Env: SOCKETS_TOTAL (100000), SOCKETS_NODES (6), SOCKETS_PER_PROC (17000), SOCKETS_CONCURRENCY (handshakes
 * in flight per client process; 100), SOCKETS_CONNECT_S (stop opening sockets after this long and go on with
 * those open: the run stays bounded on a loaded box; 420), SOCKETS_IDLE_S (60), SOCKETS_SOURCES (spread client sockets over
 * this many source addresses 127.0.0.2…; 0 = the OS's choice), SOCKETS_TIMEOUT_S (the whole run's bound; 600).
 * Needs redis-server and PostgreSQL server binaries (initdb, postgres).
 */
import { type ChildProcess, execFileSync, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { type RunningEngine, startEngine } from "../../test/helpers/engine.js";
import { cpuSeconds, fmt, machineLine, memory, sleep } from "../lib/load.js";
import { ownPostgres, ownRedis } from "./services.js";
import type { ClientJob, ClientReport } from "./sockets-client.js";

const TOTAL = Number(process.env.SOCKETS_TOTAL ?? 100_000);
const NODES = Number(process.env.SOCKETS_NODES ?? 6);
const PER_PROC = Number(process.env.SOCKETS_PER_PROC ?? 17_000);
const CONCURRENCY = Number(process.env.SOCKETS_CONCURRENCY ?? 100);
const CONNECT_S = Number(process.env.SOCKETS_CONNECT_S ?? 420);
const IDLE_S = Number(process.env.SOCKETS_IDLE_S ?? 60);
const SOURCES = Number(process.env.SOCKETS_SOURCES ?? 0);
const TIMEOUT_S = Number(process.env.SOCKETS_TIMEOUT_S ?? 600);
/** Identities per publish request (10,000 are allowed, but their JSON passes the default 64 KB body limit). */
const BATCH = 5_000;

const CLIENT = fileURLToPath(new URL("./sockets-client.ts", import.meta.url));
const started = Date.now();
const bound = setTimeout(() => {
  console.log(`sockets: gave up after ${TIMEOUT_S}s (SOCKETS_TIMEOUT_S)`);
  process.exit(2);
}, TIMEOUT_S * 1000);
bound.unref();

const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;

/** Every client process's status now. */
async function statuses(clients: ClientProc[]): Promise<Extract<ClientReport, { type: "status" }>[]> {
  return (await Promise.all(
    clients.map((c) => {
      c.proc.send({ type: "status" });
      return c.next("status");
    }),
  )) as Extract<ClientReport, { type: "status" }>[];
}

async function metric(e: RunningEngine, admin: string, name: string): Promise<number> {
  const text = await (await fetch(`${e.url}/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text();
  let sum = 0;
  for (const line of text.split("\n"))
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  return sum;
}

interface ClientProc {
  proc: ChildProcess;
  reports: ClientReport[];
  next(type: ClientReport["type"]): Promise<ClientReport>;
}

function forkClient(job: ClientJob): ClientProc {
  const proc = fork(CLIENT, [], {
    execArgv: ["--conditions=development", "--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  proc.setMaxListeners(0);
  const reports: ClientReport[] = [];
  const waiters: { type: string; resolve: (r: ClientReport) => void }[] = [];
  proc.on("message", (m: ClientReport) => {
    if (m.type === "progress") return; // read by the bench's progress line
    const i = waiters.findIndex((w) => w.type === m.type);
    if (i >= 0) waiters.splice(i, 1)[0]?.resolve(m);
    else reports.push(m);
  });
  proc.send(job);
  return {
    proc,
    reports,
    next(type) {
      const i = reports.findIndex((r) => r.type === type);
      if (i >= 0) return Promise.resolve(reports.splice(i, 1)[0] as ClientReport);
      return new Promise((resolve, reject) => {
        waiters.push({ type, resolve });
        proc.once("exit", (code) => reject(new Error(`client process exited (${code})`)));
      });
    },
  };
}

async function main(): Promise<void> {
  console.log(machineLine());
  const redis = await ownRedis("crash");
  const redisBase = Number(
    /used_memory:(\d+)/.exec(execFileSync("redis-cli", ["-p", new URL(redis.url).port, "INFO", "memory"], { encoding: "utf8" }))?.[1] ?? 0,
  );
  const pgs = await ownPostgres();
  const admin = `adm_sockets_${randomBytes(8).toString("hex")}`;
  const tokenSecret = randomBytes(32).toString("base64url");
  const env: Record<string, string> = {
    DATABASE_URL: pgs.url,
    REDIS_URL: redis.url,
    UTD_ADMIN_TOKEN: admin,
    UTD_TOKEN_SECRET: tokenSecret,
    UTD_MASTER_KEY: randomBytes(32).toString("base64url"),
    // "ready" is logged at info; the bench stops reading the logs then (the engine drops lines, never blocks).
    UTD_LOG_LEVEL: "info",
    UTD_RATE_REQUESTS_USER: "1000000/1000000",
    UTD_RATE_REQUESTS_APP: "1000000/1000000",
    UTD_RATE_SESSION_IDENTITY: "1000000/1000000",
    UTD_RATE_SESSION_APP: "1000000/1000000",
    UTD_DB_POOL_MAX: "10",
  };
  const nodes: RunningEngine[] = [await startEngine({ env, stallStdout: true })];
  nodes.push(...(await Promise.all(Array.from({ length: NODES - 1 }, () => startEngine({ env, stallStdout: true })))));
  const baseRss = nodes.map((e) => memory(e.proc.pid as number).rss);
  console.log(`${elapsed()} ${NODES} nodes ready (RSS ${baseRss.map(mb).join(", ")})`);

  const appRes = await fetch(`${nodes[0]?.url}/admin/v1/apps`, {
    method: "POST",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "sockets", plan: "pro" }),
  });
  const app = (await appRes.json()) as { app_id: string };
  if (appRes.status !== 201) throw new Error(`app: ${appRes.status} ${JSON.stringify(app)}`);
  const db = new pg.Client({ connectionString: pgs.url });
  await db.connect();
  const now = Date.now();
  await db.query(
    "INSERT INTO users (app_id, identity, name, created_at, last_seen_at) SELECT $1, 'u' || g, NULL, $2, $2 FROM generate_series(0, $3 - 1) g",
    [app.app_id, now, TOTAL],
  );
  await db.end();

  const procs = Math.ceil(TOTAL / PER_PROC);
  const urls = nodes.map((e) => e.wsUrl);
  const sources = Array.from({ length: SOURCES }, (_, i) => `127.0.0.${i + 2}`);
  const t0 = Date.now();
  const clients = Array.from({ length: procs }, (_, p) =>
    forkClient({
      urls,
      from: p * PER_PROC,
      to: Math.min(TOTAL, (p + 1) * PER_PROC),
      appId: app.app_id,
      tokenSecret,
      concurrency: CONCURRENCY,
      sources,
    }),
  );
  // Progress every 15 s; past the connect deadline the clients stop opening sockets.
  const progress = new Map<ClientProc, number>();
  for (const c of clients)
    c.proc.on("message", (m: ClientReport) => {
      if (m.type === "progress") progress.set(c, m.open);
    });
  const ticker = setInterval(() => {
    const n = [...progress.values()].reduce((a, b) => a + b, 0);
    console.log(`${elapsed()}   … ${fmt(n)} sockets open (${fmt((n / (Date.now() - t0)) * 1000)}/s)`);
  }, 15_000);
  const deadline = setTimeout(() => {
    console.log(`${elapsed()}   connect deadline (SOCKETS_CONNECT_S=${CONNECT_S}): no more sockets are opened`);
    for (const c of clients) c.proc.send({ type: "stop-connecting" });
  }, CONNECT_S * 1000);
  const connected = (await Promise.all(clients.map((c) => c.next("connected")))) as Extract<ClientReport, { type: "connected" }>[];
  clearInterval(ticker);
  clearTimeout(deadline);
  const connectMs = Date.now() - t0;
  const open = connected.reduce((s, r) => s + r.open, 0);
  const failed = connected.reduce((s, r) => s + r.failed, 0);
  console.log(
    `${elapsed()} handshakes: ${fmt(open)} of ${fmt(TOTAL)} sockets authenticated in ${(connectMs / 1000).toFixed(1)} s (${fmt((open / connectMs) * 1000)}/s over ${NODES} nodes, ${procs} client processes); ${fmt(failed)} failed`,
  );

  await sleep(5000);
  const perNode = await Promise.all(nodes.map((e) => metric(e, admin, "utd_ws_connections")));
  const rss = nodes.map((e) => memory(e.proc.pid as number).rss);
  console.log(`  sockets per node : ${perNode.map(fmt).join(", ")}`);
  console.log(`  RSS per node     : ${rss.map(mb).join(", ")} (total ${mb(rss.reduce((a, b) => a + b, 0))})`);
  console.log(
    `  RSS per socket   : ${nodes.map((_, i) => `${(((rss[i] as number) - (baseRss[i] as number)) / Math.max(1, perNode[i] as number) / 1024).toFixed(1)} KB`).join(", ")} (growth since ready / sockets)`,
  );

  // Idle: what heartbeats and presence lease renewals cost.
  const cpu0 = nodes.map((e) => cpuSeconds(e.proc.pid as number));
  const serviceCpu = (svc: { cpuSeconds(): number }) => svc.cpuSeconds();
  const pgCpu0 = serviceCpu(pgs);
  const redisCpu0 = serviceCpu(redis);
  const i0 = Date.now();
  await sleep(IDLE_S * 1000);
  const idleMin = (Date.now() - i0) / 60_000;
  const cpuIdle = nodes.map((e, i) => (cpuSeconds(e.proc.pid as number) - (cpu0[i] as number)) / idleMin);
  const pgIdle = (serviceCpu(pgs) - pgCpu0) / idleMin;
  const redisIdle = (serviceCpu(redis) - redisCpu0) / idleMin;
  const still = await statuses(clients);
  console.log(`  idle CPU, services: PostgreSQL ${pgIdle.toFixed(2)} s/min (presence lease renewals), Redis ${redisIdle.toFixed(2)} s/min`);
  console.log(
    `  idle CPU per node: ${cpuIdle.map((c) => `${c.toFixed(2)} s/min`).join(", ")} over ${IDLE_S} s (${(cpuIdle.reduce((a, b) => a + b, 0) / 60).toFixed(2)} cores in all); sockets still open ${fmt(still.reduce((s, r) => s + r.open, 0))}`,
  );

  // One event to every user through the bus.
  const before = await Promise.all(
    nodes.map(async (e) => ({
      bytes: await metric(e, admin, "utd_streams_received_bytes_total"),
      messages: await metric(e, admin, "utd_streams_received_messages_total"),
      deliveries: await metric(e, admin, "utd_ws_deliveries_total"),
    })),
  );
  const pubStart = Date.now();
  const batches = Array.from({ length: Math.ceil(TOTAL / BATCH) }, (_, b) =>
    Array.from({ length: Math.min(BATCH, TOTAL - b * BATCH) }, (_, k) => `u${b * BATCH + k}`),
  );
  await Promise.all(
    batches.map(async (identities, b) => {
      const e = nodes[b % NODES] as RunningEngine;
      const r = await fetch(`${e.url}/admin/v1/apps/${app.app_id}/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: JSON.stringify({ identities, type: "custom.bench", data: { at: pubStart } }),
      });
      if (r.status !== 200) throw new Error(`publish: ${r.status} ${await r.text()}`);
    }),
  );
  const acked = Date.now() - pubStart;
  let status: Extract<ClientReport, { type: "status" }>[] = [];
  for (let i = 0; i < 600; i++) {
    status = await statuses(clients);
    if (status.reduce((s, r) => s + r.got, 0) >= status.reduce((s, r) => s + r.open, 0)) break;
    await sleep(200);
  }
  const got = status.reduce((s, r) => s + r.got, 0);
  const last = Math.max(...status.map((r) => r.lastAt)) - pubStart;
  const first = Math.min(...status.filter((r) => r.firstAt > 0).map((r) => r.firstAt)) - pubStart;
  console.log(
    `  one event to all : ${fmt(got)} of ${fmt(status.reduce((s, r) => s + r.open, 0))} sockets got it; publish acknowledged after ${fmt(acked)} ms (${batches.length} requests of ≤ ${fmt(BATCH)} identities); first delivery ${fmt(first)} ms, last ${fmt(last)} ms`,
  );
  const after = await Promise.all(
    nodes.map(async (e) => ({
      bytes: await metric(e, admin, "utd_streams_received_bytes_total"),
      messages: await metric(e, admin, "utd_streams_received_messages_total"),
      deliveries: await metric(e, admin, "utd_ws_deliveries_total"),
    })),
  );
  const cost = nodes.map((_, i) => {
    const a = after[i] as (typeof after)[number];
    const b = before[i] as (typeof before)[number];
    const d = Math.max(1, a.deliveries - b.deliveries);
    return { bytes: (a.bytes - b.bytes) / d, messages: (a.messages - b.messages) / d, deliveries: a.deliveries - b.deliveries };
  });
  console.log(
    `  bus cost per delivered event, ${NODES} nodes: ${cost.map((c, i) => `node ${i + 1}: ${c.bytes.toFixed(0)} B, ${c.messages.toFixed(2)} msgs (${fmt(c.deliveries)} deliveries)`).join("; ")}`,
  );
  const usedMemory = (): number => {
    const info = execFileSync("redis-cli", ["-p", new URL(redis.url).port, "INFO", "memory"], { encoding: "utf8" });
    return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
  };
  console.log(
    `  Redis memory     : ${mb(usedMemory())} after the publish (${fmt(got)} user streams, one event each: ${((usedMemory() - redisBase) / Math.max(1, TOTAL) / 1024).toFixed(2)} KB per user stream held)`,
  );
  console.log(machineLine());

  for (const c of clients) c.proc.send({ type: "close" });
  await Promise.all(clients.map((c) => new Promise((r) => (c.proc.exitCode !== null ? r(null) : c.proc.once("exit", r)))));
  await Promise.all(nodes.map((e) => e.stop("SIGKILL")));
  await redis.stop();
  await pgs.stop();
}

await main();
process.exit(0);
