import {
  CLOSE_CODES,
  type EventFrame,
  isDottedEvent,
  isSignalRoomFrame,
  type SignalRoomFrame,
  UTDStreamException,
  type WelcomeFrame,
  type WireError,
  type WsEvent,
  type WsEventMap,
  type WsEventType,
} from "@utd-stream/protocol";
import { Emitter } from "./emitter.js";
import { type ReadableStore, Store } from "./store.js";
import { socketSessionFromWire, type UTDSocketSession } from "./wire/session.js";

/** Connection state of a {@link UTDSignalClient}. */
export type ConnectionState = "idle" | "connecting" | "connected" | "reconnecting" | "closed";

/**
 * An event handler property. Declared with method syntax so it is checked bivariantly: the `ws` package's
 * `(event: WebSocket.MessageEvent) => void` and the DOM's `(this: WebSocket, ev: MessageEvent) => any` both
 * fit, under `strict` too.
 */
type Handler<E> = { bivarianceHack(ev: E): void }["bivarianceHack"] | null;

/** The subset of the WebSocket API the client uses (browser, React Native, Node ≥ 22, or the `ws` package). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown>;
  onmessage: Handler<{ data: unknown }>;
  onclose: Handler<{ code: number; reason: string }>;
  onerror: Handler<unknown>;
}

/** A WebSocket constructor (defaults to `globalThis.WebSocket`). */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface UTDSignalClientOptions {
  /** The WebSocket URL (`ws_url` from the session mint), or a function read before every (re)connect. */
  url: string | (() => string);
  /** Returns the current user token; called before every (re)connect. */
  token: () => string | Promise<string>;
  /**
   * Returns a fresh token when the engine refused `failed` (close 4401) or before it expires (then swapped
   * in with an `auth` frame, without reconnecting). Defaults to `token`.
   */
  refreshToken?: (failed?: string) => Promise<string>;
  deviceId?: string;
  WebSocket?: WebSocketConstructor;
  /** Reconnect backoff: exponential from `initialMs` to `maxMs`, with ±50 % jitter. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** How long a sent request waits for its reply (default 15 s). */
  requestTimeoutMs?: number;
}

/** Why the client stopped for good (`closed` state). */
export interface ClosedInfo {
  code: number;
  reason: string;
  /** Set when the engine refused the user (banned, capability off, token unusable). */
  error?: UTDStreamException;
}

/** Everything a {@link UTDSignalClient} emits: the protocol's server events plus connection events. */
export type SignalClientEvents = WsEventMap & {
  /** Connected (again); `resumed` says whether missed events follow. */
  welcome: { resumed: boolean; epoch: string; seq: number };
  /** The engine could not replay what was missed: re-read state over REST. */
  resync: { reason: string };
  /** Every server event, raw (also for types this SDK version does not know). */
  event: EventFrame;
  /** A signalling-room frame (`room.members`, `room.joined`, …): no `seq`, not part of the stream. */
  roomFrame: SignalRoomFrame;
  /** An `error` frame or a failed token refresh. */
  error: UTDStreamException;
  /** The client stopped and will not reconnect by itself. */
  closed: ClosedInfo;
};

/** The client's own events, besides the server's. */
type LocalEventName = Exclude<keyof SignalClientEvents, keyof WsEventMap>;
// The dot rule of `onFrame`: a local event name with a dot stops this compiling.
type Holds<T extends true> = T;
type _LocalNamesHaveNoDot = Holds<Extract<LocalEventName, `${string}.${string}`> extends never ? true : false>;

interface Pending {
  frame: Record<string, unknown> & { id: string };
  resolve(data: unknown): void;
  reject(err: UTDStreamException): void;
  timer?: ReturnType<typeof setTimeout>;
  sent: boolean;
}

const OPEN = 1;

/** The largest random delay before reconnecting after a 4503 (the node is draining). */
const DRAIN_JITTER_MS = 1000;

/** `UTDStreamException.fromWire` checks the code itself; the wire type only says "string". */
function fromWire(err: WireError | { code: string }): UTDStreamException {
  return UTDStreamException.fromWire(err as Parameters<typeof UTDStreamException.fromWire>[0]);
}

