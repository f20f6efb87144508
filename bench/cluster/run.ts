/**
 * Cluster chaos bench: N engine processes behind HAProxy (deploy/haproxy.cfg, round-robin, no
 * stickiness) on one PostgreSQL and one Redis, clients in chat groups, everyone sending, sockets cut at
 * random (each reconnects through the balancer, so to any node, with `resume{epoch,seq}`), optionally a
 * node killed with SIGKILL and restarted, Redis restarted, PostgreSQL restarted. Prints messages
 * acknowledged, deliveries, lost (acknowledged but never delivered to some member, live, replayed or
 * re-read after a resync), duplicated (a stream seq or a message id delivered twice to one device),
 * stream gaps, resumes and resyncs, and how sends failed meanwhile (every failure must be a typed,
 * retryable error; the client retries with the same `client_msg_id`, as the SDK does).
 *
 * Run (full size): `node --conditions=development --import tsx bench/cluster/run.ts` (or `npm run bench:cluster`)
 * Env: CLUSTER_NODES (3), CLUSTER_GROUPS (20), CLUSTER_GROUP_SIZE (50), CLUSTER_SECONDS (60),
 * CLUSTER_SEND_MS (each client sends every ~this many ms; 2000), CLUSTER_DROPS (forced disconnects over
 * the run; 1000), CLUSTER_KILL_EVERY_S (kill -9 + restart a node this often; 15, 0 = never),
 * CLUSTER_RESTART_REDIS_AT_S / CLUSTER_RESTART_PG_AT_S (restart the bench's own Redis / PostgreSQL this
 * many seconds into the load; unset = never), CLUSTER_REDIS_MODE (`crash`: no persistence, SIGKILL, every
 * history lost; `persist`: append-only file, SIGTERM), CLUSTER_DOWN_MS (how long a restarted service
 * stays down; 3000), CLUSTER_OWN_SERVICES=1 (own Redis and PostgreSQL even without a restart).
 * Needs HAProxy, and PostgreSQL and Redis (the shared ones of test/helpers/backends.ts, or its own:
 * bench/cluster/services.ts, always when a restart is asked: the shared ones are never restarted).
 */

import { ERROR_CODES, isErrorCode } from "@utd-stream/protocol";
import WebSocket from "ws";
import { type Cluster, startCluster } from "../../test/helpers/cluster.js";
import { machineLine as machine } from "../lib/load.js";
import { type OwnService, ownPostgres, ownRedis } from "./services.js";

const NODES = Number(process.env.CLUSTER_NODES ?? 3);
const GROUPS = Number(process.env.CLUSTER_GROUPS ?? 20);
const GROUP_SIZE = Number(process.env.CLUSTER_GROUP_SIZE ?? 50);
const SECONDS = Number(process.env.CLUSTER_SECONDS ?? 60);
const SEND_MS = Number(process.env.CLUSTER_SEND_MS ?? 2000);
const DROPS = Number(process.env.CLUSTER_DROPS ?? 1000);
const KILL_EVERY_S = Number(process.env.CLUSTER_KILL_EVERY_S ?? 15);
const optional = (v: string | undefined) => (v === undefined || v === "" ? undefined : Number(v));
const REDIS_AT_S = optional(process.env.CLUSTER_RESTART_REDIS_AT_S);
const PG_AT_S = optional(process.env.CLUSTER_RESTART_PG_AT_S);
const REDIS_MODE = process.env.CLUSTER_REDIS_MODE === "persist" ? "persist" : "crash";
const DOWN_MS = Number(process.env.CLUSTER_DOWN_MS ?? 3000);
const DEBUG = Boolean(process.env.CLUSTER_DEBUG);
const OWN = process.env.CLUSTER_OWN_SERVICES === "1" || REDIS_AT_S !== undefined || PG_AT_S !== undefined;
/** How long after the load a send keeps being retried (an outage near the end). */
const RETRY_FOR_MS = 60_000;

const ENV = {
  UTD_RATE_REQUESTS_USER: "1000000/1000000",
  UTD_RATE_REQUESTS_APP: "1000000/1000000",
  UTD_RATE_SESSION_IDENTITY: "1000000/1000000",
  UTD_RATE_SESSION_APP: "1000000/1000000",
  UTD_WS_FRAMES_PER_S: "1000/1000",
};

