import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { WsEventMap, WsEventType } from "@utd-stream/protocol";
import {
  AuthFrameSchema,
  CLOSE_CODES,
  ClientFrameSchema,
  HelloFrameSchema,
  type WelcomeFrame,
  type WireError,
  type WsSession,
} from "@utd-stream/protocol";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import type { z } from "zod";
import type { Bus, BusMessage } from "../bus/port.js";
import type { AppRecord, AuthContext, Authenticate, FindApp } from "../core/caller.js";
import { type Clock, iso } from "../core/clock.js";
import { ApiError } from "../core/errors.js";
import type { EventSink } from "../core/events.js";
import type { Hooks } from "../core/hooks.js";
import { parseOr400 } from "../core/validation.js";
import type { GatewayConfig } from "./config.js";
import type { GatewayMetrics } from "./metrics.js";
import { type PreparedEvent, prepareEvent, type StreamSink, UserStream } from "./stream.js";

/** What a request handler learns about the socket that sent the frame. */
export interface WsConnection {
  readonly id: string;
  /** Device id from `hello` (or the token's). */
  readonly deviceId: string | null;
  /** Adds identities to this user's presence watch list (all devices of the user share it). */
  watch(identities: readonly string[]): void;
  unwatch(identities: readonly string[]): void;
  /** How many identities the user watches. */
  watchCount(): number;
  /** Sends one prepared text frame (UTF-8 JSON) to this socket alone (room frames); dropped once closed. */
  sendFrame(frame: Buffer): void;
  /** The socket is closed (or closing). */
  readonly closed: boolean;
}

/**
 * A WebSocket request handler. `ctx` is the socket's `AuthContext` (kept current when the app changes);
 * the frame has passed the handler's schema. Return the reply `data`; throw `ApiError` for a typed error reply.
 */
export type WsHandler<F> = (ctx: AuthContext, frame: F, conn: WsConnection) => Promise<unknown>;

/** Connection lifecycle, for presence. */
export interface ConnectionListener {
  connected(ctx: AuthContext, conn: WsConnection): void;
  /** `remaining`: the user's other sockets still open on this node. */
  disconnected(ctx: AuthContext, conn: WsConnection, remaining: number): void;
}

export interface GatewayDeps {
  config: GatewayConfig;
  /** Resolves the `hello` (and re-auth) token to its caller. */
  authenticate: Authenticate;
  /** Re-reads an app when its settings change (sockets follow capability switches). */
  findApp: FindApp;
  hooks: Hooks;
  bus: Bus;
  clock: Clock;
  log: FastifyBaseLogger;
  metrics?: GatewayMetrics;
}

const OPEN = WebSocket.OPEN;
const key = (appId: string, identity: string) => `${appId}\u0000${identity}`;

class Conn implements StreamSink, WsConnection {
  ctx: AuthContext | undefined;
  stream: UserStream | undefined;
  deviceId: string | null = null;
  state: "new" | "authenticating" | "open" | "closed" = "new";
  readonly openedAt: number;
  lastSeen: number;
  tokens: number;
  tokensAt: number;
  refusedInARow = 0;
  expiryTimer: NodeJS.Timeout | undefined;
  readonly pending: RawData[] = [];

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    private readonly gw: Gateway,
    now: number,
    burst: number,
  ) {
    this.openedAt = now;
    this.lastSeen = now;
    this.tokens = burst;
    this.tokensAt = now;
  }
  get closed(): boolean {
    return this.state === "closed";
  }
  sendRaw(frame: string): void {
    if (this.ws.readyState !== OPEN) return;
    this.ws.send(frame);
    this.checkBuffered();
  }
  sendFrame(frame: Buffer): void {
    if (this.ws.readyState !== OPEN) return;
    this.ws.send(frame, { binary: false });
    this.checkBuffered();
  }
  /** A reader that falls behind is cut off instead of growing the node's memory without bound. */
  private checkBuffered(): void {
    if (this.ws.bufferedAmount > this.gw.maxBufferedBytes) this.close(CLOSE_CODES.slowConsumer, "slow consumer: send buffer full");
  }
  send(obj: unknown): void {
    this.sendRaw(JSON.stringify(obj));
  }
  watch(identities: readonly string[]): void {
    if (this.stream) this.gw.watch(this.stream, identities);
  }
  unwatch(identities: readonly string[]): void {
    if (this.stream) this.gw.unwatch(this.stream, identities);
  }
  watchCount(): number {
    return this.stream?.watching.size ?? 0;
  }
  close(code: number, reason: string): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.gw.closedWith(code);
    try {
      this.ws.close(code, reason.slice(0, 120));
    } catch {
      this.ws.terminate();
    }
    // A peer that never answers the close handshake is cut off instead of holding the slot.
    setTimeout(() => this.ws.terminate(), 5000).unref();
  }
}

