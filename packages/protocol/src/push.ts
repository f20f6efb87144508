import { z } from "zod";
import { DeviceId, Id, Timestamp } from "./common.js";

/** Push providers a device token may belong to (`apns_voip`: VoIP pushes that ring a call). */
export const PUSH_PLATFORMS = ["fcm", "apns", "apns_voip", "web"] as const;
export type PushPlatform = (typeof PUSH_PLATFORMS)[number];

/** Most push tokens one user may hold; registering more drops the oldest. */
export const PUSH_MAX_TOKENS_PER_USER = 20;

/**
 * `POST /api/v1/push/tokens` — registers (or re-registers) a device's push token. Deduplicated per
 * app + platform + token: the same token registered again, even by another user, moves to the caller.
 */
export const RegisterPushTokenRequestSchema = z.strictObject({
  platform: z.enum(PUSH_PLATFORMS),
  /** Provider token (FCM registration token, APNs hex token, or a Web Push subscription as JSON text). */
  token: z.string().min(1).max(4096),
  /** Defaults to the session's device id. */
  device_id: DeviceId.optional(),
});
export type RegisterPushTokenRequest = z.infer<typeof RegisterPushTokenRequestSchema>;

export const PushTokenSchema = z.object({
  id: z.string(),
  platform: z.enum(PUSH_PLATFORMS),
  token: z.string(),
  device_id: z.string().nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type PushToken = z.infer<typeof PushTokenSchema>;

export const PushTokenListSchema = z.object({ tokens: z.array(PushTokenSchema) });

/** `DELETE /api/v1/push/tokens/{id}` */
export const PushTokenParamsSchema = z.strictObject({ id: Id });

/** `POST /api/v1/push/tokens/unregister` — by token value (what a device knows after reinstall), or every token of a device. */
export const UnregisterPushTokenRequestSchema = z
  .strictObject({ token: z.string().min(1).max(4096).optional(), device_id: DeviceId.optional() })
  .refine((b) => b.token !== undefined || b.device_id !== undefined, "name token or device_id");
export const UnregisterPushTokenResponseSchema = z.object({ removed: z.number().int() });
