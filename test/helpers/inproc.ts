import { mkdtempSync, rmSync } from "node:fs";
import type { OutgoingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEngine, type Engine, type EnginePorts, loadConfig } from "../../packages/engine/src/index.js";
import type { SessionBody, TestApp } from "./engine.js";

/** A clock the test moves by hand; starts at the real time so token expiries look ordinary. */
export class ManualClock {
  private t: number;
  constructor(start = Date.now()) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  /** Moves time forward by `ms`. */
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}

export interface InProcessOptions {
  /** Engine environment on top of the defaults below (DATABASE_URL, UTD_CALL_RING_TIMEOUT_S…). */
  env?: Record<string, string>;
  /** Ports to inject (the clock defaults to a fresh ManualClock). */
  ports?: Omit<EnginePorts, "clock">;
  clock?: ManualClock;
  /** Share a data dir (keys, files) with another node; the caller owns its cleanup then. */
  dataDir?: string;
}

/**
 * An engine in this process: requests go through Fastify's `inject()` (no socket, no spawn), time is a
 * `ManualClock`, and `listen()` opens a real port only when a test needs WebSocket clients. Use it for
 * domain rules; keep spawned engines (helpers/engine.ts) for process-level behaviour.
 */
export interface InProcessEngine {
  engine: Engine;
  clock: ManualClock;
  adminToken: string;
  dataDir: string;
  request<T = unknown>(
    method: string,
    path: string,
    opts?: { body?: unknown; token?: string; raw?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: T; headers: OutgoingHttpHeaders }>;
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  createApp(opts?: { name?: string; auth_mode?: "open" | "signed"; plan?: string }): Promise<TestApp>;
  session(app: TestApp, identity: string, extra?: Record<string, unknown>): Promise<SessionBody>;
  /** Listens on a port from the OS (once); resolves to the HTTP and WebSocket URLs. */
  listen(): Promise<{ url: string; wsUrl: string }>;
  close(): Promise<void>;
}

/** Generous limits: domain-rule tests send bursts on purpose (rate limits have suites of their own). */
const DEFAULT_ENV: Record<string, string> = {
  UTD_RATE_REQUESTS_USER: "100000/100000",
  UTD_RATE_REQUESTS_APP: "100000/100000",
  UTD_RATE_SESSION_IDENTITY: "100000/100000",
  UTD_RATE_SESSION_APP: "100000/100000",
  UTD_WS_FRAMES_PER_S: "1000/1000",
  UTD_LOG_LEVEL: "warn",
};

export async function startInProcess(o: InProcessOptions = {}): Promise<InProcessEngine> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), "utd-inproc-"));
  const adminToken = `adm_test_${Math.random().toString(36).slice(2)}`;
  const clock = o.clock ?? new ManualClock();
  const config = loadConfig({
    ...DEFAULT_ENV,
    UTD_PORT: "0",
    UTD_HOST: "127.0.0.1",
    UTD_DATA_DIR: dataDir,
    UTD_ADMIN_TOKEN: adminToken,
    ...o.env,
  });
  const engine = await createEngine(config, { ...o.ports, clock });
  let urls: { url: string; wsUrl: string } | undefined;

  const request: InProcessEngine["request"] = async (method, path, r = {}) => {
    const headers: Record<string, string> = { ...r.headers };
    if (r.token) headers.authorization = `Bearer ${r.token}`;
    let payload: string | undefined;
    if (r.raw !== undefined) payload = r.raw;
    else if (r.body !== undefined) payload = JSON.stringify(r.body);
    if (payload !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
    const res = await engine.http.inject({
      method: method as "GET",
      url: path,
      headers,
      ...(payload !== undefined ? { payload } : {}),
    });
    let body: unknown = res.body;
    try {
      body = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.statusCode, body: body as never, headers: res.headers };
  };

  const self: InProcessEngine = {
    engine,
    clock,
    adminToken,
    dataDir,
    request,
    admin: (method, path, body) => request(method, path, { body, token: adminToken }),
    async createApp(a = {}) {
      const r = await request<TestApp>("POST", "/admin/v1/apps", { body: { name: a.name ?? "test", ...a }, token: adminToken });
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
    async listen() {
      if (!urls) {
        const url = await engine.listen();
        urls = { url, wsUrl: `${url.replace(/^http/, "ws")}/api/v1/ws` };
      }
      return urls;
    },
    async close() {
      await engine.close();
      if (!o.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return self;
}
