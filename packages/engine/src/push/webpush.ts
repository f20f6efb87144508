import webpush from "web-push";
import type { Clock } from "../core/clock.js";
import { httpRequest } from "../core/http-client.js";
import { classifyStatus, type PushEndpoints, type PushRequest, type PushResult, type PushSender, type VapidCredentials } from "./port.js";

interface Subscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** Parses a `web` push token: the browser's `PushSubscription.toJSON()` as text. */
export function parseSubscription(token: string): Subscription | undefined {
  try {
    const s = JSON.parse(token) as Partial<Subscription>;
    if (typeof s.endpoint !== "string" || !/^https?:\/\//.test(s.endpoint)) return undefined;
    if (typeof s.keys?.p256dh !== "string" || typeof s.keys.auth !== "string") return undefined;
    return { endpoint: s.endpoint, keys: { p256dh: s.keys.p256dh, auth: s.keys.auth } };
  } catch {
    return undefined;
  }
}

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and `aes128gcm` payload encryption (RFC 8291). `web-push` builds the
 * encrypted request; it is sent here so an extra CA can be trusted (local push services in tests).
 */
export class WebPushSender implements PushSender<VapidCredentials> {
  constructor(
    private readonly endpoints: PushEndpoints,
    private readonly clock: Clock,
  ) {}

  async send(_appId: string, c: VapidCredentials, req: PushRequest): Promise<PushResult> {
    if (!req.web) return { kind: "failed", status: null, reason: "no Web Push payload for this push" };
    const sub = parseSubscription(req.token);
    // A token that is not a subscription can never be delivered to.
    if (!sub) return { kind: "unregistered", status: 0, reason: "not a push subscription" };
    let details: ReturnType<typeof webpush.generateRequestDetails>;
    try {
      details = webpush.generateRequestDetails(sub, JSON.stringify(req.web.payload), {
        vapidDetails: { subject: c.subject, publicKey: c.publicKey, privateKey: c.privateKey },
        TTL: Math.max(0, Math.floor((req.expiresAt - this.clock.now()) / 1000)),
        urgency: req.priority === "high" ? "high" : "normal",
        // Topic: at most 32 url-safe characters; a newer push with the same topic replaces a queued one.
        topic: topicOf(req.collapseKey),
        contentEncoding: "aes128gcm",
      });
    } catch (err) {
      return { kind: "failed", status: null, reason: err instanceof Error ? err.message : String(err) };
    }
    try {
      const res = await httpRequest(details.endpoint, {
        method: details.method,
        headers: details.headers as Record<string, string>,
        ...(details.body ? { body: details.body } : {}),
        ca: this.endpoints.ca,
        timeoutMs: this.endpoints.timeoutMs,
      });
      const header = res.headers["retry-after"];
      return classifyStatus(res.status, res.body.slice(0, 200), typeof header === "string" ? header : null);
    } catch (err) {
      return { kind: "retry", status: null, reason: err instanceof Error ? err.message : String(err) };
    }
  }

  forget(): void {}

  async close(): Promise<void> {}
}

function topicOf(key: string): string {
  const clean = key.replace(/[^A-Za-z0-9_-]/g, "");
  return clean.length <= 32 ? clean : clean.slice(-32);
}
