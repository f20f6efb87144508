import { z } from "zod";
import { Identity, Timestamp } from "./common.js";
import { AUTH_MODES, PLANS } from "./constants/plans.js";
import { ROOM_POLICIES } from "./constants/signal-rooms.js";
import { PlanLimitsSchema } from "./plans.js";

/** Per-app overrides of plan limits (admin). */
export const LimitOverridesSchema = PlanLimitsSchema.partial();

/** App behaviour settings. */
export const AppSettingsSchema = z.strictObject({
  /** Answer `busy` automatically when the callee is already in an active call (default true). */
  auto_busy: z.boolean().optional(),
  /** Message pushes carry the message text (default true); false sends "New message" only, so no content passes through Apple or Google. */
  push_include_text: z.boolean().optional(),
  /** Who may join a signalling room that has no policy of its own (default `open`). */
  room_policy: z.enum(ROOM_POLICIES).optional(),
  /** What erasing a user does to their messages: `tombstone` (default: the row stays, emptied, so threads keep their order) or `delete`. */
  erase_messages: z.enum(["tombstone", "delete"]).optional(),
});
export type AppSettings = z.infer<typeof AppSettingsSchema>;

/** An app, as the admin API shows it. The secret is never shown after creation. */
export const AppSchema = z.object({
  app_id: z.string(),
  app_key: z.string(),
  name: z.string(),
  auth_mode: z.enum(AUTH_MODES),
  plan: z.enum(PLANS),
  signaling_enabled: z.boolean(),
  messaging_enabled: z.boolean(),
  plan_limits: PlanLimitsSchema,
  limit_overrides: LimitOverridesSchema,
  settings: AppSettingsSchema,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type App = z.infer<typeof AppSchema>;

/** Returned once, on create and on secret rotation: the only time the secret is visible. */
export const AppWithSecretSchema = AppSchema.extend({ app_secret: z.string() });
export type AppWithSecret = z.infer<typeof AppWithSecretSchema>;

export const AppNameSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[^\p{Cc}]+$/u, "must not contain control characters");

/** `POST /admin/v1/apps` */
export const CreateAppRequestSchema = z.strictObject({
  name: AppNameSchema,
  auth_mode: z.enum(AUTH_MODES).default("open"),
  plan: z.enum(PLANS).default("free"),
});
export type CreateAppRequest = z.input<typeof CreateAppRequestSchema>;

/** `PATCH /admin/v1/apps/{app_id}` — capability flags set here override the plan's defaults; null resets to the plan. */
export const UpdateAppRequestSchema = z.strictObject({
  name: AppNameSchema.optional(),
  auth_mode: z.enum(AUTH_MODES).optional(),
  plan: z.enum(PLANS).optional(),
  signaling_enabled: z.boolean().nullable().optional(),
  messaging_enabled: z.boolean().nullable().optional(),
  limit_overrides: LimitOverridesSchema.optional(),
  /** Merged into the current settings. */
  settings: AppSettingsSchema.optional(),
});
export type UpdateAppRequest = z.infer<typeof UpdateAppRequestSchema>;

/** `POST /admin/v1/apps/{app_id}/rotate-key` — which credential to rotate (default: the publishable key). */
export const RotateKeyRequestSchema = z.strictObject({ which: z.enum(["key", "secret"]).default("key") }).optional();

export const UsageSchema = z.object({
  app_id: z.string(),
  months: z.array(z.object({ month: z.string(), mau: z.number().int() })),
});
export type Usage = z.infer<typeof UsageSchema>;

/** `POST /admin/v1/apps/{app_id}/bans` */
export const BanRequestSchema = z.strictObject({
  identity: Identity,
  reason: z.string().max(500).optional(),
});

export const BanSchema = z.object({
  app_id: z.string(),
  identity: z.string(),
  banned: z.boolean(),
  reason: z.string().nullable(),
  banned_at: Timestamp.nullable(),
});
export type Ban = z.infer<typeof BanSchema>;

/** A user of an app, as the admin API shows it (`utd user list|show`). */
export const AdminUserSchema = z.object({
  app_id: z.string(),
  identity: z.string(),
  name: z.string().nullable(),
  created_at: Timestamp,
  last_seen_at: Timestamp,
  banned: z.boolean(),
  ban_reason: z.string().nullable(),
});
export type AdminUser = z.infer<typeof AdminUserSchema>;

/** `GET /admin/v1/apps/{app_id}/users`: identities in order, `next_cursor` is the last one when more follow. */
export const AdminUserListSchema = z.object({
  users: z.array(AdminUserSchema),
  next_cursor: z.string().nullable(),
});
export type AdminUserList = z.infer<typeof AdminUserListSchema>;

/** How `user erase` treats the user's messages (the app's `erase_messages` setting). */
export type EraseMode = "tombstone" | "delete";

/** `DELETE /admin/v1/apps/{app_id}/users/{identity}`: what erasing one user removed. */
export const UserErasureSchema = z.object({
  app_id: z.string(),
  identity: z.string(),
  /** What was done to the user's messages. */
  messages: z.enum(["tombstone", "delete"]),
  /** Rows (and file objects) removed or emptied, by kind: files, messages, reactions, push_tokens, devices… */
  removed: z.record(z.string(), z.number().int()),
  /** True when there was nothing left to remove (erasure is idempotent). */
  already_erased: z.boolean(),
  erased_at: Timestamp,
});
export type UserErasure = z.infer<typeof UserErasureSchema>;

/** `GET /admin/v1/apps/{app_id}/users/{identity}/export`: everything stored about one user. */
export const UserExportSchema = z.object({
  format: z.literal("utd-user-export/1"),
  exported_at: Timestamp,
  app_id: z.string(),
  user: z.object({
    identity: z.string(),
    name: z.string().nullable(),
    created_at: Timestamp,
    last_seen_at: Timestamp,
    banned: z.boolean(),
    ban_reason: z.string().nullable(),
  }),
  messages: z.array(
    z.object({
      id: z.string(),
      conversation_id: z.string(),
      seq: z.number().int(),
      type: z.string(),
      text: z.string().nullable(),
      custom: z.unknown(),
      attachments: z.unknown(),
      reply_to: z.string().nullable(),
      created_at: Timestamp,
      edited_at: Timestamp.nullable(),
      deleted_at: Timestamp.nullable(),
    }),
  ),
  conversations: z.array(
    z.object({ conversation_id: z.string(), role: z.string(), joined_at: Timestamp, last_read_seq: z.number().int() }),
  ),
  reactions: z.array(z.object({ message_id: z.string(), conversation_id: z.string(), reaction: z.string(), created_at: Timestamp })),
  files: z.array(
    z.object({
      id: z.string(),
      kind: z.string(),
      filename: z.string(),
      content_type: z.string(),
      size: z.number().int(),
      created_at: Timestamp,
      uploaded_at: Timestamp.nullable(),
    }),
  ),
  devices: z.array(
    z.object({ id: z.string(), platform: z.string(), device_id: z.string().nullable(), created_at: Timestamp, updated_at: Timestamp }),
  ),
  friendships: z.array(
    z.object({ requester: z.string(), addressee: z.string(), created_at: Timestamp, accepted_at: Timestamp.nullable() }),
  ),
  calls: z.array(
    z.object({
      id: z.string(),
      type: z.string(),
      status: z.string(),
      caller_identity: z.string(),
      callee_identity: z.string(),
      created_at: Timestamp,
      answered_at: Timestamp.nullable(),
      ended_at: Timestamp.nullable(),
      end_reason: z.string().nullable(),
    }),
  ),
  active_months: z.array(z.string()),
});
export type UserExport = z.infer<typeof UserExportSchema>;

/** `DELETE /admin/v1/apps/{app_id}`: the app and everything of it is gone; rows removed per table. */
export const AppDeleteReportSchema = z.object({
  app_id: z.string(),
  deleted: z.literal(true),
  removed: z.record(z.string(), z.number().int()),
});
export type AppDeleteReport = z.infer<typeof AppDeleteReportSchema>;
