import type { WsEventMap, WsEventType } from "@utd-stream/protocol";
import type { Bus, BusMessage } from "../bus/port.js";
import type { EventSink } from "../core/events.js";
import type { GatewayMetrics } from "./metrics.js";
import { prepareEvent, type StreamSink, UserStream } from "./stream.js";

export interface FanOutDeps {
  bus: Bus;
  /** Events kept per user stream for resume. */
  resumeMaxEvents: number;
  /** Makes stream epochs unique across restarts of this node. */
  now(): number;
  metrics?: GatewayMetrics | undefined;
}

const key = (appId: string, identity: string) => `${appId}\u0000${identity}`;

/**
 * The user streams of this node and who watches whom. Publishing goes through the bus (so users on
 * other nodes get it too); each node delivers what the bus brings to its own streams, serialising
 * every event once and building each distinct `seq` frame once.
 */
export class FanOut implements EventSink {
  /** app id → identity → stream (nested, so a fan-out looks identities up without building keys). */
  private readonly streams = new Map<string, Map<string, UserStream>>();
  /** `app\0watched identity` → streams watching it. */
  private readonly watchers = new Map<string, Set<UserStream>>();
  private readonly epochBase: string;
  private streamCounter = 0;

  constructor(private readonly d: FanOutDeps) {
    this.epochBase = `${d.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  }

  /** Publishes one event to every device of each identity (on every node), serialising `data` once. */
  toUsers<K extends WsEventType>(appId: string, identities: readonly string[], type: K, data: WsEventMap[K]): void {
    if (identities.length === 0) return;
    this.d.metrics?.published(appId, identities, type, data);
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

  /** The user's stream on this node, made on their first socket (a fresh epoch: nothing to resume). */
  streamFor(appId: string, identity: string): UserStream {
    let appStreams = this.streams.get(appId);
    if (!appStreams) {
      appStreams = new Map();
      this.streams.set(appId, appStreams);
    }
    let s = appStreams.get(identity);
    if (!s) {
      s = new UserStream(appId, identity, `${this.epochBase}.${(++this.streamCounter).toString(36)}`, this.d.resumeMaxEvents);
      appStreams.set(identity, s);
    }
    return s;
  }

  /** The sockets of one user on this node. */
  sinksOf(appId: string, identity: string): StreamSink[] {
    const s = this.streams.get(appId)?.get(identity);
    return s ? [...s.sinks] : [];
  }

  /** Delivers an event the bus brought to the streams of this node: the subject's watchers, then the named identities, once each. */
  deliver(m: Extract<BusMessage, { kind: "event" }>): void {
    const ev = prepareEvent(m.type, m.data);
    // Streams that have seen the same events share a seq: build such a frame once for all of them.
    ev.frames = new Map();
    let done: Set<UserStream> | undefined;
    let streams = 0;
    let sent = 0;
    if (m.watchersOf !== undefined) {
      const w = this.watchers.get(key(m.appId, m.watchersOf));
      if (w) {
        done = new Set(w);
        for (const s of w) {
          sent += s.publish(ev);
          streams++;
        }
      }
    }
    const byIdentity = this.streams.get(m.appId);
    if (byIdentity)
      for (const identity of m.identities) {
        const s = byIdentity.get(identity);
        if (s && !done?.has(s)) {
          sent += s.publish(ev);
          streams++;
          if (done) done.add(s);
        }
      }
    // The resume buffers keep the event; the frames were only for this fan-out.
    ev.frames = undefined;
    if (this.d.metrics && streams > 0) {
      this.d.metrics.events.inc(streams);
      this.d.metrics.deliveries.inc(sent);
    }
  }

  /** Adds identities to a user's watch list (shared by all their devices; kept across resumes). */
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

  unwatch(s: UserStream, identities: readonly string[]): void {
    for (const id of identities) {
      if (!s.watching.delete(id)) continue;
      const k = key(s.appId, id);
      const set = this.watchers.get(k);
      set?.delete(s);
      if (set?.size === 0) this.watchers.delete(k);
    }
  }

  /** Forgets streams that have had no socket since before `idleBefore` (ms), with their watch lists. */
  gc(idleBefore: number): void {
    for (const [appId, byIdentity] of this.streams) {
      for (const [identity, s] of byIdentity) {
        if (s.sinks.size === 0 && s.idleSince !== null && s.idleSince < idleBefore) {
          this.unwatch(s, [...s.watching]);
          byIdentity.delete(identity);
        }
      }
      if (byIdentity.size === 0) this.streams.delete(appId);
    }
  }
}
