import type { WsEventMap, WsEventType } from "@utd-stream/protocol";
import type { StreamEntry } from "../bus/streams.js";
import type { EventSink } from "../core/events.js";
import type { GatewayMetrics } from "./metrics.js";
import { type EventStreams, type PreparedEvent, prepareEvent, type StreamSink, UserStream } from "./stream.js";

export interface FanOutDeps {
  /** Where user streams live: in-process (one node) or Redis Streams (any node can resume). */
  streams: EventStreams;
  now(): number;
  metrics?: GatewayMetrics | undefined;
  onError?: (err: unknown, what: string) => void;
}

/** What a resuming socket gets: the entries to replay, or null when it must resync. */
export type ResumeResult = { entries: StreamEntry<PreparedEvent>[] } | null;

/**
 * The user streams this node holds (one per identity with a socket here, kept `UTD_WS_RESUME_TTL_S`
 * after the last one left). Publishing goes to the user-stream port, which assigns each recipient's
 * `seq` and brings the events of held streams back to this node only; each event is serialised once
 * per publish and each distinct `seq` frame built once.
 */
export class FanOut implements EventSink {
  /** app id → identity → stream (nested, so a fan-out looks identities up without building keys). */
  private readonly streams = new Map<string, Map<string, UserStream>>();
  private pendingEvents = 0;
  private pendingDeliveries = 0;
  private flushQueued = false;

  constructor(private readonly d: FanOutDeps) {
    d.streams.listen({
      event: (_appId, _identity, epoch, seq, ev, ref) => this.event(ref as UserStream, epoch, seq, ev),
      reconnected: () => this.recheck(),
    });
  }

  /** Publishes one event to every device of each identity (on every node), serialising `data` once. */
  toUsers<K extends WsEventType>(
    appId: string,
    identities: readonly string[],
    type: K,
    data: WsEventMap[K],
    once?: string,
  ): void | Promise<void> {
    if (identities.length === 0) return;
    this.d.metrics?.published(appId, identities, type, data);
    const ev = prepareEvent(type, JSON.stringify(data ?? null));
    // Streams at the same seq share one frame while the (in-process) publish runs.
    ev.frames = new Map();
    const done = this.d.streams.publish(appId, identities, ev, once);
    ev.frames = undefined;
    // Fire-and-forget callers must not see an unhandled rejection (the port reported it already).
    done?.catch(() => {});
    return done;
  }

  /** Publishes to every user watching `subject` (presence watch lists), plus `identities`, once each. */
  toWatchers<K extends WsEventType>(appId: string, subject: string, identities: readonly string[], type: K, data: WsEventMap[K]): void {
    const ev = prepareEvent(type, JSON.stringify(data ?? null));
    ev.frames = new Map();
    this.d.streams.publishToWatchers(appId, subject, identities, ev);
    ev.frames = undefined;
  }

