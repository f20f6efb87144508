/** Who may join a room. */
export const ROOM_POLICIES = [
  /** Any user of the app. */
  "open",
  /** Only identities on the room's allow-list (and holders of a valid room grant). */
  "members",
  /** Only holders of a room grant signed by the app's backend with the app secret. */
  "token",
] as const;
export type RoomPolicyKind = (typeof ROOM_POLICIES)[number];

/** The default role of a member. */
export const ROOM_DEFAULT_ROLE = "member";

/** Largest custom member data (`room.join` `data`), bytes of JSON. */
export const ROOM_MEMBER_DATA_MAX_BYTES = 1024;

/** Most entries on a room's allow-list. */
export const ROOM_ALLOW_LIST_MAX = 1000;

/** Defaults the engine applies (each has an environment variable; see docs/websocket.md). */
export const ROOM_DEFAULTS = {
  /** Largest broadcast `data`, bytes of JSON (`UTD_ROOMS_MAX_PAYLOAD_BYTES`); larger → `payload_too_large`. */
  maxPayloadBytes: 4096,
  /** Rooms one socket may be in at once (`UTD_ROOMS_PER_SOCKET`); more → `limit_exceeded` `rooms_per_socket`. */
  roomsPerSocket: 20,
  /** Publishes per member per room as `<burst>/<per second>` (`UTD_ROOMS_PUBLISH_RATE`); beyond → `rate_limited`. */
  publishBurst: 20,
  publishPerS: 10,
  /** Seconds a dropped socket stays in its rooms (`UTD_ROOMS_GRACE_S`): a reconnect within it shows no leave/join. */
  graceS: 5,
} as const;

/** Why a device left a room. */
export const ROOM_LEAVE_REASONS = ["left", "disconnected", "kicked", "banned", "feature_disabled"] as const;
export type RoomLeaveReason = (typeof ROOM_LEAVE_REASONS)[number];
