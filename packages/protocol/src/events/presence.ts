import { PresenceChangedDataSchema } from "../presence.js";
import type { WsEventDefs } from "./define.js";

/** `presence.changed`. */
export const PRESENCE_EVENT_DEFS = {
  "presence.changed": {
    data: PresenceChangedDataSchema,
    to: "watchers and friends of the identity",
    doc: "A watched identity went online or offline, or its set of connected devices changed.",
  },
} satisfies WsEventDefs;
