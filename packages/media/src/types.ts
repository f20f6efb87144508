import type { CallStatus, CallType, StreamType } from "@utd-stream/protocol";
import { isTerminalStatus } from "@utd-stream/signaling";

/** The four product types (seed: `UTDStreamType`), with their wire values. */
export const UTDStreamType = {
  audioCall: "audio_call",
  videoCall: "video_call",
  liveStream: "live_stream",
  audioRoom: "audio_room",
} as const satisfies Record<string, StreamType>;
/** One of the four product types. */
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
/** A call's status. */
export type UTDCallStatus = (typeof UTDCallStatus)[keyof typeof UTDCallStatus];

/** Statuses after which a call never changes. */
export function isTerminal(s: UTDCallStatus): boolean {
  return isTerminalStatus(s);
}

/**
 * Why a call is over for this session: the engine's end reasons (`canceled` by the caller before an
 * answer, `declined`, `busy`, `timeout` = missed, `hangup` after an answer), or `answered_elsewhere` — the
 * callee answered on another of their devices.
 */
export type UTDCallEndReason = "canceled" | "declined" | "busy" | "timeout" | "hangup" | "answered_elsewhere";
