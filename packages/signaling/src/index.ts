/**
 * @utd-stream/signaling — the headless UTD Stream client for browsers, Node ≥ 20 and React Native, and the
 * client core the media SDK and the widget build on: one token source, one REST client with typed errors,
 * one wire mapper, the calls, chat, support and media APIs; the WebSocket with reconnect and resume;
 * presence, 1:1 call invitations, typing, push tokens and chat. Only `fetch` and `WebSocket` are used.
 *
 * @module @utd-stream/signaling
 */
export { CLOSE_CODES, UTDStreamException } from "@utd-stream/protocol";
export { CallsApi, type CreateCallParams, type UTDCallPage } from "./calls/api.js";
export { CallTracker, isTerminalStatus } from "./calls/tracker.js";
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
export {
  type BinaryFetch,
  type FetchLike,
  type MintSessionParams,
  type RequestOptions,
  sessionCredentials,
  trimSlash,
  type UploadData,
  UTDApi,
  type UTDApiOptions,
} from "./core/api.js";
export { jwtClaims, jwtExpiry } from "./core/jwt.js";
export { type CredentialsFetcher, TokenSource, type TokenSourceOptions, type UTDCredentials } from "./core/token-source.js";
export { Emitter } from "./emitter.js";
export { MediaApi, type RoomTokenParams } from "./media/api.js";
export { type PresenceSubscription, presenceStore } from "./presence.js";
export {
  type UTDJson,
  UTDSignalRoom,
  type UTDSignalRoomEvents,
  type UTDSignalRoomMember,
  type UTDSignalRoomMessage,
  type UTDSignalRoomOptions,
} from "./rooms.js";
export { type UTDCallEvent, UTDSignaling, type UTDSignalingEvents, type UTDSignalingOptions } from "./signaling.js";
export { type ReadableStore, Store } from "./store.js";
export { SupportApi, type SupportListState } from "./support/api.js";
export { UsersApi } from "./users/api.js";
/** The wire mapper (snake_case wire → camelCase SDK types), shared with the media SDK and the widget. */
export * from "./wire/index.js";
