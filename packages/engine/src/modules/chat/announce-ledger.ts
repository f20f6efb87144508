import type { Cluster, Redis } from "ioredis";
import type { AnnounceLedger } from "./order.js";

/**
 * The announce ledger in Redis: per conversation one hash (`a`: the highest seq announced; `n`: the node
 * that made the latest claim), under the conversation's own hash tag, so it works on a Redis Cluster; per
 * node a heartbeat key that expires when the node dies. Each call is one script or one read.
 */
export interface RedisAnnounceLedgerOptions {
  /** Opens a connection (one Redis server or a Redis Cluster). */
  connect: () => Redis | Cluster;
  /** This node's id (its heartbeat key). */
  nodeId: string;
  /** How often (ms) this node renews its heartbeat (default 1000); it expires after three times that. */
  heartbeatMs?: number;
  /** How long (ms) an idle conversation's entry is kept (default 7 days). */
  ttlMs?: number;
  /** Key prefix (tests). */
  prefix?: string;
  onError?: (err: Error) => void;
}

/**
 * ARGV: first, ttl, node id. Creates the entry as "announced up to first-1" when absent; records this node
 * as the latest claimer; answers {a, the previous claimer or ''}.
 */
const CLAIM = `
local s = redis.call('HMGET', KEYS[1], 'a', 'n')
local a = s[1]
if not a then
  a = tonumber(ARGV[1]) - 1
  redis.call('HSET', KEYS[1], 'a', a)
end
redis.call('HSET', KEYS[1], 'n', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {tonumber(a), s[2] or ''}
`;

/**
 * ARGV: last, ttl, failed-from ('' when announced). Raises `a` to last (never lowers it); with failed-from,
 * adds failed-from..last to the set of seqs whose announcement failed (KEYS[2]).
 */
const DONE = `
local a = tonumber(redis.call('HGET', KEYS[1], 'a') or '0')
if tonumber(ARGV[1]) > a then redis.call('HSET', KEYS[1], 'a', ARGV[1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then
  for s = tonumber(ARGV[3]), tonumber(ARGV[1]) do redis.call('SADD', KEYS[2], s) end
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return 1
`;

/** ARGV: seq. Answers {a (-1: no entry), whether seq's announcement failed}. */
const STATE = `
local a = tonumber(redis.call('HGET', KEYS[1], 'a') or '-1')
return {a, redis.call('SISMEMBER', KEYS[2], ARGV[1])}
`;

type Scripted = {
  utdAnnounceClaim(key: string, first: number, ttl: number, node: string): Promise<[number, string]>;
  utdAnnounceDone(key: string, failedKey: string, last: number, ttl: number, failedFrom: string): Promise<number>;
  utdAnnounceState(key: string, failedKey: string, seq: number): Promise<[number, number]>;
};

export class RedisAnnounceLedger implements AnnounceLedger {
  private readonly cmd: (Redis | Cluster) & Scripted;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: RedisAnnounceLedgerOptions) {
    const c = o.connect();
    c.defineCommand("utdAnnounceClaim", { numberOfKeys: 1, lua: CLAIM });
    c.defineCommand("utdAnnounceDone", { numberOfKeys: 2, lua: DONE });
    c.defineCommand("utdAnnounceState", { numberOfKeys: 2, lua: STATE });
    c.on("error", (e: Error) => o.onError?.(e));
    this.cmd = c as (Redis | Cluster) & Scripted;
    this.prefix = o.prefix ?? "utd:o:";
    this.ttlMs = o.ttlMs ?? 7 * 24 * 3600_000;
    const every = o.heartbeatMs ?? 1000;
    const beat = () => {
      this.cmd.set(this.aliveKey(o.nodeId), "1", "PX", every * 3).catch(() => {});
    };
    beat();
    this.timer = setInterval(beat, every);
    this.timer.unref();
  }

  private aliveKey(nodeId: string): string {
    return `${this.prefix}alive:{${nodeId}}`;
  }

  private key(conversationId: string): string {
    return `${this.prefix}{${conversationId}}`;
  }

  async claim(conversationId: string, first: number): Promise<{ announced: number; claimer: string | undefined }> {
    const [announced, claimer] = await this.cmd.utdAnnounceClaim(this.key(conversationId), first, this.ttlMs, this.o.nodeId);
    return { announced: Number(announced), claimer: claimer || undefined };
  }

  async alive(nodeId: string): Promise<boolean> {
    return (await this.cmd.exists(this.aliveKey(nodeId))) === 1;
  }

  async announced(conversationId: string): Promise<number | undefined> {
    const a = await this.cmd.hget(this.key(conversationId), "a");
    return a === null ? undefined : Number(a);
  }

  async done(conversationId: string, last: number, failedFrom?: number): Promise<void> {
    const k = this.key(conversationId);
    await this.cmd.utdAnnounceDone(k, `${k}:f`, last, this.ttlMs, failedFrom === undefined ? "" : String(failedFrom));
  }

  async state(conversationId: string, seq: number): Promise<{ announced: number | undefined; failed: boolean }> {
    const k = this.key(conversationId);
    const [announced, failed] = await this.cmd.utdAnnounceState(k, `${k}:f`, seq);
    return { announced: Number(announced) < 0 ? undefined : Number(announced), failed: Number(failed) === 1 };
  }

  async repaired(conversationId: string, seq: number): Promise<void> {
    await this.cmd.srem(`${this.key(conversationId)}:f`, seq);
  }

  /** Stops the heartbeat and withdraws it (the node's announcements are done: nobody need wait for it). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.cmd.del(this.aliveKey(this.o.nodeId)).catch(() => {});
    await this.cmd.quit().catch(() => {});
  }
}
