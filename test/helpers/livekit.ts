import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import WebSocket from "ws";
import { type RunningEngine, startEngine } from "./engine.js";
import { freePort } from "./net.js";
import { IN_CI } from "./services.js";

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const SCRIPTS = join(ROOT, "scripts/livekit");
const VERSION = process.env.UTD_LIVEKIT_VERSION ?? "v1.13.3";
const CACHE = process.env.UTD_LIVEKIT_CACHE ?? join(homedir(), ".cache/utd-livekit");

export interface LiveKitServer {
  url: string;
  apiKey: string;
  apiSecret: string;
  port: number;
}

/** A real LiveKit server plus a real engine process whose webhooks it calls. */
export interface MediaStack {
  livekit: LiveKitServer;
  engine: RunningEngine;
  /** Stops the engine and the LiveKit server. */
  stop(): Promise<void>;
}

/**
 * Starts (or reuses) a LiveKit server on `port` (and port+1, port+2) whose webhooks go to `webhookUrl`.
 * Without the binary it skips loudly — except under CI=true, where it installs it and any failure is fatal.
 */
export async function startLiveKit(port: number, webhookUrl: string): Promise<LiveKitServer | undefined> {
  const bin = join(CACHE, VERSION, "livekit-server");
  if (!existsSync(bin) && !IN_CI) {
    process.stderr.write(
      `\n⚠️  SKIPPING LiveKit tests: no livekit-server binary at ${bin} (run scripts/livekit/install.sh; needs Go >= 1.26)\n\n`,
    );
    return undefined;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, LIVEKIT_PORT: String(port), UTD_WEBHOOK_URL: webhookUrl };
  delete env.LIVEKIT_API_SECRET;
  let stdout: string;
  try {
    ({ stdout } = await run(join(SCRIPTS, "start.sh"), { env, timeout: 15 * 60_000 }));
  } catch (err) {
    // One retry: a server on this port from a previous run may still be releasing its ports.
    process.stderr.write(`[livekit helper] start.sh failed once, retrying: ${(err as Error).message}\n`);
    await new Promise((r) => setTimeout(r, 1500));
    ({ stdout } = await run(join(SCRIPTS, "start.sh"), { env, timeout: 15 * 60_000 }));
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
  return { url, apiKey, apiSecret, port };
}

export async function stopLiveKit(port: number): Promise<void> {
  await run(join(SCRIPTS, "stop.sh"), { env: { ...process.env, LIVEKIT_PORT: String(port) } });
}

/**
 * LiveKit on `livekitPort` and an engine on a free port, wired both ways (tokens and RoomService one way,
 * signed webhooks the other). Each test file uses its own LiveKit port (3 consecutive ports).
 */
export async function startMediaStack(livekitPort: number, env: Record<string, string> = {}): Promise<MediaStack | undefined> {
  const enginePort = await freePort();
  const livekit = await startLiveKit(livekitPort, `http://127.0.0.1:${enginePort}/api/v1/livekit/webhook`);
  if (!livekit) return undefined;
  const engine = await startEngine({
    env: {
      UTD_PORT: String(enginePort),
      LIVEKIT_URL: livekit.url,
      LIVEKIT_API_KEY: livekit.apiKey,
      LIVEKIT_API_SECRET: livekit.apiSecret,
      ...env,
    },
  });
  return {
    livekit,
    engine,
    async stop() {
      await engine.stop();
      await stopLiveKit(livekitPort);
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
