/**
 * A Redis server and a PostgreSQL cluster of the bench's own, on free loopback ports in temp dirs, so a
 * chaos run can restart them without touching the shared services (5432, 6379) others depend on.
 *
 * - Redis: Debian's `redis-server`. `crash` mode runs it without persistence and restarts it with
 *   SIGKILL (every stream's history is gone: epochs change); `persist` mode runs it with an append-only
 *   file and restarts it with SIGTERM (history survives; what was published during the outage was not).
 * - PostgreSQL: `initdb` + `postgres` from `/usr/lib/postgresql/<newest>/bin`, run as the `postgres`
 *   user when the bench runs as root (initdb refuses root), `fsync` and `synchronous_commit` left on.
 *   A restart is a fast shutdown (SIGINT: sessions cut, in-flight transactions rolled back) and a start.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePorts } from "../../test/helpers/net.js";

export interface OwnService {
  url: string;
  /** Stops the service, keeps it down `downMs`, starts it again; resolves once it answers. */
  restart(downMs: number): Promise<void>;
  /** Stops the service (as `restart` does) and leaves it down. */
  down(): Promise<void>;
  /** Starts it again after `down`; resolves once it answers. */
  up(): Promise<void>;
  /** The service's processes now (PostgreSQL: the postmaster and its backends). */
  pids(): number[];
  /** CPU seconds the service has used so far, exited backends included (Linux /proc). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The handle of a service run as one process of the bench's own: `down` stops it (`kill` then), `up` starts
 * it, `restart` both with a pause; `stop` ends it for good (with `endSignal`) and removes its data directory.
 */
function ownService(o: {
  url: string;
  proc: () => ChildProcess;
  dir: string;
  up: () => Promise<void>;
  down: () => Promise<void>;
  endSignal: NodeJS.Signals;
  pids: () => number[];
  cpuSeconds: () => number;
}): OwnService {
  return {
    url: o.url,
    pids: o.pids,
    cpuSeconds: o.cpuSeconds,
    down: o.down,
    up: o.up,
    async restart(downMs) {
      await o.down();
      await sleep(downMs);
      await o.up();
    },
    async stop() {
      const proc = o.proc();
      proc.kill(o.endSignal);
      await exited(proc);
      rmSync(o.dir, { recursive: true, force: true });
    },
  };
}

/** Every service process still running: killed if the bench exits without stopping them (a crash, a bound hit). */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});
function track(p: ChildProcess): ChildProcess {
  live.add(p);
  p.once("exit", () => live.delete(p));
  return p;
}

function exited(p: ChildProcess): Promise<void> {
  return p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once("exit", () => r()));
}

/** Polls `probe` until it succeeds (or throws after `ms`). */
async function until(what: string, probe: () => Promise<unknown>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await probe();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: not up after ${ms} ms: ${(err as Error).message}`);
      await sleep(100);
    }
  }
}

/** Starts a redis-server of our own; `mode` decides persistence and how it is restarted (see the file comment). */
export async function ownRedis(mode: "crash" | "persist" = "crash"): Promise<OwnService> {
  const [port] = (await freePorts(1)) as [number];
  const dir = mkdtempSync(join(tmpdir(), "utd-bench-redis-"));
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    mode === "persist" ? "yes" : "no",
    "--maxclients",
    "20000",
  ];
  let proc: ChildProcess;
  const start = async () => {
    proc = track(spawn("redis-server", args, { stdio: "ignore" }));
    await until("redis", async () => {
      const out = execFileSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8" });
      if (!out.includes("PONG")) throw new Error(out);
    });
  };
  await start();
  const down = async () => {
    proc.kill(mode === "persist" ? "SIGTERM" : "SIGKILL");
    await exited(proc);
  };
  return ownService({
    url: `redis://127.0.0.1:${port}`,
    proc: () => proc,
    dir,
    up: start,
    down,
    endSignal: "SIGKILL",
    pids: () => (proc.pid ? [proc.pid] : []),
    cpuSeconds: () => (proc.pid ? cpuOf(proc.pid) : 0),
  });
}

/** utime + stime of `pid`, plus those of its reaped children when `children` (Linux /proc); 0 once it is gone. */
function cpuOf(pid: number, children = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat
      .slice(stat.lastIndexOf(")") + 2)
      .split(" ")
      .map(Number);
    const own = (f[11] ?? 0) + (f[12] ?? 0);
    return (children ? own + (f[13] ?? 0) + (f[14] ?? 0) : own) / 100;
  } catch {
    return 0;
  }
}

/** The processes whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The newest PostgreSQL server binaries installed (Debian's layout). */
function pgBin(): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, "bin/initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) throw new Error(`no PostgreSQL server binaries under ${base}`);
  return join(base, versions[0], "bin");
}

/** The `postgres` user's ids when we are root (initdb and postgres refuse to run as root). */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
  return { uid, gid };
}

/** Initialises and starts a PostgreSQL cluster of our own (trust auth on loopback, user postgres, database utd). */
export async function ownPostgres(): Promise<OwnService> {
  const bin = pgBin();
  const [port] = (await freePorts(1)) as [number];
  const dir = mkdtempSync(join(tmpdir(), "utd-bench-pg-"));
  const ids = runAs();
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const data = join(dir, "data");
  execFileSync(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-instructions"], {
    stdio: "ignore",
    ...(ids ?? {}),
  });
  const args = ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=400"];
  let proc: ChildProcess;
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const probe = async () => {
    const c = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      await c.query("select 1");
    } finally {
      await c.end().catch(() => {});
    }
  };
  const start = async () => {
    proc = track(spawn(join(bin, "postgres"), args, { stdio: "ignore", ...(ids ?? {}) }));
    await until("postgres", probe, 60_000);
  };
  await start();
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query("CREATE DATABASE utd");
  await c.end();
  const down = async () => {
    proc.kill("SIGINT");
    await exited(proc);
  };
  return ownService({
    url: `postgres://postgres@127.0.0.1:${port}/utd`,
    proc: () => proc,
    dir,
    up: start,
    down,
    endSignal: "SIGINT",
    pids: () => (proc.pid ? [proc.pid, ...childrenOf(proc.pid)] : []),
    // The postmaster's own time, its reaped backends' (cutime/cstime), and the live backends'.
    cpuSeconds: () => (proc.pid ? cpuOf(proc.pid, true) + childrenOf(proc.pid).reduce((sum, c) => sum + cpuOf(c), 0) : 0),
  });
}
