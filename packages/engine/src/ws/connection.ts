import type { Duplex } from "node:stream";
import { CLOSE_CODES } from "@utd-stream/protocol";
import { type RawData, WebSocket } from "ws";
import type { AuthContext } from "../core/caller.js";
import type { GatewayConfig } from "./config.js";
import type { Expiring } from "./expiry.js";
import type { StreamSink, UserStream } from "./stream.js";
import { payloadOf, textFrame } from "./wire.js";

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

/** Connection lifecycle, for presence. */
export interface ConnectionListener {
  connected(ctx: AuthContext, conn: WsConnection): void;
  /** `remaining`: the user's other sockets still open on this node. */
  disconnected(ctx: AuthContext, conn: WsConnection, remaining: number): void;
}

/** Where a socket's watch list lives (the fan-out) and who counts its closes (metrics). */
export interface ConnHost {
  watch(s: UserStream, identities: readonly string[]): void;
  unwatch(s: UserStream, identities: readonly string[]): void;
  closedWith(code: number): void;
  /** `c` holds frames to write: call its `flush()` once the current turn of the event loop is done. */
  queueFlush(c: Conn): void;
}

/**
 * A socket's frame budget: a token bucket of `burst` frames refilled at `perS` a second. A frame over
 * budget is refused; more than `burst` refusals in a row close the socket.
 */
export class FrameBudget {
  private tokens: number;
  private at: number;
  private refusedInARow = 0;

  constructor(
    private readonly burst: number,
    private readonly perS: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  /** `ok` spends a token; `refuse` answers `rate_limited`; `close` ends a socket that ignores refusals. */
  take(now: number): "ok" | "refuse" | "close" {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.perS);
    this.at = now;
    if (this.tokens < 1) return ++this.refusedInARow > this.burst ? "close" : "refuse";
    this.tokens -= 1;
    this.refusedInARow = 0;
    return "ok";
  }
}

/** Bytes in a received message (ws hands over a Buffer, an ArrayBuffer or fragments). */
export function frameSize(data: RawData): number {
  return Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength;
}

/**
 * What the heartbeat does to a socket now: close one that sent no `hello` in time or has been silent
 * for two heartbeats, ping one about to go quiet for a heartbeat, else nothing.
 */
export function heartbeatVerdict(
  c: { state: Conn["state"]; openedAt: number; lastSeen: number },
  now: number,
  config: Pick<GatewayConfig, "heartbeatS" | "helloTimeoutS">,
): "no_hello" | "silent" | "ping" | "ok" {
  if (c.state === "closed") return "ok";
  if (c.state !== "open" && now - c.openedAt > config.helloTimeoutS * 1000) return "no_hello";
  if (now - c.lastSeen > config.heartbeatS * 2000) return "silent";
  if (now - c.lastSeen >= config.heartbeatS * 1000 - 500) return "ping";
  return "ok";
}

/** One socket: its state through the handshake, its user's stream once open, and its frame budget. */
export class Conn implements StreamSink, WsConnection, Expiring {
  ctx: AuthContext | undefined;
  stream: UserStream | undefined;
  deviceId: string | null = null;
  state: "new" | "authenticating" | "open" | "closed" = "new";
  readonly openedAt: number;
  lastSeen: number;
  readonly budget: FrameBudget;
  /** When the token expires, on the handshake's expiry queue (performance.now() ms), and the queue's slot. */
  expiryDue = 0;
  expiryIndex = -1;
  /** Frames that arrived while `hello` was being checked; they run after it (made when the first one comes). */
  pending: RawData[] | undefined;
  /** The last stream seq this socket was sent (live or replayed). */
  after = 0;
  /**
   * The socket under `ws`, when frames built by `wire.ts` may be written to it as they are: no extension
   * (permessage-deflate) was negotiated, so `ws` itself writes every frame synchronously, in call order.
   */
  private readonly raw: Duplex | undefined;
  /** Frames for `raw` not yet written (one, or several in order): written together by {@link flush}. */
  private out: Buffer | Buffer[] | undefined;

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    private readonly host: ConnHost,
    now: number,
    private readonly config: Pick<GatewayConfig, "frameBurst" | "framesPerS" | "maxBufferedBytes">,
    socket?: Duplex,
  ) {
    this.openedAt = now;
    this.lastSeen = now;
    this.budget = new FrameBudget(config.frameBurst, config.framesPerS, now);
    this.raw = socket && ws.extensions === "" ? socket : undefined;
  }
  get closed(): boolean {
    return this.state === "closed";
  }
  sendRaw(frame: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (!this.raw) {
      this.ws.send(frame);
      this.checkBuffered();
      return;
    }
    // Framed here and written with what `sendWire` holds in one write: `ws` would write a header buffer
    // and the payload as a two-buffer `writev` (a tenth of a handshake's CPU went to the welcome's).
    this.hold(textFrame(frame));
    this.flush();
  }
  sendFrame(frame: Buffer): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.out) this.flush();
    this.ws.send(frame, { binary: false });
    this.checkBuffered();
  }
  /**
   * A user-stream event, framed once for all its recipients. The frames a socket gets during one turn of
   * the event loop (the publishes it handled) go out in one write at its end; anything else sent to the
   * socket meanwhile (a reply, a room frame, a close) writes them first, so the order on the wire is the
   * order of the calls.
   */
  sendWire(wire: Buffer): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (!this.raw) {
      this.ws.send(payloadOf(wire), { binary: false });
      this.checkBuffered();
    } else if (this.hold(wire)) this.host.queueFlush(this);
  }
  /** Adds `wire` to the frames held for one write; true when none were held before. */
  private hold(wire: Buffer): boolean {
    if (this.out === undefined) {
      this.out = wire;
      return true;
    }
    if (Array.isArray(this.out)) this.out.push(wire);
    else this.out = [this.out, wire];
    return false;
  }
  /** Writes the frames {@link sendWire} held (dropped when the socket is no longer open, as `ws` drops sends then). */
  flush(): void {
    const out = this.out;
    if (out === undefined) return;
    this.out = undefined;
    if (this.ws.readyState !== WebSocket.OPEN || !this.raw) return;
    this.raw.write(Array.isArray(out) ? Buffer.concat(out) : out);
    this.checkBuffered();
  }
  /** A reader that falls behind is cut off instead of growing the node's memory without bound. */
  private checkBuffered(): void {
    if (this.ws.bufferedAmount > this.config.maxBufferedBytes) this.close(CLOSE_CODES.slowConsumer, "slow consumer: send buffer full");
  }
  send(obj: unknown): void {
    this.sendRaw(JSON.stringify(obj));
  }
  /** The user's stream lost its history (Redis lost it): reconnect, and the resume answers `resync_required`. */
  streamReset(): void {
    this.close(CLOSE_CODES.goingAway, "event stream reset: reconnect");
  }
  watch(identities: readonly string[]): void {
    if (this.stream) this.host.watch(this.stream, identities);
  }
  unwatch(identities: readonly string[]): void {
    if (this.stream) this.host.unwatch(this.stream, identities);
  }
  watchCount(): number {
    return this.stream?.watching?.size ?? 0;
  }
  close(code: number, reason: string): void {
    if (this.state === "closed") return;
    if (this.out) this.flush();
    this.state = "closed";
    this.host.closedWith(code);
    try {
      this.ws.close(code, reason.slice(0, 120));
    } catch {
      this.ws.terminate();
    }
    // A peer that never answers the close handshake is cut off instead of holding the slot.
    setTimeout(() => this.ws.terminate(), 5000).unref();
  }
}
