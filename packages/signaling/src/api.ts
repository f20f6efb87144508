import {
  type Call,
  type CallAction,
  type CallList,
  type CallStatus,
  type CallType,
  type PresenceList,
  type PushPlatform,
  type PushToken,
  type SessionRequest,
  type SessionResponse,
  UTDStreamException,
} from "@utd-stream/protocol";
import {
  callFromWire,
  presenceFromWire,
  pushTokenFromWire,
  sessionFromWire,
  type UTDCall,
  type UTDPresence,
  type UTDPushToken,
  type UTDSession,
} from "./wire.js";

/** A `fetch` implementation (the global one by default; pass one for older runtimes or tests). */
export type FetchLike = (
  input: string,
  init?: { method?: string; headers?: Record<string, string>; body?: string },
) => Promise<{
  status: number;
  text(): Promise<string>;
}>;

export interface UTDApiOptions {
  /** The engine's base URL, e.g. `https://rtc.example.com` (no trailing `/api/v1`). */
  baseUrl: string;
  /** The user token, when already known (set later with {@link UTDApi.setToken}). */
  token?: string;
  fetch?: FetchLike;
  /**
   * Called once when an authenticated call answers 401 (token expired or revoked): resolve to a fresh
   * user token (e.g. by minting a new session) and the call is retried once with it.
   */
  reauthenticate?: () => Promise<string>;
}

/** What `mintSession` needs (seed: app id + key + user id, plus an identity token in signed mode). */
export interface MintSessionParams {
  appId: string;
  appKey: string;
  identity: string;
  name?: string;
  deviceId?: string;
  /** Signed mode: the JWT your backend signed with the app secret. */
  identityToken?: string;
}

/** Options of `createCall`. */
export interface CreateCallParams {
  type: CallType;
  calleeName?: string;
  metadata?: Record<string, unknown>;
  /** Makes the invitation idempotent: retrying with the same id returns the same call instead of ringing again. */
  clientCallId?: string;
}

/**
 * Typed REST access to the engine. Every failure is a `UTDStreamException` (`statusCode`, `code`,
 * `isBanned`, `isRateLimited`, `isForbidden`, `isFeatureDisabled`, `isSignalingDisabled`, `isChatDisabled`).
 *
 * @example
 * const api = new UTDApi({ baseUrl: "http://127.0.0.1:7800" });
 * const session = await api.mintSession({ appId, appKey, identity: "alice" });
 * const call = await api.createCall("bob", { type: "audio_call" });
 */
export class UTDApi {
  readonly baseUrl: string;
  private token: string | undefined;
  private readonly fetchImpl: FetchLike;
  /** Set by the owner (facade, chat registry) that knows how to mint a fresh session. */
  reauthenticate: (() => Promise<string>) | undefined;
  private reauthenticating: Promise<string> | undefined;

  constructor(opts: UTDApiOptions) {
    this.reauthenticate = opts.reauthenticate;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.token = opts.token;
    const f = opts.fetch ?? (globalThis.fetch as unknown as FetchLike | undefined);
    if (!f) throw new Error("UTDApi: no fetch available; pass options.fetch");
    // Browsers refuse a `fetch` called with another `this` ("Illegal invocation"); bind the global one.
    this.fetchImpl = opts.fetch ?? f.bind(globalThis);
  }

  /** Uses this user token for authenticated calls from now on. */
  setToken(token: string | undefined): void {
    this.token = token;
  }

