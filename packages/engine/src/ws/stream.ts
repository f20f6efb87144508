/**
 * One event serialised once per publish: the frame is `head + seq + tail`, so each recipient's `seq`
 * is spliced in without serialising `data` again. Resume buffers keep references to this one object.
 */
export interface PreparedEvent {
  readonly head: string;
  readonly tail: string;
}

/** Builds the shared parts of `{"type":…,"seq":N,"data":…}` from the already-serialised data. */
export function prepareEvent(type: string, dataJson: string): PreparedEvent {
  return { head: `{"type":${JSON.stringify(type)},"seq":`, tail: `,"data":${dataJson}}` };
}

/** The frame text of a prepared event at a given seq. */
export function frameOf(ev: PreparedEvent, seq: number): string {
  return ev.head + seq + ev.tail;
}

interface Buffered {
  seq: number;
  ev: PreparedEvent;
}

/** Something that can receive a frame (a socket of this user). */
export interface StreamSink {
  sendRaw(frame: string): void;
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

  /** Appends an event and sends it to every connected device. */
  publish(ev: PreparedEvent): void {
    const seq = ++this.seq;
    this.buf.push({ seq, ev });
    if (this.buf.length > this.maxEvents) this.buf.shift();
    if (this.sinks.size === 0) return;
    const frame = frameOf(ev, seq);
    for (const s of this.sinks) s.sendRaw(frame);
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
        sink.sendRaw(frameOf(b.ev, b.seq));
        n++;
      }
    }
    return n;
  }
}