/** The typed error behind a 4403 close: a ban, a capability the app's plan has off, or another refusal. */
function refusal(reason: string): UTDStreamException {
  if (reason.includes("banned")) return new UTDStreamException(403, "banned", reason);
  if (reason.includes("capability")) return new UTDStreamException(403, "feature_disabled", reason, { capability: "signaling" });
  return new UTDStreamException(403, "forbidden", reason || "forbidden");
}

/**
 * The WebSocket half of the SDK: `hello` with the token, resume with `{epoch, seq}` after a drop (no
 * lost or duplicated events while the engine's buffer covers the gap, a `resync` event otherwise),
 * reconnect with exponential backoff and jitter, application heartbeats, and requests queued while
 * offline and sent once connected. Uses only the standard WebSocket API.
 *
 * @example
 * const client = new UTDSignalClient({ url: session.wsUrl, token: () => session.userToken });
 * client.on("call.incoming", ({ call }) => console.log("ringing", call.id));
 * client.connect();
 */
export class UTDSignalClient {
  private readonly emitter = new Emitter<SignalClientEvents>();
  /** The same emitter, seen through the server events' part of its map. */
  private readonly wireEvents: Emitter<WsEventMap> = this.emitter;
  private readonly stateStore = new Store<ConnectionState>("idle");
  private readonly sessionStore = new Store<UTDSocketSession | null>(null);
  private ws: WebSocketLike | undefined;
  private cursor: { epoch: string; seq: number } | undefined;
  private readonly pending = new Map<string, Pending>();
  private nextId = 0;
  private attempt = 0;
  private stopped = true;
  private needFreshToken = false;
  /** The token the current (or last) socket said hello with. */
  private lastToken: string | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private lastReceived = 0;
  private readonly WS: WebSocketConstructor;

