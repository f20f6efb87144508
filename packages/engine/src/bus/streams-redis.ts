import { randomBytes } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import {
  type EventCodec,
  ONCE_WINDOW,
  type StreamEntry,
  type StreamHead,
  type StreamLimits,
  type StreamListener,
  type UserStreams,
} from "./streams.js";

/** A Redis client: one server or a Redis Cluster (ioredis). */
export type RedisClient = Redis | Cluster;

/**
 * Appends one event to an existing stream: seq from the meta hash, the event into the stream under the
 * id `<seq>-0` (trimmed to about MAXLEN), both keys' expiry renewed, then the event published on the
 * user's channel. A stream that does not exist (nobody held it within the retention time) is skipped; with
 * a dedupe key, an event already appended under that key is skipped (watcher events appended by several nodes).
 * With a `once` id, an event with the same id among the stream's latest is a repeat: skipped.
 * KEYS: meta, stream, dedupe (or meta again). ARGV: payload, maxlen, ttl ms, channel, dedupe flag, once id
 * (or ''), how many latest events to check it against.
 */
const APPEND = `
local e = redis.call('HGET', KEYS[1], 'e')
if not e then return 0 end
if ARGV[5] == '1' then
  if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[3]) then return -1 end
end
local seq
if ARGV[6] ~= '' then
  local recent = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', ARGV[7])
  for _, entry in ipairs(recent) do
    if entry[2][4] == ARGV[6] then return -2 end
  end
  seq = redis.call('HINCRBY', KEYS[1], 's', 1)
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'e', ARGV[1], 'o', ARGV[6])
else
  seq = redis.call('HINCRBY', KEYS[1], 's', 1)
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'e', ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], e .. '\\n' .. seq .. '\\n' .. ARGV[1])
return seq
`;

/** Creates the stream when absent (epoch ARGV[1]), renews expiry; answers {epoch, seq}. KEYS: meta, stream. ARGV: epoch, ttl ms. */
const HOLD = `
local e = redis.call('HGET', KEYS[1], 'e')
if not e then
  redis.call('HSET', KEYS[1], 'e', ARGV[1], 's', 0)
  e = ARGV[1]
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return {e, redis.call('HGET', KEYS[1], 's')}
`;

/**
 * The events after ARGV[2] of epoch ARGV[1], read together with the head: false when the epoch differs
 * or seq is ahead of the head; {head} when nothing is missing; {head, entries} otherwise. ARGV[3]: the
 * most entries a gap may have (older gaps are beyond the window).
 */
const SINCE = `
local e = redis.call('HGET', KEYS[1], 'e')
if not e or e ~= ARGV[1] then return false end
local s = tonumber(redis.call('HGET', KEYS[1], 's'))
local from = tonumber(ARGV[2])
if from > s or from < 0 then return false end
if from == s then return {s} end
if s - from > tonumber(ARGV[3]) then return {s, {}} end
return {s, redis.call('XRANGE', KEYS[2], (from + 1) .. '-0', '+', 'COUNT', s - from)}
`;

type Scripted = {
  utdAppend(
    meta: string,
    stream: string,
    dedupe: string,
    payload: string,
    maxlen: number,
    ttl: number,
    ch: string,
    dd: string,
    once: string,
    window: number,
  ): Promise<number>;
  utdHold(meta: string, stream: string, epoch: string, ttl: number): Promise<[string, string]>;
  utdSince(meta: string, stream: string, epoch: string, after: number, max: number): Promise<[number, [string, string[]][]?] | null>;
};

function defineScripts(c: RedisClient): RedisClient & Scripted {
  c.defineCommand("utdAppend", { numberOfKeys: 3, lua: APPEND });
  c.defineCommand("utdHold", { numberOfKeys: 2, lua: HOLD });
  c.defineCommand("utdSince", { numberOfKeys: 2, lua: SINCE });
  return c as RedisClient & Scripted;
}

export interface RedisStreamsOptions<E> {
  /** Makes a client (called twice: commands, and subscriptions). */
  connect(): RedisClient;
  codec: EventCodec<E>;
  limits: StreamLimits;
  /** Key and channel prefix (tests use their own). */
  prefix?: string;
  onError?: (err: Error) => void;
}

interface Held {
  appId: string;
  identity: string;
  ref: unknown;
}

/**
 * User streams in Redis Streams. Per user, in one Redis Cluster slot (hash tag `{app:identity}`): a
 * hash (epoch, seq), a stream of the last ~N events keyed by seq, and a pub/sub channel. Publishing is
 * one Lua call per recipient (INCR + XADD + PUBLISH, atomic). A node subscribes to the channel of each
 * user it holds sockets for, so it receives only those users' events; a gap (a message lost while its
 * subscription was down) is filled from the stream, and a lost epoch is reported as such.
 */
