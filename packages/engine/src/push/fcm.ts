import { importPKCS8, SignJWT } from "jose";
import type { Clock } from "../core/clock.js";
import { httpRequest } from "../core/http-client.js";
import { fingerprint } from "../core/keys.js";
import { classifyStatus, type FcmCredentials, type PushEndpoints, type PushRequest, type PushResult, type PushSender } from "./port.js";

const SCOPE = "https://www.googleapis.com/auth/firebase.messaging";

interface CachedToken {
  fp: string;
  token: string;
  expiresAt: number;
}

/**
 * FCM HTTP v1. The OAuth 2.0 access token comes from the service account's `token_uri` by the JWT-bearer grant
 * (RFC 7523) and is cached until a minute before it expires (by the injected clock); one request at a time
 * fetches it per app. `google-auth-library` is not used: its service-account client ignores `token_uri`.
 */
export class FcmSender implements PushSender<FcmCredentials> {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly fetching = new Map<string, Promise<CachedToken>>();

  constructor(
    private readonly endpoints: PushEndpoints,
    private readonly clock: Clock,
  ) {}

  private async accessToken(appId: string, c: FcmCredentials): Promise<string> {
    const fp = fingerprint(`${c.clientEmail}|${c.privateKey}|${c.tokenUri}`);
    const cached = this.tokens.get(appId);
    if (cached && cached.fp === fp && cached.expiresAt > this.clock.now()) return cached.token;
    let p = this.fetching.get(appId);
    if (!p) {
      p = this.fetchToken(c, fp).finally(() => this.fetching.delete(appId));
      this.fetching.set(appId, p);
    }
    const t = await p;
    this.tokens.set(appId, t);
    return t.token;
  }

  private async fetchToken(c: FcmCredentials, fp: string): Promise<CachedToken> {
    const now = this.clock.now();
    const key = await importPKCS8(c.privateKey, "RS256");
    const assertion = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: "RS256", typ: "JWT" })
      .setIssuer(c.clientEmail)
      .setAudience(c.tokenUri)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(now / 1000) + 3600)
      .sign(key);
    const res = await httpRequest(c.tokenUri, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }).toString(),
      ca: this.endpoints.ca,
      timeoutMs: this.endpoints.timeoutMs,
    });
    if (res.status !== 200) throw new TokenError(res.status, `token endpoint answered ${res.status}: ${res.body.slice(0, 200)}`);
    const body = JSON.parse(res.body) as { access_token?: string; expires_in?: number };
    if (!body.access_token) throw new TokenError(res.status, "token endpoint sent no access_token");
    const ttlS = typeof body.expires_in === "number" ? body.expires_in : 3600;
    return { fp, token: body.access_token, expiresAt: now + Math.max(0, ttlS - 60) * 1000 };
  }

  async send(appId: string, c: FcmCredentials, req: PushRequest): Promise<PushResult> {
    if (!req.fcm) return { kind: "failed", status: null, reason: "no FCM payload for this push" };
    let token: string;
    try {
      token = await this.accessToken(appId, c);
    } catch (err) {
      // A refused service account will not get better by retrying; a network error may.
      if (err instanceof TokenError && err.status >= 400 && err.status < 500)
        return { kind: "failed", status: err.status, reason: err.message };
      return { kind: "retry", status: null, reason: err instanceof Error ? err.message : String(err) };
    }
    const ttlS = Math.max(0, Math.floor((req.expiresAt - this.clock.now()) / 1000));
    const message = {
      token: req.token,
      data: req.fcm.data,
      ...(req.fcm.notification ? { notification: req.fcm.notification } : {}),
      android: {
        priority: req.priority === "high" ? "HIGH" : "NORMAL",
        ttl: `${ttlS}s`,
        collapse_key: req.collapseKey,
      },
    };
    const base = (this.endpoints.fcmUrl ?? "https://fcm.googleapis.com").replace(/\/+$/, "");
    let res: Awaited<ReturnType<typeof httpRequest>>;
    try {
      res = await httpRequest(`${base}/v1/projects/${encodeURIComponent(c.projectId)}/messages:send`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ message }),
        ca: this.endpoints.ca,
        timeoutMs: this.endpoints.timeoutMs,
      });
    } catch (err) {
      return { kind: "retry", status: null, reason: err instanceof Error ? err.message : String(err) };
    }
    const reason = fcmReason(res.body);
    if (res.status === 401) {
      // The cached token was revoked or expired early: fetch a new one on the retry.
      this.tokens.delete(appId);
      return { kind: "retry", status: 401, reason };
    }
    if (res.status === 400 && reason === "UNREGISTERED") return { kind: "unregistered", status: 400, reason };
    if (res.status === 400 && /registration token/i.test(res.body))
      return { kind: "unregistered", status: 400, reason: "INVALID_ARGUMENT (token)" };
    const header = res.headers["retry-after"];
    return classifyStatus(res.status, reason, typeof header === "string" ? header : null);
  }

  forget(appId: string): void {
    this.tokens.delete(appId);
  }

  async close(): Promise<void> {
    this.tokens.clear();
  }
}

class TokenError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** FCM puts the precise reason (`UNREGISTERED`, `QUOTA_EXCEEDED` …) in `error.details[].errorCode`. */
function fcmReason(body: string): string {
  try {
    const e = (JSON.parse(body) as { error?: { status?: string; details?: { errorCode?: string }[] } }).error;
    return e?.details?.find((d) => d.errorCode)?.errorCode ?? e?.status ?? "";
  } catch {
    return "";
  }
}
