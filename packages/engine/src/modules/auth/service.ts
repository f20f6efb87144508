import type { SessionRequest, SessionResponse } from "@utd-stream/protocol";
import type { AppRecord, AuthContext } from "../../core/caller.js";
import { type Clock, iso } from "../../core/clock.js";
import type { RateLimitConfig } from "../../core/config.js";
import { ApiError } from "../../core/errors.js";
import type { RateDecision, RateLimiter } from "../../core/rate-limit.js";
import { ReadCache } from "../../core/read-cache.js";
import { constantTimeEqual } from "../../core/secrets.js";
import type { AppsService } from "../apps/index.js";
import type { UserRow, UsersService } from "../users/index.js";
import { type UserTokens, verifyIdentityToken } from "./tokens.js";

export interface AuthDeps {
  apps: AppsService;
  users: UsersService;
  tokens: UserTokens;
  limiter: RateLimiter;
  limits: RateLimitConfig;
  clock: Clock;
  identityTokenMaxTtlS: number;
}

/** How long a socket `hello` may reuse an app read (a change clears it at once; this bounds a missed one). */
const SOCKET_CACHE_TTL_MS = 60_000;
/** Entries kept per cache at most (the oldest go first). */
const SOCKET_CACHE_MAX = 100_000;

/** Session mint, refresh, revocation and request authentication. */
export class AuthService {
  /** Apps read by socket handshakes (`cached`), by id. */
  private readonly apps = new ReadCache<AppRecord>(SOCKET_CACHE_TTL_MS, SOCKET_CACHE_MAX);
  /** Bumped by every {@link forget}: a read that overlapped a change is not kept. */
  private changes = 0;

  constructor(private readonly d: AuthDeps) {}

  /**
   * Forgets what the socket handshakes cached about an app (its settings, credentials or auth mode
   * changed, or it was deleted). Called on this node's hook and on every node's bus message, before the
   * gateway re-reads the app for its open sockets, so a `hello` that overlapped the change reads again.
   */
  forget(appId: string): void {
    this.changes++;
    this.apps.delete(appId);
  }

  /**
   * `POST /api/v1/auth/session`. `wsUrl` is where the client should open its socket; `clientAddress`
   * is the caller's address (only forwarded by trusted proxies), which pays for failed attempts.
   *
   * Credentials are checked before any budget is spent: a failure is charged to the caller's address,
   * never to the identity or app it names, so garbage tokens cannot lock a victim out.
   */
  async mintSession(req: SessionRequest, wsUrl: string, clientAddress: string): Promise<{ body: SessionResponse; rate: RateDecision }> {
    const failures = `session:fail:addr:${clientAddress}`;
    const failCfg = this.d.limits.sessionFailuresPerAddress;
    // An address that keeps failing is refused before any check (its work stays bounded); cost 0 only looks.
    const gate = await this.d.limiter.take(failures, failCfg, 0);
    if (gate.remaining < 1) throw ApiError.rateLimited(failCfg.perSecond > 0 ? 1 / failCfg.perSecond : 3600);
    const now = this.d.clock.now();
    let app: AppRecord;
    try {
      app = await this.verifyCredentials(req, now);
    } catch (err) {
      if (err instanceof ApiError && err.code === "unauthorized") await this.d.limiter.take(failures, failCfg, 1);
      throw err;
    }
    // The narrower budget first: an identity over its own budget must not spend the app's.
    const perIdentity = await this.limit(`session:id:${app.id}:${req.identity}`, this.d.limits.sessionPerIdentity);
    const rate = await this.limit(`session:app:${app.id}`, this.d.limits.sessionPerApp);
    const existing = await this.d.users.find(app.id, req.identity);
    if (existing?.banned_at != null) throw banned(existing);
    const user = await this.d.users.touch(app.id, req.identity, req.name);
    await this.d.users.recordActive(app.id, req.identity);
    const body = await this.issue(app, user, req.device_id ?? null, wsUrl, now);
    return { body, rate: perIdentity.remaining < rate.remaining ? perIdentity : rate };
  }

  /** The app, when the key (and in signed mode the identity token) check out; `unauthorized` otherwise. */
  private async verifyCredentials(req: SessionRequest, now: number): Promise<AppRecord> {
    const app = await this.d.apps.find(req.app_id);
    // Unknown app and wrong key look the same from outside: both are bad credentials.
    if (!app || !constantTimeEqual(app.key, req.app_key)) throw ApiError.unauthorized("unknown app_id or wrong app_key");
    if (app.authMode === "signed") {
      if (!req.identity_token) throw ApiError.unauthorized("this app is in signed mode: identity_token is required");
      await verifyIdentityToken(req.identity_token, app.secret(), req.identity, now, this.d.identityTokenMaxTtlS);
    }
    return app;
  }

  /**
   * `POST /api/v1/auth/refresh`: a fresh token for a caller whose token is still valid. The session keeps
   * its first mint time and auth mode: refresh never carries a session past its maximum age, nor across a
   * change of the app's auth mode.
   */
  async refresh(ctx: AuthContext, wsUrl: string): Promise<SessionResponse> {
    const now = this.d.clock.now();
    if ((ctx.claims.authMode ?? "open") !== ctx.app.authMode) {
      throw ApiError.unauthorized(`this session was not authenticated in the app's current (${ctx.app.authMode}) mode; mint a new session`);
    }
    this.d.tokens.assertRenewable(ctx.claims.sessionStartedAt, now);
    const user = await this.d.users.touch(ctx.app.id, ctx.identity, undefined);
    await this.d.users.recordActive(ctx.app.id, ctx.identity);
    return this.issue(ctx.app, user, ctx.deviceId, wsUrl, ctx.claims.sessionStartedAt);
  }

