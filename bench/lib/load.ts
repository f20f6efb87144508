/**
 * Shared load-client and measurement code for the benches in `bench/` (rooms, fanout, chat, conn).
 *
 * Everything here runs in the bench (client) process; servers under test are separate processes whose
 * CPU time and memory are read from Linux `/proc`, so a figure "per server CPU-second" counts only the
 * server's own work, never the clients'.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg } from "node:os";
import { io as ioClient } from "socket.io-client";
import WebSocket from "ws";

/** utime + stime of a process, in seconds (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident set size (`VmRSS`) and its peak so far (`VmHWM`) of a process, in bytes (Linux /proc). */
export function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

/** The p-th percentile of an ascending array (nearest rank); NaN when empty. */
export function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** p50/p95/p99 of the samples (sorted in place), rounded to 0.1 ms. */
export function percentiles(samples: number[]): { p50: number; p95: number; p99: number } {
  const s = samples.sort((a, b) => a - b);
  return { p50: +pct(s, 50).toFixed(1), p95: +pct(s, 95).toFixed(1), p99: +pct(s, 99).toFixed(1) };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** "1,234" */
export const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** One line naming the machine and its load, printed by every bench (figures on a shared box are noisy). */
export function machineLine(): string {
  const l = loadavg().map((x) => x.toFixed(1));
  return `machine: ${cpus().length} cores, load average ${l.join(" ")}, node ${process.version}, ${new Date().toISOString()}`;
}

/** Engine environment for benches: rate limits out of the way, heartbeat slow. */
export function engineBenchEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    UTD_RATE_REQUESTS_USER: "1000000/1000000",
    UTD_RATE_REQUESTS_APP: "1000000/1000000",
    UTD_RATE_SESSION_IDENTITY: "1000000/1000000",
    UTD_RATE_SESSION_APP: "1000000/1000000",
    UTD_WS_HEARTBEAT_S: "60",
    // A bench sender sends far above a person's pace (the per-socket frame budget is 50/s).
    UTD_WS_FRAMES_PER_S: "1000000/1000000",
    UTD_LOG_LEVEL: "info",
    ...extra,
  };
}

/**
 * Node flags for the engine process: `extra`, then BENCH_ENGINE_NODE_OPTIONS split on spaces, e.g.
 * `BENCH_ENGINE_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof"` to profile it. Passed on the command
 * line (startEngine's `nodeArgs`), since NODE_OPTIONS refuses `--cpu-prof`.
 */
export function engineNodeArgs(extra: string[] = []): string[] {
  return [...extra, ...(process.env.BENCH_ENGINE_NODE_OPTIONS ?? "").split(" ").filter(Boolean)];
}

/**
 * Starts a peer server (`node <script> …args`) that prints one JSON line `{"port": N, …}` on stdout once
 * it listens; resolves to the process and that line. The caller kills it (SIGTERM).
 */
export async function spawnPeer(
  script: string,
  args: string[] = [],
  opts: { env?: Record<string, string>; nodeArgs?: string[] } = {},
): Promise<{ proc: ChildProcess; port: number; info: Record<string, unknown> }> {
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), script, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...opts.env },
  });
  const info = await new Promise<Record<string, unknown>>((res, rej) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      proc.stdout?.off("data", onData);
      try {
        res(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      } catch (e) {
        rej(e);
      }
    };
    proc.stdout?.on("data", onData);
    proc.once("exit", (c) => rej(new Error(`${script} exited ${c}`)));
  });
  proc.stdout?.resume();
  return { proc, port: Number(info.port), info };
}

/**
 * POST a JSON body; throws unless the status is 2xx. A connection reset is retried once (a pooled
 * keep-alive connection the server closed just as it was reused; every bench publish is idempotent).
 */
export async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<string> {
  const init = { method: "POST", body, headers: { "content-type": "application/json", ...headers } };
  const r = await fetch(url, init).catch(() => fetch(url, init));
  const text = await r.text();
  if (r.status < 200 || r.status > 299) throw new Error(`${url}: ${r.status} ${text}`);
  return text;
}

/** Opens a WebSocket and resolves once it is open. */
export function openSocket(url: string): Promise<WebSocket> {
  return new Promise<WebSocket>((res, rej) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once("open", () => res(ws));
    ws.once("error", rej);
  });
}

/** Runs `fn(i)` for i in [0, n) with at most `batch` at once (in consecutive batches). */
export async function inBatches<T>(n: number, batch: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += batch) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, k) => fn(i + k)))));
  }
  return out;
}

/** A frame the engine sends after `hello`. */
export interface Welcome {
  type: "welcome";
  epoch: string;
  seq: number;
  resumed?: boolean;
}

/**
 * Opens an engine socket and sends `hello` (optionally with `resume`); resolves with the socket and the
 * welcome. Frames after the welcome go to `onFrame` (raw text; parse only what you need).
 */
export async function engineHello(
  wsUrl: string,
  token: string,
  onFrame: (text: string) => void = () => {},
  resume?: { epoch: string; seq: number },
): Promise<{ ws: WebSocket; welcome: Welcome }> {
  const ws = await openSocket(wsUrl);
  const welcome = await new Promise<Welcome>((res, rej) => {
    let welcomed = false;
    ws.on("message", (d) => {
      const s = d.toString();
      if (!welcomed) {
        const f = JSON.parse(s) as { type: string };
        if (f.type === "welcome") {
          welcomed = true;
          res(f as Welcome);
        } else rej(new Error(`expected welcome, got ${s}`));
        return;
      }
      onFrame(s);
    });
    ws.once("close", (code) => {
      if (!welcomed) rej(new Error(`closed before welcome: ${code}`));
    });
    ws.send(JSON.stringify({ type: "hello", token, ...(resume ? { resume } : {}) }));
  });
  return { ws, welcome };
}

