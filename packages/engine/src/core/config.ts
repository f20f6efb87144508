import { resolve } from "node:path";
import { loadPushConfig, loadWebhookConfig, type PushConfig, type WebhookConfig } from "./delivery-config.js";
import { type BucketConfig, ConfigError, int } from "./env.js";

export { type BucketConfig, bucket, ConfigError, int } from "./env.js";

import { bucketSetting, intSetting, validateSettings } from "./settings.js";

/** Engine configuration. Every field has an environment variable and a `utd serve` flag (see README). */
export interface EngineConfig {
  port: number;
  host: string;
  /** Embedded SQLite file and local uploads live here. */
  dataDir: string;
  /** PostgreSQL connection string; SQLite in `dataDir` when absent. */
  databaseUrl: string | undefined;
  /** Redis URL; the in-process bus when absent (single node). */
  redisUrl: string | undefined;
  /** `UTD_REDIS_CLUSTER`: seed nodes of a Redis Cluster (used instead of `redisUrl`'s server for streams, bus and limits). */
  redisCluster: { host: string; port: number }[] | undefined;
  livekit: { url: string; apiKey: string; apiSecret: string } | undefined;
  /** Guards `/admin/v1`. When absent the admin API answers 401 to everyone. */
  adminToken: string | undefined;
  /** Secret that signs user tokens; generated into `dataDir` when absent (set it when running several nodes). */
  tokenSecret: string | undefined;
  /** Public base URL (scheme://host[:port]) used in URLs the engine hands out; derived from the request when absent. */
  publicUrl: string | undefined;
  callRingTimeoutS: number;
  /** How long a node keeps an app's per-message settings (`UTD_APP_SETTING_CACHE_S`, default 2; see `AppSettingCache`). */
  appSettingCacheS: number;
  /** Chat: how often expired messages are purged (`UTD_CHAT_RETENTION_SWEEP_S`, default 3600). */
  chatRetentionSweepS: number;
  /** Largest upload in bytes (`UTD_UPLOAD_MAX_BYTES`, default 50 MiB). */
  uploadMaxBytes: number;
  /** Seconds an uploaded file no message references is kept before the sweeper deletes it (`UTD_UPLOAD_UNATTACHED_GRACE_S`, default 6 h). */
  uploadUnattachedGraceS: number;
  /** S3-compatible file storage (`UTD_S3_BUCKET` etc.); local disk under `dataDir` when absent. */
  s3: S3Config | undefined;
  /** Lifetime of a LiveKit room token in seconds (it only has to get the participant in; LiveKit refreshes it). */
  mediaTokenTtlS: number;
  /** Lifetime of a user token in seconds. */
  userTokenTtlS: number;
  /**
   * Absolute session lifetime in seconds (`UTD_SESSION_MAX_AGE_S`, default 30 days): refresh never extends
   * a session past this many seconds after its first mint; then the client must mint again.
   */
  sessionMaxAgeS: number;
  /**
   * Proxies whose `X-Forwarded-*` headers are believed (`UTD_TRUSTED_PROXIES`: comma-separated addresses or
   * CIDRs, or `loopback`/`linklocal`/`uniquelocal`). Empty (the default): forwarded headers are ignored.
   */
  trustedProxies: string[];
  /** Who may read `/metrics` (see {@link MetricsConfig}). */
  metrics: MetricsConfig;
  /** Longest `exp - now` accepted on a backend-signed identity token, seconds. */
  identityTokenMaxTtlS: number;
  /** Largest accepted JSON body, bytes. */
  bodyLimit: number;
  logLevel: string;
  /** Log bytes held for a slow stdout reader before lines are dropped (`UTD_LOG_BUFFER_BYTES`, default 4 MiB). */
  logBufferBytes: number;
  rateLimits: RateLimitConfig;
  /** Browser origins allowed to call the API cross-origin (`UTD_CORS_ORIGINS`, comma-separated, or `*`); none by default. */
  corsOrigins: string[];
  /** `utd serve --demo` (`UTD_DEMO=1`): ensure a demo app and serve the demo page's config endpoint. */
  demo: boolean;
  /** SQLite `synchronous` pragma: FULL (default) makes an acknowledged write survive power loss; NORMAL survives process crashes only. */
  sqliteSync: "FULL" | "NORMAL";
  /** SQLite group commit (`UTD_SQLITE_GROUP_COMMIT`), on unless set to `0`/`false`. */
  sqliteGroupCommit: boolean;
  /** PostgreSQL connection pool size per engine process. */
  dbPoolMax: number;
  /** Push delivery: provider endpoints, collapse window, retries (`UTD_PUSH_*`, `UTD_APNS_HOST`, `UTD_FCM_URL`). */
  push: PushConfig;
  /** Outgoing webhooks and the before-send hook (`UTD_WEBHOOK_*`). */
  webhooks: WebhookConfig;
  /** Graceful exit on SIGTERM (see {@link ShutdownConfig}). */
  shutdown: ShutdownConfig;
}

