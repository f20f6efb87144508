/** Room kinds a token can be minted for directly; call rooms get their tokens with the call. */
export const ROOM_TYPES = ["live_stream", "audio_room"] as const;
export type RoomType = (typeof ROOM_TYPES)[number];

/** Roles in a live stream or audio room: the host owns the room and may publish; the audience subscribes and sends data. */
export const MEDIA_ROLES = ["host", "audience"] as const;
export type MediaRole = (typeof MEDIA_ROLES)[number];

/** LiveKit track sources, as on the wire. */
export const TRACK_SOURCES = ["camera", "microphone", "screen_share", "screen_share_audio"] as const;
export type TrackSourceName = (typeof TRACK_SOURCES)[number];

/**
 * LiveKit data topic on which the engine repeats room events (`stage.updated`, `stage.requested`,
 * `seats.updated`, `speak.*`) as `{"type", "data"}` JSON, sent by the server (no participant).
 */
export const ROOM_EVENTS_TOPIC = "utd.room";