/** Deliveries per second (wall) and per second of server CPU. */
export interface Rate {
  perS: number;
  perCpuS: number;
}

/** A server under a fan-out load: it connects N receivers and publishes to all of them. */
export interface FanoutTarget {
  name: string;
  /** The server process(es) whose CPU time counts. */
  pids: number[];
  /** Connects the receivers; `onDelivery` counts each published message a receiver gets. Resolves to a closer. */
  connect(onDelivery: () => void): Promise<() => void>;
  publish(): Promise<unknown>;
}

/**
 * Connects the target's receivers, keeps `inFlight` publishes running, and after a warm-up counts the
 * deliveries over `seconds`, with the server CPU time spent meanwhile.
 */
export async function measureFanout(t: FanoutTarget, opts: { seconds: number; inFlight: number; settleMs?: number }): Promise<Rate> {
  let deliveries = 0;
  let counting = false;
  const close = await t.connect(() => {
    if (counting) deliveries++;
  });
  let stop = false;
  const loop = async () => {
    while (!stop) await t.publish();
  };
  const loops = Array.from({ length: opts.inFlight }, loop);
  await sleep(Math.min(1000, opts.seconds * 500)); // warm-up
  counting = true;
  const cpu0 = t.pids.reduce((a, p) => a + cpuSeconds(p), 0);
  const t0 = performance.now();
  await sleep(opts.seconds * 1000);
  const wall = (performance.now() - t0) / 1000;
  const cpu = t.pids.reduce((a, p) => a + cpuSeconds(p), 0) - cpu0;
  counting = false;
  stop = true;
  await Promise.all(loops);
  close();
  // Let the server see the sockets go before the next target is measured.
  await sleep(opts.settleMs ?? 500);
  return { perS: deliveries / wall, perCpuS: deliveries / Math.max(cpu, 0.01) };
}

/**
 * Alternates the targets `rounds` times (a, b, c, a, b, c, …) and keeps each one's best round: the
 * machine is shared and noisy, and alternating spreads the noise over all of them.
 */
export async function alternate(
  targets: FanoutTarget[],
  rounds: number,
  opts: { seconds: number; inFlight: number; settleMs?: number },
): Promise<Map<string, Rate>> {
  const results = new Map<string, Rate>();
  for (let round = 0; round < rounds; round++) {
    for (const t of targets) {
      const r = await measureFanout(t, opts);
      const a = results.get(t.name);
      results.set(t.name, a ? { perS: Math.max(a.perS, r.perS), perCpuS: Math.max(a.perCpuS, r.perCpuS) } : r);
    }
  }
  return results;
}

/** "0.93 per server CPU-second (0.88 wall)" */
export function ratio(a: Rate, b: Rate): string {
  return `${(a.perCpuS / b.perCpuS).toFixed(2)} per server CPU-second (${(a.perS / b.perS).toFixed(2)} wall)`;
}

/**
 * Connects `n` socket.io-client sockets (WebSocket transport) to bench/lib/socketio-server.mjs, which joins
 * each to its one room; `on` counts each `room.message`. One publish round trip makes sure all joined.
 */
export async function socketIoReceivers(port: number, n: number, on: () => void): Promise<() => void> {
  const sockets = await inBatches(n, 100, async () => {
    const s = ioClient(`http://127.0.0.1:${port}`, { transports: ["websocket"], reconnection: false, forceNew: true });
    await new Promise<void>((res, rej) => {
      s.once("connect", () => res());
      s.once("connect_error", rej);
    });
    s.on("room.message", on);
    return s;
  });
  await post(`http://127.0.0.1:${port}/publish`, JSON.stringify({ data: "warm" }));
  return () => {
    for (const s of sockets) s.disconnect();
  };
}

/** A free loopback TCP port (for servers that want a port on the command line). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/**
 * Forces full garbage collections in a Node process started with `--expose-gc --inspect=127.0.0.1:<port>`
 * and returns its `process.memoryUsage()` afterwards. The inspector is the bench's own loopback port on a
 * process the bench started; nothing is added to the server under test, and production never opens it.
 */
export async function memoryAfterGc(inspectPort: number): Promise<NodeJS.MemoryUsage> {
  const list = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = await openSocket(list[0]?.webSocketDebuggerUrl as string);
  try {
    const reply = await new Promise<{ result?: { result?: { value?: string } }; error?: unknown }>((res, rej) => {
      ws.once("message", (d) => res(JSON.parse(d.toString())));
      ws.once("error", rej);
      ws.send(
        JSON.stringify({
          id: 1,
          method: "Runtime.evaluate",
          params: {
            expression: "(() => { for (let i = 0; i < 3; i++) globalThis.gc(); return JSON.stringify(process.memoryUsage()); })()",
            returnByValue: true,
          },
        }),
      );
    });
    const value = reply.result?.result?.value;
    if (!value) throw new Error(`inspector: ${JSON.stringify(reply)}`);
    return JSON.parse(value) as NodeJS.MemoryUsage;
  } finally {
    ws.close();
  }
}

/** Runs `fn(i)` for i in [0, n) with at most `limit` in flight at any time (a pool, not batches). */
export async function pool(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}
