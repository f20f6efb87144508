import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { CLOSE_CODES, type WsEventMap, type WsEventType } from "@utd-stream/protocol";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import type { z } from "zod";
import type { Bus, BusMessage } from "../bus/port.js";
import type { Authenticate, FindApp } from "../core/caller.js";
import type { Clock } from "../core/clock.js";
import { ApiError } from "../core/errors.js";
import type { EventSink } from "../core/events.js";
import type { Hooks } from "../core/hooks.js";
import type { GatewayConfig } from "./config.js";
import { Conn, type ConnectionListener, type ConnHost, frameSize, heartbeatVerdict } from "./connection.js";
import { FanOut } from "./fanout.js";
import { Handshake } from "./handshake.js";
import type { GatewayMetrics } from "./metrics.js";
import type { EventStreams } from "./stream.js";
import { type ChargeRequest, decodeFrame, sendError, Verbs, type WsHandler } from "./verbs.js";

export type { ConnectionListener, WsConnection } from "./connection.js";

/** Where a socket keeps its Conn (read by the shared listeners). */
const CONN = Symbol("conn");
type SocketOfConn = WebSocket & { [CONN]: Conn };

export type { WsHandler } from "./verbs.js";

export interface GatewayDeps {
  config: GatewayConfig;
  /** Resolves the `hello` (and re-auth) token to its caller. */
  authenticate: Authenticate;
  /** Re-reads an app when its settings change (sockets follow capability switches). */
  findApp: FindApp;
  /**
   * Charges a request frame to its user's and app's request budgets, the ones REST requests spend
   * (throws `rate_limited`). Absent: frames pay only the per-socket frame budget.
   */
  chargeRequest?: ChargeRequest;
  hooks: Hooks;
  bus: Bus;
  /** Where user streams live (in-process, or Redis Streams so that any node can resume them). */
  streams: EventStreams;
  clock: Clock;
  log: FastifyBaseLogger;
  metrics?: GatewayMetrics;
}

/**
 * The WebSocket gateway at `/api/v1/ws` and the engine's `EventSink`: it takes the upgrades and runs
 * each socket's frames through the pipeline — size and frame budget (connection.ts), `hello` / `auth`
 * (handshake.ts), request verbs (verbs.ts) — and delivers events through the user streams (fanout.ts).
 *
 * Each identity has one stream (all its devices, every node): events get a `seq` rising by one and stay
 * in a bounded history, in-process or in Redis (`d.streams`), so a reconnect may resume on any node.
 * Events are serialised once per publish; a node receives only the events of users it has sockets for. Other modules add request verbs with
 * {@link Gateway.handle}:
 *
 * ```ts
 * gateway.handle("typing.start", TypingFrameSchema, async (ctx, frame, conn) => typing.start(ctx, frame));
 * ```
 */
/** Sees an event published to users (type and data), on the node where it was published. */
export type PublishObserver = <K extends WsEventType>(appId: string, type: K, data: WsEventMap[K]) => void;

export class Gateway implements EventSink {
  private readonly wss: WebSocketServer;
  private readonly fanout: FanOut;
  private readonly verbs: Verbs;
  private readonly handshake: Handshake;
  private readonly conns = new Set<Conn>();
  private readonly listeners: ConnectionListener[] = [];
  private readonly observers: PublishObserver[] = [];
  private connCounter = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubs: (() => void)[] = [];
  private closing = false;

