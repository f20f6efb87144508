import type { EventCodec, StreamEntry, UserStreams } from "../bus/streams.js";
import { headerLength, writeTextHeader } from "./wire.js";

/**
 * One event serialised once per publish: the frame is `head + seq + tail`, so each recipient's `seq`
 * is spliced in without serialising `data` again. Stream histories keep references to this one object.
 * What goes to the sockets is the whole WebSocket frame (`wire.ts`), built once per distinct `seq`.
 */
export interface PreparedEvent {
  readonly type: string;
  /** The event data, already serialised (JSON). */
  readonly data: string;
  /** UTF-8 of `{"type":…,"seq":` */
  readonly head: Buffer;
  /** UTF-8 of `,"data":…}` */
  readonly tail: Buffer;
  /** Wire frames already built during this publish, by seq: recipients at the same seq share one buffer. */
  frames?: Map<number, Buffer> | undefined;
}

/** The user-stream port as the gateway uses it: events are prepared frames. */
export type EventStreams = UserStreams<PreparedEvent>;

/** Builds the shared parts of `{"type":…,"seq":N,"data":…}` from the already-serialised data (encoded to UTF-8 once). */
export function prepareEvent(type: string, dataJson: string): PreparedEvent {
  return {
    type,
    data: dataJson,
    head: Buffer.from(`{"type":${JSON.stringify(type)},"seq":`),
    tail: Buffer.from(`,"data":${dataJson}}`),
  };
}

/** Stored form of an event (Redis): `<type>\n<data JSON>`. */
export const EVENT_CODEC: EventCodec<PreparedEvent> = {
  encode: (ev) => `${ev.type}\n${ev.data}`,
  decode: (text) => {
    const nl = text.indexOf("\n");
    if (nl < 0) throw new Error("malformed stored event");
    return prepareEvent(text.slice(0, nl), text.slice(nl + 1));
  },
};

/**
 * The WebSocket text frame (header + UTF-8 JSON payload, see `wire.ts`) of a prepared event at a given
 * seq: one buffer, three copies, no re-encoding.
 */
export function wireOf(ev: PreparedEvent, seq: number): Buffer {
  const digits = String(seq);
  const len = ev.head.length + digits.length + ev.tail.length;
  const out = Buffer.allocUnsafe(headerLength(len) + len);
  const at = writeTextHeader(out, len);
  ev.head.copy(out, at);
  out.write(digits, at + ev.head.length, "latin1");
  ev.tail.copy(out, at + ev.head.length + digits.length);
  return out;
}

/** Something that can receive a frame (a socket of this user). */
export interface StreamSink {
  /** Sends one text frame, already framed for the wire ({@link wireOf}). */
  sendWire(wire: Buffer): void;
  /** The sink has been sent (or had replayed) every event up to this seq: live events at or below it are skipped. */
  after: number;
  /** The stream lost its history under the sink (Redis lost it): the sink must reconnect and resync. */
  streamReset(): void;
}

/**
 * A user's stream as held on this node: all devices of one identity share it. Its history lives in the
 * user-stream port; here it keeps the epoch, the last `seq` delivered to its sockets, and puts events
 * in order: a repeated seq is dropped, a gap is filled from the port before later events go out.
 */
export class UserStream {
  epoch = "";
  /** The last seq delivered to this node's sockets. */
  seq = 0;
  readonly sinks = new Set<StreamSink>();
  /**
   * Identities this user watches for `presence.changed` (kept with the stream, so it survives a resume);
   * made by the first watch: most users watch no one, and an empty Set costs ~140 bytes per user.
   */
  watching: Set<string> | undefined;
  /** When the last socket left (ms), or null while connected. */
  idleSince: number | null;
  /** Resolves once the head is known (undefined when it already is). */
  opening: Promise<void> | undefined;
  /** The stream was reset or released here: it delivers nothing more. */
  dead = false;
  /** Events that came before the head was known, or after a gap, by seq (made when first needed: most streams never hold one). */
  private early: Map<number, PreparedEvent> | undefined;
  private filling = false;

  constructor(
    readonly appId: string,
    readonly identity: string,
    private readonly port: EventStreams,
    private readonly onReset: (s: UserStream) => void,
    now: number,
  ) {
    this.idleSince = now;
  }

  /** The head is known: from here on events after `seq` go out. */
  opened(epoch: string, seq: number): void {
    this.epoch = epoch;
    this.seq = seq;
    this.opening = undefined;
    if (this.early && this.early.size > 0) this.drain();
  }

  /** An event the port brought; answers how many sockets it went to now. */
  ingest(epoch: string, seq: number, ev: PreparedEvent): number {
    if (this.dead) return 0;
    if (this.opening) {
      this.early ??= new Map();
      this.early.set(seq, ev);
      return 0;
    }
    if (epoch !== this.epoch) {
      this.reset();
      return 0;
    }
    if (seq <= this.seq) return 0;
    if (seq !== this.seq + 1 || this.filling) {
      this.early ??= new Map();
      this.early.set(seq, ev);
      this.fill();
      return 0;
    }
    return this.deliver(seq, ev);
  }

  private deliver(seq: number, ev: PreparedEvent): number {
    this.seq = seq;
    if (this.sinks.size === 0) return 0;
    let wire = ev.frames?.get(seq);
    if (!wire) {
      wire = wireOf(ev, seq);
      ev.frames?.set(seq, wire);
    }
    let n = 0;
    for (const s of this.sinks) {
      if (seq > s.after) {
        s.after = seq;
        s.sendWire(wire);
        n++;
      }
    }
    return n;
  }

  /** Delivers the held-back events that are next in order; asks the port for a gap that remains. */
  private drain(): void {
    const early = this.early;
    if (!early) return;
    for (const k of [...early.keys()]) if (k <= this.seq) early.delete(k);
    for (let ev = early.get(this.seq + 1); ev; ev = early.get(this.seq + 1)) {
      early.delete(this.seq + 1);
      this.deliver(this.seq + 1, ev);
    }
    if (early.size > 0) this.fill();
    else this.early = undefined;
  }

  /** Reads what this node missed (a message lost on the way, or a reconnect to Redis) from the port. */
  fill(): void {
    if (this.filling || this.dead || this.opening) return;
    this.filling = true;
    this.port.since(this.appId, this.identity, this.epoch, this.seq).then(
      (entries) => {
        this.filling = false;
        if (this.dead) return;
        if (entries === null) return this.reset();
        for (const e of entries) if (e.seq === this.seq + 1) this.deliver(e.seq, e.ev);
        this.drain();
      },
      () => {
        // The port is unreachable: try again shortly (events stay held back, nothing goes out of order).
        setTimeout(() => {
          this.filling = false;
          this.fill();
        }, 500).unref();
      },
    );
  }

  /** The history is gone (Redis lost it): every socket must reconnect and resync; the stream is forgotten here. */
  reset(): void {
    if (this.dead) return;
    this.dead = true;
    this.early = undefined;
    for (const s of [...this.sinks]) s.streamReset();
    this.onReset(this);
  }

  /** Sends `entries` (a replay) to one sink, in order, past its `after`. */
  static replay(sink: StreamSink, entries: readonly StreamEntry<PreparedEvent>[]): number {
    let n = 0;
    for (const e of entries) {
      if (e.seq > sink.after) {
        sink.after = e.seq;
        sink.sendWire(wireOf(e.ev, e.seq));
        n++;
      }
    }
    return n;
  }
}
