import { AuthFrameSchema, CLOSE_CODES, HelloFrameSchema, type WelcomeFrame, type WsSession } from "@utd-stream/protocol/schemas";
import type { FastifyBaseLogger } from "fastify";
import type { z } from "zod";
import type { AppRecord, AuthContext, Authenticate, FindApp } from "../core/caller.js";
import { type Clock, iso } from "../core/clock.js";
import { ApiError } from "../core/errors.js";
import { parseOr400 } from "../core/validation.js";
import type { GatewayConfig } from "./config.js";
import type { Conn, ConnectionListener } from "./connection.js";
import { ExpiryQueue } from "./expiry.js";
import type { FanOut, ResumeResult } from "./fanout.js";
import type { GatewayMetrics } from "./metrics.js";
import { UserStream } from "./stream.js";
import { sendError, wireError } from "./verbs.js";

export interface HandshakeDeps {
  config: GatewayConfig;
  /** Resolves the `hello` (and re-auth) token to its caller. */
  authenticate: Authenticate;
  /** Re-reads an app when its settings change (sockets follow capability switches). */
  findApp: FindApp;
  clock: Clock;
  log: FastifyBaseLogger;
  metrics?: GatewayMetrics | undefined;
  fanout: FanOut;
  listeners: readonly ConnectionListener[];
}

/**
 * Whether an app change closes a socket authenticated for it — the app is gone, its credentials were
 * rotated after the socket's token was issued, its auth mode is no longer the token's, or it has no
 * real-time capability left: the close code and reason, or undefined to keep the socket with the new
 * settings.
 */
export function closeOnAppChange(
  ctx: { claims: Pick<AuthContext["claims"], "issuedAt" | "authMode"> },
  app: Pick<AppRecord, "signalingEnabled" | "messagingEnabled" | "tokensValidAfter" | "authMode"> | undefined,
): { code: number; reason: string } | undefined {
  if (!app) return { code: CLOSE_CODES.unauthorized, reason: "app deleted" };
  if (ctx.claims.issuedAt < app.tokensValidAfter) return { code: CLOSE_CODES.unauthorized, reason: "the app's credentials changed" };
  if (ctx.claims.authMode !== null && ctx.claims.authMode !== app.authMode) {
    return { code: CLOSE_CODES.unauthorized, reason: "the app's auth mode changed" };
  }
  if (!app.signalingEnabled && !app.messagingEnabled) return { code: CLOSE_CODES.forbidden, reason: "capability disabled" };
  return undefined;
}

/**
 * A socket's authentication over its life: `hello` (token, capability, the user's stream, `welcome`,
 * resume or `resync_required`), re-authentication with a fresh token (`auth`), closing at token expiry,
 * and following changes to the app.
 */
export class Handshake {
  /** app id → the tail of its re-reads (serialised, so an older read never overwrites a newer one). */
  private readonly appReloads = new Map<string, Promise<void>>();
  /** Bumped by every app change and socket close heard; a hello that overlapped one re-authenticates. */
  private changes = 0;
  /** Open sockets by their token's expiry: one timer for all of them. */
  private readonly expiries = new ExpiryQueue<Conn>((c) => c.close(CLOSE_CODES.unauthorized, "token expired"));

  constructor(private readonly d: HandshakeDeps) {}

  /** Notes a socket close heard on the bus (a ban, a revocation): a `hello` reading meanwhile reads again. */
  closeHeard(): void {
    this.changes++;
  }

  /** The re-read of the app still pending, if any: frames of that app wait for it. */
  pendingReload(appId: string): Promise<void> | undefined {
    return this.appReloads.get(appId);
  }

