/**
 * @utd-stream/media — headless LiveKit sessions for UTD Stream (the seed's `utd_stream_sdk`):
 * 1:1 audio/video calls, live streams with a server-controlled stage, and audio rooms with seats.
 * State is exposed as small stores (`value` + `subscribe`) and raw event streams; you build the UI.
 * Built on the client core of `@utd-stream/signaling` (one session per user for chat, calls and media).
 *
 * @module @utd-stream/media
 */
export { UTDStreamException } from "@utd-stream/protocol";
export type {
  UTDCall,
  UTDCallMedia,
  UTDSeat,
  UTDSeats,
  UTDSpeakRequest,
  UTDStage,
  UTDStageMember,
  UTDTokenResponse,
} from "@utd-stream/signaling";
export { UTDAudioRoomSession } from "./audio-room.js";
export { UTDCallSession } from "./call.js";
export {
  type JoinOptions,
  UTDStreamClient,
  type UTDStreamClientAppOptions,
  type UTDStreamClientOptions,
  type UTDStreamClientSharedOptions,
} from "./client.js";
export { UTDLiveStreamSession } from "./live.js";
export { UTDRoom, type UTDRoomEvent, type UTDRoomOptions, type UTDTrackRef } from "./room.js";
export { type RoomTicket, UTDSession } from "./session.js";
export { EventStream, type ReadableStore, Store } from "./store.js";
export { hasVideo, isCallType, isTerminal, type UTDCallEndReason, UTDCallStatus, UTDStreamType } from "./types.js";
