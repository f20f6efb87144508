import { RoomRole } from "@utd-stream/protocol/schemas";
import { errors as joseErrors, jwtVerify } from "jose";
import { ApiError } from "../../core/errors.js";

/** What a verified room grant allows. */
export interface RoomGrant {
  /** False for a listen-only member. */
  publish: boolean;
  role: string | undefined;
}

/**
 * Verifies a room grant: a JWT your backend signs with the app secret (HS256), like a signed-mode
 * identity token, with `sub` = identity, `room` = the room, `exp` at most `maxTtlS` ahead, and
 * optionally `publish` (boolean) and `role`. Any failure is `forbidden` (the socket stays up).
 */
export async function verifyRoomGrant(
  token: string,
  secret: string,
  identity: string,
  room: string,
  now: number,
  maxTtlS: number,
): Promise<RoomGrant> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ["HS256"],
      currentDate: new Date(now),
      requiredClaims: ["exp", "sub", "room"],
      clockTolerance: 5,
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw ApiError.forbidden("room grant expired");
    throw ApiError.forbidden("room grant is not a valid token signed with this app's secret for a room");
  }
  if (payload.sub !== identity) throw ApiError.forbidden("room grant sub does not match this user");
  if (payload.room !== room) throw ApiError.forbidden("room grant is for another room");
  if ((payload.exp as number) * 1000 - now > maxTtlS * 1000) {
    throw ApiError.forbidden(`room grant lives too long (exp must be within ${maxTtlS}s)`);
  }
  if (payload.publish !== undefined && typeof payload.publish !== "boolean")
    throw ApiError.forbidden("room grant: publish must be a boolean");
  let role: string | undefined;
  if (payload.role !== undefined) {
    const r = RoomRole.safeParse(payload.role);
    if (!r.success) throw ApiError.forbidden("room grant: malformed role");
    role = r.data;
  }
  return { publish: payload.publish !== false, role };
}
