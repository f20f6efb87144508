/**
 * @utd-stream/signaling — the headless UTD Stream signalling client for browsers, Node ≥ 20 and React
 * Native: REST + WebSocket with reconnect and resume, presence, 1:1 call invitations, typing and push
 * tokens. Only `fetch` and `WebSocket` are used.
 */
export { CLOSE_CODES, UTDStreamException } from "@utd-stream/protocol";
export { type CreateCallParams, type FetchLike, type MintSessionParams, UTDApi, type UTDApiOptions } from "./api.js";
export * from "./chat/index.js";
export {
  type ClosedInfo,
  type ConnectionState,
  type SignalClientEvents,
  UTDSignalClient,
  type UTDSignalClientOptions,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./client.js";
export { Emitter } from "./emitter.js";
export {
  type UTDJson,
  UTDRoom,
  type UTDRoomEvents,
  type UTDRoomMember,
  type UTDRoomMessage,
  type UTDRoomOptions,
} from "./rooms.js";
export { type UTDCallEvent, UTDSignaling, type UTDSignalingEvents, type UTDSignalingOptions } from "./signaling.js";
export { type ReadableStore, Store } from "./store.js";
export type { UTDCall, UTDPlanLimits, UTDPresence, UTDPushToken, UTDSession, UTDSocketSession, UTDTyping } from "./wire.js";
