import { z } from "zod";
import { DeviceId, Id, Timestamp } from "./common.js";
import { PUSH_PLATFORMS, PUSH_PROVIDERS } from "./constants/push.js";

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

// ---------- provider credentials (admin) ----------

/**
 * `PUT /admin/v1/apps/{app_id}/push/apns` — token-based APNs credentials: the `.p8` key (PEM text), its key id
 * and the team id. `production` picks api.push.apple.com over the sandbox host. VoIP pushes go to the topic
 * `<bundle_id>.voip`.
 */
export const SetApnsCredentialsRequestSchema = z.strictObject({
  key_p8: z
    .string()
    .min(32)
    .max(8192)
    .regex(/-----BEGIN PRIVATE KEY-----/, "must be the PEM text of the .p8 key"),
  key_id: z.string().regex(/^[A-Z0-9]{10}$/, "10 upper-case letters or digits"),
  team_id: z.string().regex(/^[A-Z0-9]{10}$/, "10 upper-case letters or digits"),
  bundle_id: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9.-]+$/, "a bundle id like com.example.app"),
  production: z.boolean().default(false),
});
export type SetApnsCredentialsRequest = z.input<typeof SetApnsCredentialsRequestSchema>;

/**
 * `PUT /admin/v1/apps/{app_id}/push/fcm` — an FCM HTTP v1 service account (the JSON Google issues, or its four
 * fields). The OAuth token is fetched from `token_uri` and cached until it expires.
 */
export const SetFcmCredentialsRequestSchema = z.object({
  project_id: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[a-z0-9-]+$/, "a Firebase project id"),
  client_email: z.email().max(320),
  private_key: z
    .string()
    .min(32)
    .max(8192)
    .regex(/-----BEGIN PRIVATE KEY-----/, "must be the PEM text of the service account's key"),
  token_uri: z.url({ protocol: /^https?$/ }).default("https://oauth2.googleapis.com/token"),
});
export type SetFcmCredentialsRequest = z.input<typeof SetFcmCredentialsRequestSchema>;

/** `PUT /admin/v1/apps/{app_id}/push/vapid` — Web Push VAPID keys (base64url, as `web-push generate-vapid-keys` prints them). */
export const SetVapidCredentialsRequestSchema = z.strictObject({
  public_key: z.string().regex(/^[A-Za-z0-9_-]{86,88}$/, "a base64url P-256 public key (65 bytes)"),
  private_key: z.string().regex(/^[A-Za-z0-9_-]{42,44}$/, "a base64url P-256 private key (32 bytes)"),
  /** `mailto:` or `https:` contact the push service may use. */
  subject: z.string().regex(/^(mailto:|https:\/\/)\S+$/, "a mailto: or https: URL"),
});
export type SetVapidCredentialsRequest = z.infer<typeof SetVapidCredentialsRequestSchema>;

/** One provider's credentials as the admin API shows them: never the secret, only what identifies it. */
export const PushCredentialInfoSchema = z.object({
  provider: z.enum(PUSH_PROVIDERS),
  /** SHA-256 of the secret material (base64url, first 16 characters): tells two keys apart without revealing either. */
  fingerprint: z.string(),
  /** Non-secret identifiers: APNs key/team/bundle ids and host, FCM project and account, the VAPID public key. */
  details: z.record(z.string(), z.union([z.string(), z.boolean()])),
  updated_at: Timestamp,
});
export type PushCredentialInfo = z.infer<typeof PushCredentialInfoSchema>;

/** `GET /admin/v1/apps/{app_id}/push` */
export const PushConfigSchema = z.object({
  credentials: z.array(PushCredentialInfoSchema),
  /** Whether message pushes carry the message text (app setting `push_include_text`; off: "New message" only). */
  include_message_text: z.boolean(),
});
export type PushConfig = z.infer<typeof PushConfigSchema>;

export const PushProviderParamsSchema = z.strictObject({ app_id: z.string().min(1).max(64), provider: z.enum(PUSH_PROVIDERS) });

/**
 * What the engine puts in a push (the `data` of an FCM message, the custom keys of an APNs payload, the JSON a
 * web push carries): ids and display text, never a secret. `kind` tells the app what to do.
 */
export const PushDataSchema = z.object({
  kind: z.enum(["call.incoming", "call.ended", "call.missed", "message.new"]),
  /** The outbox entry: the same for every retry of one push (apps may de-duplicate on it). */
  push_id: z.string(),
  app_id: z.string(),
  call_id: z.string().optional(),
  call_type: z.string().optional(),
  caller_identity: z.string().optional(),
  caller_name: z.string().optional(),
  end_reason: z.string().optional(),
  conversation_id: z.string().optional(),
  message_id: z.string().optional(),
  sender: z.string().optional(),
  /** Messages collapsed into this push (a burst to an offline device becomes one push). */
  count: z.number().int().optional(),
  title: z.string().optional(),
  body: z.string().optional(),
});
export type PushData = z.infer<typeof PushDataSchema>;

/** `PUT /api/v1/conversations/{id}/mute` — a member mutes (or unmutes) a conversation: no message pushes from it. */
export const MuteConversationRequestSchema = z.strictObject({ muted: z.boolean() });
export const ConversationMuteSchema = z.object({ conversation_id: z.string(), muted: z.boolean() });
export type ConversationMute = z.infer<typeof ConversationMuteSchema>;
