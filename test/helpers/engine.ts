import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";

// From the module's path, not `new URL(…)`: under a DOM test environment (happy-dom) `URL` is the DOM's.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = join(ROOT, "packages/engine/src/main.ts");

export interface EngineOptions {
  /** Extra environment (DATABASE_URL, UTD_CALL_RING_TIMEOUT_S, LIVEKIT_*, rate limits…). */
  env?: Record<string, string>;
  /** Extra Node flags for the engine process (`--cpu-prof`, `--expose-gc`: flags NODE_OPTIONS refuses). */
  nodeArgs?: string[];
  /** Reuse a data dir (e.g. to restart on the same SQLite file); the caller then owns its cleanup. */
  dataDir?: string;
  /**
   * Stop reading the engine's stdout once it is ready (a stalled log consumer): the pipe fills and the
   * engine's log writes find it full. `logs` then holds only what came before.
   */
  stallStdout?: boolean;
  /** Close our end of the engine's stdout once it is ready (a log reader gone: its writes get EPIPE). */
  closeStdout?: boolean;
}

interface InternalOptions extends EngineOptions {
  /** Delete the data dir once the process exits for good (a restart hands ownership on). */
  ownsDataDir?: boolean;
}

export interface TestApp {
  app_id: string;
  app_key: string;
  app_secret: string;
}

/** A real engine process (the `utd serve` CLI, from source) on a free port and a fresh data dir. */
export interface RunningEngine {
  url: string;
  wsUrl: string;
  adminToken: string;
  dataDir: string;
  logs: string[];
  proc: ChildProcess;
  /** Stops the process (SIGTERM by default) and waits for it to exit; resolves to the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Stops and starts again on the same data dir and environment (the URL may change). */
  restart(): Promise<RunningEngine>;
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  createApp(opts?: { name?: string; auth_mode?: "open" | "signed"; plan?: string }): Promise<TestApp>;
  /** Mints a session in an open-mode app and returns the session body. */
  session(app: TestApp, identity: string, extra?: Record<string, unknown>): Promise<SessionBody>;
  /** JSON request against the engine; `token` adds a bearer. */
  request<T = unknown>(
    method: string,
    path: string,
    opts?: { body?: unknown; token?: string; raw?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: T; headers: Headers }>;
}

export interface SessionBody {
  user_token: string;
  expires_at: string;
  ws_url: string;
  signaling_enabled: boolean | null;
  messaging_enabled: boolean | null;
  plan_limits: Record<string, number> | null;
  [k: string]: unknown;
}

/**
 * How long a spawned engine may take to log "ready". Generous on purpose: under a loaded machine tsx's
 * first transform of the engine's sources alone has taken over 30 s; a real start failure still fails
 * (the process exits or logs an error long before this).
 */
const START_TIMEOUT_MS = 90_000;

/**
 * Every engine process this test file started and that still runs. A test that times out while its
 * engine is starting never gets the handle to stop it; killing what is left when the worker exits keeps
 * such a process from outliving the run (holding a port and a data dir).
 */
const running = new Set<ChildProcess>();
const killAll = () => {
  for (const p of running) p.kill("SIGKILL");
};
// At the end of the test file (this module is evaluated per file; benchmarks import it outside Vitest),
// and if the process exits first.
// `VITEST` is inherited by processes a test spawns (bench/rooms/run.ts under test/benches.test.ts), so
// the check is for the worker's own global, and a registration refused outside a collecting file is fine.
if ("__vitest_worker__" in globalThis) {
  try {
    afterAll(killAll);
  } catch {
    // not inside a test file's collection: the exit hook below still runs
  }
}
process.once("exit", killAll);

/** Starts `utd serve` and resolves once it logs "utd engine ready". */
export async function startEngine(options: EngineOptions = {}): Promise<RunningEngine> {
  const opts = options as InternalOptions;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "utd-test-"));
  const ownsDir = opts.ownsDataDir ?? !opts.dataDir;
  let restarting = false;
  const adminToken = `adm_test_${Math.random().toString(36).slice(2)}`;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    UTD_PORT: "0",
    UTD_HOST: "127.0.0.1",
    UTD_DATA_DIR: dataDir,
    UTD_ADMIN_TOKEN: adminToken,
    UTD_LOG_LEVEL: "info",
    // Tests stop engines at once unless they test the graceful exit (then they pass their own periods).
    UTD_SHUTDOWN_UNREADY_S: "0",
    UTD_SHUTDOWN_DRAIN_S: "0",
    ...opts.env,
  };
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), "--conditions=development", "--import", "tsx", CLI, "serve"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(proc);
  proc.once("exit", () => running.delete(proc));
  const logs: string[] = [];
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      // Never leak a process that did not come up (it would hold its port for later suites).
      proc.kill("SIGKILL");
      reject(new Error(`engine did not start in ${START_TIMEOUT_MS / 1000}s:\n${logs.join("\n")}`));
    }, START_TIMEOUT_MS);
    let buf = "";
    const onData = (chunk: Buffer) => {
      buf += chunk.toString();
      let i = buf.indexOf("\n");
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        logs.push(line);
        if (line.includes('"utd engine ready"')) {
          clearTimeout(timer);
          if (opts.stallStdout) {
            proc.stdout?.off("data", onData);
            proc.stdout?.pause();
          }
          if (opts.closeStdout) {
            proc.stdout?.off("data", onData);
            proc.stdout?.destroy();
          }
          resolveUrl((JSON.parse(line) as { url: string }).url);
        }
        i = buf.indexOf("\n");
      }
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", (c: Buffer) => logs.push(c.toString()));
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`engine exited with ${code} before it was ready:\n${logs.join("\n")}`));
    });
  });
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));

  async function request<T>(
    method: string,
    path: string,
    o: { body?: unknown; token?: string; raw?: string; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body: string | undefined;
    if (o.raw !== undefined) body = o.raw;
    else if (o.body !== undefined) body = JSON.stringify(o.body);
    if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
    const res = await fetch(`${url}${path}`, { method, headers, body: body ?? null });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  const engine: RunningEngine = {
    url,
    wsUrl: `${url.replace(/^http/, "ws")}/api/v1/ws`,
    adminToken,
    dataDir,
    logs,
    proc,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const code = await exited;
      return code;
    },
    async restart() {
      restarting = true;
      await engine.stop();
      return startEngine({ ...opts, dataDir, ownsDataDir: ownsDir } as InternalOptions);
    },
    request,
    admin: (method, path, body) => request(method, path, { body, token: adminToken }),
    async createApp(o = {}) {
      const r = await request<TestApp>("POST", "/admin/v1/apps", { body: { name: o.name ?? "test", ...o }, token: adminToken });
      if (r.status !== 201) throw new Error(`createApp: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    async session(app, identity, extra = {}) {
      const r = await request<SessionBody>("POST", "/api/v1/auth/session", {
        body: { app_id: app.app_id, app_key: app.app_key, identity, ...extra },
      });
      if (r.status !== 200) throw new Error(`session ${identity}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
  };
  if (ownsDir) proc.once("exit", () => restarting || rmSync(dataDir, { recursive: true, force: true }));
  return engine;
}