  /**
   * Sends a JSON request; resolves to the parsed body, or throws `UTDStreamException`. An authenticated
   * call refused with 401 is retried once after {@link UTDApiOptions.reauthenticate}, when one is set.
   */
  async request<T>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
    try {
      return await this.send<T>(method, path, body, auth);
    } catch (err) {
      if (!auth || !this.reauthenticate || !(err instanceof UTDStreamException) || err.statusCode !== 401) throw err;
      // Concurrent 401s share one re-mint.
      this.reauthenticating ??= this.reauthenticate().finally(() => {
        this.reauthenticating = undefined;
      });
      this.token = await this.reauthenticating;
      return this.send<T>(method, path, body, auth);
    }
  }

  private async send<T>(method: string, path: string, body: unknown, auth: boolean): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (auth && this.token) headers.authorization = `Bearer ${this.token}`;
    const init: { method: string; headers: Record<string, string>; body?: string } = { method, headers };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res: { status: number; text(): Promise<string> };
    try {
      res = await this.fetchImpl(`${this.baseUrl}${path}`, init);
    } catch (err) {
      throw UTDStreamException.network(err instanceof Error ? err.message : String(err));
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.status < 200 || res.status >= 300) throw UTDStreamException.fromResponse(res.status, parsed);
    return parsed as T;
  }

  /** `POST /api/v1/auth/session`; also adopts the new token for later calls. */
  async mintSession(p: MintSessionParams): Promise<UTDSession> {
    const body: SessionRequest = { app_id: p.appId, app_key: p.appKey, identity: p.identity };
    if (p.name !== undefined) body.name = p.name;
    if (p.deviceId !== undefined) body.device_id = p.deviceId;
    if (p.identityToken !== undefined) body.identity_token = p.identityToken;
    const s = sessionFromWire(await this.request<SessionResponse>("POST", "/api/v1/auth/session", body, false));
    this.token = s.userToken;
    return s;
  }

  /** `POST /api/v1/auth/revoke`: signs this user out on every device. */
  async revokeAll(): Promise<void> {
    await this.request("POST", "/api/v1/auth/revoke");
  }

  /** `POST /api/v1/calls`: rings every device of `calleeIdentity`. */
  async createCall(calleeIdentity: string, p: CreateCallParams): Promise<UTDCall> {
    const body: Record<string, unknown> = { callee_identity: calleeIdentity, type: p.type };
    if (p.calleeName !== undefined) body.callee_name = p.calleeName;
    if (p.metadata !== undefined) body.metadata = p.metadata;
    if (p.clientCallId !== undefined) body.client_call_id = p.clientCallId;
    return callFromWire(await this.request<Call>("POST", "/api/v1/calls", body));
  }

  /** `GET /api/v1/calls/{id}` */
  async getCall(id: string): Promise<UTDCall> {
    return callFromWire(await this.request<Call>("GET", `/api/v1/calls/${encodeURIComponent(id)}`));
  }

  /** `POST /api/v1/calls/{id}/{action}` (`ringing`, `accept`, `reject`, `busy`, `end`). */
  async callAction(id: string, action: CallAction, deviceId?: string): Promise<UTDCall> {
    const body = deviceId ? { device_id: deviceId } : {};
    return callFromWire(await this.request<Call>("POST", `/api/v1/calls/${encodeURIComponent(id)}/${action}`, body));
  }

  /** `GET /api/v1/calls`: this user's calls, newest first; pass `before` (the previous page's `nextBefore`) to page. */
  async listCalls(
    opts: { limit?: number; before?: string; status?: readonly CallStatus[] } = {},
  ): Promise<{ calls: UTDCall[]; nextBefore: string | null }> {
    const q = new URLSearchParams();
    if (opts.status !== undefined && opts.status.length > 0) q.set("status", opts.status.join(","));
    if (opts.limit !== undefined) q.set("limit", String(opts.limit));
    if (opts.before !== undefined) q.set("before", opts.before);
    const qs = q.toString();
    const r = await this.request<CallList>("GET", `/api/v1/calls${qs ? `?${qs}` : ""}`);
    return { calls: r.calls.map(callFromWire), nextBefore: r.next_before };
  }

  /** `GET /api/v1/presence?identities=…` */
  async getPresence(identities: readonly string[]): Promise<UTDPresence[]> {
    const r = await this.request<PresenceList>("GET", `/api/v1/presence?identities=${identities.map(encodeURIComponent).join(",")}`);
    return r.presence.map(presenceFromWire);
  }

  /** `POST /api/v1/push/tokens` (deduplicated by the engine). */
  async registerPushToken(platform: PushPlatform, token: string, deviceId?: string): Promise<UTDPushToken> {
    const body: Record<string, string> = { platform, token };
    if (deviceId !== undefined) body.device_id = deviceId;
    return pushTokenFromWire(await this.request<PushToken>("POST", "/api/v1/push/tokens", body));
  }

  /** `GET /api/v1/push/tokens` */
  async listPushTokens(): Promise<UTDPushToken[]> {
    return (await this.request<{ tokens: PushToken[] }>("GET", "/api/v1/push/tokens")).tokens.map(pushTokenFromWire);
  }

  /** `POST /api/v1/push/tokens/unregister` by token value and/or device; resolves to how many were removed. */
  async unregisterPushToken(by: { token?: string; deviceId?: string }): Promise<number> {
    const body: Record<string, string> = {};
    if (by.token !== undefined) body.token = by.token;
    if (by.deviceId !== undefined) body.device_id = by.deviceId;
    return (await this.request<{ removed: number }>("POST", "/api/v1/push/tokens/unregister", body)).removed;
  }
}
