import { readFileSync } from "node:fs";
import { type BucketConfig, ConfigError } from "./env.js";

/**
 * Every engine setting, declared once: its environment variable, its key in a `utd serve --config`
 * file, its `utd serve` flag, its type (checked at start, naming the setting), the default as the
 * README states it, and its doc line. The README's configuration table is generated from this list
 * (`npm run docs:config`; packages/engine/test/settings.test.ts fails when it is stale).
 *
 * loadConfig and the delivery config read numbers and rate buckets through {@link intSetting} and
 * {@link bucketSetting}, so their defaults and minimums are the ones declared here; the gateway's
 * timings (ws/config.ts) still parse on their own. A test keeps this list in step with every variable
 * the engine source reads.
 */
export interface Setting {
  env: string;
  /** Key in a config file (JSON or TOML). */
  key: string;
  /** `utd serve --<flag>`. */
  flag: string;
  type: "int" | "bucket" | "string" | "enum" | "bool" | "url";
  /** The default, for types checked numerically (documentation otherwise: `defaultDoc`). */
  default?: string;
  min?: number;
  values?: readonly string[];
  schemes?: readonly string[];
  /** Never echoed in errors. */
  secret?: boolean;
  defaultDoc: string;
  doc: string;
}

export const SETTINGS: readonly Setting[] = [
  { env: "UTD_PORT", key: "port", flag: "port", type: "int", default: "7800", min: 0, defaultDoc: "`7800`", doc: "HTTP + WebSocket port" },
  { env: "UTD_HOST", key: "host", flag: "host", type: "string", defaultDoc: "`127.0.0.1`", doc: "bind address (`0.0.0.0` to expose)" },
  {
    env: "UTD_DATA_DIR",
    key: "data_dir",
    flag: "data-dir",
    type: "string",
    defaultDoc: "`./.utd`",
    doc: "embedded SQLite file, local uploads, generated keys and admin token",
  },
  {
    env: "DATABASE_URL",
    key: "database_url",
    flag: "database-url",
    type: "url",
    schemes: ["postgres", "postgresql"],
    defaultDoc: "—",
    doc: "PostgreSQL (`postgres://…`); SQLite in the data dir when absent",
  },
  {
    env: "REDIS_URL",
    key: "redis_url",
    flag: "redis-url",
    type: "url",
    schemes: ["redis", "rediss"],
    defaultDoc: "—",
    doc: "Redis for multi-node fan-out and user streams (resume on any node); in-process when absent",
  },
  {
    env: "UTD_REDIS_CLUSTER",
    key: "redis_cluster",
    flag: "redis-cluster",
    type: "string",
    defaultDoc: "—",
    doc: "Redis Cluster seed nodes `host:port,…` for user streams, bus, rate limits and signalling rooms (`REDIS_URL`'s credentials apply)",
  },
  {
    env: "LIVEKIT_URL",
    key: "livekit_url",
    flag: "livekit-url",
    type: "url",
    schemes: ["ws", "wss", "http", "https"],
    defaultDoc: "—",
    doc: "the LiveKit server for media (with its API key and secret)",
  },
  { env: "LIVEKIT_API_KEY", key: "livekit_api_key", flag: "livekit-api-key", type: "string", defaultDoc: "—", doc: "LiveKit API key" },
  {
    env: "LIVEKIT_API_SECRET",
    key: "livekit_api_secret",
    flag: "livekit-api-secret",
    type: "string",
    secret: true,
    defaultDoc: "—",
    doc: "LiveKit API secret",
  },
  {
    env: "UTD_ADMIN_TOKEN",
    key: "admin_token",
    flag: "admin-token",
    type: "string",
    secret: true,
    defaultDoc: "generated into `<data dir>/admin-token`",
    doc: "bearer for `/admin/v1` and the CLI",
  },
  {
    env: "UTD_TOKEN_SECRET",
    key: "token_secret",
    flag: "token-secret",
    type: "string",
    secret: true,
    defaultDoc: "generated into `<data dir>/keys.json`",
    doc: "signs user tokens — set the same value on every node",
  },
  {
    env: "UTD_MASTER_KEY",
    key: "master_key",
    flag: "master-key",
    type: "string",
    secret: true,
    defaultDoc: "generated into `<data dir>/keys.json`",
    doc: "encrypts app secrets at rest — same on every node",
  },
  {
    env: "UTD_PUBLIC_URL",
    key: "public_url",
    flag: "public-url",
    type: "url",
    schemes: ["http", "https"],
    defaultDoc: "from the request",
    doc: "base URL used in URLs the engine hands out (`ws_url`, upload URLs); when set it always wins — set it in production",
  },
  {
    env: "UTD_TRUSTED_PROXIES",
    key: "trusted_proxies",
    flag: "trusted-proxies",
    type: "string",
    defaultDoc: "— (none)",
    doc: "comma-separated addresses/CIDRs (or `loopback`, `uniquelocal`) of proxies whose `X-Forwarded-For/-Host/-Proto` are believed; without it those headers are ignored",
  },
  {
    env: "UTD_CALL_RING_TIMEOUT_S",
    key: "call_ring_timeout_s",
    flag: "call-ring-timeout-s",
    type: "int",
    default: "30",
    min: 1,
    defaultDoc: "`30`",
    doc: "unanswered calls become `missed` after this",
  },
  {
    env: "UTD_USER_TOKEN_TTL_S",
    key: "user_token_ttl_s",
    flag: "user-token-ttl-s",
    type: "int",
    default: "3600",
    min: 10,
    defaultDoc: "`3600`",
    doc: "user token lifetime",
  },
  {
    env: "UTD_SESSION_MAX_AGE_S",
    key: "session_max_age_s",
    flag: "session-max-age-s",
    type: "int",
    default: "2592000",
    min: 60,
    defaultDoc: "`2592000` (30 days)",
    doc: "absolute session lifetime: refresh never extends a session past this after its first mint",
  },
  {
    env: "UTD_IDENTITY_TOKEN_MAX_TTL_S",
    key: "identity_token_max_ttl_s",
    flag: "identity-token-max-ttl-s",
    type: "int",
    default: "900",
    min: 10,
    defaultDoc: "`900`",
    doc: "longest accepted `exp − now` on a signed-mode identity token",
  },
  {
    env: "UTD_BODY_LIMIT",
    key: "body_limit",
    flag: "body-limit",
    type: "int",
    default: "65536",
    min: 1024,
    defaultDoc: "`65536`",
    doc: "largest JSON body, bytes (`413 payload_too_large` beyond)",
  },
  {
    env: "UTD_RATE_SESSION_IDENTITY",
    key: "rate_session_identity",
    flag: "rate-session-identity",
    type: "bucket",
    default: "10/1",
    defaultDoc: "`10/1`",
    doc: "session mints per identity: `<burst>/<per second>` token bucket",
  },
  {
    env: "UTD_RATE_SESSION_APP",
    key: "rate_session_app",
    flag: "rate-session-app",
    type: "bucket",
    default: "500/200",
    defaultDoc: "`500/200`",
    doc: "session mints per app",
  },
  {
    env: "UTD_RATE_SESSION_FAILURES_ADDRESS",
    key: "rate_session_failures_address",
    flag: "rate-session-failures-address",
    type: "bucket",
    default: "20/0.2",
    defaultDoc: "`20/0.2`",
    doc: "failed session mints (bad key or identity token) per client address; an address past it gets `429` before anything is checked",
  },
  {
    env: "UTD_RATE_REQUESTS_USER",
    key: "rate_requests_user",
    flag: "rate-requests-user",
    type: "bucket",
    default: "120/30",
    defaultDoc: "`120/30`",
    doc: "authenticated REST calls per user",
  },
  {
    env: "UTD_RATE_REQUESTS_APP",
    key: "rate_requests_app",
    flag: "rate-requests-app",
    type: "bucket",
    default: "5000/2000",
    defaultDoc: "`5000/2000`",
    doc: "authenticated REST calls per app",
  },
  {
    env: "UTD_METRICS_TOKEN",
    key: "metrics_token",
    flag: "metrics-token",
    type: "string",
    secret: true,
    defaultDoc: "— (the admin token)",
    doc: "bearer that `/metrics` requires",
  },
  {
    env: "UTD_METRICS_PORT",
    key: "metrics_port",
    flag: "metrics-port",
    type: "int",
    min: 0,
    defaultDoc: "—",
    doc: "serve `/metrics` on its own listener instead of the API port (no bearer there unless `UTD_METRICS_TOKEN` is set)",
  },
  {
    env: "UTD_METRICS_HOST",
    key: "metrics_host",
    flag: "metrics-host",
    type: "string",
    defaultDoc: "`127.0.0.1`",
    doc: "address of the separate metrics listener",
  },
  {
    env: "UTD_LOG_LEVEL",
    key: "log_level",
    flag: "log-level",
    type: "enum",
    values: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
    defaultDoc: "`info`",
    doc: "pino level; logs are JSON and never contain tokens, keys or secrets",
  },
  {
    env: "UTD_LOG_BUFFER_BYTES",
    key: "log_buffer_bytes",
    flag: "log-buffer-bytes",
    type: "int",
    default: "4194304",
    min: 1024,
    defaultDoc: "`4194304` (4 MiB)",
    doc: "log bytes held for a slow stdout reader (a pipe, a log shipper); past it lines are dropped and counted in `utd_log_lines_dropped_total`, never blocking the engine",
  },
  {
    env: "UTD_SHUTDOWN_UNREADY_S",
    key: "shutdown_unready_s",
    flag: "shutdown-unready-s",
    type: "int",
    default: "5",
    min: 0,
    defaultDoc: "`5`",
    doc: "on SIGTERM, how long `/readyz` answers 503 before sockets start closing, so the load balancer stops sending new connections (skipped when nothing probed `/readyz` in the last minute)",
  },
  {
    env: "UTD_SHUTDOWN_DRAIN_S",
    key: "shutdown_drain_s",
    flag: "shutdown-drain-s",
    type: "int",
    default: "10",
    min: 0,
    defaultDoc: "`10`",
    doc: "on SIGTERM, the period over which open sockets are closed with 4503 (reconnect elsewhere), evenly, so clients do not stampede the other nodes; then in-flight requests finish and the process exits (forced `UTD_SHUTDOWN_UNREADY_S` + this + 10 s after the signal, whatever the event loop is doing); `0` closes them all at once with 1001",
  },
  {
    env: "UTD_CORS_ORIGINS",
    key: "cors_origins",
    flag: "cors-origins",
    type: "string",
    defaultDoc: "— (same-origin only)",
    doc: "comma-separated origins (or `*`) allowed to call the API from a browser on another origin",
  },
  {
    env: "UTD_SQLITE_SYNC",
    key: "sqlite_sync",
    flag: "sqlite-sync",
    type: "enum",
    values: ["FULL", "NORMAL"],
    defaultDoc: "`FULL`",
    doc: "SQLite durability: `FULL` = an acknowledged write survives power loss; `NORMAL` = process crashes only (faster)",
  },
  {
    env: "UTD_SQLITE_GROUP_COMMIT",
    key: "sqlite_group_commit",
    flag: "sqlite-group-commit",
    type: "bool",
    defaultDoc: "`1` (on)",
    doc: "SQLite group commit: concurrent transactions share one durable COMMIT (2–3× the writes/s on a slow disk), each answered only once stored; reads outside a transaction see committed data only. `0` = one COMMIT per transaction",
  },
  {
    env: "UTD_DB_POOL_MAX",
    key: "db_pool_max",
    flag: "db-pool-max",
    type: "int",
    default: "20",
    min: 1,
    defaultDoc: "`20`",
    doc: "PostgreSQL connections per engine process",
  },
  {
    env: "UTD_WS_HEARTBEAT_S",
    key: "ws_heartbeat_s",
    flag: "ws-heartbeat-s",
    type: "int",
    default: "20",
    defaultDoc: "`20`",
    doc: "WebSocket heartbeat; a silent peer is closed (4408) after 2 × this + 5 s",
  },
  {
    env: "UTD_WS_HELLO_TIMEOUT_S",
    key: "ws_hello_timeout_s",
    flag: "ws-hello-timeout-s",
    type: "int",
    default: "10",
    defaultDoc: "`10`",
    doc: "time to send `hello` after connecting",
  },
  {
    env: "UTD_WS_MAX_FRAME_BYTES",
    key: "ws_max_frame_bytes",
    flag: "ws-max-frame-bytes",
    type: "int",
    default: "65536",
    defaultDoc: "`65536`",
    doc: "largest client frame (4413 beyond)",
  },
  {
    env: "UTD_WS_RESUME_MAX_EVENTS",
    key: "ws_resume_max_events",
    flag: "ws-resume-max-events",
    type: "int",
    default: "500",
    defaultDoc: "`500`",
    doc: "resume buffer per user: events kept",
  },
  {
    env: "UTD_WS_RESUME_TTL_S",
    key: "ws_resume_ttl_s",
    flag: "ws-resume-ttl-s",
    type: "int",
    default: "300",
    defaultDoc: "`300`",
    doc: "how long a user's resume buffer is kept after their last socket closed",
  },
  {
    env: "UTD_WS_FRAMES_PER_S",
    key: "ws_frames_per_s",
    flag: "ws-frames-per-s",
    type: "bucket",
    default: "100/50",
    defaultDoc: "`100/50`",
    doc: "client frames per socket (`<burst>/<per second>`; 4429 beyond)",
  },
  {
    env: "UTD_PRESENCE_GRACE_S",
    key: "presence_grace_s",
    flag: "presence-grace-s",
    type: "int",
    default: "5",
    defaultDoc: "`5`",
    doc: "offline grace after a disconnect (reloads do not flap)",
  },
  {
    env: "UTD_PRESENCE_LEASE_S",
    key: "presence_lease_s",
    flag: "presence-lease-s",
    type: "int",
    default: "60",
    defaultDoc: "`60`",
    doc: "a crashed node's users go offline after this lease",
  },
  {
    env: "UTD_TYPING_TTL_S",
    key: "typing_ttl_s",
    flag: "typing-ttl-s",
    type: "int",
    default: "6",
    defaultDoc: "`6`",
    doc: "typing indicators lapse by themselves after this",
  },
  {
    env: "UTD_WS_MAX_BUFFERED_BYTES",
    key: "ws_max_buffered_bytes",
    flag: "ws-max-buffered-bytes",
    type: "int",
    default: "4194304",
    defaultDoc: "`4194304`",
    doc: "unsent bytes a socket may queue before it is closed with 4507 (slow consumer)",
  },
  {
    env: "UTD_WS_MAX_SOCKETS_PER_IDENTITY",
    key: "ws_max_sockets_per_identity",
    flag: "ws-max-sockets-per-identity",
    type: "int",
    default: "20",
    min: 1,
    defaultDoc: "`20`",
    doc: "open sockets one identity may hold on a node; a newer one closes the oldest with 4409",
  },
  {
    env: "UTD_ROOMS_GRACE_S",
    key: "rooms_grace_s",
    flag: "rooms-grace-s",
    type: "int",
    default: "5",
    defaultDoc: "`5`",
    doc: "a dropped socket stays in its [signalling rooms](docs/rooms.md) this long (a reconnect shows no leave/join)",
  },
  {
    env: "UTD_ROOMS_PER_SOCKET",
    key: "rooms_per_socket",
    flag: "rooms-per-socket",
    type: "int",
    default: "20",
    defaultDoc: "`20`",
    doc: "signalling rooms one socket may be in (`limit_exceeded` `rooms_per_socket`)",
  },
  {
    env: "UTD_ROOMS_MAX_PAYLOAD_BYTES",
    key: "rooms_max_payload_bytes",
    flag: "rooms-max-payload-bytes",
    type: "int",
    default: "4096",
    defaultDoc: "`4096`",
    doc: "largest room broadcast `data` (`payload_too_large`)",
  },
  {
    env: "UTD_ROOMS_PUBLISH_RATE",
    key: "rooms_publish_rate",
    flag: "rooms-publish-rate",
    type: "bucket",
    default: "20/10",
    defaultDoc: "`20/10`",
    doc: "room publishes per member per room (`rate_limited`)",
  },
  {
    env: "UTD_ROOMS_NODE_LEASE_S",
    key: "rooms_node_lease_s",
    flag: "rooms-node-lease-s",
    type: "int",
    default: "30",
    defaultDoc: "`30`",
    doc: "with Redis: a crashed node's room members are removed by the others after this",
  },
  {
    env: "UTD_APP_SETTING_CACHE_S",
    key: "app_setting_cache_s",
    flag: "app-setting-cache-s",
    type: "int",
    default: "2",
    min: 0,
    defaultDoc: "`2`",
    doc: "how long a node keeps an app's chat filters, webhook endpoints and before-send hook (a change drops every node's copy through the bus; this bounds a missed bus message)",
  },
  {
    env: "UTD_CHAT_RETENTION_SWEEP_S",
    key: "chat_retention_sweep_s",
    flag: "chat-retention-sweep-s",
    type: "int",
    default: "3600",
    min: 1,
    defaultDoc: "`3600`",
    doc: "how often messages older than the plan's `history_days` are purged",
  },
  {
    env: "UTD_UPLOAD_MAX_BYTES",
    key: "upload_max_bytes",
    flag: "upload-max-bytes",
    type: "int",
    default: "52428800",
    min: 1,
    defaultDoc: "`52428800`",
    doc: "largest upload",
  },
  {
    env: "UTD_UPLOAD_UNATTACHED_GRACE_S",
    key: "upload_unattached_grace_s",
    flag: "upload-unattached-grace-s",
    type: "int",
    default: "21600",
    min: 60,
    defaultDoc: "`21600` (6 h)",
    doc: "uploaded files no message references are deleted after this",
  },
  {
    env: "UTD_S3_BUCKET",
    key: "s3_bucket",
    flag: "s3-bucket",
    type: "string",
    defaultDoc: "—",
    doc: "S3-compatible bucket for uploads (enables S3; local disk under the data dir when absent)",
  },
  { env: "UTD_S3_REGION", key: "s3_region", flag: "s3-region", type: "string", defaultDoc: "`us-east-1`", doc: "the bucket's region" },
  {
    env: "UTD_S3_ENDPOINT",
    key: "s3_endpoint",
    flag: "s3-endpoint",
    type: "url",
    schemes: ["http", "https"],
    defaultDoc: "—",
    doc: "S3 endpoint URL (MinIO, R2 …); AWS when absent",
  },
  {
    env: "UTD_S3_ACCESS_KEY_ID",
    key: "s3_access_key_id",
    flag: "s3-access-key-id",
    type: "string",
    defaultDoc: "—",
    doc: "S3 access key id (the SDK's default credential chain when absent)",
  },
  {
    env: "UTD_S3_SECRET_ACCESS_KEY",
    key: "s3_secret_access_key",
    flag: "s3-secret-access-key",
    type: "string",
    secret: true,
    defaultDoc: "—",
    doc: "S3 secret access key",
  },
  {
    env: "UTD_S3_FORCE_PATH_STYLE",
    key: "s3_force_path_style",
    flag: "s3-force-path-style",
    type: "bool",
    defaultDoc: "—",
    doc: "path-style bucket URLs (MinIO, s3rver); `true` or `false`",
  },
  {
    env: "UTD_S3_PREFIX",
    key: "s3_prefix",
    flag: "s3-prefix",
    type: "string",
    defaultDoc: "— (none)",
    doc: "key prefix for objects in the bucket",
  },
  {
    env: "UTD_MEDIA_TOKEN_TTL_S",
    key: "media_token_ttl_s",
    flag: "media-token-ttl-s",
    type: "int",
    default: "600",
    min: 10,
    defaultDoc: "`600`",
    doc: "LiveKit room token lifetime (it only has to get the participant in)",
  },
  {
    env: "UTD_DEMO",
    key: "demo",
    flag: "demo",
    type: "bool",
    defaultDoc: "—",
    doc: "`1` = what `utd serve --demo` does: ensure the demo app and serve its config to the demo page",
  },
  {
    env: "UTD_APNS_HOST",
    key: "apns_host",
    flag: "apns-host",
    type: "string",
    defaultDoc: "—",
    doc: "`host[:port]` instead of Apple's APNs hosts (a relay, or a local server in tests)",
  },
  {
    env: "UTD_FCM_URL",
    key: "fcm_url",
    flag: "fcm-url",
    type: "url",
    schemes: ["http", "https"],
    defaultDoc: "—",
    doc: "base URL instead of https://fcm.googleapis.com",
  },
  {
    env: "UTD_PUSH_CA_FILE",
    key: "push_ca_file",
    flag: "push-ca-file",
    type: "string",
    defaultDoc: "—",
    doc: "extra CA certificates (PEM file) trusted for push provider and token endpoints",
  },
  {
    env: "UTD_PUSH_TIMEOUT_MS",
    key: "push_timeout_ms",
    flag: "push-timeout-ms",
    type: "int",
    default: "10000",
    min: 100,
    defaultDoc: "`10000`",
    doc: "one push provider request, ms",
  },
  {
    env: "UTD_PUSH_COLLAPSE_MS",
    key: "push_collapse_ms",
    flag: "push-collapse-ms",
    type: "int",
    default: "1000",
    defaultDoc: "`1000`",
    doc: "message pushes wait this long, so a burst becomes one push",
  },
  {
    env: "UTD_PUSH_MAX_ATTEMPTS",
    key: "push_max_attempts",
    flag: "push-max-attempts",
    type: "int",
    default: "8",
    min: 1,
    defaultDoc: "`8`",
    doc: "attempts before a push is given up (`push.failed`)",
  },
  {
    env: "UTD_PUSH_LEASE_MS",
    key: "push_lease_ms",
    flag: "push-lease-ms",
    type: "int",
    default: "30000",
    min: 100,
    defaultDoc: "`30000`",
    doc: "a push being sent by a node that died is retried after this",
  },
  {
    env: "UTD_PUSH_POLL_MS",
    key: "push_poll_ms",
    flag: "push-poll-ms",
    type: "int",
    default: "250",
    min: 10,
    defaultDoc: "`250`",
    doc: "how often the push outbox is polled (commits also wake it at once)",
  },
  {
    env: "UTD_WEBHOOK_ALLOW_NETWORKS",
    key: "webhook_allow_networks",
    flag: "webhook-allow-networks",
    type: "string",
    defaultDoc: "—",
    doc: "address classes webhook and before-send hook targets may be in: `loopback`, `private`, `link-local` (comma-separated); none by default",
  },
  {
    env: "UTD_WEBHOOK_TIMEOUT_MS",
    key: "webhook_timeout_ms",
    flag: "webhook-timeout-ms",
    type: "int",
    default: "10000",
    min: 100,
    defaultDoc: "`10000`",
    doc: "one webhook delivery attempt, ms",
  },
  {
    env: "UTD_WEBHOOK_RETRY_WINDOW_S",
    key: "webhook_retry_window_s",
    flag: "webhook-retry-window-s",
    type: "int",
    default: "86400",
    min: 1,
    defaultDoc: "`86400`",
    doc: "how long a webhook event is retried before it is dead-lettered",
  },
  {
    env: "UTD_WEBHOOK_LEASE_MS",
    key: "webhook_lease_ms",
    flag: "webhook-lease-ms",
    type: "int",
    default: "30000",
    min: 100,
    defaultDoc: "`30000`",
    doc: "a webhook delivery in flight on a node that died is retried after this",
  },
  {
    env: "UTD_WEBHOOK_POLL_MS",
    key: "webhook_poll_ms",
    flag: "webhook-poll-ms",
    type: "int",
    default: "250",
    min: 10,
    defaultDoc: "`250`",
    doc: "how often the webhook outbox is polled (commits also wake it at once)",
  },
  {
    env: "UTD_DEMO_DIR",
    key: "demo_dir",
    flag: "demo-dir",
    type: "string",
    defaultDoc: "—",
    doc: "serve the demo page from this directory instead of apps/demo/dist",
  },
  {
    env: "UTD_CONSOLE_DIR",
    key: "console_dir",
    flag: "console-dir",
    type: "string",
    defaultDoc: "—",
    doc: "serve the operator console (`/console/`) from this directory instead of apps/console/dist",
  },
];