function wireError(err: unknown): WireError {
  if (err instanceof ApiError) return err.toBody().error as WireError;
  return { code: "internal", message: "internal error" };
}

/**
 * The WebSocket gateway at `/api/v1/ws` and the engine's `EventSink`.
 *
 * Each identity has one stream per node (all its devices): events get a `seq` rising by one and stay
 * in a bounded resume buffer. Events are serialised once per publish and fanned out through the bus,
 * so users connected to other nodes get them too. Other modules add request verbs with
 * {@link Gateway.handle}:
 *
 * ```ts
 * gateway.handle("typing.start", TypingFrameSchema, async (ctx, frame, conn) => typing.start(ctx, frame));
 * ```
 */
export class Gateway implements EventSink {
  private readonly wss: WebSocketServer;
  /** app id → identity → stream (nested, so a fan-out looks identities up without building keys). */
  private readonly streams = new Map<string, Map<string, UserStream>>();
  /** `app\0watched identity` → streams watching it. */
  private readonly watchers = new Map<string, Set<UserStream>>();
  private readonly conns = new Set<Conn>();
  private readonly handlers = new Map<string, { schema: z.ZodType; fn: WsHandler<never> }>();
  private readonly listeners: ConnectionListener[] = [];
  private readonly epochBase: string;
  private streamCounter = 0;
  private connCounter = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubs: (() => void)[] = [];
  private closing = false;
  /** app id → the tail of its re-reads (serialised, so an older read never overwrites a newer one). */
  private readonly appReloads = new Map<string, Promise<void>>();
  /** Bumped by every app change and socket close heard; a hello that overlapped one re-authenticates. */
  private changes = 0;
  /** @internal (Conn) */
  readonly maxBufferedBytes: number;

