import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { ApiError } from "../../core/errors.js";

/** What a user token proves. */
export interface UserClaims {
  appId: string;
  identity: string;
  deviceId: string | null;
  /** Issue time in ms (finer than `iat`, so revocation is exact). */
  issuedAt: number;
  expiresAt: number;
}

const ISSUER = "utd-stream";
const AUDIENCE = "utd-user";

/** Signs and verifies the engine's own user tokens (HS256 with the engine token key). */
export class UserTokens {
  constructor(
    private readonly key: Uint8Array,
    private readonly ttlS: number,
  ) {}

  async sign(appId: string, identity: string, deviceId: string | null, now: number): Promise<{ token: string; expiresAt: number }> {
    const expiresAt = now + this.ttlS * 1000;
    const token = await new SignJWT({ app: appId, did: deviceId, iat_ms: now })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(identity)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .sign(this.key);
    return { token, expiresAt: Math.floor(expiresAt / 1000) * 1000 };
  }

  /** Verifies signature, issuer, audience and expiry; throws `unauthorized` otherwise. */
  async verify(token: string, now: number): Promise<UserClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ["HS256"],
        currentDate: new Date(now),
      });
      const { app, did, iat_ms, sub, exp } = payload as Record<string, unknown>;
      if (typeof app !== "string" || typeof sub !== "string" || typeof iat_ms !== "number" || typeof exp !== "number") {
        throw ApiError.unauthorized("malformed user token");
      }
      return { appId: app, identity: sub, deviceId: typeof did === "string" ? did : null, issuedAt: iat_ms, expiresAt: exp * 1000 };
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw ApiError.unauthorized("user token expired");
      throw ApiError.unauthorized("invalid user token");
    }
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
  const exp = payload.exp as number;
  if (exp * 1000 - now > maxTtlS * 1000) {
    throw ApiError.unauthorized(`identity_token lives too long (exp must be within ${maxTtlS}s)`);
  }
}