const byEnv = new Map(SETTINGS.map((s) => [s.env, s]));
const byKey = new Map(SETTINGS.map((s) => [s.key, s]));

/** Why `raw` is not a valid value of `s`, or undefined when it is. */
export function problem(s: Setting, raw: string): string | undefined {
  switch (s.type) {
    case "int": {
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n < (s.min ?? 0)) return `an integer >= ${s.min ?? 0}`;
      return undefined;
    }
    case "bucket":
      return /^\d+\/\d+(?:\.\d+)?$/.test(raw) ? undefined : `"<burst>/<per second>", e.g. "20/5"`;
    case "enum":
      return s.values?.includes(raw) ? undefined : `one of ${s.values?.join(", ")}`;
    case "bool":
      return ["true", "false", "1", "0"].includes(raw) ? undefined : "true or false";
    case "url": {
      try {
        const scheme = new URL(raw).protocol.replace(/:$/, "");
        return !s.schemes || s.schemes.includes(scheme) ? undefined : `a URL with scheme ${s.schemes.join(" or ")}`;
      } catch {
        return `a URL (${s.schemes?.join(" or ") ?? "any scheme"})`;
      }
    }
    default:
      return undefined;
  }
}

/**
 * Checks every declared setting present in `env`; throws a ConfigError naming the variable (and its
 * flag) for the first bad one, so a misconfigured engine refuses to start instead of half-working.
 */