export class RedisStreams<E> implements UserStreams<E> {
  readonly nodeId = `node_${randomBytes(6).toString("hex")}`;
  private readonly cmd: RedisClient & Scripted;
  private readonly sub: RedisClient;
  private readonly prefix: string;
  private listener: StreamListener<E> | undefined;
  /** channel → the stream it carries (streams this node holds). */
  private readonly held = new Map<string, Held>();
  /** watch channel → (app, subject, watcher identity → holds). */
  private readonly watched = new Map<string, { appId: string; subject: string; watchers: Map<string, number> }>();
  private readonly timer: NodeJS.Timeout;
  private readonly traffic = { messages: 0, bytes: 0 };
  private readonly subscribedOnce: Promise<void>;
  private connectedBefore = false;
  private closed = false;

  constructor(private readonly o: RedisStreamsOptions<E>) {
    this.prefix = o.prefix ?? "utd:s:";
    this.cmd = defineScripts(o.connect());
    this.sub = o.connect();
    const onError = (e: Error) => o.onError?.(e);
    this.cmd.on("error", onError);
    this.sub.on("error", onError);
    this.sub.on("messageBuffer", (ch: Buffer, payload: Buffer) => {
      this.traffic.messages++;
      this.traffic.bytes += ch.length + payload.length;
      this.receive(ch.toString("utf8"), payload.toString("utf8"));
    });
    this.subscribedOnce = new Promise<void>((resolve) => {
      const ready = () => {
        if (this.connectedBefore) {
          // ioredis re-sends the subscriptions as it becomes ready, but not in the order they were made:
          // a SUBSCRIBE issued while Redis was still loading its data goes out at once, and an UNSUBSCRIBE
          // queued during the outage (a stream released then) follows it at ready — leaving a stream held
          // again meanwhile unsubscribed, its sockets deaf (seen in the chaos bench's Redis restart). So
          // every channel this node holds is subscribed again here, behind ioredis's queues (this runs
          // after it wrote them); a PING behind that answers once all are in place, and the re-check
          // that follows misses nothing published in between.
          const channels = [...this.held.keys(), ...this.watched.keys()];
          const resubscribed: Promise<unknown>[] = [];
          for (let i = 0; i < channels.length; i += 1000) resubscribed.push(this.sub.subscribe(...channels.slice(i, i + 1000)));
          const settled = Promise.all(resubscribed).then(() => ((this.sub as Cluster).isCluster ? undefined : (this.sub as Redis).ping()));
          settled.then(
            () => this.listener?.reconnected?.(),
            () => this.listener?.reconnected?.(),
          );
        }
        this.connectedBefore = true;
        resolve();
      };
      this.sub.on("ready", ready);
    });
    // Held streams must not expire under their holders: renew them well within the retention time.
    this.timer = setInterval(() => this.renew(), Math.max(1000, o.limits.ttlMs / 3));
    this.timer.unref();
  }

  private tag(appId: string, identity: string): string {
    return `${this.prefix}{${appId}:${identity}}`;
  }

  listen(l: StreamListener<E>): void {
    this.listener = l;
  }

  async hold(appId: string, identity: string, ref?: unknown): Promise<StreamHead> {
    const t = this.tag(appId, identity);
    const ch = `${t}:c`;
    if (!this.held.has(ch)) {
      this.held.set(ch, { appId, identity, ref });
      await this.sub.subscribe(ch);
    }
    // Subscribed first, head second: nothing published after the head is missed.
    const [epoch, seq] = await this.cmd.utdHold(`${t}:m`, `${t}:x`, newEpoch(), this.o.limits.ttlMs);
    return { epoch, seq: Number(seq) };
  }

  release(appId: string, identity: string): void {
    const ch = `${this.tag(appId, identity)}:c`;
    if (!this.held.delete(ch) || this.closed) return;
    this.sub.unsubscribe(ch).catch((e: Error) => this.o.onError?.(e));
  }

  /** Settles once every append is done; rejects when one failed (the others stand). */
  publish(appId: string, identities: readonly string[], ev: E, once?: string): Promise<void> {
    const payload = this.o.codec.encode(ev);
    return Promise.all(identities.map((id) => this.append(appId, id, payload, undefined, once))).then(() => undefined);
  }

  publishToWatchers(appId: string, subject: string, identities: readonly string[], ev: E): void {
    const payload = this.o.codec.encode(ev);
    const dedupe = randomBytes(8).toString("hex");
    for (const id of identities) this.append(appId, id, payload, dedupe).catch(() => {});
    // Nodes holding watchers of `subject` append it to their watchers' streams (the dedupe key makes it once each).
    this.cmd.publish(this.watchChannel(appId, subject), `${dedupe}\n${payload}`).catch((e: Error) => this.o.onError?.(e));
  }