const stats = {
  retried: 0,
  delivered: 0,
  recovered: 0,
  dupSeq: 0,
  dupId: 0,
  dupAfterReread: 0,
  gaps: 0,
  /** Live `message.new` frames with a conversation seq below one this device already received live. */
  inversions: 0,
  /** The same, for a message the device already had (re-read over REST after a resync): its id dedupe drops it. */
  lateCopies: 0,
  resumes: 0,
  resyncs: 0,
  sendErrors: 0,
  kills: 0,
  /** Hellos answered with an error frame (e.g. `unavailable` while Redis is down), by code. */
  helloErrors: new Map<string, number>(),
};
/** How sends failed before a retry succeeded (or gave up): "<status> <code>", "untyped <status>", "network". */
const sendFailures = new Map<string, number>();
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
const rand = (n: number) => Math.floor(Math.random() * n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Device {
  ws: WebSocket | undefined;
  epoch: string | undefined;
  seq = 0;
  /**
   * Every conversation seq up to this one has been seen: a re-read after a resync starts here, as the SDK's
   * gap fill would. (Not the highest seen: across nodes two sends' events may reach a stream in the other
   * order than their conversation seqs, so the highest can pass one still on its way when Redis loses it.)
   */
  convSeq = 0;
  /** Conversation seqs seen above `convSeq`. */
  private readonly convAbove = new Set<number>();
  /** The highest conversation seq received live in this stream epoch (order check). */
  private liveMax = 0;
  readonly seen = new Set<string>();
  /** DEBUG: the socket's state (hello sent, welcomed, closed) and when. */
  state = "new";
  stateAt = 0;
  /** Ids first seen by a REST re-read (a live copy may still be on its way). */
  private readonly reread = new Set<string>();
  private closing = false;

  constructor(
    readonly identity: string,
    readonly token: string,
    readonly conv: string,
    private readonly cluster: Cluster,
  ) {}

  connect(): Promise<void> {
    const ws = new WebSocket(this.cluster.wsUrl);
    this.ws = ws;
    return new Promise<void>((resolve) => {
      let welcomed = false;
      ws.on("open", () => {
        this.state = "hello sent";
        this.stateAt = Date.now();
        ws.send(
          JSON.stringify({ type: "hello", token: this.token, ...(this.epoch ? { resume: { epoch: this.epoch, seq: this.seq } } : {}) }),
        );
      });
      ws.on("message", (d) => {
        const f = JSON.parse(d.toString()) as {
          type: string;
          seq?: number;
          epoch?: string;
          resumed?: boolean;
          data?: { id: string; seq: number };
          error?: { code: string };
        };
        if (f.type === "welcome") {
          if (this.epoch && f.resumed) stats.resumes++;
          if (f.epoch !== this.epoch) this.liveMax = 0; // a new stream: its events start afresh
          this.epoch = f.epoch;
          this.seq = f.seq ?? 0;
          welcomed = true;
          this.state = "welcomed";
          this.stateAt = Date.now();
          resolve();
          return;
        }
        if (f.type === "error" && !welcomed) {
          bump(stats.helloErrors, f.error?.code ?? "?");
          return;
        }
        if (f.type === "resync_required") {
          stats.resyncs++;
          void this.catchUp();
          return;
        }
        if (typeof f.seq !== "number") return;
        if (f.seq <= this.seq) stats.dupSeq++;
        else {
          if (f.seq !== this.seq + 1) stats.gaps++;
          this.seq = f.seq;
        }
        if (f.type === "message.new" && f.data) {
          if (f.data.seq < this.liveMax && this.seen.has(f.data.id)) stats.lateCopies++;
          else if (f.data.seq < this.liveMax) {
            stats.inversions++;
            if (DEBUG && stats.inversions <= 30)
              console.log(
                `  DEBUG order ${this.identity}: conv seq ${f.data.seq} after ${this.liveMax} (stream seq ${f.seq}) at ${Date.now()}`,
              );
          }
          this.liveMax = Math.max(this.liveMax, f.data.seq);
          this.saw(f.data.id, f.data.seq, true);
        }
      });
      const retry = () => {
        if (!welcomed) resolve();
        if (this.ws === ws && !this.closing) setTimeout(() => void this.connect(), 50 + rand(200));
      };
      ws.on("close", (code) => {
        this.state = `closed ${code}`;
        this.stateAt = Date.now();
        retry();
      });
      ws.on("error", () => {});
    });
  }

  private saw(id: string, convSeq: number, live: boolean): void {
    if (this.seen.has(id)) {
      if (live && this.reread.has(id)) stats.dupAfterReread++;
      else if (live) stats.dupId++;
      return;
    }
    this.seen.add(id);
    if (!live) this.reread.add(id);
    if (convSeq > this.convSeq) {
      this.convAbove.add(convSeq);
      while (this.convAbove.delete(this.convSeq + 1)) this.convSeq++;
    }
    if (live) stats.delivered++;
    else stats.recovered++;
  }

  /** After `resync_required`: the messages since the last one seen, over REST (retried through an outage). */
  private async catchUp(): Promise<void> {
    for (let after = this.convSeq, tries = 0; tries < 200; ) {
      const r = await this.cluster
        .request<{ messages: { id: string; seq: number }[] }>(
          "GET",
          `/api/v1/conversations/${this.conv}/messages?after=${after}&limit=100`,
          {
            token: this.token,
          },
        )
        .catch(() => undefined);
      if (r?.status !== 200) {
        tries++;
        await sleep(250);
        continue;
      }
      for (const m of r.body.messages) this.saw(m.id, m.seq, false);
      if (r.body.messages.length < 100) return;
      after = r.body.messages.at(-1)?.seq ?? after;
    }
  }

  /** A forced disconnect: the socket is cut and the device reconnects at once (resume). */
  drop(): void {
    this.ws?.terminate();
  }

  close(): void {
    this.closing = true;
    this.ws?.close();
  }
}

async function main(): Promise<void> {
  console.log(machine());
  const redis: OwnService | undefined = OWN ? await ownRedis(REDIS_MODE) : undefined;
  const pg: OwnService | undefined = OWN ? await ownPostgres() : undefined;
  const cluster = await startCluster({
    nodes: NODES,
    env: ENV,
    what: "bench/cluster",
    lbMaxConn: GROUPS * GROUP_SIZE * 2 + 1000,
    ...(redis ? { redisUrl: redis.url } : {}),
    ...(pg ? { databaseUrl: pg.url } : {}),
  });
  if (!cluster) throw new Error("bench/cluster needs HAProxy, PostgreSQL and Redis");
  const up = new Set(cluster.nodes.map((_, i) => i));
  const app = await cluster.createApp({ plan: "pro" });
  const devices: Device[] = [];
  const acked = new Map<string, Set<string>>();
  for (let g = 0; g < GROUPS; g++) {
    const ids = Array.from({ length: GROUP_SIZE }, (_, i) => `g${g}m${i}`);
    const tokens = await Promise.all(ids.map(async (id) => (await cluster.session(app, id)).user_token));
    const conv = await cluster.request<{ id: string }>("POST", "/api/v1/conversations", {
      token: tokens[0] as string,
      body: { kind: "group", members: ids.slice(1) },
    });
    if (conv.status !== 201) throw new Error(`conversation: ${conv.status} ${JSON.stringify(conv.body)}`);
    acked.set(conv.body.id, new Set());
    for (const [i, id] of ids.entries()) devices.push(new Device(id, tokens[i] as string, conv.body.id, cluster));
  }
  for (let i = 0; i < devices.length; i += 100) await Promise.all(devices.slice(i, i + 100).map((d) => d.connect()));

  const t0 = Date.now();
  const end = t0 + SECONDS * 1000;
  let n = 0;
  /** DEBUG: each acknowledged message's attempts. */
  const attempts = new Map<string, string[]>();
  /** One send, retried with the same client_msg_id (as the SDK does) while the failure is retryable. */
  const send = async (d: Device) => {
    const id = `c${++n}`;
    const giveUp = end + RETRY_FOR_MS;
    let netCause = "";
    const tried: string[] = [];
    for (let attempt = 0; Date.now() < giveUp; attempt++) {
      const r = await cluster
        .request<{ id: string; error?: { code: string; message?: string } }>("POST", `/api/v1/conversations/${d.conv}/messages`, {
          token: d.token,
          body: { client_msg_id: id, text: id },
        })
        .catch((err: Error & { cause?: { code?: string; message?: string } }) => {
          netCause = DEBUG ? `${err.cause?.code}: ${err.cause?.message}` : (err.cause?.code ?? err.message);
          return undefined;
        });
      if (r && (r.status === 201 || r.status === 200)) {
        if (r.status === 200) stats.retried++;
        acked.get(d.conv)?.add(r.body.id);
        if (DEBUG) attempts.set(r.body.id, [...tried, `${r.status} at ${Date.now() - t0} ms`]);
        return;
      }
      const code = r?.body?.error?.code;
      if (DEBUG) tried.push(`${r?.status ?? "net"} ${code ?? ""} at ${Date.now() - t0} ms`);
      if (!r) bump(sendFailures, `network (${netCause})`);
      else if (code && isErrorCode(code)) {
        bump(sendFailures, `${r.status} ${code}${DEBUG ? ` (${r.body.error?.message})` : ""}`);
        if (!ERROR_CODES[code].retryable) break;
      } else bump(sendFailures, `untyped ${r.status}`);
      await sleep(Math.min(2000, 100 * (attempt + 1)) + rand(100));
    }
    stats.sendErrors++;
  };
  const senders = devices.map(async (d) => {
    await sleep(rand(SEND_MS));
    while (Date.now() < end) {
      await send(d);
      await sleep(SEND_MS / 2 + rand(SEND_MS));
    }
  });
  const dropTimer = setInterval(() => devices[rand(devices.length)]?.drop(), Math.max(1, (SECONDS * 1000) / Math.max(1, DROPS)));
  const events: string[] = [];
  const at = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  let killing = false;
  const killer =
    KILL_EVERY_S > 0
      ? setInterval(async () => {
          const live = [...up];
          const victim = live[rand(live.length)];
          if (victim === undefined || live.length < 2 || killing) return;
          killing = true;
          up.delete(victim);
          stats.kills++;
          events.push(`${at()} kill -9 node ${victim + 1}`);
          await cluster.restart(victim).catch((err: Error) => events.push(`restart of node ${victim + 1} failed: ${err.message}`));
          events.push(`${at()} node ${victim + 1} UP again`);
          up.add(victim);
          killing = false;
        }, KILL_EVERY_S * 1000)
      : undefined;
  const restarts: Promise<void>[] = [];
  const phase = (atS: number | undefined, what: string, svc: OwnService | undefined) => {
    if (atS === undefined || !svc) return;
    restarts.push(
      sleep(atS * 1000).then(async () => {
        events.push(`${at()} ${what} stopped`);
        await svc.restart(DOWN_MS);
        events.push(`${at()} ${what} back`);
      }),
    );
  };
  phase(REDIS_AT_S, `Redis (${REDIS_MODE})`, redis);
  phase(PG_AT_S, "PostgreSQL", pg);
  await Promise.all(senders);
  await Promise.all(restarts);
  clearInterval(dropTimer);
  if (killer) clearInterval(killer);
  while (killing) await sleep(100);

  // Quiescence: every member has every acknowledged message of its group, or 30 s have passed.
  const missing = () => devices.reduce((sum, d) => sum + [...(acked.get(d.conv) ?? [])].filter((id) => !d.seen.has(id)).length, 0);
  for (let i = 0; i < 300 && missing() > 0; i++) await sleep(100);
  const lost = missing();
  if (DEBUG) {
    // Per missing message: how many members miss it, on which nodes' sockets they were, how it was sent.
    const byId = new Map<string, string[]>();
    for (const d of devices)
      for (const id of acked.get(d.conv) ?? [])
        if (!d.seen.has(id))
          byId.set(id, [...(byId.get(id) ?? []), `${d.identity}(seq ${d.seq}, ${d.state} ${Date.now() - d.stateAt} ms ago)`]);
    console.log(`  DEBUG ${byId.size} messages missed by someone`);
    for (const [id, who] of [...byId].slice(0, 15))
      console.log(`  DEBUG ${id}: ${who.length} miss it [${who.slice(0, 4).join(" ")}] sent: ${(attempts.get(id) ?? []).join(" → ")}`);
    for (const [i, e] of cluster.nodes.entries())
      for (const l of e.logs.filter((x) => /"level":(40|50)/.test(x)).slice(0, 8)) console.log(`  DEBUG node ${i + 1}: ${l.slice(0, 400)}`);
  }

  const phases = [
    KILL_EVERY_S ? `kill -9 every ${KILL_EVERY_S}s` : "",
    REDIS_AT_S !== undefined ? `Redis restart (${REDIS_MODE}, down ${DOWN_MS} ms) at ${REDIS_AT_S}s` : "",
    PG_AT_S !== undefined ? `PostgreSQL restart (down ${DOWN_MS} ms) at ${PG_AT_S}s` : "",
  ].filter(Boolean);
  console.log(
    `cluster: ${NODES} nodes behind HAProxy, ${devices.length} clients in ${GROUPS} groups of ${GROUP_SIZE}, ${SECONDS}s, ${DROPS} forced disconnects${phases.length ? `, ${phases.join(", ")}` : ""}`,
  );
  for (const e of events) console.log(`  event        : ${e}`);
  const ackedCount = [...acked.values()].reduce((sum, set) => sum + set.size, 0);
  console.log(
    `  acknowledged : ${ackedCount} messages (${stats.retried} on a retry that found it stored; ${stats.sendErrors} sends gave up)`,
  );
  const failures = [...sendFailures.entries()].map(([k, v]) => `${k} ×${v}`).join(", ") || "none";
  const count = (pred: (k: string) => boolean) => [...sendFailures.entries()].filter(([k]) => pred(k)).reduce((n, [, v]) => n + v, 0);
  const untyped = count((k) => k.startsWith("untyped"));
  const network = count((k) => k.startsWith("network"));
  console.log(
    `  send failures: ${failures} (untyped: ${untyped}; network, no HTTP answer: ${network}; all retried with the same client_msg_id)`,
  );
  const helloErrs = [...stats.helloErrors.entries()].map(([k, v]) => `${k} ×${v}`).join(", ") || "none";
  console.log(`  hello errors : ${helloErrs}`);
  console.log(`  delivered    : ${stats.delivered} live or replayed, ${stats.recovered} re-read after a resync`);
  console.log(`  lost         : ${lost}`);
  console.log(
    `  duplicated   : ${stats.dupSeq} stream seq, ${stats.dupId} message id (live twice; ${stats.dupAfterReread} more live after the REST re-read had it: the SDK's id dedupe drops both)`,
  );
  console.log(`  stream gaps  : ${stats.gaps}`);
  console.log(
    `  out of order : ${stats.inversions} live message.new of a message new to the device, below a conversation seq it already had (target 0); ${stats.lateCopies} more of messages it already had (re-read after a resync)`,
  );
  console.log(`  resumes      : ${stats.resumes}, resyncs: ${stats.resyncs}, node kills: ${stats.kills}`);

  // Cross-node cost: what each node received from Redis for its users, per event it delivered to a socket.
  const perNode: string[] = [];
  for (let i = 0; i < NODES; i++) {
    const bytes = await cluster.metric(i, "utd_streams_received_bytes_total");
    const delivered = await cluster.metric(i, "utd_ws_deliveries_total");
    perNode.push(`node ${i + 1}: ${bytes !== undefined && delivered ? Math.round(bytes / delivered) : "—"}`);
  }
  console.log(`  bus bytes received per delivered event (since each node's last start): ${perNode.join(", ")}`);
  const downs = cluster.lbLogs.filter((l) => / is DOWN/.test(l)).length;
  console.log(
    `  balancer     : ${downs} times a node was taken out (health check), ${cluster.lbLogs.filter((l) => /no server available/.test(l)).length} times none was left`,
  );
  if (DEBUG) for (const l of cluster.lbLogs.slice(-40)) console.log(`  haproxy: ${l}`);
  console.log(machine());

  for (const d of devices) d.close();
  await cluster.stop();
  await redis?.stop();
  await pg?.stop();
}

await main();
process.exit(0);
