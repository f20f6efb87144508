import type { Cluster, Redis } from "ioredis";
import type { AnnounceLedger } from "./order.js";

/**
 * The announce ledger in Redis: per conversation one hash (`a`: the highest seq announced), under the
 * conversation's own hash tag, so it works on a Redis Cluster. Each call is one script or one read.
 */
export interface RedisAnnounceLedgerOptions {
  /** Opens a connection (one Redis server or a Redis Cluster). */
  connect: () => Redis | Cluster;
  /** How long (ms) an idle conversation's entry is kept (default 7 days). */
  ttlMs?: number;
  /** Key prefix (tests). */
  prefix?: string;
  onError?: (err: Error) => void;
}

/** ARGV: first, ttl. Creates the entry as "announced up to first-1" when absent; answers `a`. */
const CLAIM = `
local a = redis.call('HGET', KEYS[1], 'a')
if not a then
  a = tonumber(ARGV[1]) - 1
  redis.call('HSET', KEYS[1], 'a', a)
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return tonumber(a)
`;

/** ARGV: last, ttl. Raises `a` to last (never lowers it). */
const DONE = `
local a = tonumber(redis.call('HGET', KEYS[1], 'a') or '0')
if tonumber(ARGV[1]) > a then redis.call('HSET', KEYS[1], 'a', ARGV[1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

type Scripted = {
  utdAnnounceClaim(key: string, first: number, ttl: number): Promise<number>;
  utdAnnounceDone(key: string, last: number, ttl: number): Promise<number>;
};

export class RedisAnnounceLedger implements AnnounceLedger {
  private readonly cmd: (Redis | Cluster) & Scripted;
  private readonly prefix: string;
  private readonly ttlMs: number;

  constructor(o: RedisAnnounceLedgerOptions) {
    const c = o.connect();
    c.defineCommand("utdAnnounceClaim", { numberOfKeys: 1, lua: CLAIM });
    c.defineCommand("utdAnnounceDone", { numberOfKeys: 1, lua: DONE });
    c.on("error", (e: Error) => o.onError?.(e));
    this.cmd = c as (Redis | Cluster) & Scripted;
    this.prefix = o.prefix ?? "utd:o:";
    this.ttlMs = o.ttlMs ?? 7 * 24 * 3600_000;
  }

  private key(conversationId: string): string {
    return `${this.prefix}{${conversationId}}`;
  }

  async claim(conversationId: string, first: number): Promise<number> {
    return Number(await this.cmd.utdAnnounceClaim(this.key(conversationId), first, this.ttlMs));
  }

  async announced(conversationId: string): Promise<number> {
    return Number((await this.cmd.hget(this.key(conversationId), "a")) ?? 0);
  }

  async done(conversationId: string, last: number): Promise<void> {
    await this.cmd.utdAnnounceDone(this.key(conversationId), last, this.ttlMs);
  }

  async close(): Promise<void> {
    await this.cmd.quit().catch(() => {});
  }
}
