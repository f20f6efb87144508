import apn from "@parse/node-apn";
import { fingerprint } from "../core/keys.js";
import type { ApnsCredentials, PushEndpoints, PushRequest, PushResult, PushSender } from "./port.js";

/** Reasons APNs gives for a token that will never work again: the token is deleted. */
const DEAD_TOKEN = new Set(["BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic", "ExpiredToken"]);

/**
 * APNs over HTTP/2 with a provider token (ES256 JWT from the app's .p8 key), through `@parse/node-apn`.
 * One provider (one HTTP/2 session) per app and credential fingerprint; the library refreshes the JWT.
 */
export class ApnsSender implements PushSender<ApnsCredentials> {
  private readonly providers = new Map<string, { fp: string; provider: apn.Provider }>();

  constructor(private readonly endpoints: PushEndpoints) {}

  private provider(appId: string, c: ApnsCredentials): apn.Provider {
    const fp = fingerprint(`${c.keyP8}|${c.keyId}|${c.teamId}|${c.production}`);
    const cached = this.providers.get(appId);
    if (cached?.fp === fp) return cached.provider;
    if (cached) void cached.provider.shutdown();
    const provider = new apn.Provider({
      token: { key: c.keyP8, keyId: c.keyId, teamId: c.teamId },
      production: c.production,
      ...hostPort(this.endpoints.apnsHost),
      ...(this.endpoints.ca ? { ca: [this.endpoints.ca] } : {}),
      requestTimeout: this.endpoints.timeoutMs,
      // The outbox retries with backoff; the library's own retries would only hide the attempts.
      connectionRetryLimit: 1,
    } as apn.ProviderOptions);
    this.providers.set(appId, { fp, provider });
    return provider;
  }

  async send(appId: string, c: ApnsCredentials, req: PushRequest): Promise<PushResult> {
    if (!req.apns) return { kind: "failed", status: null, reason: "no APNs payload for this push" };
    const note = new apn.Notification();
    note.rawPayload = req.apns.payload;
    note.pushType = req.apns.pushType;
    note.topic = req.apns.pushType === "voip" ? `${c.bundleId}.voip` : c.bundleId;
    note.id = uuidOf(req.pushId);
    note.collapseId = req.collapseKey.slice(0, 64);
    note.expiry = Math.floor(req.expiresAt / 1000);
    // Background pushes must be priority 5; everything else that should show at once is 10.
    note.priority = req.apns.pushType === "background" || req.priority === "normal" ? 5 : 10;
    let res: Awaited<ReturnType<apn.Provider["send"]>>;
    try {
      res = await this.provider(appId, c).send(note, req.token);
    } catch (err) {
      return { kind: "retry", status: null, reason: err instanceof Error ? err.message : String(err) };
    }
    if (res.sent.length > 0) return { kind: "sent", status: 200 };
    const f = res.failed[0];
    if (!f) return { kind: "retry", status: null, reason: "no answer from APNs" };
    const reason = f.response?.reason ?? (f.error ? f.error.message : "unknown");
    const status = f.status === undefined ? null : Number(f.status);
    if (status === null) return { kind: "retry", status, reason };
    if (status === 410 || DEAD_TOKEN.has(reason)) return { kind: "unregistered", status, reason };
    if (status === 429 || status >= 500 || (status === 403 && reason === "ExpiredProviderToken")) return { kind: "retry", status, reason };
    return { kind: "failed", status, reason };
  }

  forget(appId: string): void {
    const p = this.providers.get(appId);
    if (p) void p.provider.shutdown();
    this.providers.delete(appId);
  }

  async close(): Promise<void> {
    for (const p of this.providers.values()) await p.provider.shutdown();
    this.providers.clear();
  }
}

/** APNs wants `apns-id` as a UUID; derive a stable one from the push id so a retry carries the same id. */
function uuidOf(pushId: string): string {
  const h = fingerprint(pushId);
  const hex = Buffer.from(h, "base64url").toString("hex").slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** `host[:port]` → node-apn's separate `address` and `port` (it ignores a port inside the address). */
function hostPort(hp: string | undefined): { address?: string; port?: number } {
  if (!hp) return {};
  const m = /^(.*?)(?::(\d+))?$/.exec(hp);
  return m?.[2] ? { address: m[1] as string, port: Number(m[2]) } : { address: hp };
}
