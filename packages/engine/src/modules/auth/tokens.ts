import { createHmac, timingSafeEqual } from "node:crypto";
import type { AuthMode } from "@utd-stream/protocol";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type { UserClaims } from "../../core/caller.js";
import { ApiError } from "../../core/errors.js";

/** What a new token says about its session. */
export interface SessionFacts {
  authMode: AuthMode;
  /** First mint of the session (ms); a refresh passes the original. */
  sessionStartedAt: number;
}

const ISSUER = "utd-stream";
const AUDIENCE = "utd-user";

/**
 * Signs and verifies the engine's own user tokens (HS256 with the engine token key). A token lives `ttlS`,
 * and never past `maxAgeS` after its session's first mint.
 */
export class UserTokens {
  constructor(
    private readonly key: Uint8Array,
    private readonly ttlS: number,
    private readonly maxAgeS: number = 30 * 86_400,
  ) {}

  /** Throws `unauthorized` when a session started at `startedAt` may not get another token at `now`. */
  assertRenewable(startedAt: number, now: number): void {
    if (now >= startedAt + this.maxAgeS * 1000 - 1000) {
      throw ApiError.unauthorized("this session reached its maximum age; mint a new session");
    }
  }

  async sign(
    appId: string,
    identity: string,
    deviceId: string | null,
    now: number,
    session: SessionFacts,
  ): Promise<{ token: string; expiresAt: number }> {
    this.assertRenewable(session.sessionStartedAt, now);
    const expiresAt = Math.min(now + this.ttlS * 1000, session.sessionStartedAt + this.maxAgeS * 1000);
    const token = await new SignJWT({ app: appId, did: deviceId, iat_ms: now, am: session.authMode, sst: session.sessionStartedAt })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(identity)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .sign(this.key);
    return { token, expiresAt: Math.floor(expiresAt / 1000) * 1000 };
  }

  /**
   * Verifies signature, issuer, audience and expiry; throws `unauthorized` otherwise.
   *
   * Done here with one synchronous HMAC rather than jose's `jwtVerify`: every socket `hello` and REST call
   * verifies a token, and jose goes through WebCrypto (a key import and an async job per call, ~0.1 ms of
   * engine CPU each, a tenth of a handshake). The checks are jose's for HS256: the header names HS256 and
   * no `crit`, the signature is the HMAC of the first two parts (compared in constant time), the payload
   * is an object with our `iss` and `aud`, a numeric `exp` after now (whole seconds) and no `nbf` ahead.
   */
  async verify(token: string, now: number): Promise<UserClaims> {
    return this.verifySync(token, now);
  }

  private verifySync(token: string, now: number): UserClaims {
    const parts = token.split(".");
    const [h, p, sig] = parts;
    if (
      parts.length !== 3 ||
      h === undefined ||
      p === undefined ||
      sig === undefined ||
      (h !== OWN_HEADER && !B64URL.test(h)) ||
      !B64URL.test(p) ||
      !B64URL.test(sig)
    ) {
      throw ApiError.unauthorized("invalid user token");
    }
    if (h !== OWN_HEADER) {
      const header = parseJsonObject(h);
      if (header?.alg !== "HS256" || header.crit !== undefined) throw ApiError.unauthorized("invalid user token");
    }
    const expected = createHmac("sha256", this.key).update(`${h}.${p}`).digest();
    const given = Buffer.from(sig, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw ApiError.unauthorized("invalid user token");
    const payload = parseJsonObject(p);
    if (!payload) throw ApiError.unauthorized("invalid user token");
    const { app, did, iat_ms, sub, exp, am, sst, iss, aud, nbf, iat } = payload;
    const nowS = Math.floor(now / 1000);
    const audOk = aud === AUDIENCE || (Array.isArray(aud) && aud.includes(AUDIENCE));
    if (iss !== ISSUER || !audOk || (nbf !== undefined && (typeof nbf !== "number" || nbf > nowS))) {
      throw ApiError.unauthorized("invalid user token");
    }
    if (iat !== undefined && typeof iat !== "number") throw ApiError.unauthorized("invalid user token");
    if (exp !== undefined && typeof exp !== "number") throw ApiError.unauthorized("invalid user token");
    if (typeof exp === "number" && exp <= nowS) throw ApiError.unauthorized("user token expired");
    if (typeof app !== "string" || typeof sub !== "string" || typeof iat_ms !== "number" || typeof exp !== "number") {
      throw ApiError.unauthorized("malformed user token");
    }
    return {
      appId: app,
      identity: sub,
      deviceId: typeof did === "string" ? did : null,
      issuedAt: iat_ms,
      expiresAt: exp * 1000,
      authMode: am === "open" || am === "signed" ? am : null,
      sessionStartedAt: typeof sst === "number" ? sst : iat_ms,
    };
  }
}

/** The header `sign` writes (every token the engine issued has it): known valid, so not decoded again. */
const OWN_HEADER = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");

/** One base64url segment of a compact JWS (no padding, nothing else). */
const B64URL = /^[A-Za-z0-9_-]+$/;

/** A base64url JSON object, or undefined when the segment is not one. */
function parseJsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies a backend-signed identity token (signed mode): HS256 with the app secret, `sub` equal to the
 * identity, `exp` present and no further than `maxTtlS` ahead.
 */
export async function verifyIdentityToken(token: string, secret: string, identity: string, now: number, maxTtlS: number): Promise<void> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ["HS256"],
      currentDate: new Date(now),
      requiredClaims: ["exp", "sub"],
      clockTolerance: 5,
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw ApiError.unauthorized("identity_token expired");
    throw ApiError.unauthorized("identity_token is not a valid token signed with this app's secret");
  }
  if (payload.sub !== identity) throw ApiError.unauthorized("identity_token sub does not match identity");
  // A room grant is signed the same way; it must not double as a session credential.
  if (payload.room !== undefined) throw ApiError.unauthorized("identity_token must not be a room grant (it has a room claim)");
  const exp = payload.exp as number;
  if (exp * 1000 - now > maxTtlS * 1000) {
    throw ApiError.unauthorized(`identity_token lives too long (exp must be within ${maxTtlS}s)`);
  }
}
