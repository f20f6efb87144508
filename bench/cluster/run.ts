/**
 * Cluster chaos bench: N engine processes on one PostgreSQL and one Redis, clients in chat groups
 * connected to random nodes, everyone sending, sockets cut at random (each reconnects to a random node
 * with `resume{epoch,seq}`), optionally a node killed with SIGKILL and restarted. Prints messages
 * acknowledged, deliveries, lost (acknowledged but never delivered to some member, live, replayed or
 * re-read after a resync), duplicated (a stream seq or a message id delivered twice to one device),
 * stream gaps, resumes and resyncs.
 *
 * Run (full size): `node --conditions=development --import tsx bench/cluster/run.ts`
 * Env: CLUSTER_NODES (3), CLUSTER_GROUPS (20), CLUSTER_GROUP_SIZE (50), CLUSTER_SECONDS (60),
 * CLUSTER_SEND_MS (each client sends every ~this many ms; 2000), CLUSTER_DROPS (forced disconnects over
 * the run; 1000), CLUSTER_KILL_EVERY_S (kill -9 + restart a node this often; 15, 0 = never).
 * Needs PostgreSQL and Redis (test/helpers/backends.ts locations).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { freshPostgres, REDIS_URL } from "../../test/helpers/backends.js";
import { type RunningEngine, startEngine, type TestApp } from "../../test/helpers/engine.js";

const NODES = Number(process.env.CLUSTER_NODES ?? 3);
const GROUPS = Number(process.env.CLUSTER_GROUPS ?? 20);
const GROUP_SIZE = Number(process.env.CLUSTER_GROUP_SIZE ?? 50);
const SECONDS = Number(process.env.CLUSTER_SECONDS ?? 60);
const SEND_MS = Number(process.env.CLUSTER_SEND_MS ?? 2000);
const DROPS = Number(process.env.CLUSTER_DROPS ?? 1000);
const KILL_EVERY_S = Number(process.env.CLUSTER_KILL_EVERY_S ?? 15);

const ENV = {
  UTD_RATE_REQUESTS_USER: "1000000/1000000",
  UTD_RATE_REQUESTS_APP: "1000000/1000000",
  UTD_RATE_SESSION_IDENTITY: "1000000/1000000",
  UTD_RATE_SESSION_APP: "1000000/1000000",
  UTD_WS_FRAMES_PER_S: "1000/1000",
  UTD_TOKEN_SECRET: "cluster-bench-shared-token-secret-0123456789abcdef",
  UTD_MASTER_KEY: "cluster-bench-shared-master-key-0123456789abcdef0123",
};

const stats = { retried: 0, delivered: 0, recovered: 0, dupSeq: 0, dupId: 0, gaps: 0, resumes: 0, resyncs: 0, sendErrors: 0, kills: 0 };
const rand = (n: number) => Math.floor(Math.random() * n);

interface Node {
  engine: RunningEngine;
  up: boolean;
}

class Device {
  ws: WebSocket | undefined;
  epoch: string | undefined;
  seq = 0;
  /** Highest conversation seq seen (for re-reading after a resync). */
  convSeq = 0;
  readonly seen = new Set<string>();
  private closing = false;

  constructor(
    readonly identity: string,
    readonly token: string,
    readonly conv: string,
    private readonly pick: () => Node,
  ) {}

  connect(): Promise<void> {
    const node = this.pick();
    const ws = new WebSocket(node.engine.wsUrl);
    this.ws = ws;
    return new Promise<void>((resolve) => {
      let welcomed = false;
      ws.on("open", () =>
        ws.send(
          JSON.stringify({ type: "hello", token: this.token, ...(this.epoch ? { resume: { epoch: this.epoch, seq: this.seq } } : {}) }),
        ),
      );
      ws.on("message", (d) => {
        const f = JSON.parse(d.toString()) as {
          type: string;
          seq?: number;
          epoch?: string;
          resumed?: boolean;
          data?: { id: string; seq: number };
        };
        if (f.type === "welcome") {
          if (this.epoch && f.resumed) stats.resumes++;
          this.epoch = f.epoch;
          this.seq = f.seq ?? 0;
          welcomed = true;
          resolve();
          return;
        }
        if (f.type === "resync_required") {
          stats.resyncs++;
          void this.reread(node);
          return;
        }
        if (typeof f.seq !== "number") return;
        if (f.seq <= this.seq) stats.dupSeq++;
        else {
          if (f.seq !== this.seq + 1) stats.gaps++;
          this.seq = f.seq;
        }
        if (f.type === "message.new" && f.data) this.saw(f.data.id, f.data.seq, true);
      });
      const retry = () => {
        if (!welcomed) resolve();
        if (this.ws === ws && !this.closing) setTimeout(() => void this.connect(), 50 + rand(200));
      };
      ws.on("close", retry);
      ws.on("error", () => {});
    });
  }

  private saw(id: string, convSeq: number, live: boolean): void {
    if (this.seen.has(id)) {
      if (live) stats.dupId++;
      return;
    }
    this.seen.add(id);
    this.convSeq = Math.max(this.convSeq, convSeq);
    if (live) stats.delivered++;
    else stats.recovered++;
  }

  /** After `resync_required`: the messages since the last one seen, over REST. */
  private async reread(node: Node): Promise<void> {
    for (let after = this.convSeq; ; ) {
      const r = await node.engine
        .request<{ messages: { id: string; seq: number }[] }>(
          "GET",
          `/api/v1/conversations/${this.conv}/messages?after=${after}&limit=100`,
          {
            token: this.token,
          },
        )
        .catch(() => undefined);
      if (r?.status !== 200) return;
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
  const pg = await freshPostgres("bench/cluster");
  if (!pg) throw new Error("bench/cluster needs PostgreSQL");
  const env = { ...ENV, DATABASE_URL: pg.url, REDIS_URL };
  const nodes: Node[] = [];
  for (let i = 0; i < NODES; i++) {
    nodes.push({ engine: await startEngine({ env, dataDir: mkdtempSync(join(tmpdir(), `utd-cluster-${i}-`)) }), up: true });
  }
  const live = () => nodes.filter((n) => n.up);
  const pick = () => {
    const l = live();
    return l[rand(l.length)] as Node;
  };
  const first = nodes[0]?.engine as RunningEngine;
  const app: TestApp = await first.createApp({ plan: "pro" });
  const devices: Device[] = [];
  const acked = new Map<string, Set<string>>();
  for (let g = 0; g < GROUPS; g++) {
    const ids = Array.from({ length: GROUP_SIZE }, (_, i) => `g${g}m${i}`);
    const tokens: string[] = [];
    for (const id of ids) tokens.push((await first.session(app, id)).user_token);
    const conv = await first.request<{ id: string }>("POST", "/api/v1/conversations", {
      token: tokens[0] as string,
      body: { kind: "group", members: ids.slice(1) },
    });
    if (conv.status !== 201) throw new Error(`conversation: ${conv.status} ${JSON.stringify(conv.body)}`);
    acked.set(conv.body.id, new Set());
    for (const [i, id] of ids.entries()) devices.push(new Device(id, tokens[i] as string, conv.body.id, pick));
  }
  for (let i = 0; i < devices.length; i += 100) await Promise.all(devices.slice(i, i + 100).map((d) => d.connect()));

  const end = Date.now() + SECONDS * 1000;
  let n = 0;
  const send = async (d: Device) => {
    const id = `c${++n}`;
    for (let attempt = 0; attempt < 6; attempt++) {
      const r = await pick()
        .engine.request<{ id: string }>("POST", `/api/v1/conversations/${d.conv}/messages`, {
          token: d.token,
          body: { client_msg_id: id, text: id },
        })
        .catch(() => undefined);
      if (r && (r.status === 201 || r.status === 200)) {
        if (r.status === 200) stats.retried++;
        if (process.env.CLUSTER_DEBUG && attempt > 0) console.log(`  retry ${attempt} of ${id} -> ${r.status} ${r.body.id}`);
        acked.get(d.conv)?.add(r.body.id);
        return;
      }
      await new Promise((res) => setTimeout(res, 100 * (attempt + 1)));
    }
    stats.sendErrors++;
  };
  const senders = devices.map(async (d) => {
    await new Promise((r) => setTimeout(r, rand(SEND_MS)));
    while (Date.now() < end) {
      await send(d);
      await new Promise((r) => setTimeout(r, SEND_MS / 2 + rand(SEND_MS)));
    }
  });
  const dropTimer = setInterval(() => devices[rand(devices.length)]?.drop(), Math.max(1, (SECONDS * 1000) / Math.max(1, DROPS)));
  const killer =
    KILL_EVERY_S > 0
      ? setInterval(async () => {
          const victim = live()[rand(live().length)];
          if (!victim || live().length < 2) return;
          victim.up = false;
          stats.kills++;
          await victim.engine.stop("SIGKILL");
          victim.engine = await victim.engine.restart();
          victim.up = true;
        }, KILL_EVERY_S * 1000)
      : undefined;
  await Promise.all(senders);
  clearInterval(dropTimer);
  if (killer) clearInterval(killer);

  // Quiescence: every member has every acknowledged message of its group, or 15 s have passed.
  const missing = () => devices.reduce((sum, d) => sum + [...(acked.get(d.conv) ?? [])].filter((id) => !d.seen.has(id)).length, 0);
  for (let i = 0; i < 150 && missing() > 0; i++) await new Promise((r) => setTimeout(r, 100));
  const lost = missing();
  if (process.env.CLUSTER_DEBUG)
    for (const d of devices) {
      const miss = [...(acked.get(d.conv) ?? [])].filter((id) => !d.seen.has(id));
      if (miss.length > 0) console.log(`  ${d.identity} misses ${miss.join(",")} (seq ${d.seq}, epoch ${d.epoch})`);
    }

  console.log(
    `cluster: ${NODES} nodes, ${devices.length} clients in ${GROUPS} groups of ${GROUP_SIZE}, ${SECONDS}s, ${DROPS} forced disconnects, kill -9 every ${KILL_EVERY_S || "—"}s`,
  );
  const ackedCount = [...acked.values()].reduce((sum, set) => sum + set.size, 0);
  console.log(
    `  acknowledged : ${ackedCount} messages (${stats.retried} on a retry that found it stored; ${stats.sendErrors} sends gave up)`,
  );
  console.log(`  delivered    : ${stats.delivered} live or replayed, ${stats.recovered} re-read after a resync`);
  console.log(`  lost         : ${lost}`);
  console.log(`  duplicated   : ${stats.dupSeq} stream seq, ${stats.dupId} message id`);
  console.log(`  stream gaps  : ${stats.gaps}`);
  console.log(`  resumes      : ${stats.resumes}, resyncs: ${stats.resyncs}, node kills: ${stats.kills}`);

  // Cross-node cost: what each node received from Redis for its users, per event it delivered to a socket.
  const perNode: string[] = [];
  for (const [i, x] of nodes.entries()) {
    const r = await fetch(`${x.engine.url}/metrics`, { headers: { authorization: `Bearer ${x.engine.adminToken}` } }).catch(
      () => undefined,
    );
    const text = r?.ok ? await r.text() : "";
    const metric = (name: string) => Number(new RegExp(`^${name} (\\d+(?:\\.\\d+)?)`, "m").exec(text)?.[1] ?? Number.NaN);
    const bytes = metric("utd_streams_received_bytes_total");
    const delivered = metric("utd_ws_deliveries_total");
    perNode.push(`node ${i + 1}: ${delivered > 0 ? Math.round(bytes / delivered) : "—"}`);
  }
  console.log(`  bus bytes received per delivered event (since each node's last start): ${perNode.join(", ")}`);

  for (const d of devices) d.close();
  await Promise.all(nodes.map((x) => x.engine.stop()));
  await pg.drop();
}

await main();
process.exit(0);
