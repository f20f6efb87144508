import { Cluster, Redis } from "ioredis";
import type { RedisClient } from "./streams-redis.js";

export type { RedisClient } from "./streams-redis.js";

/** Where the engine's Redis is: one server (`REDIS_URL`) or a Redis Cluster's seed nodes (`UTD_REDIS_CLUSTER`). */
export interface RedisTarget {
  url?: string | undefined;
  cluster?: readonly { host: string; port: number }[] | undefined;
}

/**
 * A maker of Redis connections for the target, or undefined when none is configured. With a cluster,
 * every connection is an ioredis `Cluster` (keys carry hash tags, so each user stream stays in one slot);
 * credentials of `url`, when both are given, are used for the cluster's nodes.
 */
export function redisConnector(t: RedisTarget): (() => RedisClient) | undefined {
  if (t.cluster && t.cluster.length > 0) {
    const nodes = t.cluster.map((n) => ({ host: n.host, port: n.port }));
    const auth = t.url ? new URL(t.url) : undefined;
    return () =>
      new Cluster(nodes, {
        enableAutoPipelining: true,
        redisOptions: {
          maxRetriesPerRequest: 2,
          ...(auth?.password ? { password: decodeURIComponent(auth.password) } : {}),
          ...(auth?.username ? { username: decodeURIComponent(auth.username) } : {}),
        },
      });
  }
  const url = t.url;
  if (!url) return undefined;
  return () => new Redis(url, { enableAutoPipelining: true, maxRetriesPerRequest: 2 });
}
