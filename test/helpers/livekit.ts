import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import WebSocket from "ws";
import { has, LIVEKIT_CACHE, LIVEKIT_VERSION } from "./backends.js";
import { type RunningEngine, startEngine } from "./engine.js";
import { checkDeclaredEvent } from "./events.js";
import { freePort, freePorts, freeUdpPort } from "./net.js";

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const SCRIPTS = join(ROOT, "scripts/livekit");

export interface LiveKitServer {
  url: string;
  apiKey: string;
  apiSecret: string;
  /** HTTP/WebSocket/API port. */
  port: number;
  /** ICE/TCP port and ICE/UDP mux port. */
  rtcTcpPort: number;
  rtcUdpPort: number;
  /** Stops the server and removes its runtime files. */
  stop(): Promise<void>;
}

/** A real LiveKit server plus a real engine process whose webhooks it calls. */
export interface MediaStack {
  livekit: LiveKitServer;
  engine: RunningEngine;
  /** Stops the engine and the LiveKit server. */
  stop(): Promise<void>;
}

/**
 * Starts a LiveKit server on ports the OS hands out (HTTP and ICE/TCP, plus one UDP mux port), so
 * concurrent runs never collide; its webhooks go to `webhookUrl`. Without the binary it skips loudly —
 * except under CI=true, where start.sh installs it and any failure is fatal.
 */
export async function startLiveKit(webhookUrl: string, opts: LiveKitOptions = {}): Promise<LiveKitServer | undefined> {
  if (!(await has("livekit", opts.what ?? "LiveKit tests"))) return undefined;
  try {
    return await startOnFreePorts(webhookUrl, opts);
  } catch (err) {
    // One retry on new ports: between asking the OS and LiveKit binding, another process may take one.
    process.stderr.write(`[livekit helper] start failed once, retrying on other ports: ${(err as Error).message}\n`);
    return startOnFreePorts(webhookUrl, opts);
  }
}

export interface LiveKitOptions {
  /**
   * `host:port` of a Redis the LiveKit nodes share: LiveKit's multi-node mode (give each node of a
   * cluster the same one; LiveKit's keys have no prefix, so use a Redis of the cluster's own).
   */
  redisAddress?: string;
  /** Named in the loud skip message when the binary is absent. */
  what?: string;
}

async function startOnFreePorts(webhookUrl: string, opts: LiveKitOptions = {}): Promise<LiveKitServer> {
  const [port, rtcTcpPort] = (await freePorts(2)) as [number, number];
  const rtcUdpPort = await freeUdpPort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    UTD_LIVEKIT_CACHE: LIVEKIT_CACHE,
    UTD_LIVEKIT_VERSION: LIVEKIT_VERSION,
    LIVEKIT_PORT: String(port),
    LIVEKIT_RTC_TCP_PORT: String(rtcTcpPort),
    LIVEKIT_RTC_UDP_PORT: String(rtcUdpPort),
    UTD_WEBHOOK_URL: webhookUrl,
  };
  if (opts.redisAddress) env.LIVEKIT_REDIS_ADDRESS = opts.redisAddress;
  else delete env.LIVEKIT_REDIS_ADDRESS;
  delete env.LIVEKIT_API_SECRET;
  const stop = async () => {
    await run(join(SCRIPTS, "stop.sh"), { env: { ...process.env, UTD_LIVEKIT_CACHE: LIVEKIT_CACHE, LIVEKIT_PORT: String(port) } });
    rmSync(join(LIVEKIT_CACHE, "run", String(port)), { recursive: true, force: true });
  };
  let stdout: string;
  try {
    ({ stdout } = await run(join(SCRIPTS, "start.sh"), { env, timeout: 15 * 60_000 }));
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  const vars = Object.fromEntries(
    stdout
      .trim()
      .split("\n")
      .map((l) => {
        const i = l.indexOf("=");
        // start.sh prints `printf %q` values; the ones we generate have no characters to unquote.
        return [l.slice(0, i), l.slice(i + 1).replace(/^'(.*)'$/, "$1")];
      }),
  ) as Record<string, string>;
  const url = vars.LIVEKIT_URL;
  const apiKey = vars.LIVEKIT_API_KEY;
  const apiSecret = vars.LIVEKIT_API_SECRET;
  if (!url || !apiKey || !apiSecret) throw new Error(`scripts/livekit/start.sh printed no credentials:\n${stdout}`);
  return { url, apiKey, apiSecret, port, rtcTcpPort, rtcUdpPort, stop };
}

/**
 * LiveKit and an engine, each on ports from the OS, wired both ways (tokens and RoomService one way,
 * signed webhooks the other).
 */
export async function startMediaStack(env: Record<string, string> = {}): Promise<MediaStack | undefined> {
  const enginePort = await freePort();
  const livekit = await startLiveKit(`http://127.0.0.1:${enginePort}/api/v1/livekit/webhook`);
  if (!livekit) return undefined;
  let engine: RunningEngine;
  try {
    engine = await startEngine({
      env: {
        UTD_PORT: String(enginePort),
        LIVEKIT_URL: livekit.url,
        LIVEKIT_API_KEY: livekit.apiKey,
        LIVEKIT_API_SECRET: livekit.apiSecret,
        ...env,
      },
    });
  } catch (err) {
    await livekit.stop();
    throw err;
  }
  return {
    livekit,
    engine,
    async stop() {
      await engine.stop();
      await livekit.stop();
    },
  };
}

/** A user's event stream over the engine's WebSocket (`/api/v1/ws`), recording every `domain.verb` event. */
export class EventStream {
  readonly events: { type: string; data: unknown }[] = [];
  private waiters: { pred: (e: { type: string; data: unknown }) => boolean; resolve: (d: unknown) => void }[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener("message", (m) => {
      const f = JSON.parse(String(m.data)) as { type: string; seq?: number; data?: unknown };
      if (typeof f.seq !== "number") return;
      checkDeclaredEvent(f);
      const e = { type: f.type, data: f.data };
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(e)) return true;
        w.resolve(e.data);
        return false;
      });
    });
  }

  /** Opens the socket, says hello and waits for `welcome`. */
  static async open(wsUrl: string, userToken: string): Promise<EventStream> {
    const ws = new WebSocket(wsUrl);
    const s = new EventStream(ws);
    await new Promise<void>((ok, fail) => {
      ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "hello", token: userToken })), { once: true });
      ws.addEventListener("message", (m) => {
        const f = JSON.parse(String(m.data)) as { type: string };
        if (f.type === "welcome") ok();
        else if (f.type === "error") fail(new Error(`hello refused: ${String(m.data)}`));
      });
      ws.addEventListener("error", () => fail(new Error("websocket error")), { once: true });
    });
    return s;
  }

  /** How many events have arrived so far (pass it to `next` as `from` to ignore older ones). */
  mark(): number {
    return this.events.length;
  }

  /** The first event of `type` (already received — from index `from` on — or coming) whose data matches. */
  next<T>(type: string, match: (data: T) => boolean = () => true, timeoutMs = 10_000, from = 0): Promise<T> {
    const pred = (e: { type: string; data: unknown }) => e.type === type && match(e.data as T);
    const hit = this.events.slice(from).find(pred);
    if (hit) return Promise.resolve(hit.data as T);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: resolve as (d: unknown) => void };
      this.waiters.push(w);
      setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no ${type} event within ${timeoutMs} ms; got ${JSON.stringify(this.events.map((e) => e.type))}`));
      }, timeoutMs).unref();
    });
  }

  close(): void {
    this.ws.close();
  }
}