  constructor(private readonly d: GatewayDeps) {
    this.fanout = new FanOut({
      streams: d.streams,
      now: () => d.clock.now(),
      metrics: d.metrics,
      onError: (err, what) => d.log.warn({ err }, `ws: ${what} failed`),
    });
    this.verbs = new Verbs(d.log, d.chargeRequest);
    this.handshake = new Handshake({ ...d, fanout: this.fanout, listeners: this.listeners });
    // The transport's own cap sits well above the documented limit so oversized frames get our 4413, not 1009.
    // `conns` tracks the sockets: `ws`'s own tracking would cost each socket a Set entry, a closure and a
    // second close listener (~150 bytes).
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: Math.max(d.config.maxFrameBytes * 4, 1024 * 1024),
    });
    this.unsubs.push(d.bus.subscribe((m) => this.onBus(m)));
    this.unsubs.push(
      d.hooks.on("user.banned", (e) =>
        d.bus.publish({ kind: "close", appId: e.appId, identity: e.identity, code: CLOSE_CODES.forbidden, reason: "banned" }),
      ),
      d.hooks.on("user.revoked", (e) =>
        d.bus.publish({
          kind: "close",
          appId: e.appId,
          identity: e.identity,
          code: CLOSE_CODES.unauthorized,
          reason: "token revoked",
          issuedBefore: e.before,
        }),
      ),
      // The bus delivers to this node synchronously, so the re-read is queued by the time publish returns;
      // the admin call waits for it (Hooks.emitAndWait).
      d.hooks.on("app.updated", (e) => {
        d.bus.publish({ kind: "app", appId: e.appId });
        return this.handshake.pendingReload(e.appId);
      }),
    );
  }

  /** Takes over HTTP upgrades on `/api/v1/ws` and closes sockets before the HTTP server drains. */
  attach(http: FastifyInstance): void {
    http.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = (req.url ?? "").split("?")[0];
      if (path !== "/api/v1/ws") {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      if (this.closing) {
        socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket));
    });
    http.addHook("preClose", async () => this.shutdown());
    const hb = this.d.config.heartbeatS * 1000;
    this.timers.push(setInterval(() => this.heartbeat(), Math.min(hb, 1000 * Math.max(1, this.d.config.helloTimeoutS / 2))));
    this.timers.push(
      setInterval(() => this.fanout.gc(this.d.clock.now() - this.idleHoldS() * 1000), Math.min(30_000, this.idleHoldS() * 250)),
    );
    for (const t of this.timers) t.unref();
  }

  /**
   * Registers a request verb. Frames `{"type": verb, "id"?: …}` are checked against `schema`
   * (failures reply `invalid_argument`), then `fn` runs with the socket's auth context.
   */
  handle<S extends z.ZodType>(verb: string, schema: S, fn: WsHandler<z.output<S>>): void {
    this.verbs.handle(verb, schema, fn);
  }

  /** The registered request verbs (the authorization matrix holds a row for each). */
  verbNames(): string[] {
    return this.verbs.list();
  }

  /**
   * How long a stream stays held here after its last socket left. In-process the hold is the history, so
   * it is the resume window; in Redis the history outlives the hold, and an idle hold only costs the node
   * its user's traffic, so it is short (a quick reconnect to this node keeps its watch list).
   */
  private idleHoldS(): number {
    return this.d.streams.holdNow ? this.d.config.resumeTtlS : Math.min(this.d.config.resumeTtlS, 30);
  }

  /** Connection lifecycle listener (presence). */
  addConnectionListener(listener: ConnectionListener): void {
    this.listeners.push(listener);
  }

  /** Told of every event published to users on this node (usage rollups); must not throw or block. */
  observePublished(observer: PublishObserver): void {
    this.observers.push(observer);
  }

  /** Open authenticated sockets of one user on this node. */
  socketsOf(appId: string, identity: string): number {
    let n = 0;
    for (const c of this.conns) if (c.state === "open" && c.ctx?.app.id === appId && c.ctx.identity === identity) n++;
    return n;
  }

  /** Open authenticated sockets on this node, by app: how many and which identities. */
  openByApp(): Map<string, { sockets: number; identities: Set<string> }> {
    const out = new Map<string, { sockets: number; identities: Set<string> }>();
    for (const c of this.conns) {
      if (c.state !== "open" || !c.ctx) continue;
      const e = out.get(c.ctx.app.id) ?? { sockets: 0, identities: new Set<string>() };
      e.sockets++;
      e.identities.add(c.ctx.identity);
      out.set(c.ctx.app.id, e);
    }
    return out;
  }

  // ----- EventSink -----

  /** Publishes one event to every device of each identity (on every node), serialising `data` once. */
  toUsers<K extends WsEventType>(
    appId: string,
    identities: readonly string[],
    type: K,
    data: WsEventMap[K],
    once?: string,
  ): void | Promise<void> {
    if (identities.length > 0) for (const o of this.observers) o(appId, type, data);
    return this.fanout.toUsers(appId, identities, type, data, once);
  }

  /** Publishes to every user watching `subject` (presence watch lists), plus `identities`, once each. */
  toWatchers<K extends WsEventType>(appId: string, subject: string, identities: readonly string[], type: K, data: WsEventMap[K]): void {
    this.fanout.toWatchers(appId, subject, identities, type, data);
  }

  /** Number of open authenticated sockets on this node. */
  get connectionCount(): number {
    let n = 0;
    for (const c of this.conns) if (c.state === "open") n++;
    return n;
  }

  private accept(ws: WebSocket, socket: Duplex): void {
    const conn = new Conn(`c${++this.connCounter}`, ws, this.connHost, this.d.clock.now(), this.d.config, socket);
    this.conns.add(conn);
    (ws as SocketOfConn)[CONN] = conn;
    // The same four listener functions for every socket (they find the Conn on the socket): an idle socket
    // holds no closures of its own.
    ws.on("message", this.wsListeners.message);
    ws.on("pong", this.wsListeners.pong);
    ws.on("error", this.wsListeners.error);
    ws.on("close", this.wsListeners.close);
  }

  /** What every Conn calls back into (one object for all of them). */
  private readonly connHost: ConnHost = {
    watch: (s, identities) => this.fanout.watch(s, identities),
    unwatch: (s, identities) => this.fanout.unwatch(s, identities),
    closedWith: (code) => this.d.metrics?.closes.inc({ code: String(code) }),
    queueFlush: (c) => {
      this.toFlush.push(c);
      if (this.toFlush.length === 1) setImmediate(this.flushAll);
    },
  };

  /** Sockets holding event frames to write at the end of this turn of the event loop (`Conn.sendWire`). */
  private toFlush: Conn[] = [];
  private readonly flushAll = (): void => {
    const conns = this.toFlush;
    this.toFlush = [];
    for (const c of conns) c.flush();
  };

  /** Socket listeners shared by all sockets; `this` is the socket. */
  private readonly wsListeners = (() => {
    const gw = this;
    return {
      message(this: WebSocket, data: RawData, isBinary: boolean) {
        gw.onMessage((this as SocketOfConn)[CONN], data, isBinary);
      },
      pong(this: WebSocket) {
        (this as SocketOfConn)[CONN].lastSeen = gw.d.clock.now();
      },
      error() {},
      close(this: WebSocket) {
        gw.onClose((this as SocketOfConn)[CONN]);
      },
    };
  })();

  private onBus(m: BusMessage): void {
    // User events travel through the user streams (routed to the nodes holding them), not the bus.
    if (m.kind === "close") {
      this.handshake.closeHeard();
      for (const sink of this.fanout.sinksOf(m.appId, m.identity)) {
        const c = sink as Conn;
        if (m.issuedBefore === undefined || (c.ctx && c.ctx.claims.issuedAt < m.issuedBefore)) c.close(m.code, m.reason);
      }
    } else if (m.kind === "app") void this.handshake.appChanged(this.conns, m.appId);
  }

  /** One client frame through the pipeline: size, pipelining behind hello, budget, decoding, then by type. */
  private onMessage(c: Conn, data: RawData, isBinary: boolean): void {
    c.lastSeen = this.d.clock.now();
    if (c.state === "closed") return;
    if (frameSize(data) > this.d.config.maxFrameBytes) {
      c.close(CLOSE_CODES.frameTooLarge, `frame larger than ${this.d.config.maxFrameBytes} bytes`);
      return;
    }
    if (c.state === "authenticating") {
      // Frames sent right after hello wait for it (bounded), so a client may pipeline.
      c.pending ??= [];
      if (c.pending.length >= 32) c.close(CLOSE_CODES.rateLimited, "too many frames before welcome");
      else c.pending.push(data);
      return;
    }
    const budget = c.budget.take(this.d.clock.now());
    if (budget !== "ok") {
      if (budget === "close") c.close(CLOSE_CODES.rateLimited, "too many frames");
      else {
        // A refused request is answered as its reply (with its id), so the caller's request settles now
        // instead of at its timeout; decoding is bounded: a socket refused `burst` times in a row is closed.
        const refused = decodeFrame(data, isBinary);
        const id = "frame" in refused ? refused.frame.id : refused.id;
        sendError(c, id, ApiError.rateLimited(1 / Math.max(1, this.d.config.framesPerS)));
      }
      return;
    }
    const decoded = decodeFrame(data, isBinary);
    if ("error" in decoded) {
      sendError(c, decoded.id, decoded.error);
      return;
    }
    const frame = decoded.frame;
    if (frame.type === "ping") {
      c.send(frame.id ? { type: "pong", id: frame.id } : { type: "pong" });
      return;
    }
    if (frame.type === "hello") {
      if (c.state !== "new") sendError(c, frame.id, ApiError.conflict("already authenticated"));
      else void this.handshake.hello(c, frame, (conn) => this.drainPending(conn));
      return;
    }
    if (c.state !== "open" || !c.ctx) {
      sendError(c, frame.id, ApiError.unauthorized("send hello with a user token first"));
      return;
    }
    if (frame.type === "auth") {
      void this.handshake.reauth(c, frame);
      return;
    }
    this.verbs.dispatch(c, frame, this.handshake.pendingReload(c.ctx.app.id));
  }

  private drainPending(c: Conn): void {
    const frames = c.pending;
    if (!frames) return;
    c.pending = undefined;
    for (const f of frames) this.onMessage(c, f, false);
  }

  private onClose(c: Conn): void {
    const wasOpen = c.ctx !== undefined && (c.stream?.sinks.has(c) ?? false);
    c.state = "closed";
    this.conns.delete(c);
    this.handshake.closed(c);
    const s = c.stream;
    if (s) {
      s.sinks.delete(c);
      if (s.sinks.size === 0) s.idleSince = this.d.clock.now();
    }
    if (wasOpen && c.ctx) {
      this.d.metrics?.connections.dec();
      const remaining = s?.sinks.size ?? 0;
      for (const l of this.listeners) l.disconnected(c.ctx, c, remaining);
    }
  }

  private heartbeat(): void {
    const now = this.d.clock.now();
    for (const c of this.conns) {
      const verdict = heartbeatVerdict(c, now, this.d.config);
      if (verdict === "no_hello") c.close(CLOSE_CODES.unauthorized, "no hello in time");
      else if (verdict === "silent") c.close(CLOSE_CODES.heartbeatTimeout, "heartbeat timeout");
      else if (verdict === "ping") c.ws.ping();
    }
  }

  /**
   * Closes every socket with 4503 (reconnect elsewhere), spread evenly over `periodMs` so that clients
   * do not all reconnect to the other nodes at once; resolves once none is left open (at the latest
   * after `periodMs`). Sockets that arrive meanwhile are accepted and closed in turn. A period of 0
   * closes them all at once.
   */
  async drain(periodMs: number): Promise<void> {
    const TICK_MS = 100;
    const started = Date.now();
    let closedByDrain = 0;
    const open = () => [...this.conns].filter((c) => c.state !== "closed");
    for (let left = open(); left.length > 0 && !this.closing; left = open()) {
      const elapsed = Date.now() - started;
      // Evenly in time: by now this share of all the sockets seen (closed so far + still open) is closed.
      const share = periodMs <= 0 ? 1 : Math.min(1, elapsed / periodMs);
      const n = Math.min(left.length, Math.ceil((closedByDrain + left.length) * share) - closedByDrain);
      for (const c of left.slice(0, n)) c.close(CLOSE_CODES.reconnectElsewhere, "node draining: reconnect elsewhere");
      closedByDrain += Math.max(0, n);
      if (share >= 1) break;
      await new Promise((r) => setTimeout(r, Math.min(TICK_MS, periodMs - elapsed)));
    }
  }

  /** Closes every socket with 1001 (going away) and stops the timers. */
  async shutdown(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    this.handshake.stop();
    for (const u of this.unsubs) u();
    const closed = [...this.conns].map(
      (c) => new Promise<void>((r) => (c.ws.readyState === WebSocket.CLOSED ? r() : c.ws.once("close", () => r()))),
    );
    for (const c of this.conns) c.close(CLOSE_CODES.goingAway, "engine shutting down");
    await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, 2000).unref())]);
    for (const c of this.conns) c.ws.terminate();
    this.wss.close();
  }
}
