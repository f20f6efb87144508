/**
 * @utd-stream/media — headless LiveKit sessions for UTD Stream (the seed's `utd_stream_sdk`):
 * 1:1 audio/video calls, live streams with a server-controlled stage, and audio rooms with seats.
 * State is exposed as small stores (`value` + `subscribe`) and raw event streams; you build the UI.
 */
export { UTDStreamException } from "@utd-stream/protocol";
export { UTDApiClient } from "./api.js";
export { UTDAudioRoomSession } from "./audio-room.js";
export { UTDCallSession } from "./call.js";
export { type JoinOptions, UTDStreamClient, type UTDStreamClientOptions } from "./client.js";
export { UTDLiveStreamSession } from "./live.js";
export { UTDRoom, type UTDRoomEvent, type UTDRoomOptions } from "./room.js";
export { UTDSession } from "./session.js";
export { EventStream, type ReadableStore, Store } from "./store.js";
export { hasVideo, isCallType, isTerminal, UTDCallStatus, UTDStreamType } from "./types.js";
export type { Camelize, UTDCall, UTDCallMedia, UTDSeats, UTDSpeakRequest, UTDStage, UTDStageMember, UTDTokenResponse } from "./wire.js";