  constructor(private readonly d: GatewayDeps) {
    this.maxBufferedBytes = d.config.maxBufferedBytes;
    this.epochBase = `${d.clock.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    // The transport's own cap sits well above the documented limit so oversized frames get our 4413, not 1009.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: Math.max(d.config.maxFrameBytes * 4, 1024 * 1024) });
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
        return this.appReloads.get(e.appId);
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
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
    http.addHook("preClose", async () => this.shutdown());
    const hb = this.d.config.heartbeatS * 1000;
    this.timers.push(setInterval(() => this.heartbeat(), Math.min(hb, 1000 * Math.max(1, this.d.config.helloTimeoutS / 2))));
    this.timers.push(setInterval(() => this.gcStreams(), Math.min(30_000, this.d.config.resumeTtlS * 250)));
    for (const t of this.timers) t.unref();
  }

  /**
   * Registers a request verb. Frames `{"type": verb, "id"?: …}` are checked against `schema`
   * (failures reply `invalid_argument`), then `fn` runs with the socket's auth context.
   */
  handle<S extends z.ZodType>(verb: string, schema: S, fn: WsHandler<z.output<S>>): void {
    if (this.handlers.has(verb) || verb === "hello" || verb === "ping" || verb === "auth") {
      throw new Error(`WebSocket verb "${verb}" is already handled`);
    }
    this.handlers.set(verb, { schema, fn: fn as WsHandler<never> });
  }

  /** Connection lifecycle listener (presence). */
  addConnectionListener(listener: ConnectionListener): void {
    this.listeners.push(listener);
  }

  private accept(ws: WebSocket): void {
    const conn = new Conn(`c${++this.connCounter}`, ws, this, this.d.clock.now(), this.d.config.frameBurst);
    this.conns.add(conn);
    ws.on("message", (data, isBinary) => this.onMessage(conn, data, isBinary));
    ws.on("pong", () => {
      conn.lastSeen = this.d.clock.now();
    });
    ws.on("error", () => {});
    ws.on("close", () => this.onClose(conn));
  }

  // ----- EventSink -----

  /** Publishes one event to every device of each identity (on every node), serialising `data` once. */
  toUsers<K extends WsEventType>(appId: string, identities: readonly string[], type: K, data: WsEventMap[K]): void {
    if (identities.length === 0) return;
    this.d.bus.publish({ kind: "event", appId, identities: [...identities], type, data: JSON.stringify(data ?? null) });
  }

  /** Publishes to every user watching `subject` (presence watch lists), plus `identities`, once each. */
  toWatchers<K extends WsEventType>(appId: string, subject: string, identities: readonly string[], type: K, data: WsEventMap[K]): void {
    this.d.bus.publish({
      kind: "event",
      appId,
      identities: [...identities],
      watchersOf: subject,
      type,
      data: JSON.stringify(data ?? null),
    });
  }

  /** Number of open authenticated sockets on this node. */
  get connectionCount(): number {
    let n = 0;
    for (const c of this.conns) if (c.state === "open") n++;
    return n;
  }

  // ----- bus -----

  private onBus(m: BusMessage): void {
    if (m.kind === "event") {
      const ev = prepareEvent(m.type, m.data);
      // Streams that have seen the same events share a seq: build such a frame once for all of them.
      ev.frames = new Map();
      this.deliver(m.appId, m.identities, m.watchersOf, ev);
      // The resume buffers keep the event; the frames were only for this fan-out.
      ev.frames = undefined;
    } else if (m.kind === "close") {
      this.changes++;
      const s = this.streams.get(m.appId)?.get(m.identity);
      if (!s) return;
      for (const sink of [...s.sinks]) {
        const c = sink as Conn;
        if (m.issuedBefore === undefined || (c.ctx && c.ctx.claims.issuedAt < m.issuedBefore)) c.close(m.code, m.reason);
      }
    } else if (m.kind === "app") {
      this.changes++;
      void this.reloadApp(m.appId);
    }
  }

  private deliver(appId: string, identities: readonly string[], watchersOf: string | undefined, ev: PreparedEvent): void {
    let done: Set<UserStream> | undefined;
    let streams = 0;
    let sent = 0;
    if (watchersOf !== undefined) {
      const w = this.watchers.get(key(appId, watchersOf));
      if (w) {
        done = new Set(w);
        for (const s of w) {
          sent += s.publish(ev);
          streams++;
        }
      }
    }
    const byIdentity = this.streams.get(appId);
    if (byIdentity)
      for (const identity of identities) {
        const s = byIdentity.get(identity);
        if (s && !done?.has(s)) {
          sent += s.publish(ev);
          streams++;
          if (done) done.add(s);
        }
      }
    if (this.d.metrics && streams > 0) {
      this.d.metrics.events.inc(streams);
      this.d.metrics.deliveries.inc(sent);
    }
  }

  /** @internal (metrics) */
  closedWith(code: number): void {
    this.d.metrics?.closes.inc({ code: String(code) });
  }

  /** Queues a re-read of the app for its open sockets; frames of that app wait for it (see `run`). */
  private reloadApp(appId: string): Promise<void> | undefined {
    if (![...this.conns].some((c) => c.ctx?.app.id === appId)) return this.appReloads.get(appId);
    const prev = this.appReloads.get(appId) ?? Promise.resolve();
    const p: Promise<void> = prev
      .then(() => this.applyApp(appId))
      .finally(() => {
        if (this.appReloads.get(appId) === p) this.appReloads.delete(appId);
      });
    this.appReloads.set(appId, p);
    return p;
  }

  private async applyApp(appId: string): Promise<void> {
    const affected = [...this.conns].filter((c) => c.ctx?.app.id === appId);
    if (affected.length === 0) return;
    let app: AppRecord | undefined;
    try {
      app = await this.d.findApp(appId);
    } catch (err) {
      this.d.log.warn({ err, appId }, "ws: could not reload app");
      return;
    }
    for (const c of affected) {
      if (!c.ctx) continue;
      if (!app) c.close(CLOSE_CODES.unauthorized, "app deleted");
      else if (c.ctx.claims.issuedAt < app.tokensValidAfter) c.close(CLOSE_CODES.unauthorized, "the app's credentials changed");
      else if (c.ctx.claims.authMode !== null && c.ctx.claims.authMode !== app.authMode) {
        c.close(CLOSE_CODES.unauthorized, "the app's auth mode changed");
      } else if (!app.signalingEnabled && !app.messagingEnabled) c.close(CLOSE_CODES.forbidden, "capability disabled");
      else c.ctx = { ...c.ctx, app };
    }
  }

  // ----- watch lists -----

  /** @internal (through WsConnection) */
  watch(s: UserStream, identities: readonly string[]): void {
    for (const id of identities) {
      if (s.watching.has(id)) continue;
      s.watching.add(id);
      const k = key(s.appId, id);
      let set = this.watchers.get(k);
      if (!set) {
        set = new Set();
        this.watchers.set(k, set);
      }
      set.add(s);
    }
  }

  /** @internal */
  unwatch(s: UserStream, identities: readonly string[]): void {
    for (const id of identities) {
      if (!s.watching.delete(id)) continue;
      const k = key(s.appId, id);
      const set = this.watchers.get(k);
      set?.delete(s);
      if (set?.size === 0) this.watchers.delete(k);
    }
  }

  // ----- frames -----

  private takeToken(c: Conn): boolean {
    const now = this.d.clock.now();
    const { frameBurst, framesPerS } = this.d.config;
    c.tokens = Math.min(frameBurst, c.tokens + ((now - c.tokensAt) / 1000) * framesPerS);
    c.tokensAt = now;
    if (c.tokens < 1) return false;
    c.tokens -= 1;
    return true;
  }

  private onMessage(c: Conn, data: RawData, isBinary: boolean): void {
    c.lastSeen = this.d.clock.now();
    if (c.state === "closed") return;
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength;
    if (size > this.d.config.maxFrameBytes) {
      c.close(CLOSE_CODES.frameTooLarge, `frame larger than ${this.d.config.maxFrameBytes} bytes`);
      return;
    }
    if (c.state === "authenticating") {
      // Frames sent right after hello wait for it (bounded), so a client may pipeline.
      if (c.pending.length >= 32) c.close(CLOSE_CODES.rateLimited, "too many frames before welcome");
      else c.pending.push(data);
      return;
    }
    if (!this.takeToken(c)) {
      if (++c.refusedInARow > this.d.config.frameBurst) c.close(CLOSE_CODES.rateLimited, "too many frames");
      else this.sendError(c, undefined, ApiError.rateLimited(1 / Math.max(1, this.d.config.framesPerS)));
      return;
    }
    c.refusedInARow = 0;
    if (isBinary) {
      this.sendError(c, undefined, ApiError.invalid("binary frames are not supported; send JSON text"));
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data as Buffer).toString("utf8"));
    } catch {
      this.sendError(c, undefined, ApiError.invalid("malformed JSON"));
      return;
    }
    const base = ClientFrameSchema.safeParse(raw);
    if (!base.success) {
      const id = typeof (raw as { id?: unknown })?.id === "string" ? ((raw as { id: string }).id as string) : undefined;
      this.sendError(c, id && id.length <= 64 ? id : undefined, ApiError.invalid("a frame is a JSON object with a string type"));
      return;
    }
    const frame = base.data;
    if (frame.type === "ping") {
      c.send(frame.id ? { type: "pong", id: frame.id } : { type: "pong" });
      return;
    }
    if (frame.type === "hello") {
      if (c.state !== "new") this.sendError(c, frame.id, ApiError.conflict("already authenticated"));
      else void this.hello(c, frame);
      return;
    }
    if (c.state !== "open" || !c.ctx) {
      this.sendError(c, frame.id, ApiError.unauthorized("send hello with a user token first"));
      return;
    }
    if (frame.type === "auth") {
      void this.reauth(c, frame);
      return;
    }
    const h = this.handlers.get(frame.type);
    if (!h) {
      this.sendError(c, frame.id, ApiError.invalid(`unknown frame type "${frame.type}"`));
      return;
    }
    void this.run(c, frame.id, h, frame);
  }

  private async run(c: Conn, id: string | undefined, h: { schema: z.ZodType; fn: WsHandler<never> }, frame: unknown) {
    try {
      // An app change heard but not yet re-read: the frame runs on the new settings, never the old.
      const reload = c.ctx && this.appReloads.get(c.ctx.app.id);
      if (reload) await reload;
      const ctx = c.ctx;
      if (!ctx || c.closed) return;
      const parsed = parseOr400(h.schema, frame, "frame");
      const data = await h.fn(ctx, parsed as never, c);
      if (id) c.send({ type: "reply", id, ok: true, data: data ?? null });
    } catch (err) {
      if (!(err instanceof ApiError)) this.d.log.error({ err }, "ws: handler failed");
      this.sendError(c, id, err);
    }
  }

  private sendError(c: Conn, id: string | undefined, err: unknown): void {
    const error = wireError(err);
    c.send(id ? { type: "reply", id, ok: false, error } : { type: "error", error });
  }

  private async hello(c: Conn, raw: unknown): Promise<void> {
    c.state = "authenticating";
    let hello: z.output<typeof HelloFrameSchema>;
    let ctx: AuthContext;
    try {
      hello = parseOr400(HelloFrameSchema, raw, "hello");
      // An app change or ban heard while we read would be missed (this socket is not open yet): read again.
      for (let tries = 0; ; tries++) {
        const seen = this.changes;
        ({ ctx } = await this.d.authenticate(hello.token, { rateLimit: false }));
        if (this.changes === seen || tries === 2) break;
      }
    } catch (err) {
      if (c.closed) return;
      const e = err instanceof ApiError ? err : undefined;
      if (e?.code === "invalid_argument") {
        c.state = "new";
        this.sendError(c, undefined, e);
        this.drainPending(c);
        return;
      }
      const error = wireError(err);
      c.send({ type: "error", error });
      c.close(e?.status === 403 ? CLOSE_CODES.forbidden : CLOSE_CODES.unauthorized, error.message);
      return;
    }
    if (c.closed) return;
    if (!ctx.app.signalingEnabled && !ctx.app.messagingEnabled) {
      const error = wireError(ApiError.featureDisabled("signaling"));
      c.send({ type: "error", error });
      c.close(CLOSE_CODES.forbidden, "no real-time capability enabled for this app");
      return;
    }
    // From here to the replay everything is synchronous, so no event can slip between welcome and replay.
    c.ctx = ctx;
    c.deviceId = hello.device_id ?? ctx.deviceId;
    c.state = "open";
    this.armExpiry(c);
    let appStreams = this.streams.get(ctx.app.id);
    if (!appStreams) {
      appStreams = new Map();
      this.streams.set(ctx.app.id, appStreams);
    }
    let s = appStreams.get(ctx.identity);
    if (!s) {
      s = new UserStream(
        ctx.app.id,
        ctx.identity,
        `${this.epochBase}.${(++this.streamCounter).toString(36)}`,
        this.d.config.resumeMaxEvents,
      );
      appStreams.set(ctx.identity, s);
    }
    c.stream = s;
    const resumed = hello.resume ? s.canResume(hello.resume.epoch, hello.resume.seq) : false;
    const welcome: WelcomeFrame = {
      type: "welcome",
      epoch: s.epoch,
      seq: resumed && hello.resume ? hello.resume.seq : s.seq,
      resumed,
      heartbeat_s: this.d.config.heartbeatS,
      max_frame_bytes: this.d.config.maxFrameBytes,
      session: this.sessionOf(c, ctx),
    };
    c.send(welcome);
    if (resumed && hello.resume) this.d.metrics?.deliveries.inc(s.replay(c, hello.resume.seq));
    else if (hello.resume) c.send({ type: "resync_required", reason: s.epoch === hello.resume.epoch ? "gap too large" : "epoch changed" });
    if (hello.resume) this.d.metrics?.resumes.inc({ result: resumed ? "resumed" : "resync" });
    this.d.metrics?.connections.inc();
    s.sinks.add(c);
    s.idleSince = null;
    for (const l of this.listeners) l.connected(ctx, c);
    this.drainPending(c);
  }

  private sessionOf(c: Conn, ctx: AuthContext): WsSession {
    return {
      app_id: ctx.app.id,
      identity: ctx.identity,
      device_id: c.deviceId,
      signaling_enabled: ctx.app.signalingEnabled,
      messaging_enabled: ctx.app.messagingEnabled,
      plan_limits: ctx.app.limits,
      expires_at: iso(ctx.claims.expiresAt),
    };
  }

  private drainPending(c: Conn): void {
    const frames = c.pending.splice(0);
    for (const f of frames) this.onMessage(c, f, false);
  }

  private armExpiry(c: Conn): void {
    if (c.expiryTimer) clearTimeout(c.expiryTimer);
    if (!c.ctx) return;
    const ms = Math.max(0, c.ctx.claims.expiresAt - this.d.clock.now());
    c.expiryTimer = setTimeout(() => c.close(CLOSE_CODES.unauthorized, "token expired"), Math.min(ms, 2 ** 31 - 1));
    c.expiryTimer.unref();
  }

  private async reauth(c: Conn, raw: unknown): Promise<void> {
    const id = (raw as { id?: string }).id;
    try {
      const frame = parseOr400(AuthFrameSchema, raw, "frame");
      const { ctx } = await this.d.authenticate(frame.token, { rateLimit: false });
      if (!c.ctx || ctx.app.id !== c.ctx.app.id || ctx.identity !== c.ctx.identity) {
        throw ApiError.forbidden("the new token belongs to another user");
      }
      c.ctx = ctx;
      this.armExpiry(c);
      c.send({ type: "reply", id: frame.id, ok: true, data: { session: this.sessionOf(c, ctx) } });
    } catch (err) {
      this.sendError(c, id, err);
    }
  }

  private onClose(c: Conn): void {
    const wasOpen = c.ctx !== undefined && (c.stream?.sinks.has(c) ?? false);
    c.state = "closed";
    this.conns.delete(c);
    if (c.expiryTimer) clearTimeout(c.expiryTimer);
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
    const silentMs = this.d.config.heartbeatS * 2000;
    const helloMs = this.d.config.helloTimeoutS * 1000;
    for (const c of this.conns) {
      if (c.state === "closed") continue;
      if (c.state !== "open" && now - c.openedAt > helloMs) c.close(CLOSE_CODES.unauthorized, "no hello in time");
      else if (now - c.lastSeen > silentMs) c.close(CLOSE_CODES.heartbeatTimeout, "heartbeat timeout");
      else if (now - c.lastSeen >= this.d.config.heartbeatS * 1000 - 500) c.ws.ping();
    }
  }

  private gcStreams(): void {
    const cutoff = this.d.clock.now() - this.d.config.resumeTtlS * 1000;
    for (const [appId, byIdentity] of this.streams) {
      for (const [identity, s] of byIdentity) {
        if (s.sinks.size === 0 && s.idleSince !== null && s.idleSince < cutoff) {
          this.unwatch(s, [...s.watching]);
          byIdentity.delete(identity);
        }
      }
      if (byIdentity.size === 0) this.streams.delete(appId);
    }
  }

  /** Closes every socket with 1001 (going away) and stops the timers. */
  async shutdown(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
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
