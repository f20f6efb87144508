import { z } from "zod";
import { DeviceId, DisplayName, Identity, Timestamp } from "./common.js";
import { PlanLimitsSchema } from "./plans.js";

/** `POST /api/v1/auth/session` — mint a user session. */
export const SessionRequestSchema = z.strictObject({
  app_id: z.string().min(1).max(64),
  app_key: z.string().min(1).max(128),
  identity: Identity,
  name: DisplayName.optional(),
  device_id: DeviceId.optional(),
  /** Signed mode: a JWT (HS256, app secret) from the app's backend; `sub` = identity, `exp` required. */
  identity_token: z.string().min(1).max(4096).optional(),
});
export type SessionRequest = z.infer<typeof SessionRequestSchema>;

export const UserSchema = z.object({
  identity: z.string(),
  name: z.string().nullable(),
});
export type User = z.infer<typeof UserSchema>;

export const SessionResponseSchema = z.object({
  user_token: z.string(),
  expires_at: Timestamp,
  app_id: z.string(),
  user: UserSchema,
  device_id: z.string().nullable(),
  /** Paid capability flags; null only when truly unknown. */
  signaling_enabled: z.boolean().nullable(),
  messaging_enabled: z.boolean().nullable(),
  plan: z.string(),
  plan_limits: PlanLimitsSchema.nullable(),
  /** Where to open the WebSocket (`/api/v1/ws`). */
  ws_url: z.string(),
});
export type SessionResponse = z.infer<typeof SessionResponseSchema>;

/** `POST /api/v1/auth/refresh` — exchange a still-valid user token for a fresh one (same body as a session). */
export const RefreshRequestSchema = z.strictObject({}).optional();

/** `POST /api/v1/auth/revoke` — sign out everywhere: every token issued before now stops working. */
export const RevokeResponseSchema = z.object({ revoked_before: Timestamp });
