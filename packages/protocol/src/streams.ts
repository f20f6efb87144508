/** Session types, as on the wire (seed: `UTDStreamType`). */
export const STREAM_TYPES = ["audio_call", "video_call", "live_stream", "audio_room"] as const;
export type StreamType = (typeof STREAM_TYPES)[number];

/** 1:1 call types (the subset of stream types a call invitation may use). */
export const CALL_TYPES = ["audio_call", "video_call"] as const;
export type CallType = (typeof CALL_TYPES)[number];

/** Call lifecycle (seed: `UTDCallStatus`). */
export const CALL_STATUSES = ["initiating", "ringing", "active", "ended", "rejected", "busy", "missed"] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/** Call statuses after which nothing changes any more. */
export const TERMINAL_CALL_STATUSES: readonly CallStatus[] = ["ended", "rejected", "busy", "missed"];
