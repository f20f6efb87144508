import { randomBytes } from "node:crypto";
import { ONCE_WINDOW, type StreamEntry, type StreamHead, type StreamLimits, type StreamListener, type UserStreams } from "./streams.js";

interface State<E> {
  readonly epoch: string;
  seq: number;
  /**
   * The last `kept` (at most `maxEvents`) events, a ring: the event of seq `n` sits at `(n - 1) % maxEvents`.
   * A delivery stores a reference to the publish's one event (no entry object per recipient).
   */
  readonly ring: E[];
  kept: number;
  /** The `once` ids of the kept events, same places as `ring` (made by the first publish with one). */
  onces: (string | undefined)[] | undefined;
  /** Nodes holding the stream and their refs (an array: usually one, iterated per event). */
  holders: { node: MemoryStreams<E>; ref: unknown }[];
}

/**
 * The streams of a group of in-process nodes (one node in the embedded engine; several in tests, to run
 * the contract suite without Redis). A stream lives while some node holds it: releasing it on the last
 * node forgets its history (the gateway releases only after `UTD_WS_RESUME_TTL_S` without a socket).
 */
export class MemoryStreamHub<E> {
  /** app id → identity → stream (nested, so a fan-out looks identities up without building keys). */
  readonly streams = new Map<string, Map<string, State<E>>>();
  /** `app\0subject` → watcher identity → how many holds watch it. */
  readonly watchers = new Map<string, Map<string, number>>();
  private counter = 0;
  private readonly epochBase = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;

  constructor(readonly limits: Pick<StreamLimits, "maxEvents">) {}

  /** A new node on this hub. */
  node(): MemoryStreams<E> {
    return new MemoryStreams(this);
  }

  /** @internal */
  newEpoch(): string {
    return `${this.epochBase}.${(++this.counter).toString(36)}`;
  }

  /** @internal Appends to one existing stream and hands the event to its holders. */
  append(appId: string, byIdentity: Map<string, State<E>>, identity: string, ev: E, once?: string): void {
    const s = byIdentity.get(identity);
    if (!s) return;
    const cap = this.limits.maxEvents;
    if (once !== undefined && s.onces) {
      const n = Math.min(s.kept, ONCE_WINDOW);
      for (let q = s.seq; q > s.seq - n; q--) if (s.onces[(q - 1) % cap] === once) return;
    }
    const seq = ++s.seq;
    const at = (seq - 1) % cap;
    s.ring[at] = ev;
    if (once !== undefined) s.onces ??= [];
    if (s.onces) s.onces[at] = once;
    if (s.kept < cap) s.kept++;
    const holders = s.holders;
    for (let i = 0; i < holders.length; i++) {
      const h = holders[i] as { node: MemoryStreams<E>; ref: unknown };
      h.node.listener?.event(appId, identity, s.epoch, seq, ev, h.ref);
    }
  }
}

/** One node of an in-process hub: synchronous, in publish order. */
export class MemoryStreams<E> implements UserStreams<E> {
  readonly nodeId = `node_${randomBytes(6).toString("hex")}`;
  /** @internal */
  listener: StreamListener<E> | undefined;
  private closed = false;

  constructor(private readonly hub: MemoryStreamHub<E>) {}

  listen(l: StreamListener<E>): void {
    this.listener = l;
  }

  /** Synchronous under the promise: the head is the stream's state as the call was made. */
  hold(appId: string, identity: string, ref?: unknown): Promise<StreamHead> {
    return Promise.resolve(this.holdNow(appId, identity, ref));
  }

  /** {@link hold} without the promise (the gateway's single-node fast path). */
  holdNow(appId: string, identity: string, ref?: unknown): StreamHead {
    let byIdentity = this.hub.streams.get(appId);
    if (!byIdentity) {
      byIdentity = new Map();
      this.hub.streams.set(appId, byIdentity);
    }
    let s = byIdentity.get(identity);
    if (!s) {
      s = { epoch: this.hub.newEpoch(), seq: 0, ring: [], kept: 0, onces: undefined, holders: [] };
      byIdentity.set(identity, s);
    }
    if (!this.closed) s.holders = [...s.holders.filter((h) => h.node !== this), { node: this, ref }];
    return { epoch: s.epoch, seq: s.seq };
  }

  release(appId: string, identity: string): void {
    const byIdentity = this.hub.streams.get(appId);
    const s = byIdentity?.get(identity);
    if (!byIdentity || !s) return;
    s.holders = s.holders.filter((h) => h.node !== this);
    if (s.holders.length === 0) {
      byIdentity.delete(identity);
      if (byIdentity.size === 0) this.hub.streams.delete(appId);
    }
  }

  publish(appId: string, identities: readonly string[], ev: E, once?: string): void {
    const byIdentity = this.hub.streams.get(appId);
    if (!byIdentity) return;
    for (const id of identities) this.hub.append(appId, byIdentity, id, ev, once);
  }

  publishToWatchers(appId: string, subject: string, identities: readonly string[], ev: E): void {
    const byIdentity = this.hub.streams.get(appId);
    if (!byIdentity) return;
    const w = this.hub.watchers.get(`${appId}\u0000${subject}`);
    const done = new Set<string>();
    for (const id of [...(w?.keys() ?? []), ...identities]) {
      if (done.has(id)) continue;
      done.add(id);
      this.hub.append(appId, byIdentity, id, ev);
    }
  }

  watch(appId: string, watcher: string, subjects: readonly string[]): void {
    for (const subject of subjects) {
      const k = `${appId}\u0000${subject}`;
      let w = this.hub.watchers.get(k);
      if (!w) {
        w = new Map();
        this.hub.watchers.set(k, w);
      }
      w.set(watcher, (w.get(watcher) ?? 0) + 1);
    }
  }

  unwatch(appId: string, watcher: string, subjects: readonly string[]): void {
    for (const subject of subjects) {
      const k = `${appId}\u0000${subject}`;
      const w = this.hub.watchers.get(k);
      const n = w?.get(watcher);
      if (!w || n === undefined) continue;
      if (n > 1) w.set(watcher, n - 1);
      else w.delete(watcher);
      if (w.size === 0) this.hub.watchers.delete(k);
    }
  }

  async head(appId: string, identity: string): Promise<StreamHead | undefined> {
    const s = this.hub.streams.get(appId)?.get(identity);
    return s ? { epoch: s.epoch, seq: s.seq } : undefined;
  }

  async since(appId: string, identity: string, epoch: string, seq: number): Promise<StreamEntry<E>[] | null> {
    return this.sinceNow(appId, identity, epoch, seq);
  }

  /** {@link since} without the promise. */
  sinceNow(appId: string, identity: string, epoch: string, seq: number): StreamEntry<E>[] | null {
    const s = this.hub.streams.get(appId)?.get(identity);
    if (!s || s.epoch !== epoch || seq > s.seq || seq < 0) return null;
    if (seq === s.seq) return [];
    if (s.seq - s.kept > seq) return null;
    const cap = this.hub.limits.maxEvents;
    const out: StreamEntry<E>[] = [];
    for (let q = seq + 1; q <= s.seq; q++) {
      const at = (q - 1) % cap;
      const once = s.onces?.[at];
      out.push(once === undefined ? { seq: q, ev: s.ring[at] as E } : { seq: q, ev: s.ring[at] as E, once });
    }
    return out;
  }

  async ready(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    for (const [appId, byIdentity] of this.hub.streams)
      for (const [identity, s] of byIdentity) if (s.holders.some((h) => h.node === this)) this.release(appId, identity);
    this.listener = undefined;
  }
}
