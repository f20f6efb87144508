import { SeatsStateSchema, SpeakEventSchema } from "../seats.js";
import { StageRequestedEventSchema, StageSchema } from "../stage.js";
import type { WsEventDefs } from "./define.js";

/**
 * Media rooms: live-stream stage, audio-room seats and requests to speak. Each is also repeated into
 * the LiveKit room on the `utd.room` data topic (`ROOM_EVENTS_TOPIC`), to the same recipients.
 */
export const ROOM_EVENT_DEFS = {
  "stage.updated": {
    data: StageSchema,
    to: "everyone in the room, and its hosts",
    doc: "The stage of a live stream changed (a co-host was invited, removed or left).",
  },
  "stage.requested": { data: StageRequestedEventSchema, to: "the room's hosts", doc: "A viewer raised a hand to join the stage." },
  "seats.updated": {
    data: SeatsStateSchema,
    to: "everyone in the room, and its hosts",
    doc: "An audio room's seats, mode or open requests changed (the whole state).",
  },
  "speak.requested": { data: SpeakEventSchema, to: "the room's hosts", doc: "A listener asked to speak." },
  "speak.invited": {
    data: SpeakEventSchema,
    to: "the listener invited",
    doc: "A host invited this listener to speak (maybe to a given seat).",
  },
  "speak.approved": { data: SpeakEventSchema, to: "the listener", doc: "A host approved this listener's request to speak." },
} satisfies WsEventDefs;
