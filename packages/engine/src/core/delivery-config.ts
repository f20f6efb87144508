import { readFileSync } from "node:fs";
import { ConfigError, int } from "./env.js";

/** Push delivery settings (environment variables in the README's "Notifications and webhooks"). */
export interface PushConfig {
  /** `UTD_APNS_HOST`: `host[:port]` instead of Apple's hosts (a relay, or a local server in tests). */
  apnsHost: string | undefined;
  /** `UTD_FCM_URL`: base URL instead of https://fcm.googleapis.com. */
  fcmUrl: string | undefined;
  /** `UTD_PUSH_CA_FILE`: extra CA certificates (PEM file) trusted for provider and token endpoints. */
  ca: string | undefined;
  /** `UTD_PUSH_TIMEOUT_MS` (10000): one provider request. */
  timeoutMs: number;
  /** `UTD_PUSH_COLLAPSE_MS` (1000): message pushes wait this long, so a burst becomes one push. */
  collapseMs: number;
  /** `UTD_PUSH_MAX_ATTEMPTS` (8): attempts before a push is given up (`push.failed`). */
  maxAttempts: number;
  /** `UTD_PUSH_LEASE_MS` (30000): a push being sent by a node that died is retried after this. */
  leaseMs: number;
  /** `UTD_PUSH_POLL_MS` (250): how often the outbox is polled (commits also wake it at once). */
  pollMs: number;
}

export function loadPushConfig(env: Record<string, string | undefined>): PushConfig {
  const caFile = env.UTD_PUSH_CA_FILE || undefined;
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile, "utf8");
    } catch (err) {
      throw new ConfigError(`UTD_PUSH_CA_FILE: cannot read ${caFile}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const fcmUrl = env.UTD_FCM_URL || undefined;
  if (fcmUrl && !/^https?:\/\/\S+$/.test(fcmUrl)) throw new ConfigError(`UTD_FCM_URL must be an http(s) URL, got "${fcmUrl}"`);
  const apnsHost = env.UTD_APNS_HOST || undefined;
  if (apnsHost && !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(apnsHost))
    throw new ConfigError(`UTD_APNS_HOST must be host[:port], got "${apnsHost}"`);
  return {
    apnsHost,
    fcmUrl,
    ca,
    timeoutMs: int(env, "UTD_PUSH_TIMEOUT_MS", 10_000, 100),
    collapseMs: int(env, "UTD_PUSH_COLLAPSE_MS", 1000, 0),
    maxAttempts: int(env, "UTD_PUSH_MAX_ATTEMPTS", 8, 1),
    leaseMs: int(env, "UTD_PUSH_LEASE_MS", 30_000, 100),
    pollMs: int(env, "UTD_PUSH_POLL_MS", 250, 10),
  };
}