/**
 * How a node leaves a cluster on SIGTERM: `/readyz` fails for `unreadyS` (when a balancer probes it),
 * then sockets close with 4503 spread over `drainS`, then in-flight requests finish and it exits.
 */
export interface ShutdownConfig {
  /** `UTD_SHUTDOWN_UNREADY_S` (default 5). */
  unreadyS: number;
  /** `UTD_SHUTDOWN_DRAIN_S` (default 10). */
  drainS: number;
}

/**
 * `/metrics` access. With `port` it is served on its own listener (`host:port`, no bearer unless `token`
 * is set) and the API port answers 404 there; otherwise it is on the API port behind a bearer:
 * `token` (`UTD_METRICS_TOKEN`), else the admin token.
 */
export interface MetricsConfig {
  token: string | undefined;
  /** `UTD_METRICS_PORT` (0 = a free port; for tests). */
  port: number | undefined;
  /** `UTD_METRICS_HOST`, default 127.0.0.1. */
  host: string;
}

export interface RateLimitConfig {
  /** Session mints per identity (spent only after the credentials checked out). */
  sessionPerIdentity: BucketConfig;
  /** Failed session mints (bad app key or identity token) per client address. */
  sessionFailuresPerAddress: BucketConfig;
  /** Session mints per app (all identities). */
  sessionPerApp: BucketConfig;
  /** Authenticated REST calls per user. */
  requestsPerUser: BucketConfig;
  /** Authenticated REST calls per app. */
  requestsPerApp: BucketConfig;
}

type Env = Record<string, string | undefined>;

function opt(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === "" ? undefined : v;
}

/** S3-compatible storage settings. */
export interface S3Config {
  bucket: string;
  region: string;
  /** For MinIO, R2 and other S3-compatible services; AWS when absent. */
  endpoint: string | undefined;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  forcePathStyle: boolean;
  /** Key prefix inside the bucket. */
  prefix: string;
}

/** `UTD_S3_BUCKET` (required to enable), `UTD_S3_REGION`, `UTD_S3_ENDPOINT`, `UTD_S3_ACCESS_KEY_ID`, `UTD_S3_SECRET_ACCESS_KEY`, `UTD_S3_FORCE_PATH_STYLE`, `UTD_S3_PREFIX`. */
function s3Config(env: Env): S3Config | undefined {
  const bucket = opt(env, "UTD_S3_BUCKET");
  if (!bucket) return undefined;
  return {
    bucket,
    region: opt(env, "UTD_S3_REGION") ?? "us-east-1",
    endpoint: opt(env, "UTD_S3_ENDPOINT"),
    accessKeyId: opt(env, "UTD_S3_ACCESS_KEY_ID"),
    secretAccessKey: opt(env, "UTD_S3_SECRET_ACCESS_KEY"),
    forcePathStyle: opt(env, "UTD_S3_FORCE_PATH_STYLE") === "true",
    prefix: opt(env, "UTD_S3_PREFIX") ?? "",
  };
}

function corsOrigins(v: string | undefined): string[] {
  const list = (v ?? "")
    .split(",")
    .map((o) => o.trim().replace(/\/+$/, ""))
    .filter(Boolean);
  for (const o of list) {
    if (o !== "*" && !/^https?:\/\/[^/\s]+$/.test(o)) {
      throw new ConfigError(`UTD_CORS_ORIGINS entries must be origins like https://app.example.com (or *), got "${o}"`);
    }
  }
  return list;
}

/** Parses `UTD_REDIS_CLUSTER`: `host:port,host:port,…` (IPv6 as `[::1]:7000`). */
function parseClusterNodes(v: string): { host: string; port: number }[] {
  return v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(s);
      const port = m ? Number(m[2]) : Number.NaN;
      if (!m || !(port > 0 && port < 65536)) throw new Error(`"${s}" is not host:port`);
      return { host: m[1] as string, port };
    });
}

function clusterNodes(v: string | undefined): { host: string; port: number }[] | undefined {
  if (!v) return undefined;
  try {
    return parseClusterNodes(v);
  } catch (err) {
    throw new ConfigError(`UTD_REDIS_CLUSTER must be host:port,host:port,…: ${(err as Error).message}`);
  }
}

