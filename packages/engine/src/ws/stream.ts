/**
 * One event serialised once per publish: the frame is `head + seq + tail`, so each recipient's `seq`
 * is spliced in without serialising `data` again. Resume buffers keep references to this one object.
 */
export interface PreparedEvent {
  /** UTF-8 of `{"type":…,"seq":` */
  readonly head: Buffer;
  /** UTF-8 of `,"data":…}` */
  readonly tail: Buffer;
  /** Frames already built during this publish, by seq: recipients at the same seq share one buffer. */
  frames?: Map<number, Buffer> | undefined;
}

/** Builds the shared parts of `{"type":…,"seq":N,"data":…}` from the already-serialised data (encoded to UTF-8 once). */
export function prepareEvent(type: string, dataJson: string): PreparedEvent {
  return { head: Buffer.from(`{"type":${JSON.stringify(type)},"seq":`), tail: Buffer.from(`,"data":${dataJson}}`) };
}

/** The frame (UTF-8 JSON text) of a prepared event at a given seq: two copies, no re-encoding. */
export function frameOf(ev: PreparedEvent, seq: number): Buffer {
  const digits = String(seq);
  const out = Buffer.allocUnsafe(ev.head.length + digits.length + ev.tail.length);
  ev.head.copy(out, 0);
  out.write(digits, ev.head.length, "latin1");
  ev.tail.copy(out, ev.head.length + digits.length);
  return out;
}

interface Buffered {
  seq: number;
  ev: PreparedEvent;
}

/** Something that can receive a frame (a socket of this user). */
export interface StreamSink {
  /** Sends one text frame (UTF-8 JSON). */
  sendFrame(frame: Buffer): void;
}

/**
 * A user's event stream on this node: all devices of one identity share it. `seq` rises by one per
 * event within `epoch`; the last `maxEvents` events are kept so a reconnecting device can resume.
 */
export class UserStream {
  seq = 0;
  private readonly buf: Buffered[] = [];
  readonly sinks = new Set<StreamSink>();
  /** Identities this user watches for `presence.changed` (kept with the stream, so it survives a resume). */
  readonly watching = new Set<string>();
  /** When the last socket left (ms), or null while connected. */
  idleSince: number | null = null;

  constructor(
    readonly appId: string,
    readonly identity: string,
    readonly epoch: string,
    private readonly maxEvents: number,
  ) {}

  /** Appends an event and sends it to every connected device; returns how many sockets it went to. */
  publish(ev: PreparedEvent): number {
    const seq = ++this.seq;
    this.buf.push({ seq, ev });
    if (this.buf.length > this.maxEvents) this.buf.shift();
    if (this.sinks.size === 0) return 0;
    let frame = ev.frames?.get(seq);
    if (!frame) {
      frame = frameOf(ev, seq);
      ev.frames?.set(seq, frame);
    }
    for (const s of this.sinks) s.sendFrame(frame);
    return this.sinks.size;
  }

  /** Whether events after `seq` of `epoch` are all still buffered. */
  canResume(epoch: string, seq: number): boolean {
    if (epoch !== this.epoch || seq > this.seq) return false;
    if (seq === this.seq) return true;
    const first = this.buf[0];
    return first !== undefined && first.seq <= seq + 1;
  }

  /** Sends every buffered event after `seq` to one sink, in order. */
  replay(sink: StreamSink, after: number): number {
    let n = 0;
    for (const b of this.buf) {
      if (b.seq > after) {
        sink.sendFrame(frameOf(b.ev, b.seq));
        n++;
      }
    }
    return n;
  }
}
