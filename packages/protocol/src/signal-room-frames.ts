import type { SignalRoomFrame, SignalRoomFrameType } from "./events/signal-rooms.js";

// Zod-free at run time (types only from the schema module), so clients can narrow room frames without zod.

/** Every `SignalRoomFrameType`, at run time. */
export const SIGNAL_ROOM_FRAME_TYPES = [
  "room.members",
  "room.joined",
  "room.left",
  "room.message",
  "room.closed",
] as const satisfies readonly SignalRoomFrameType[];

const TYPES: ReadonlySet<string> = new Set(SIGNAL_ROOM_FRAME_TYPES);

/** Narrows a frame off the socket (no `seq`) to a `SignalRoomFrame` by its type (trusted like `isWsEvent`). */
export function isSignalRoomFrame(frame: { type: string; data?: unknown; seq?: unknown }): frame is SignalRoomFrame {
  return frame.seq === undefined && TYPES.has(frame.type) && "data" in frame;
}