function list(v: string | undefined): string[] {
  return (v ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
}

function sqliteSync(v: string | undefined): "FULL" | "NORMAL" {
  const up = (v ?? "FULL").toUpperCase();
  if (up !== "FULL" && up !== "NORMAL") throw new ConfigError(`UTD_SQLITE_SYNC must be FULL or NORMAL, got "${v}"`);
  return up;
}

/** Reads the configuration from environment variables (names as in the README). */
export function loadConfig(env: Env = process.env): EngineConfig {
  // Every declared setting is type-checked first, so the error names the variable and its flag.
  validateSettings(env);
  const lkUrl = opt(env, "LIVEKIT_URL");
  const lkKey = opt(env, "LIVEKIT_API_KEY");
  const lkSecret = opt(env, "LIVEKIT_API_SECRET");
  if (lkUrl && (!lkKey || !lkSecret)) {
    throw new ConfigError("LIVEKIT_URL is set but LIVEKIT_API_KEY or LIVEKIT_API_SECRET is missing");
  }
  return {
    port: intSetting(env, "UTD_PORT"),
    host: opt(env, "UTD_HOST") ?? "127.0.0.1",
    dataDir: resolve(opt(env, "UTD_DATA_DIR") ?? ".utd"),
    databaseUrl: opt(env, "DATABASE_URL"),
    redisUrl: opt(env, "REDIS_URL"),
    redisCluster: clusterNodes(opt(env, "UTD_REDIS_CLUSTER")),
    livekit: lkUrl && lkKey && lkSecret ? { url: lkUrl, apiKey: lkKey, apiSecret: lkSecret } : undefined,
    adminToken: opt(env, "UTD_ADMIN_TOKEN"),
    tokenSecret: opt(env, "UTD_TOKEN_SECRET"),
    publicUrl: opt(env, "UTD_PUBLIC_URL")?.replace(/\/+$/, ""),
    callRingTimeoutS: intSetting(env, "UTD_CALL_RING_TIMEOUT_S"),
    appSettingCacheS: intSetting(env, "UTD_APP_SETTING_CACHE_S"),
    chatRetentionSweepS: intSetting(env, "UTD_CHAT_RETENTION_SWEEP_S"),
    uploadMaxBytes: intSetting(env, "UTD_UPLOAD_MAX_BYTES"),
    uploadUnattachedGraceS: intSetting(env, "UTD_UPLOAD_UNATTACHED_GRACE_S"),
    s3: s3Config(env),
    mediaTokenTtlS: intSetting(env, "UTD_MEDIA_TOKEN_TTL_S"),
    userTokenTtlS: intSetting(env, "UTD_USER_TOKEN_TTL_S"),
    sessionMaxAgeS: intSetting(env, "UTD_SESSION_MAX_AGE_S"),
    trustedProxies: list(opt(env, "UTD_TRUSTED_PROXIES")),
    metrics: {
      token: opt(env, "UTD_METRICS_TOKEN"),
      port: opt(env, "UTD_METRICS_PORT") === undefined ? undefined : int(env, "UTD_METRICS_PORT", 0, 0),
      host: opt(env, "UTD_METRICS_HOST") ?? "127.0.0.1",
    },
    identityTokenMaxTtlS: intSetting(env, "UTD_IDENTITY_TOKEN_MAX_TTL_S"),
    bodyLimit: intSetting(env, "UTD_BODY_LIMIT"),
    logLevel: opt(env, "UTD_LOG_LEVEL") ?? "info",
    logBufferBytes: int(env, "UTD_LOG_BUFFER_BYTES", 4 * 1024 * 1024, 1024),
    demo: ["1", "true"].includes(opt(env, "UTD_DEMO") ?? ""),
    corsOrigins: corsOrigins(opt(env, "UTD_CORS_ORIGINS")),
    sqliteSync: sqliteSync(opt(env, "UTD_SQLITE_SYNC")),
    sqliteGroupCommit: !["0", "false"].includes(opt(env, "UTD_SQLITE_GROUP_COMMIT") ?? ""),
    dbPoolMax: intSetting(env, "UTD_DB_POOL_MAX"),
    push: loadPushConfig(env),
    webhooks: loadWebhookConfig(env),
    shutdown: { unreadyS: int(env, "UTD_SHUTDOWN_UNREADY_S", 5, 0), drainS: int(env, "UTD_SHUTDOWN_DRAIN_S", 10, 0) },
    rateLimits: {
      sessionPerIdentity: bucketSetting(env, "UTD_RATE_SESSION_IDENTITY"),
      sessionFailuresPerAddress: bucketSetting(env, "UTD_RATE_SESSION_FAILURES_ADDRESS"),
      sessionPerApp: bucketSetting(env, "UTD_RATE_SESSION_APP"),
      requestsPerUser: bucketSetting(env, "UTD_RATE_REQUESTS_USER"),
      requestsPerApp: bucketSetting(env, "UTD_RATE_REQUESTS_APP"),
    },
  };
}
