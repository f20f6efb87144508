import WebSocket from "ws";
import { checkDeclaredEvent } from "../../../test/helpers/events.js";

export { checkDeclaredEvent };

/** A frame as received (parsed JSON). */
export type Frame = { type: string; seq?: number; id?: string; data?: unknown; [k: string]: unknown };

/** A test WebSocket client speaking the gateway protocol, recording every frame. */
export class WsClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private nextId = 0;
  welcome: Frame | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on("message", (d, isBinary) => {
      if (isBinary) return;
      const f = JSON.parse(d.toString()) as Frame;
      checkDeclaredEvent(f);
      this.frames.push(f);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(f)) return true;
        w.resolve(f);
        return false;
      });
    });
    this.closed = new Promise((r) => ws.on("close", (code, reason) => r({ code, reason: reason.toString() })));
  }

  /** Opens a socket (no hello yet). */
  static async open(url: string): Promise<WsClient> {
    const ws = new WebSocket(url);
    const c = new WsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return c;
  }

  /** Opens a socket and says hello; resolves after `welcome` (and replay frames may follow). */
  static async connect(
    url: string,
    token: string,
    opts: { deviceId?: string; resume?: { epoch: string; seq: number } } = {},
  ): Promise<WsClient> {
    const c = await WsClient.open(url);
    c.send({
      type: "hello",
      token,
      ...(opts.deviceId ? { device_id: opts.deviceId } : {}),
      ...(opts.resume ? { resume: opts.resume } : {}),
    });
    c.welcome = await c.next((f) => f.type === "welcome" || f.type === "error");
    if (c.welcome.type !== "welcome") throw new Error(`hello refused: ${JSON.stringify(c.welcome)}`);
    return c;
  }

  send(obj: unknown): void {
    this.ws.send(typeof obj === "string" ? obj : JSON.stringify(obj));
  }

  /** The first recorded frame (from now on, or already received when `past`) matching `pred`. */
  next(pred: (f: Frame) => boolean, opts: { past?: boolean; timeoutMs?: number } = {}): Promise<Frame> {
    if (opts.past !== false) {
      const hit = this.frames.find(pred);
      if (hit) return Promise.resolve(hit);
    }
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      this.waiters.push(w);
      setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no matching frame within ${opts.timeoutMs ?? 10_000}ms; got ${JSON.stringify(this.frames.slice(-5))}`));
      }, opts.timeoutMs ?? 10_000).unref();
    });
  }

  /** Waits for an event of `type` whose data matches `match` (default any). */
  event<T = unknown>(type: string, match: (data: T) => boolean = () => true): Promise<Frame & { data: T }> {
    return this.next((f) => f.type === type && match(f.data as T)) as Promise<Frame & { data: T }>;
  }

  /** Events (frames with a seq) received so far. */
  events(): Frame[] {
    return this.frames.filter((f) => typeof f.seq === "number" && f.type !== "welcome");
  }

  /** Sends a request and resolves with its reply. */
  async request(type: string, body: Record<string, unknown> = {}): Promise<Frame> {
    const id = `r${++this.nextId}`;
    const p = this.next((f) => (f.type === "reply" || f.type === "pong") && f.id === id, { past: false });
    this.send({ type, id, ...body });
    return p;
  }

  close(): void {
    this.ws.close();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