  /** An event of a stream this node holds. */
  private event(s: UserStream, epoch: string, seq: number, ev: PreparedEvent): void {
    const sent = s.ingest(epoch, seq, ev);
    if (!this.d.metrics) return;
    this.pendingEvents++;
    this.pendingDeliveries += sent;
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flushMetrics());
    }
  }

  private flushMetrics(): void {
    this.flushQueued = false;
    if (!this.d.metrics) return;
    this.d.metrics.events.inc(this.pendingEvents);
    if (this.pendingDeliveries > 0) this.d.metrics.deliveries.inc(this.pendingDeliveries);
    this.pendingEvents = 0;
    this.pendingDeliveries = 0;
  }

  /**
   * The user's stream on this node, held on their first socket (when the port already has it, e.g. from
   * another node, its epoch and seq carry on). `opening` is set until the head is known.
   */
  streamFor(appId: string, identity: string): UserStream {
    let appStreams = this.streams.get(appId);
    if (!appStreams) {
      appStreams = new Map();
      this.streams.set(appId, appStreams);
    }
    let s = appStreams.get(identity);
    if (!s) {
      const stream = new UserStream(appId, identity, this.d.streams, this.onReset, this.d.now());
      s = stream;
      appStreams.set(identity, stream);
      const sync = this.d.streams.holdNow?.(appId, identity, stream);
      if (sync) stream.opened(sync.epoch, sync.seq);
      else {
        stream.opening = this.d.streams.hold(appId, identity, stream).then(
          (h) => stream.opened(h.epoch, h.seq),
          (err) => {
            this.forget(stream);
            throw err;
          },
        );
      }
    }
    return s;
  }

  /**
   * What a `resume{epoch, seq}` on stream `s` replays: every event after `seq` that this node has already
   * delivered to the stream's other sockets (so the socket joins the live flow with nothing missing or
   * repeated), or null when they are not all kept. Synchronous when the port is (in-process).
   */
  resume(s: UserStream, epoch: string, seq: number): ResumeResult | Promise<ResumeResult> {
    if (epoch !== s.epoch) return null;
    const sync = this.d.streams.sinceNow?.(s.appId, s.identity, epoch, seq);
    if (sync !== undefined) return sync === null ? null : { entries: sync };
    return this.resumeAsync(s, epoch, seq);
  }

  private async resumeAsync(s: UserStream, epoch: string, seq: number): Promise<ResumeResult> {
    const entries: StreamEntry<PreparedEvent>[] = [];
    let from = seq;
    // The node may deliver more to the stream while we read: read again until the replay reaches it.
    for (let tries = 0; tries < 5; tries++) {
      const got = await this.d.streams.since(s.appId, s.identity, epoch, from);
      if (got === null || s.dead) return null;
      entries.push(...got);
      from = entries.at(-1)?.seq ?? from;
      if (from >= s.seq) return { entries };
    }
    return null;
  }

  /** The sockets of one user on this node. */
  sinksOf(appId: string, identity: string): StreamSink[] {
    const s = this.streams.get(appId)?.get(identity);
    return s ? [...s.sinks] : [];
  }

  /** Adds identities to a user's watch list (shared by all their devices; kept across resumes). */
  watch(s: UserStream, identities: readonly string[]): void {
    s.watching ??= new Set();
    const watching = s.watching;
    const added = identities.filter((id) => !watching.has(id));
    for (const id of added) watching.add(id);
    if (added.length > 0) this.d.streams.watch(s.appId, s.identity, added);
  }

  unwatch(s: UserStream, identities: readonly string[]): void {
    const watching = s.watching;
    if (!watching) return;
    const removed = identities.filter((id) => watching.delete(id));
    if (removed.length > 0) this.d.streams.unwatch(s.appId, s.identity, removed);
  }

  /** Stops holding a stream here (idle, or reset by the port). */
  /** What a stream calls when it is reset: one function for all of them (a closure each cost every stream 56 bytes). */
  private readonly onReset = (s: UserStream): void => this.forget(s);

  private forget(s: UserStream): void {
    s.dead = true;
    const byIdentity = this.streams.get(s.appId);
    if (byIdentity?.get(s.identity) !== s) return;
    if (s.watching) this.unwatch(s, [...s.watching]);
    byIdentity.delete(s.identity);
    if (byIdentity.size === 0) this.streams.delete(s.appId);
    this.d.streams.release(s.appId, s.identity);
  }

  /** Forgets streams that have had no socket since before `idleBefore` (ms), with their watch lists. */
  gc(idleBefore: number): void {
    for (const byIdentity of [...this.streams.values()]) {
      for (const s of [...byIdentity.values()]) {
        if (s.sinks.size === 0 && s.idleSince !== null && s.idleSince < idleBefore && !s.opening) this.forget(s);
      }
    }
  }

  /** Back in touch with the port after an outage: each held stream catches up on what it missed (or resets). */
  private recheck(): void {
    for (const byIdentity of this.streams.values()) {
      for (const s of byIdentity.values()) {
        if (s.opening || s.dead) continue;
        this.d.streams.head(s.appId, s.identity).then(
          (h) => {
            if (!h || h.epoch !== s.epoch) s.reset();
            else if (h.seq > s.seq) s.fill();
          },
          (err) => this.d.onError?.(err, "user stream re-check"),
        );
      }
    }
  }
}