  constructor(private readonly opts: UTDSignalClientOptions) {
    const ctor = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!ctor) throw new Error("UTDSignalClient: no WebSocket available; pass options.WebSocket");
    this.WS = ctor;
  }

  /** Connection state as a store (`value` + `subscribe`). */
  get state(): ReadableStore<ConnectionState> {
    return this.stateStore;
  }

  /** The session as the last `welcome` described it (capabilities, plan limits, token expiry). */
  get session(): ReadableStore<UTDSocketSession | null> {
    return this.sessionStore;
  }

  /** Where this client's stream stands (`epoch`, last processed `seq`). */
  get position(): { epoch: string; seq: number } | undefined {
    return this.cursor ? { ...this.cursor } : undefined;
  }

  /** Subscribes to a server event or a connection event; returns an unsubscribe function. */
  on<K extends keyof SignalClientEvents>(type: K, fn: (data: SignalClientEvents[K]) => void): () => void {
    return this.emitter.on(type, fn);
  }

  /** Opens the connection (and keeps it open until {@link disconnect}). */
  connect(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.stateStore.set("connecting");
    void this.open();
  }

  /** Closes for good; pending requests fail with `network_error`. */
  disconnect(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      try {
        ws.close(1000, "client disconnect");
      } catch {
        /* already closed */
      }
    }
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(UTDStreamException.network("disconnected"));
    }
    this.pending.clear();
    this.stateStore.set("closed");
  }

  /** Drops the socket and reconnects at once, resuming the stream (e.g. after a network change). */
  reconnect(): void {
    if (this.stopped) {
      this.connect();
      return;
    }
    this.dropSocket();
    this.scheduleReconnect(0);
  }

  /**
   * Sends a request (`{"type": verb, "id", ...body}`) and resolves with the reply's `data`. While
   * offline it is queued and sent once connected; a request in flight when the socket drops is sent
   * again after the reconnect (the engine's verbs are idempotent).
   */
  request<T = unknown>(verb: string, body: Record<string, unknown> = {}): Promise<T> {
    const id = `q${++this.nextId}`;
    return new Promise<T>((resolve, reject) => {
      const p: Pending = { frame: { ...body, type: verb, id }, resolve: resolve as (d: unknown) => void, reject, sent: false };
      this.pending.set(id, p);
      if (this.stateStore.value === "connected") this.sendPending(p);
    });
  }

  private sendPending(p: Pending): void {
    if (!this.ws || this.ws.readyState !== OPEN) return;
    p.sent = true;
    this.ws.send(JSON.stringify(p.frame));
    if (p.timer) clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      this.pending.delete(p.frame.id);
      p.reject(UTDStreamException.network(`no reply to ${String(p.frame.type)} in time`));
    }, this.opts.requestTimeoutMs ?? 15_000);
  }

  private async open(): Promise<void> {
    let token: string;
    try {
      token = this.needFreshToken ? await (this.opts.refreshToken ?? this.opts.token)(this.lastToken) : await this.opts.token();
      this.needFreshToken = false;
      this.lastToken = token;
    } catch (err) {
      const e = err instanceof UTDStreamException ? err : UTDStreamException.network(String(err));
      this.emitter.emit("error", e);
      if (e.isForbidden || e.code === "unauthorized") this.stop(CLOSE_CODES.unauthorized, "could not obtain a token", e);
      else this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    let ws: WebSocketLike;
    try {
      ws = new this.WS(typeof this.opts.url === "function" ? this.opts.url() : this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      const hello: Record<string, unknown> = { type: "hello", token };
      if (this.opts.deviceId) hello.device_id = this.opts.deviceId;
      if (this.cursor) hello.resume = this.cursor;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (ev) => this.onFrame(typeof ev.data === "string" ? ev.data : String(ev.data));
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.onClose(ev.code, ev.reason);
    };
  }

  private onFrame(text: string): void {
    this.lastReceived = Date.now();
    let f: { type?: unknown; seq?: unknown; id?: unknown; data?: unknown; error?: WireError } & Record<string, unknown>;
    try {
      f = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof f.type !== "string") return;
    const typed = f as typeof f & { type: string };
    if (isSignalRoomFrame(typed)) {
      this.emitter.emit("roomFrame", typed);
      return;
    }
    if (typeof f.seq === "number" && f.type !== "welcome") {
      // An event on the stream. Drop anything already processed (defensive: the engine sends each once).
      if (this.cursor && f.seq <= this.cursor.seq) return;
      if (this.cursor) this.cursor.seq = f.seq;
      const ev = { type: f.type, seq: f.seq, data: f.data };
      // None of this client's own event names has a dot (held below), so a stream frame never reaches a local
      // listener such as `closed`; `isDottedEvent` needs no list of event types in the bundle.
      if (isDottedEvent(ev)) this.emitEvent(ev);
      this.emitter.emit("event", ev);
      return;
    }
    switch (f.type) {
      case "welcome":
        this.onWelcome(f as unknown as WelcomeFrame);
        return;
      case "resync_required":
        this.emitter.emit("resync", { reason: typeof f.reason === "string" ? f.reason : "resync required" });
        return;
      case "reply": {
        const p = typeof f.id === "string" ? this.pending.get(f.id) : undefined;
        if (!p) return;
        this.pending.delete(p.frame.id);
        if (p.timer) clearTimeout(p.timer);
        if (f.ok === true) p.resolve(f.data);
        else p.reject(fromWire(f.error ?? { code: "unknown" }));
        return;
      }
      case "error":
        if (f.error) this.emitter.emit("error", fromWire(f.error));
        return;
    }
  }

  /** Emits a declared event under its type (the map correlates `type` and `data`). */
  private emitEvent<K extends WsEventType>(ev: WsEvent<K>): void {
    this.wireEvents.emit(ev.type, ev.data);
  }

  private onWelcome(w: WelcomeFrame): void {
    this.attempt = 0;
    if (!w.resumed || !this.cursor) this.cursor = { epoch: w.epoch, seq: w.seq };
    const session = socketSessionFromWire(w.session);
    this.sessionStore.set(session);
    this.stateStore.set("connected");
    this.startHeartbeat(w.heartbeat_s);
    this.scheduleTokenRefresh(session.expiresAt);
    this.emitter.emit("welcome", { resumed: w.resumed, epoch: w.epoch, seq: w.seq });
    for (const p of this.pending.values()) this.sendPending(p);
  }

  private startHeartbeat(seconds: number): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    const ms = Math.max(1, seconds) * 1000;
    this.lastReceived = Date.now();
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastReceived > 2 * ms + 1000) {
        // The link is dead but the OS has not noticed: give up on this socket.
        this.dropSocket();
        this.scheduleReconnect();
        return;
      }
      if (this.ws?.readyState === OPEN) this.ws.send('{"type":"ping"}');
    }, ms);
  }

  private scheduleTokenRefresh(expiresAt: Date): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (!this.opts.refreshToken) return;
    const lead = Math.min(60_000, (expiresAt.getTime() - Date.now()) / 5);
    const ms = Math.max(1000, expiresAt.getTime() - Date.now() - lead);
    this.refreshTimer = setTimeout(
      () => {
        void (async () => {
          try {
            const token = await this.opts.refreshToken?.(this.lastToken);
            if (token) {
              this.lastToken = token;
              const r = await this.request<{ session: Parameters<typeof socketSessionFromWire>[0] }>("auth", { token });
              const session = socketSessionFromWire(r.session);
              this.sessionStore.set(session);
              this.scheduleTokenRefresh(session.expiresAt);
            }
          } catch (err) {
            // The socket will be closed with 4401 at expiry and reconnect with a fresh token then.
            if (err instanceof UTDStreamException) this.emitter.emit("error", err);
          }
        })();
      },
      Math.min(ms, 2 ** 31 - 1),
    );
  }

  private dropSocket(): void {
    const ws = this.ws;
    this.ws = undefined;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      try {
        ws.close(1000, "reconnecting");
      } catch {
        /* ignore */
      }
    }
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.sent = false;
    }
  }

  private onClose(code: number, reason: string): void {
    this.dropSocket();
    if (this.stopped) return;
    if (code === CLOSE_CODES.forbidden) {
      this.stop(code, reason, refusal(reason));
      return;
    }
    // The user's newer sockets pushed this one out (too many for one identity): reconnecting would push
    // out another in turn, so this client stops and says why.
    if (code === CLOSE_CODES.tooManySockets) {
      this.stop(code, reason, new UTDStreamException(403, "limit_exceeded", reason || "too many sockets for this identity"));
      return;
    }
    if (code === CLOSE_CODES.unauthorized) this.needFreshToken = true;
    // The node is draining (its load balancer already sends new sockets elsewhere): reconnect at once,
    // jittered so its users do not land on the other nodes in one burst, and without backoff growth.
    if (code === CLOSE_CODES.reconnectElsewhere) {
      this.reconnectSoon();
      return;
    }
    this.scheduleReconnect(code === CLOSE_CODES.rateLimited ? 5000 : undefined);
  }

  /** Reconnects within {@link DRAIN_JITTER_MS} (uniformly random), resetting the backoff. */
  private reconnectSoon(): void {
    if (this.stopped) return;
    this.stateStore.set("reconnecting");
    this.attempt = 0;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.open(), Math.random() * DRAIN_JITTER_MS);
  }

  private scheduleReconnect(minDelayMs?: number): void {
    if (this.stopped) return;
    this.stateStore.set("reconnecting");
    const initial = this.opts.backoff?.initialMs ?? 500;
    const max = this.opts.backoff?.maxMs ?? 30_000;
    const base = Math.min(max, initial * 2 ** this.attempt);
    this.attempt++;
    const delay = minDelayMs === 0 ? 0 : Math.max(minDelayMs ?? 0, base * (0.5 + Math.random() * 0.5));
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.open(), delay);
  }

  private stop(code: number, reason: string, error?: UTDStreamException): void {
    this.disconnect();
    this.emitter.emit("closed", error ? { code, reason, error } : { code, reason });
  }

  private clearTimers(): void {
    for (const t of [this.reconnectTimer, this.refreshTimer]) if (t) clearTimeout(t);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
  }
}
