import { z } from "zod";
import { Timestamp } from "./common.js";
import { PUSH_PLATFORMS } from "./constants/push.js";

/** A console operator's username: 3–64 of a–z, 0–9, `.`, `_`, `-`. */
export const ConsoleUsername = z.string().regex(/^[a-z0-9._-]{3,64}$/, "3–64 characters: a–z, 0–9, '.', '_' or '-'");

/** A console password: 12–256 characters. */
export const ConsolePassword = z.string().min(12, "at least 12 characters").max(256);

/** `POST /admin/v1/console/operators`: a console operator account. */
export const CreateConsoleOperatorRequestSchema = z.object({ username: ConsoleUsername, password: ConsolePassword });
export type CreateConsoleOperatorRequest = z.infer<typeof CreateConsoleOperatorRequestSchema>;

/** A console operator account (never its password hash). */
export const ConsoleOperatorSchema = z.object({ username: z.string(), created_at: Timestamp });
export type ConsoleOperator = z.infer<typeof ConsoleOperatorSchema>;
export const ConsoleOperatorListSchema = z.object({ operators: z.array(ConsoleOperatorSchema) });
export type ConsoleOperatorList = z.infer<typeof ConsoleOperatorListSchema>;

/** `POST /console/v1/session`: sign in with an operator account, or with the admin token (automation). */
export const ConsoleSignInRequestSchema = z.union([
  z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) }).strict(),
  z.object({ admin_token: z.string().min(1).max(512) }).strict(),
]);
export type ConsoleSignInRequest = z.infer<typeof ConsoleSignInRequestSchema>;

/**
 * A console session (the cookie itself is HttpOnly and never in a body). Every unsafe request of the
 * session must carry `csrf_token` in the `x-csrf-token` header.
 */
export const ConsoleSessionSchema = z.object({
  /** The operator, or null when signed in with the admin token. */
  username: z.string().nullable(),
  csrf_token: z.string(),
  expires_at: Timestamp,
});
export type ConsoleSession = z.infer<typeof ConsoleSessionSchema>;

/** One app's live figures (`GET /admin/v1/live`). */
export const LiveAppSchema = z.object({
  app_id: z.string(),
  /** Authenticated sockets open on this node. */
  sockets: z.number().int(),
  /** Distinct identities with a socket open on this node. */
  users: z.number().int(),
  /** Messages sent per second, averaged over the last 10 s (this node). */
  messages_per_s: z.number(),
  /** Calls ringing or active (cluster-wide, from the store). */
  calls_in_progress: z.number().int(),
});
export type LiveApp = z.infer<typeof LiveAppSchema>;

/** `GET /admin/v1/live`: what the engine is doing now, in total and by app. */
export const LiveStatsSchema = z.object({
  at: Timestamp,
  sockets: z.number().int(),
  users: z.number().int(),
  messages_per_s: z.number(),
  calls_in_progress: z.number().int(),
  /** LiveKit rooms open now; null without LiveKit (or when it did not answer). */
  livekit_rooms: z.number().int().nullable(),
  apps: z.array(LiveAppSchema),
});
export type LiveStats = z.infer<typeof LiveStatsSchema>;

/** One UTC day of an app's usage. */
export const DailyUsageDaySchema = z.object({
  day: z.string(),
  /** Distinct identities that signed in (minted a session) or opened a socket that day. */
  active_users: z.number().int(),
  messages: z.number().int(),
  call_minutes: z.number(),
  /** The most sockets open at once on one node that day. */
  peak_sockets: z.number().int(),
});
export type DailyUsageDay = z.infer<typeof DailyUsageDaySchema>;

/** `GET /admin/v1/apps/{app_id}/usage/daily`: one entry per day of the range, oldest first (zeros included). */
export const DailyUsageSchema = z.object({ app_id: z.string(), days: z.array(DailyUsageDaySchema) });
export type DailyUsage = z.infer<typeof DailyUsageSchema>;

/** `GET /admin/v1/apps/{app_id}/users/{identity}/devices`: a user's sockets on this node and push devices. */
export const UserDevicesSchema = z.object({
  app_id: z.string(),
  identity: z.string(),
  /** Sockets of the user open on this node now. */
  sockets: z.number().int(),
  /** Push devices; the token itself is shown by its last 6 characters only. */
  push_tokens: z.array(
    z.object({
      id: z.string(),
      platform: z.enum(PUSH_PLATFORMS),
      device_id: z.string().nullable(),
      token_tail: z.string(),
      updated_at: Timestamp,
    }),
  ),
});
export type UserDevices = z.infer<typeof UserDevicesSchema>;

/** `POST /admin/v1/apps/{app_id}/users/{identity}/revoke`: every token issued until now is void. */
export const UserRevocationSchema = z.object({ app_id: z.string(), identity: z.string(), revoked_at: Timestamp });
export type UserRevocation = z.infer<typeof UserRevocationSchema>;
