import { z } from "zod";
import { Identity, Timestamp } from "./common.js";
import { ROOM_ALLOW_LIST_MAX, ROOM_LEAVE_REASONS, ROOM_MEMBER_DATA_MAX_BYTES, ROOM_POLICIES } from "./constants/signal-rooms.js";
import { RoomName } from "./media.js";
import { RequestId } from "./ws-frames.js";

/**
 * Signalling rooms: ephemeral broadcast rooms on the WebSocket (a shared cursor, "who is viewing this
 * document", a quiz host's next question, a watch party's play/pause, a game lobby). Not media rooms:
 * nothing here touches LiveKit, and a signalling room "lobby" and a media room "lobby" are unrelated.
 *
 * A socket joins with `room.join`; members are identities (several devices of one identity count as one
 * member, with a device count). Room frames are sent to the sockets that joined, outside the user's
 * event stream: they carry no `seq`. Broadcasts carry the room's `epoch` and `offset` instead, so a
 * rejoining socket can ask for what it missed from the room's short history (`since`).
 */

/** Names are scoped per app like media room names: 1–64 of `A–Z a–z 0–9 . _ -`. */
export const SignalRoomName = RoomName;

/** A member's role in a room: free-form, 1–32 of `A–Z a–z 0–9 _ -`; `member` unless an allow-list entry or a grant says otherwise. */
export const RoomRole = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[A-Za-z0-9_-]+$/, "may only contain letters, digits, '_' and '-'");

const JsonData = z.json();

/** Custom member data shown to the other members. */
export const RoomMemberData = JsonData.refine(
  (d) => JSON.stringify(d).length <= ROOM_MEMBER_DATA_MAX_BYTES,
  `member data must serialise to at most ${ROOM_MEMBER_DATA_MAX_BYTES} bytes`,
);

/** Where a socket left a room's broadcasts: the room's epoch and the last offset it processed. */
export const RoomPositionSchema = z.strictObject({
  epoch: z.string().min(1).max(64),
  offset: z.number().int().min(0),
});
export type RoomPosition = z.infer<typeof RoomPositionSchema>;

// ----- verbs (client → server) -----

/**
 * `room.join` — joins (idempotent: joining again refreshes the member data and re-sends the snapshot).
 * Before the reply the socket receives `room.members` (the snapshot) and then, from the room's history,
 * the broadcasts after `since` (or the whole history when `since` is absent or cannot be honoured).
 */
export const RoomJoinFrameSchema = z.strictObject({
  type: z.literal("room.join"),
  id: RequestId.optional(),
  room: SignalRoomName,
  /** Custom member data (≤ 1 KB of JSON). */
  data: RoomMemberData.optional(),
  /** A room grant (JWT signed with the app secret by the app's backend); required in `token` rooms. */
  grant: z.string().min(1).max(4096).optional(),
  /** Resume: the last broadcast this socket processed in this room. */
  since: RoomPositionSchema.optional(),
});
export type RoomJoinFrame = z.infer<typeof RoomJoinFrameSchema>;

/** `room.leave`. */
export const RoomLeaveFrameSchema = z.strictObject({ type: z.literal("room.leave"), id: RequestId.optional(), room: SignalRoomName });

/** `room.publish` — a broadcast to the room's other sockets (also to this one with `echo: true`). */
export const RoomPublishFrameSchema = z.strictObject({
  type: z.literal("room.publish"),
  id: RequestId.optional(),
  room: SignalRoomName,
  data: JsonData,
  echo: z.boolean().optional(),
});
export type RoomPublishFrame = z.infer<typeof RoomPublishFrameSchema>;

// ----- replies and frames (server → client) -----

/** A member of a room. */
export const RoomMemberSchema = z.object({
  identity: z.string(),
  name: z.string().nullable(),
  data: z.json().nullable(),
  role: z.string(),
  /** Sockets (devices) of this identity in the room. */
  devices: z.number().int(),
  joined_at: Timestamp,
});
export type RoomMember = z.infer<typeof RoomMemberSchema>;

/** Reply to `room.join`. `recovered`: every broadcast after `since` was replayed (false when not asked or not possible). */
export const RoomJoinReplySchema = z.object({
  room: z.string(),
  role: z.string(),
  can_publish: z.boolean(),
  epoch: z.string(),
  /** The room's last broadcast offset at join time (replayed broadcasts included). */
  offset: z.number().int(),
  recovered: z.boolean(),
  members: z.number().int(),
});
export type RoomJoinReply = z.infer<typeof RoomJoinReplySchema>;

/** Reply to `room.publish`. */
export const RoomPublishReplySchema = z.object({ room: z.string(), epoch: z.string(), offset: z.number().int() });
export type RoomPublishReply = z.infer<typeof RoomPublishReplySchema>;

/** Data of `room.members`: the snapshot a joining socket receives. */
export const RoomMembersDataSchema = z.object({ room: z.string(), members: z.array(RoomMemberSchema) });
export type RoomMembersData = z.infer<typeof RoomMembersDataSchema>;