  private append(appId: string, identity: string, payload: string, dedupe: string | undefined, once?: string): Promise<unknown> {
    const t = this.tag(appId, identity);
    return this.cmd
      .utdAppend(
        `${t}:m`,
        `${t}:x`,
        dedupe ? `${t}:d:${dedupe}` : `${t}:m`,
        payload,
        this.o.limits.maxEvents,
        this.o.limits.ttlMs,
        `${t}:c`,
        dedupe ? "1" : "",
        once ?? "",
        ONCE_WINDOW,
      )
      .catch((e: Error) => {
        this.o.onError?.(e);
        throw e;
      });
  }

  private watchChannel(appId: string, subject: string): string {
    return `${this.prefix}w:${appId.length}:${appId}:${subject}`;
  }

  watch(appId: string, watcher: string, subjects: readonly string[]): void {
    for (const subject of subjects) {
      const ch = this.watchChannel(appId, subject);
      let w = this.watched.get(ch);
      if (!w) {
        w = { appId, subject, watchers: new Map() };
        this.watched.set(ch, w);
        this.sub.subscribe(ch).catch((e: Error) => this.o.onError?.(e));
      }
      w.watchers.set(watcher, (w.watchers.get(watcher) ?? 0) + 1);
    }
  }

  unwatch(appId: string, watcher: string, subjects: readonly string[]): void {
    for (const subject of subjects) {
      const ch = this.watchChannel(appId, subject);
      const w = this.watched.get(ch);
      const n = w?.watchers.get(watcher);
      if (!w || n === undefined) continue;
      if (n > 1) w.watchers.set(watcher, n - 1);
      else w.watchers.delete(watcher);
      if (w.watchers.size === 0) {
        this.watched.delete(ch);
        if (!this.closed) this.sub.unsubscribe(ch).catch((e: Error) => this.o.onError?.(e));
      }
    }
  }

  received(): { messages: number; bytes: number } {
    return { ...this.traffic };
  }

  private receive(ch: string, payload: string): void {
    const h = this.held.get(ch);
    if (h) {
      const a = payload.indexOf("\n");
      const b = payload.indexOf("\n", a + 1);
      if (a < 0 || b < 0) return;
      try {
        this.listener?.event(
          h.appId,
          h.identity,
          payload.slice(0, a),
          Number(payload.slice(a + 1, b)),
          this.o.codec.decode(payload.slice(b + 1)),
          h.ref,
        );
      } catch (err) {
        this.o.onError?.(err as Error);
      }
      return;
    }
    const w = this.watched.get(ch);
    if (w) {
      const a = payload.indexOf("\n");
      if (a < 0) return;
      const dedupe = payload.slice(0, a);
      const body = payload.slice(a + 1);
      for (const watcher of w.watchers.keys()) this.append(w.appId, watcher, body, dedupe).catch(() => {});
    }
  }

  async head(appId: string, identity: string): Promise<StreamHead | undefined> {
    const [epoch, seq] = await this.cmd.hmget(`${this.tag(appId, identity)}:m`, "e", "s");
    return epoch ? { epoch, seq: Number(seq ?? 0) } : undefined;
  }

  async since(appId: string, identity: string, epoch: string, seq: number): Promise<StreamEntry<E>[] | null> {
    const t = this.tag(appId, identity);
    const r = await this.cmd.utdSince(`${t}:m`, `${t}:x`, epoch, seq, this.o.limits.maxEvents * 2);
    if (!r) return null;
    const [head, entries] = r;
    if (Number(head) === seq) return [];
    if (!entries || entries.length !== Number(head) - seq) return null;
    const out: StreamEntry<E>[] = [];
    for (const [id, fields] of entries) {
      const s = Number(id.slice(0, id.indexOf("-")));
      // Trimmed: the first kept event is past the gap's start.
      if (s !== seq + out.length + 1) return null;
      const ev = this.o.codec.decode(fields[1] as string);
      out.push(fields[3] === undefined ? { seq: s, ev } : { seq: s, ev, once: fields[3] });
    }
    return out;
  }

  private renew(): void {
    for (const h of this.held.values()) {
      const t = this.tag(h.appId, h.identity);
      this.cmd.pexpire(`${t}:m`, this.o.limits.ttlMs).catch(() => {});
      this.cmd.pexpire(`${t}:x`, this.o.limits.ttlMs).catch(() => {});
    }
  }

  ready(): Promise<void> {
    return this.subscribedOnce;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.listener = undefined;
    await Promise.allSettled([this.sub.quit(), this.cmd.quit()]);
  }
}

function newEpoch(): string {
  return `${Date.now().toString(36)}${randomBytes(5).toString("hex")}`;
}