  /**
   * Answers `hello`. Frames the client pipelined behind it wait in `c.pending`; `drain` runs them once
   * the socket is open (or back to `new` after a malformed hello).
   */
  async hello(c: Conn, raw: unknown, drain: (c: Conn) => void): Promise<void> {
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
        sendError(c, undefined, e);
        drain(c);
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
    const s = this.d.fanout.streamFor(ctx.app.id, ctx.identity);
    let replay: ResumeResult = null;
    try {
      if (s.opening) await s.opening;
      if (hello.resume) {
        const r = this.d.fanout.resume(s, hello.resume.epoch, hello.resume.seq);
        replay = r instanceof Promise ? await r : r;
      }
    } catch (err) {
      this.d.log.warn({ err }, "ws: user stream unavailable");
      if (c.closed) return;
      c.send({ type: "error", error: wireError(new ApiError("unavailable", "event stream unavailable, retry")) });
      c.close(CLOSE_CODES.goingAway, "event stream unavailable");
      return;
    }
    if (c.closed || s.dead) {
      if (!c.closed) c.close(CLOSE_CODES.goingAway, "event stream reset: reconnect");
      return;
    }
    // From here to attaching the socket everything is synchronous, so no event can slip between welcome and replay.
    c.ctx = ctx;
    c.deviceId = hello.device_id ?? ctx.deviceId;
    c.state = "open";
    this.armExpiry(c);
    c.stream = s;
    const resumed = replay !== null && hello.resume !== undefined;
    c.after = resumed && hello.resume ? hello.resume.seq : s.seq;
    const welcome: WelcomeFrame = {
      type: "welcome",
      epoch: s.epoch,
      seq: c.after,
      resumed,
      heartbeat_s: this.d.config.heartbeatS,
      max_frame_bytes: this.d.config.maxFrameBytes,
      session: this.sessionOf(c, ctx),
    };
    c.send(welcome);
    if (resumed && replay) this.d.metrics?.deliveries.inc(UserStream.replay(c, replay.entries));
    else if (hello.resume) {
      c.send({ type: "resync_required", reason: s.epoch === hello.resume.epoch ? "gap too large" : "epoch changed" });
      c.after = s.seq;
    }
    if (hello.resume) this.d.metrics?.resumes.inc({ result: resumed ? "resumed" : "resync" });
    this.d.metrics?.connections.inc();
    // One identity holds at most maxSocketsPerIdentity sockets here: the newest stays, the oldest go (4409).
    if (s.sinks.size >= this.d.config.maxSocketsPerIdentity) {
      const open = [...s.sinks].filter((x) => !(x as Conn).closed) as Conn[];
      for (const old of open.slice(0, Math.max(0, open.length - this.d.config.maxSocketsPerIdentity + 1))) {
        old.close(CLOSE_CODES.tooManySockets, `more than ${this.d.config.maxSocketsPerIdentity} sockets for this identity`);
      }
    }
    s.sinks.add(c);
    s.idleSince = null;
    for (const l of this.d.listeners) l.connected(ctx, c);
    drain(c);
  }

  /** Answers `auth`: a fresh token of the same user extends the socket's life (and refreshes its session). */
  async reauth(c: Conn, raw: unknown): Promise<void> {
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
      sendError(c, id, err);
    }
  }

  /**
   * An app changed: queues a re-read of it for its open sockets on this node ({@link closeOnAppChange}).
   * Resolves when the re-read is done (undefined when no socket of the app is open and none is pending).
   */
  appChanged(conns: Iterable<Conn>, appId: string): Promise<void> | undefined {
    this.changes++;
    if (![...conns].some((c) => c.ctx?.app.id === appId)) return this.appReloads.get(appId);
    const prev = this.appReloads.get(appId) ?? Promise.resolve();
    const p: Promise<void> = prev
      .then(() => this.applyApp(conns, appId))
      .finally(() => {
        if (this.appReloads.get(appId) === p) this.appReloads.delete(appId);
      });
    this.appReloads.set(appId, p);
    return p;
  }

  private async applyApp(conns: Iterable<Conn>, appId: string): Promise<void> {
    const affected = [...conns].filter((c) => c.ctx?.app.id === appId);
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
      const close = closeOnAppChange(c.ctx, app);
      if (close) c.close(close.code, close.reason);
      else if (app) c.ctx = { ...c.ctx, app };
    }
  }

  private sessionOf(c: Conn, ctx: AuthContext): WsSession {
    return {
      app_id: ctx.app.id,
      identity: ctx.identity,
      device_id: c.deviceId,
      signaling_enabled: ctx.app.signalingEnabled,
      messaging_enabled: ctx.app.messagingEnabled,
      plan_limits: ctx.app.limits,
      expires_at: this.expiresIso(ctx.claims.expiresAt),
    };
  }

  /** `iso(ms)`, the last answer kept: tokens minted close together expire in the same second. */
  private expiresIso(ms: number): string {
    if (this.lastExpiry.ms !== ms) this.lastExpiry = { ms, iso: iso(ms) };
    return this.lastExpiry.iso;
  }
  private lastExpiry = { ms: Number.NaN, iso: "" };

  /** Closes the socket with 4401 when its token expires (re-armed by `auth`). */
  private armExpiry(c: Conn): void {
    if (c.ctx) this.expiries.set(c, c.ctx.claims.expiresAt - this.d.clock.now());
    else this.expiries.delete(c);
  }

  /** The socket closed: it no longer waits for its token's expiry. */
  closed(c: Conn): void {
    this.expiries.delete(c);
  }

  /** Stops the expiry timer (shutdown). */
  stop(): void {
    this.expiries.stop();
  }
}
