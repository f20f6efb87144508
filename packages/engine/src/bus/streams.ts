/**
 * User streams: each identity's event stream across all its devices and all engine nodes. A stream has
 * an `epoch` (changes when its history is lost: created afresh, expired, Redis restarted) and a `seq`
 * rising by one per event within the epoch; the last `maxEvents` events are kept for resume.
 *
 * Publishing appends and assigns `seq` atomically, in the stream's home (this process for the in-process
 * implementation, Redis for the cluster one). A node *holds* the streams of the users it has sockets
 * for and receives the events of those streams only (route, don't broadcast). Any node can replay a
 * gap with {@link UserStreams.since}: a reconnect may land anywhere.
 *
 * Events are opaque to the port (`E`): the in-process implementation keeps references (the gateway's
 * prepared frames, serialised once per publish); the Redis one stores what {@link EventCodec} makes.
 */
export interface StreamHead {
  readonly epoch: string;
  readonly seq: number;
}

/** One stored event of a stream. */
export interface StreamEntry<E> {
  readonly seq: number;
  readonly ev: E;
  /** The publish's `once` id, if it had one. */
  readonly once?: string | undefined;
}

/** How many of a stream's latest events a `once` id is checked against. */
export const ONCE_WINDOW = 64;

/** What a node hears about the streams it holds. */
export interface StreamListener<E> {
  /**
   * An event of a held stream. Per stream, `seq` rises by one between calls unless a message was lost
   * on the way (the holder then fills the gap with `since`); a repeated `seq` may arrive (ignore it).
   */
  event(appId: string, identity: string, epoch: string, seq: number, ev: E, ref: unknown): void;
  /** Connectivity to the streams' home came back: anything published meanwhile may have been missed; check with `head`. */
  reconnected?(): void;
}

/** Turns events into stored text and back (the Redis implementation). */
export interface EventCodec<E> {
  encode(ev: E): string;
  decode(text: string): E;
}

/** The user-stream port: one node's view. Implementations: in-process (`streams-memory.ts`), Redis Streams (`streams-redis.ts`). */
export interface UserStreams<E> {
  /** This node's id. */
  readonly nodeId: string;
  /** Where events of held streams go (one listener per node). */
  listen(l: StreamListener<E>): void;
  /**
   * Starts holding the user's stream on this node (its first socket): creates the stream when it has
   * none (a fresh epoch) and answers its head. Events published after the head are delivered to the listener,
   * with `ref` (the holder's own handle for the stream, saving it a lookup per event).
   */
  hold(appId: string, identity: string, ref?: unknown): Promise<StreamHead>;
  /** Stops holding the stream here (its last socket left long enough ago). Its history outlives it for the retention time. */
  release(appId: string, identity: string): void;
  /**
   * Appends `ev` to each identity's stream (those that exist: users seen within the retention time),
   * assigning each its next `seq`; holders get it. Fire-and-forget: publishes from one node are applied in order.
   * With `once`, a stream whose last {@link ONCE_WINDOW} events include one published with the same id is skipped.
   */
  publish(appId: string, identities: readonly string[], ev: E, once?: string): void | Promise<void>;
  /** Like `publish`, to `identities` and to every user watching `subject` (presence watch lists), once each. */
  publishToWatchers(appId: string, subject: string, identities: readonly string[], ev: E): void;
  /** `watcher` (a held stream) watches `subjects`: `publishToWatchers` for them reaches it. */
  watch(appId: string, watcher: string, subjects: readonly string[]): void;
  unwatch(appId: string, watcher: string, subjects: readonly string[]): void;
  /** The stream's head now, or undefined when it has none. */
  head(appId: string, identity: string): Promise<StreamHead | undefined>;
  /**
   * The events after `seq` of `epoch`, oldest first (up to the head), or null when they are not all kept:
   * the epoch changed or the gap is older than the window.
   */
  since(appId: string, identity: string, epoch: string, seq: number): Promise<StreamEntry<E>[] | null>;
  /** {@link hold} answered synchronously, when the implementation can (in-process). */
  holdNow?(appId: string, identity: string, ref?: unknown): StreamHead;
  /** {@link since} answered synchronously, when the implementation can (in-process). */
  sinceNow?(appId: string, identity: string, epoch: string, seq: number): StreamEntry<E>[] | null;
  /** What this node has received from the streams' home (cross-node traffic), when it is elsewhere (Redis). */
  received?(): { messages: number; bytes: number };
  /** Resolves once the node can carry events. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** Limits every implementation honours. */
export interface StreamLimits {
  /** Events kept per stream (`UTD_WS_RESUME_MAX_EVENTS`); older ones are trimmed (approximately, in Redis: at least this many). */
  maxEvents: number;
  /** How long (ms) a stream nobody holds keeps its history (`UTD_WS_RESUME_TTL_S`). */
  ttlMs: number;
}
