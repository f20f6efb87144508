import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";
import { type FreshPostgres, freshPostgres, HAPROXY, has, redisUrlOrSkip } from "./backends.js";
import { type RunningEngine, type SessionBody, startEngine, type TestApp } from "./engine.js";
import { freePorts } from "./net.js";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
/** The shipped HAProxy config; the harness runs it as is, with one `server engineN` line per node. */
export const HAPROXY_TEMPLATE = join(ROOT, "deploy/haproxy.cfg");

export interface ClusterOptions {
  /** Engine nodes (default 3). */
  nodes?: number;
  /** Environment for every node (on top of the shared DATABASE_URL, REDIS_URL, secrets). */
  env?: Record<string, string>;
  /** Extra environment of node `i` (0-based), on top of `env`; kept across `restart(i)`. */
  nodeEnv?: (i: number) => Record<string, string>;
  /** Named in the loud skip message when a service is absent. */
  what?: string;
  /** A PostgreSQL database of the caller's (kept at stop) instead of a fresh one on the shared server. */
  databaseUrl?: string;
  /** A Redis of the caller's instead of the shared one (a chaos bench restarts its own). */
  redisUrl?: string;
  /** HAProxy's `maxconn` (UTD_LB_MAXCONN; default 4000). */
  lbMaxConn?: number;
}

/** HAProxy's view of one engine node (`/stats;csv`): `UP`, `DOWN`, `UP 1/2` (going down), `no check`… */
export type ServerState = string;

/**
 * N engine processes over one fresh PostgreSQL database and the shared Redis, behind a real HAProxy
 * running deploy/haproxy.cfg. Everything a client does goes through `url` / `wsUrl` (the balancer);
 * `nodes[i]` reaches a node directly (its metrics, its process).
 */
