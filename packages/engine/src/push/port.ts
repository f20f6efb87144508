import type { PushPlatform } from "@utd-stream/protocol";

/** Token-based APNs credentials (decrypted; only the push module holds them). */
export interface ApnsCredentials {
  keyP8: string;
  keyId: string;
  teamId: string;
  bundleId: string;
  production: boolean;
}

/** An FCM HTTP v1 service account. */
export interface FcmCredentials {
  projectId: string;
  clientEmail: string;
  privateKey: string;
  tokenUri: string;
}

/** Web Push VAPID keys (base64url). */
export interface VapidCredentials {
  publicKey: string;
  privateKey: string;
  subject: string;
}

/** One push to one device token, already shaped for its provider. */
export interface PushRequest {
  platform: PushPlatform;
  /** The provider token: APNs hex token, FCM registration token, or a Web Push subscription (JSON text). */
  token: string;
  /** Stable id of this push (the outbox row): a retry reuses it. */
  pushId: string;
  /** Devices show one notification per collapse key (apns-collapse-id, FCM collapse_key, Web Push Topic). */
  collapseKey: string;
  /** Epoch ms after which the provider should drop it (a ringing call is useless after its ring timeout). */
  expiresAt: number;
  /** High priority wakes the device (calls); normal may be batched by the OS. */
  priority: "high" | "normal";
  apns?: { pushType: "alert" | "voip" | "background"; payload: Record<string, unknown> };
  fcm?: {
    data: Record<string, string>;
    notification?: { title: string; body: string };
  };
  web?: { payload: Record<string, unknown> };
}

/**
 * What a provider answered. `unregistered`: the token is dead (delete it); `retry`: a transient failure
 * (network, 429, 5xx) worth another attempt, after `retryAfterMs` when the provider said; `failed`: a
 * permanent refusal of this push (bad payload, bad credentials) that retrying will not fix.
 */
export type PushResult =
  | { kind: "sent"; status: number }
  | { kind: "unregistered"; status: number; reason: string }
  | { kind: "retry"; status: number | null; reason: string; retryAfterMs?: number }
  | { kind: "failed"; status: number | null; reason: string };

/** The push port: one sender per provider, each given the app's credentials per call (cached inside by fingerprint). */
export interface PushSender<C> {
  send(appId: string, credentials: C, req: PushRequest): Promise<PushResult>;
  /** Forgets cached connections and tokens of an app (its credentials changed). */
  forget(appId: string): void;
  close(): Promise<void>;
}

/** The push port: a sender for each provider (APNs, FCM, Web Push). */
export interface PushSenders {
  apns: PushSender<ApnsCredentials>;
  fcm: PushSender<FcmCredentials>;
  web: PushSender<VapidCredentials>;
}

/** Where the senders connect: overridable so tests (and private relays) can point them at a local server. */
export interface PushEndpoints {
  /** `host[:port]` used instead of api.push.apple.com / api.sandbox.push.apple.com. */
  apnsHost?: string | undefined;
  /** Base URL instead of https://fcm.googleapis.com. */
  fcmUrl?: string | undefined;
  /** Extra trusted CA certificates (PEM) for provider and token endpoints. */
  ca?: string | undefined;
  /** Per-request timeout, ms. */
  timeoutMs: number;
}

/** Classifies an HTTP status the way every provider means it. */
export function classifyStatus(status: number, reason: string, retryAfter?: string | null): PushResult {
  if (status >= 200 && status < 300) return { kind: "sent", status };
  if (status === 404 || status === 410) return { kind: "unregistered", status, reason };
  if (status === 429 || status >= 500 || status === 408) {
    const s = retryAfter ? Number(retryAfter) : Number.NaN;
    return Number.isFinite(s) && s >= 0 ? { kind: "retry", status, reason, retryAfterMs: s * 1000 } : { kind: "retry", status, reason };
  }
  return { kind: "failed", status, reason };
}