/** Data of `room.joined`: a member joined, or one more device of a member did (`devices` > 1). */
export const RoomJoinedDataSchema = z.object({ room: z.string(), member: RoomMemberSchema });
export type RoomJoinedData = z.infer<typeof RoomJoinedDataSchema>;

/** Data of `room.left`: a device left; the member is gone when `devices` is 0. */
export const RoomLeftDataSchema = z.object({
  room: z.string(),
  identity: z.string(),
  devices: z.number().int(),
  reason: z.enum(ROOM_LEAVE_REASONS),
});
export type RoomLeftData = z.infer<typeof RoomLeftDataSchema>;

/** Data of `room.message`: a broadcast. `from` is null when the app's backend sent it (REST). */
export const RoomMessageDataSchema = z.object({
  room: z.string(),
  epoch: z.string(),
  offset: z.number().int(),
  from: z.object({ identity: z.string(), name: z.string().nullable() }).nullable(),
  data: z.json(),
  sent_at: Timestamp,
});
export type RoomMessageData = z.infer<typeof RoomMessageDataSchema>;

/** Data of `room.closed`: this socket is no longer in the room, and not by its own `room.leave`. Do not rejoin automatically. */
export const RoomClosedDataSchema = z.object({
  room: z.string(),
  reason: z.enum(["kicked", "banned", "feature_disabled"]),
});
export type RoomClosedData = z.infer<typeof RoomClosedDataSchema>;

// ----- REST -----

/** `{room_name}` path parameter. */
export const SignalRoomParamsSchema = z.strictObject({ room_name: SignalRoomName });
/** `{room_name}/members/{identity}` path parameters. */
export const SignalRoomMemberParamsSchema = z.strictObject({ room_name: SignalRoomName, identity: Identity });

/** One allow-list entry. */
export const RoomAllowEntrySchema = z.strictObject({ identity: Identity, role: RoomRole.optional() });

/**
 * `PUT /api/v1/rooms/{room}/policy` (app backend) — replaces the room's policy. Unset fields take the
 * defaults: the app's default policy kind is `settings.room_policy` (or `open`).
 */
export const RoomPolicyRequestSchema = z.strictObject({
  policy: z.enum(ROOM_POLICIES),
  /** The allow-list (`members` rooms; in other rooms it only assigns roles). */
  members: z.array(RoomAllowEntrySchema).max(ROOM_ALLOW_LIST_MAX).optional(),
  /** Only members with this role may publish; null/absent = every member may. */
  publish_role: RoomRole.nullable().optional(),
  /** Members at once; capped by the plan's `max_room_members`. */
  max_members: z.number().int().min(1).nullable().optional(),
  /** Broadcasts kept for late joiners; capped by the plan's `room_history` (default 0). */
  history: z.number().int().min(0).nullable().optional(),
});
export type RoomPolicyRequest = z.infer<typeof RoomPolicyRequestSchema>;

/** A room's effective policy. `source: "app"` when the room has none of its own (the app's defaults). */
export const RoomPolicySchema = z.object({
  room: z.string(),
  policy: z.enum(ROOM_POLICIES),
  members: z.array(z.object({ identity: z.string(), role: z.string() })),
  publish_role: z.string().nullable(),
  /** Effective cap: the room's own, or the plan's `max_room_members`. */
  max_members: z.number().int(),
  /** Effective history length. */
  history: z.number().int(),
  source: z.enum(["room", "app"]),
  updated_at: Timestamp.nullable(),
});
export type RoomPolicy = z.infer<typeof RoomPolicySchema>;

/** `POST /api/v1/rooms/{room}/broadcast` (app backend). */
export const RoomBroadcastRequestSchema = z.strictObject({ data: JsonData });
export const RoomBroadcastResponseSchema = z.object({
  room: z.string(),
  epoch: z.string(),
  offset: z.number().int(),
  members: z.number().int(),
});
export type RoomBroadcastResponse = z.infer<typeof RoomBroadcastResponseSchema>;

/** `GET /api/v1/rooms/{room}/members`. */
export const RoomMembersResponseSchema = z.object({ room: z.string(), members: z.array(RoomMemberSchema) });
export type RoomMembersResponse = z.infer<typeof RoomMembersResponseSchema>;

/**
 * The claims of a room grant: a JWT (HS256, the app secret) your backend signs like a signed-mode
 * identity token. `sub` = the identity, `room` = the room name, `exp` required (at most the engine's
 * `UTD_IDENTITY_TOKEN_MAX_TTL_S` ahead). `publish: false` makes a listen-only member; `role` sets the
 * member's role. A grant is checked when joining; membership does not end at `exp`.
 */
export interface RoomGrantClaims {
  sub: string;
  room: string;
  exp: number;
  publish?: boolean;
  role?: string;
}
