import type { CallStatus, CallType, StreamType } from "@utd-stream/protocol";

/** The four product types (seed: `UTDStreamType`), with their wire values. */
export const UTDStreamType = {
  audioCall: "audio_call",
  videoCall: "video_call",
  liveStream: "live_stream",
  audioRoom: "audio_room",
} as const satisfies Record<string, StreamType>;
export type UTDStreamType = (typeof UTDStreamType)[keyof typeof UTDStreamType];

/** Whether a stream type is a 1:1 call. */
export function isCallType(t: UTDStreamType): t is CallType {
  return t === "audio_call" || t === "video_call";
}

/** Whether a stream type carries video. */
export function hasVideo(t: UTDStreamType): boolean {
  return t === "video_call" || t === "live_stream";
}

/** 1:1 call lifecycle (seed: `UTDCallStatus`), as on the wire. */
export const UTDCallStatus = {
  initiating: "initiating",
  ringing: "ringing",
  active: "active",
  ended: "ended",
  rejected: "rejected",
  busy: "busy",
  missed: "missed",
} as const satisfies Record<string, CallStatus>;
export type UTDCallStatus = (typeof UTDCallStatus)[keyof typeof UTDCallStatus];

/** Statuses after which a call never changes. */
export function isTerminal(s: UTDCallStatus): boolean {
  return s === "ended" || s === "rejected" || s === "busy" || s === "missed";
}
