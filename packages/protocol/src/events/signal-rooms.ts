import {
  RoomClosedDataSchema,
  RoomJoinedDataSchema,
  RoomLeftDataSchema,
  RoomMembersDataSchema,
  RoomMessageDataSchema,
} from "../signal-rooms.js";
import type { EventDataOf, WsEventDefs } from "./define.js";

/**
 * Signalling-room frames (`{"type", "data"}`, **no `seq`**): sent to the sockets in a room, outside the
 * user's event stream, so they are not part of `WS_EVENTS`/`WsEventMap` and never replayed by a resume.
 * Broadcasts carry the room's own `epoch` + `offset` instead (see docs/rooms.md).
 */
export const SIGNAL_ROOM_FRAME_DEFS = {
  "room.members": {
    data: RoomMembersDataSchema,
    to: "the joining socket, before its room.join reply",
    doc: "The member snapshot of the room.",
  },
  "room.joined": {
    data: RoomJoinedDataSchema,
    to: "the room's other sockets",
    doc: "A member joined, or another device of one did (devices > 1), or a member rejoined with new data.",
  },
  "room.left": {
    data: RoomLeftDataSchema,
    to: "the room's sockets",
    doc: "A device left (left, disconnected after the grace period, kicked, banned, capability off); devices 0: the member is gone.",
  },
  "room.message": {
    data: RoomMessageDataSchema,
    to: "the room's sockets (the publisher's only with echo)",
    doc: "A broadcast, with the room's epoch and offset; from is null when the app's backend sent it.",
  },
  "room.closed": {
    data: RoomClosedDataSchema,
    to: "a socket removed from the room by the engine",
    doc: "Kicked, or the signalling capability was switched off: do not rejoin automatically.",
  },
} satisfies WsEventDefs;

/** Signalling-room frame types and the type of their `data`. */
export type SignalRoomFrameMap = EventDataOf<typeof SIGNAL_ROOM_FRAME_DEFS>;
export type SignalRoomFrameType = keyof SignalRoomFrameMap;

/** A signalling-room frame of type `K` (or of any type, as a union narrowed by `type`). */
export type SignalRoomFrame<K extends SignalRoomFrameType = SignalRoomFrameType> = {
  [P in K]: { type: P; data: SignalRoomFrameMap[P] };
}[K];