export function validateSettings(env: Record<string, string | undefined>): void {
  for (const s of SETTINGS) {
    const raw = env[s.env];
    if (raw === undefined || raw === "") continue;
    const want = problem(s, raw);
    if (want) throw new ConfigError(`${s.env} (--${s.flag}) must be ${want}, got ${s.secret ? "(hidden)" : JSON.stringify(raw)}`);
  }
}

/**
 * Reads a config file (JSON, or TOML when the name ends in .toml) of `key = value` settings and
 * returns them as environment variables. Unknown keys and wrong types are refused, naming the key.
 */
export async function readConfigFile(file: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let data: unknown;
  try {
    data = file.endsWith(".toml") ? (await import("smol-toml")).parse(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      `config file ${file} is not valid ${file.endsWith(".toml") ? "TOML" : "JSON"}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw new ConfigError(`config file ${file} must hold a table of settings`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) {
    const s = byKey.get(k) ?? byEnv.get(k);
    if (!s) throw new ConfigError(`config file ${file}: unknown setting "${k}"`);
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean")
      throw new ConfigError(`config file ${file}: ${k} must be a string, number or boolean`);
    env[s.env] = String(v);
  }
  return env;
}

function declared(name: string, type: Setting["type"]): Setting & { default: string } {
  const s = byEnv.get(name);
  if (!s || s.type !== type || s.default === undefined) throw new Error(`${name} is not a declared ${type} setting with a default`);
  return s as Setting & { default: string };
}

/** An int setting's value: the variable when set, else its declared default; refused below its declared `min`, naming it. */
export function intSetting(env: Record<string, string | undefined>, name: string): number {
  const s = declared(name, "int");
  const raw = env[name];
  if (raw === undefined || raw === "") return Number(s.default);
  const want = problem(s, raw);
  if (want) throw new ConfigError(`${s.env} (--${s.flag}) must be ${want}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** A rate-bucket setting (`<burst>/<per second>`): the variable when set, else its declared default. */
export function bucketSetting(env: Record<string, string | undefined>, name: string): BucketConfig {
  const s = declared(name, "bucket");
  const raw = env[name];
  const value = raw === undefined || raw === "" ? s.default : raw;
  const want = problem(s, value);
  if (want) throw new ConfigError(`${s.env} (--${s.flag}) must be ${want}, got ${JSON.stringify(raw)}`);
  const [burst, perSecond] = value.split("/").map(Number) as [number, number];
  return { burst, perSecond };
}

/** The README's configuration table (markdown), generated from SETTINGS. */
export function settingsTable(): string {
  const rows = SETTINGS.map((s) => `| \`${s.env}\` | \`--${s.flag}\` | ${s.defaultDoc} | ${s.doc} |`);
  return ["| variable | `utd serve` flag | default | meaning |", "| --- | --- | --- | --- |", ...rows].join("\n");
}