export interface Cluster {
  /** The balancer's HTTP base URL. */
  url: string;
  /** The WebSocket URL through the balancer. */
  wsUrl: string;
  /** HAProxy's stats page (CSV at `${statsUrl};csv`). */
  statsUrl: string;
  /** Shared by every node. */
  adminToken: string;
  /** The running nodes by index (a killed node stays until `restart`). */
  nodes: RunningEngine[];
  /** Each node's port (HAProxy's `server engineN` address; a restart binds the same one). */
  ports: number[];
  /** HAProxy's output so far (its log lines: health changes). */
  lbLogs: string[];
  /** JSON request through the balancer. */
  request<T = unknown>(
    method: string,
    path: string,
    opts?: { body?: unknown; token?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: T; headers: Headers }>;
  createApp(opts?: { name?: string; plan?: string }): Promise<TestApp>;
  /** Mints a session (open-mode app) through the balancer. */
  session(app: TestApp, identity: string): Promise<SessionBody>;
  /** HAProxy's state of each node, by index. */
  states(): Promise<ServerState[]>;
  /** Waits until `pred` holds for the states (polling HAProxy's stats), or throws after `ms`. */
  waitForStates(pred: (states: ServerState[]) => boolean, ms?: number, what?: string): Promise<ServerState[]>;
  /** A node's metric (sum over its label sets), read from the node directly; undefined when absent or the node is down. */
  metric(i: number, name: string): Promise<number | undefined>;
  /** Starts node `i` again (same port, data dir and environment) and waits until HAProxy sees it UP. */
  restart(i: number): Promise<RunningEngine>;
  /** Stops HAProxy and every node, drops the database. */
  stop(): Promise<void>;
}

const haproxies = new Set<ChildProcess>();
const killAll = () => {
  for (const p of haproxies) p.kill("SIGKILL");
};
if ("__vitest_worker__" in globalThis) {
  try {
    afterAll(killAll);
  } catch {
    // not inside a test file's collection: the exit hook below still runs
  }
}
process.once("exit", killAll);

/**
 * The shipped HAProxy config with `n` server lines (the template's first `server engine1 …` line,
 * renumbered); everything else is the file as shipped.
 */
export function haproxyConfig(n: number, template = readFileSync(HAPROXY_TEMPLATE, "utf8")): string {
  const lines = template.split("\n");
  const isServer = (l: string) => /^\s*server engine\d+ /.test(l);
  const first = lines.find(isServer);
  if (!first) throw new Error(`${HAPROXY_TEMPLATE} has no "server engine1" line`);
  const servers = Array.from({ length: n }, (_, i) =>
    first.replace(/engine1\b/, `engine${i + 1}`).replace(/UTD_ENGINE_1\b/, `UTD_ENGINE_${i + 1}`),
  );
  const at = lines.findIndex(isServer);
  return [...lines.slice(0, at), ...servers, ...lines.slice(at).filter((l) => !isServer(l))].join("\n");
}

/**
 * Starts the cluster, or answers undefined (skipped loudly; under CI=true a failure) when PostgreSQL,
 * Redis or HAProxy is absent. Waits until HAProxy reports every node UP.
 */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster | undefined> {
  const what = opts.what ?? "cluster tests";
  const n = opts.nodes ?? 3;
  if (!(await has("haproxy", what))) return undefined;
  const redisUrl = opts.redisUrl ?? (await redisUrlOrSkip(what));
  if (!redisUrl) return undefined;
  const pg: FreshPostgres | undefined = opts.databaseUrl ? { url: opts.databaseUrl, drop: async () => {} } : await freshPostgres(what);
  if (!pg) return undefined;
  const adminToken = `adm_cluster_${randomBytes(8).toString("hex")}`;
  const shared: Record<string, string> = {
    DATABASE_URL: pg.url,
    REDIS_URL: redisUrl,
    UTD_ADMIN_TOKEN: adminToken,
    UTD_TOKEN_SECRET: randomBytes(32).toString("base64url"),
    UTD_MASTER_KEY: randomBytes(32).toString("base64url"),
    // Per-address budgets see the client's address from HAProxy's X-Forwarded-For.
    UTD_TRUSTED_PROXIES: "loopback",
    ...opts.env,
  };
  const dirs = Array.from({ length: n }, (_, i) => mkdtempSync(join(tmpdir(), `utd-cluster-n${i + 1}-`)));
  const envOf = (i: number, port: number): Record<string, string> => ({ ...shared, ...opts.nodeEnv?.(i), UTD_PORT: String(port) });
  let nodes: RunningEngine[] = [];
  let haproxy: ChildProcess | undefined;
  const cleanup = async () => {
    haproxy?.kill("SIGTERM");
    await Promise.all(nodes.map((e) => e.stop("SIGKILL").catch(() => null)));
    await pg.drop().catch(() => {});
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  try {
    // Migrations once, then the other nodes (concurrent first starts would all migrate one schema).
    nodes.push(await startEngine({ env: envOf(0, 0), dataDir: dirs[0] }));
    nodes.push(...(await Promise.all(dirs.slice(1).map((d, i) => startEngine({ env: envOf(i + 1, 0), dataDir: d })))));
    const ports = nodes.map((e) => Number(new URL(e.url).port));
    const [lbPort, statsPort] = (await freePorts(2)) as [number, number];
    const cfgDir = mkdtempSync(join(tmpdir(), "utd-haproxy-"));
    dirs.push(cfgDir);
    const cfg = join(cfgDir, "haproxy.cfg");
    writeFileSync(cfg, haproxyConfig(n));
    const lbEnv: Record<string, string> = {
      ...(process.env as Record<string, string>),
      UTD_LB_BIND: `127.0.0.1:${lbPort}`,
      UTD_LB_STATS_BIND: `127.0.0.1:${statsPort}`,
      UTD_LB_LOG_LEVEL: "notice",
      UTD_LB_MAXCONN: String(opts.lbMaxConn ?? 4000),
    };
    ports.forEach((p, i) => {
      lbEnv[`UTD_ENGINE_${i + 1}`] = `127.0.0.1:${p}`;
    });
    // -db: foreground, no daemon; -W is not needed (no reloads).
    haproxy = spawn(HAPROXY, ["-db", "-f", cfg], { env: lbEnv, stdio: ["ignore", "pipe", "pipe"] });
    haproxies.add(haproxy);
    const proc = haproxy;
    proc.once("exit", () => haproxies.delete(proc));
    const lbLogs: string[] = [];
    const keep = (c: Buffer) => {
      lbLogs.push(...c.toString().split("\n").filter(Boolean));
      if (lbLogs.length > 500) lbLogs.splice(0, lbLogs.length - 500);
    };
    proc.stdout?.on("data", keep);
    proc.stderr?.on("data", keep);

    const url = `http://127.0.0.1:${lbPort}`;
    const statsUrl = `http://127.0.0.1:${statsPort}/stats`;
    const states = async (): Promise<ServerState[]> => {
      const csv = await (await fetch(`${statsUrl};csv`)).text();
      const rows = csv.split("\n").map((l) => l.split(","));
      const header = (rows[0] ?? []).map((h) => h.replace(/^# /, ""));
      const [px, sv, st] = ["pxname", "svname", "status"].map((h) => header.indexOf(h)) as [number, number, number];
      const out: ServerState[] = [];
      for (const r of rows) {
        const m = r[px] === "engines" ? /^engine(\d+)$/.exec(r[sv] ?? "") : null;
        if (m) out[Number(m[1]) - 1] = r[st] ?? "";
      }
      return out;
    };
    const waitForStates = async (pred: (s: ServerState[]) => boolean, ms = 30_000, label = "HAProxy states") => {
      const deadline = Date.now() + ms;
      let last: ServerState[] = [];
      for (;;) {
        if (proc.exitCode !== null) throw new Error(`haproxy exited (${proc.exitCode}):\n${lbLogs.join("\n")}`);
        try {
          last = await states();
          if (pred(last)) return last;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`${label}: timed out, last ${JSON.stringify(last)}\n${lbLogs.slice(-20).join("\n")}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitForStates((s) => s.length === n && s.every((x) => x === "UP"), 30_000, "every node UP");

    async function request<T>(method: string, path: string, o: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) {
      const headers: Record<string, string> = { ...o.headers };
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      if (o.body !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(`${url}${path}`, { method, headers, body: o.body === undefined ? null : JSON.stringify(o.body) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed as T, headers: res.headers };
    }

    const cluster: Cluster = {
      url,
      wsUrl: `ws://127.0.0.1:${lbPort}/api/v1/ws`,
      statsUrl,
      adminToken,
      nodes,
      ports,
      lbLogs,
      request,
      async createApp(o = {}) {
        const r = await request<TestApp>("POST", "/admin/v1/apps", { body: { name: o.name ?? "cluster", ...o }, token: adminToken });
        if (r.status !== 201) throw new Error(`createApp: ${r.status} ${JSON.stringify(r.body)}`);
        return r.body;
      },
      async session(app, identity) {
        const r = await request<SessionBody>("POST", "/api/v1/auth/session", {
          body: { app_id: app.app_id, app_key: app.app_key, identity },
        });
        if (r.status !== 200) throw new Error(`session ${identity}: ${r.status} ${JSON.stringify(r.body)}`);
        return r.body;
      },
      states,
      waitForStates,
      async metric(i, name) {
        const node = nodes[i];
        if (!node) return undefined;
        let text: string;
        try {
          text = await (await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } })).text();
        } catch {
          return undefined; // the node is down
        }
        let sum: number | undefined;
        for (const line of text.split("\n")) {
          if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1));
        }
        return sum;
      },
      async restart(i) {
        const old = nodes[i];
        if (old) await old.stop("SIGKILL");
        const e = await startEngine({ env: envOf(i, ports[i] as number), dataDir: dirs[i] as string });
        nodes[i] = e;
        await waitForStates((s) => s[i] === "UP", 30_000, `engine${i + 1} UP again`);
        return e;
      },
      async stop() {
        await cleanup();
      },
    };
    return cluster;
  } catch (err) {
    await cleanup();
    nodes = [];
    throw err;
  }
}