  /** `POST /api/v1/auth/revoke`: signs the user out everywhere. */
  async revokeAll(ctx: AuthContext): Promise<{ revoked_before: string }> {
    return { revoked_before: iso(await this.d.users.revoke(ctx.app.id, ctx.identity)) };
  }

  private async issue(
    app: AppRecord,
    user: UserRow,
    deviceId: string | null,
    wsUrl: string,
    sessionStartedAt: number,
  ): Promise<SessionResponse> {
    // Never stamp a token earlier than a revocation it must survive (clocks of several nodes differ slightly).
    const now = Math.max(this.d.clock.now(), user.tokens_valid_after, app.tokensValidAfter);
    const { token, expiresAt } = await this.d.tokens.sign(app.id, user.identity, deviceId, now, {
      authMode: app.authMode,
      sessionStartedAt,
    });
    return {
      user_token: token,
      expires_at: iso(expiresAt),
      app_id: app.id,
      user: { identity: user.identity, name: user.name },
      device_id: deviceId,
      signaling_enabled: app.signalingEnabled,
      messaging_enabled: app.messagingEnabled,
      plan: app.plan,
      plan_limits: app.limits,
      ws_url: wsUrl,
    };
  }

  /**
   * Resolves a bearer token to its app and user, refusing expired, revoked and banned ones.
   * `rateLimit` charges the per-user and per-app request buckets.
   */
  async authenticate(
    token: string | undefined,
    opts: { rateLimit?: boolean; cached?: boolean } = {},
  ): Promise<{ ctx: AuthContext; rate?: RateDecision }> {
    if (!token) throw ApiError.unauthorized("missing bearer token");
    const now = this.d.clock.now();
    const claims = await this.d.tokens.verify(token, now);
    const app = opts.cached ? await this.cachedApp(claims.appId, now) : await this.d.apps.find(claims.appId);
    if (!app) throw ApiError.unauthorized("the app of this token no longer exists");
    // An auth-mode change or a key/secret rotation voids every token issued before it.
    if (claims.issuedAt < app.tokensValidAfter) throw ApiError.unauthorized("the app's credentials changed; mint a new session");
    if (claims.authMode !== null && claims.authMode !== app.authMode) {
      throw ApiError.unauthorized(`this session was minted in ${claims.authMode} mode; the app is now ${app.authMode}`);
    }
    // The user is read every time: bans and revocations must refuse the very next hello on every node.
    const user = await this.d.users.find(app.id, claims.identity);
    if (!user) throw ApiError.unauthorized("unknown user");
    if (user.banned_at != null) throw banned(user);
    if (claims.issuedAt < user.tokens_valid_after) throw ApiError.unauthorized("user token revoked");
    const rate = opts.rateLimit !== false ? await this.chargeRequest(app.id, claims.identity) : undefined;
    // A socket keeps its context for its life: one copy of the app id and of the identity, not the token's
    // and the row's equal strings held apart (~100 bytes a socket).
    claims.appId = app.id;
    user.app_id = app.id;
    user.identity = claims.identity;
    const ctx: AuthContext = { app, user, claims, identity: claims.identity, deviceId: claims.deviceId };
    return rate ? { ctx, rate } : { ctx };
  }

  /**
   * The app for a socket handshake or a REST request, read at most once a minute: a reconnect storm of
   * 10,000 users read the same row 10,000 times (and unsealed its secret each time), and on PostgreSQL every
   * REST send paid a round trip for it. A change clears it ({@link forget}).
   */
  private async cachedApp(appId: string, now: number): Promise<AppRecord | undefined> {
    const hit = this.apps.get(appId, now);
    if (hit) return hit;
    const seen = this.changes;
    const app = await this.d.apps.find(appId);
    // A read that overlapped a change may hold the old row (PostgreSQL answers asynchronously): not kept.
    if (app && this.changes === seen) this.apps.set(appId, app, now);
    return app;
  }

  /**
   * Charges one request to the user's and the app's request budgets (`rate_limited` when either is spent).
   * REST requests and WebSocket request frames pay the same. The user's bucket first: a user over it
   * must not drain the app's budget for everyone else. Resolves to the user's bucket state.
   */
  async chargeRequest(appId: string, identity: string): Promise<RateDecision> {
    const rate = await this.limit(`req:user:${appId}:${identity}`, this.d.limits.requestsPerUser);
    await this.limit(`req:app:${appId}`, this.d.limits.requestsPerApp);
    return rate;
  }

  private async limit(key: string, cfg: { burst: number; perSecond: number }): Promise<RateDecision> {
    const d = await this.d.limiter.take(key, cfg);
    if (!d.allowed) throw ApiError.rateLimited(d.retryAfterS, d);
    return d;
  }
}

function banned(user: UserRow): ApiError {
  return new ApiError("banned", user.ban_reason ? `this user is banned: ${user.ban_reason}` : "this user is banned");
}
