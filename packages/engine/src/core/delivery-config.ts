import { readFileSync } from "node:fs";
import { ConfigError } from "./env.js";
import { intSetting } from "./settings.js";
import { NETWORK_CLASSES, type NetworkClass } from "./ssrf.js";

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
    timeoutMs: intSetting(env, "UTD_PUSH_TIMEOUT_MS"),
    collapseMs: intSetting(env, "UTD_PUSH_COLLAPSE_MS"),
    maxAttempts: intSetting(env, "UTD_PUSH_MAX_ATTEMPTS"),
    leaseMs: intSetting(env, "UTD_PUSH_LEASE_MS"),
    pollMs: intSetting(env, "UTD_PUSH_POLL_MS"),
  };
}

/** Outgoing webhooks and the before-send hook. */
export interface WebhookConfig {
  /** `UTD_WEBHOOK_ALLOW_NETWORKS`: address classes targets may be in (`loopback`, `private`, `link-local`); none by default. */
  allowNetworks: NetworkClass[];
  /** `UTD_WEBHOOK_TIMEOUT_MS` (10000): one delivery attempt. */
  timeoutMs: number;
  /** `UTD_WEBHOOK_RETRY_WINDOW_S` (86400): retries go on this long, then the event is dead-lettered. */
  retryWindowS: number;
  /** `UTD_WEBHOOK_LEASE_MS` (30000): a delivery in flight on a node that died is retried after this. */
  leaseMs: number;
  /** `UTD_WEBHOOK_POLL_MS` (250). */
  pollMs: number;
}

export function loadWebhookConfig(env: Record<string, string | undefined>): WebhookConfig {
  const raw = (env.UTD_WEBHOOK_ALLOW_NETWORKS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const c of raw) {
    if (!(NETWORK_CLASSES as readonly string[]).includes(c))
      throw new ConfigError(`UTD_WEBHOOK_ALLOW_NETWORKS: "${c}" is not one of ${NETWORK_CLASSES.join(", ")}`);
  }
  return {
    allowNetworks: raw as NetworkClass[],
    timeoutMs: intSetting(env, "UTD_WEBHOOK_TIMEOUT_MS"),
    retryWindowS: intSetting(env, "UTD_WEBHOOK_RETRY_WINDOW_S"),
    leaseMs: intSetting(env, "UTD_WEBHOOK_LEASE_MS"),
    pollMs: intSetting(env, "UTD_WEBHOOK_POLL_MS"),
  };
}
