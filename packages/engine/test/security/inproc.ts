import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEngine, type Engine, loadConfig } from "../../src/index.js";

/** A clock the test moves by hand (on top of real time, so timers and sockets keep working). */
export interface TestClock {
  now(): number;
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms) {
      offset += ms;
    },
  };
}

export interface App {
  app_id: string;
  app_key: string;
  app_secret: string;
}

export interface Reply<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** An engine in this process (real HTTP and WebSocket on a free port), with an injected clock. */
export interface InProcEngine {
  engine: Engine;
  url: string;
  wsUrl: string;
  dataDir: string;
  adminToken: string;
  clock: TestClock;
  request<T = unknown>(
    method: string,
    path: string,
    o?: { body?: unknown; token?: string; raw?: string; headers?: Record<string, string> },
  ): Promise<Reply<T>>;
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<Reply<T>>;
  createApp(o?: { name?: string; auth_mode?: "open" | "signed"; plan?: string }): Promise<App>;
  /** Mints a session (open mode unless `extra` carries an identity_token); throws unless 200. */
  session(app: App, identity: string, extra?: Record<string, unknown>): Promise<{ user_token: string; [k: string]: unknown }>;
  close(): Promise<void>;
}

let seq = 0;

/** Starts an engine in-process on a fresh data dir; `env` as for `utd serve` (DATABASE_URL for PostgreSQL). */
export async function startInProcess(env: Record<string, string> = {}, clock: TestClock = testClock()): Promise<InProcEngine> {
  const dataDir = env.UTD_DATA_DIR ?? mkdtempSync(join(tmpdir(), "utd-sec-"));
  const adminToken = `adm_${process.pid}_${++seq}_${Math.random().toString(36).slice(2)}`;
  const config = loadConfig({
    UTD_PORT: "0",
    UTD_HOST: "127.0.0.1",
    UTD_LOG_LEVEL: "warn",
    UTD_ADMIN_TOKEN: adminToken,
    ...env,
    UTD_DATA_DIR: dataDir,
  });
  const engine = await createEngine(config, { clock });
  const url = await engine.listen();
  async function request<T>(
    method: string,
    path: string,
    o: { body?: unknown; token?: string; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    const body = o.raw ?? (o.body !== undefined ? JSON.stringify(o.body) : undefined);
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
  const self: InProcEngine = {
    engine,
    url,
    wsUrl: `${url.replace(/^http/, "ws")}/api/v1/ws`,
    dataDir,
    adminToken,
    clock,
    request,
    admin: (method, path, body) => request(method, path, { body, token: adminToken }),
    async createApp(o = {}) {
      const r = await request<App>("POST", "/admin/v1/apps", { body: { name: o.name ?? "sec", ...o }, token: adminToken });
      if (r.status !== 201) throw new Error(`createApp: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    async session(app, identity, extra = {}) {
      const r = await request<{ user_token: string }>("POST", "/api/v1/auth/session", {
        body: { app_id: app.app_id, app_key: app.app_key, identity, ...extra },
      });
      if (r.status !== 200) throw new Error(`session ${identity}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    async close() {
      await engine.close();
      if (!env.UTD_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return self;
}
