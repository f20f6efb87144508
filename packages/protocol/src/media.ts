import { z } from "zod";
import { DeviceId, DisplayName, Identity, Timestamp } from "./common.js";
import { MEDIA_ROLES, ROOM_TYPES, TRACK_SOURCES } from "./constants/media.js";

/**
 * A room name as the app sees it (un-prefixed): 1–64 of `A–Z a–z 0–9 . _ -`.
 * The engine scopes it per app inside LiveKit, so two apps' "lobby" never meet.
 */
export const RoomName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._-]+$/, "may only contain letters, digits, '.', '_' and '-'");

/** What the engine lets a participant do in a media room (always sent to LiveKit as a whole). */
export const MediaPermissionSchema = z.object({
  can_publish: z.boolean(),
  can_subscribe: z.boolean(),
  can_publish_data: z.boolean(),
  /** Empty only when `can_publish` is false. */
  can_publish_sources: z.array(z.enum(TRACK_SOURCES)),
});
export type MediaPermission = z.infer<typeof MediaPermissionSchema>;

/**
 * `POST /api/v1/token` — mint a LiveKit token for a live stream or audio room.
 * Authenticated by the user's bearer, or (as the seed's `joinLiveStream`) by `app_id` + `app_key` +
 * `identity` (+ `identity_token` in signed mode), which also mints the returned `user_token`.
 */
export const TokenRequestSchema = z.strictObject({
  room_name: RoomName,
  type: z.enum(ROOM_TYPES),
  role: z.enum(MEDIA_ROLES).default("audience"),
  name: DisplayName.optional(),
  device_id: DeviceId.optional(),
  app_id: z.string().min(1).max(64).optional(),
  app_key: z.string().min(1).max(128).optional(),
  identity: Identity.optional(),
  identity_token: z.string().min(1).max(4096).optional(),
});
export type TokenRequest = z.input<typeof TokenRequestSchema>;

/** The seed's `UTDTokenResponse`, plus who the token is for and what it allows. */
export const TokenResponseSchema = z.object({
  /** LiveKit access token (short-lived: only needed to join; LiveKit refreshes it while connected). */
  token: z.string(),
  /** LiveKit WebSocket URL. */
  url: z.string(),
  /** The un-prefixed room name. */
  room_name: z.string(),
  /** The engine bearer for REST calls (the caller's own when it authenticated with one). */
  user_token: z.string(),
  ws_url: z.string().optional(),
  identity: z.string(),
  type: z.enum(ROOM_TYPES),
  role: z.enum(MEDIA_ROLES),
  expires_at: Timestamp,
  permission: MediaPermissionSchema,
});
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

/** A call's media: what each party of an accepted call receives to join the call's room (capped at 2). */
export const CallMediaSchema = z.object({
  token: z.string(),
  url: z.string(),
  room_name: z.string(),
  expires_at: Timestamp,
});
export type CallMedia = z.infer<typeof CallMediaSchema>;

/** `/api/v1/rooms/{room_name}/…` path parameters. */
export const RoomParamsSchema = z.strictObject({ room_name: RoomName });

/** `POST /api/v1/rooms/{room_name}/hosts` — a host adds another host. */
export const AddHostRequestSchema = z.strictObject({ identity: Identity });

/** A live stream or audio room as the engine knows it. */
export const RoomInfoSchema = z.object({
  room_name: z.string(),
  type: z.enum(ROOM_TYPES),
  hosts: z.array(z.string()),
  created_at: Timestamp,
});
export type RoomInfo = z.infer<typeof RoomInfoSchema>;

/** `/admin/v1/apps/{app_id}/rooms/{room_name}/…` path parameters (moderation by the app's operator). */
export const AdminRoomParamsSchema = z.strictObject({ app_id: z.string().min(1).max(64), room_name: RoomName });
