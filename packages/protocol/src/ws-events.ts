import type { CustomEventData, CustomEventType, EventDataOf, WS_EVENTS } from "./events/index.js";

// This file imports zod only as types: SDKs use the map, the type list and the guards below without zod at run time.

/** The types of the server events the engine itself sends (every `WS_EVENTS` entry). */
export type KnownWsEventType = keyof typeof WS_EVENTS;

/**
 * Server events on a user's stream and the type of their `data`: every event of `WS_EVENTS`
 * (packages/protocol/src/events/, one file per domain) plus the app's own `custom.*` events.
 * The engine's `EventSink` and the SDK emitters are typed by it. An interface, so an extension may add
 * events by declaration merging (`declare module "@utd-stream/protocol" { interface WsEventMap { … } }`).
 */
export interface WsEventMap extends EventDataOf<typeof WS_EVENTS> {
  /** Published by the app's backend (`POST /admin/v1/apps/{app_id}/events`): any JSON. */
  [type: CustomEventType]: CustomEventData;
}

/** Names of the server events known to this protocol version (`custom.${string}` included). */
export type WsEventType = keyof WsEventMap;

/** A server event frame of type `K` (or of any type, as a union narrowed by `type`). */
export type WsEvent<K extends WsEventType = WsEventType> = { [P in K]: { type: P; seq: number; data: WsEventMap[P] } }[K];

/** An event frame as it comes off the socket, before its type is checked. */
export interface RawWsEvent {
  type: string;
  seq: number;
  data: unknown;
}

/** Every `KnownWsEventType`, at run time (a type test holds it equal to the keys of `WS_EVENTS`). */
export const WS_EVENT_TYPES = [
  "presence.changed",
  "call.incoming",
  "call.ringing",
  "call.accepted",
  "call.rejected",
  "call.busy",
  "call.missed",
  "call.ended",
  "typing.started",
  "typing.stopped",
  "message.new",
  "message.updated",
  "message.deleted",
  "reaction.added",
  "reaction.removed",
  "receipt.read",
  "conversation.updated",
  "thread.updated",
  "member.added",
  "member.removed",
  "member.updated",
  "friend.updated",
  "support.updated",
  "stage.updated",
  "stage.requested",
  "seats.updated",
  "speak.requested",
  "speak.invited",
  "speak.approved",
] as const satisfies readonly KnownWsEventType[];

/** The room events (`ROOM_EVENT_DEFS`): also repeated into the LiveKit room on `ROOM_EVENTS_TOPIC`. */
export const ROOM_EVENT_TYPES = [
  "stage.updated",
  "stage.requested",
  "seats.updated",
  "speak.requested",
  "speak.invited",
  "speak.approved",
] as const satisfies readonly KnownWsEventType[];
export type RoomEventType = (typeof ROOM_EVENT_TYPES)[number];

/** A room event as carried on `ROOM_EVENTS_TOPIC` (a LiveKit data message from the server): `{type, data}`, no seq. */
export type RoomEventMessage<K extends RoomEventType = RoomEventType> = { [P in K]: { type: P; data: WsEventMap[P] } }[K];

/** What a `custom.*` event type must look like (`custom.<name>`, at most 64 characters). */
export const CUSTOM_EVENT_TYPE_PATTERN = /^custom\.[A-Za-z0-9_.-]{1,57}$/;

// Pure, so a bundle that never asks about event types (the media SDK) drops the list.
const KNOWN: ReadonlySet<string> = /* @__PURE__ */ new Set(WS_EVENT_TYPES);

/** Whether `type` names a server event of this protocol version (an engine event or `custom.<name>`). */
export function isWsEventType(type: string): type is WsEventType {
  return KNOWN.has(type) || CUSTOM_EVENT_TYPE_PATTERN.test(type);
}

/**
 * Narrows a frame off the socket to its declared `WsEvent` by its type. The data is not re-validated:
 * the engine publishes through an `EventSink` typed by the same map, so its data has the declared shape.
 */
export function isWsEvent(frame: RawWsEvent): frame is WsEvent {
  return isWsEventType(frame.type);
}

/**
 * The list-free form of {@link isWsEvent}, for SDK bundles: every server event type is `<domain>.<name>` (held at
 * compile time below), so a dotted type is taken as an event. One this protocol version does not know narrows to a
 * type no listener is registered for, so it reaches none; data is trusted as in `isWsEvent`.
 */
export function isDottedEvent(frame: RawWsEvent): frame is WsEvent {
  return frame.type.includes(".");
}
type Holds<T extends true> = T;
// A server event type without a dot would be dropped by `isDottedEvent`: this line stops it compiling.
type _EveryEventTypeIsDotted = Holds<WsEventType extends `${string}.${string}` ? true : false>;

const ROOM: ReadonlySet<string> = new Set(ROOM_EVENT_TYPES);

/** Narrows a parsed `ROOM_EVENTS_TOPIC` payload to a `RoomEventMessage` by its type (trusted like `isWsEvent`). */
export function isRoomEventMessage(message: unknown): message is RoomEventMessage {
  if (typeof message !== "object" || message === null || !("data" in message)) return false;
  return "type" in message && typeof message.type === "string" && ROOM.has(message.type);
}
