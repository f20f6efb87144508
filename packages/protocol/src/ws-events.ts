import type { CallEventData } from "./calls.js";
import type { PresenceChangedData } from "./presence.js";
import type { TypingEventData } from "./typing.js";

/**
 * Server events on a user's stream and the type of their `data`. Other domains add theirs by
 * declaration merging (`declare module "@utd-stream/protocol" { interface WsEventMap { "message.new": … } }`),
 * so SDK emitters stay typed without a second definition.
 */
export interface WsEventMap {
  /** A watched identity went online or offline (or its device set changed). */
  "presence.changed": PresenceChangedData;
  /** Someone invites this user to a call: every device of the callee receives it. */
  "call.incoming": CallEventData;
  /** A callee device acknowledged the invitation (it is ringing there). */
  "call.ringing": CallEventData;
  /** The callee accepted (on `call.answered_device_id`; other callee devices: answered elsewhere). */
  "call.accepted": CallEventData;
  /** The callee declined. */
  "call.rejected": CallEventData;
  /** The callee is busy (explicitly, or automatically while in another active call). */
  "call.busy": CallEventData;
  /** Nobody answered before the ring timeout. */
  "call.missed": CallEventData;
  /** Canceled by the caller before an answer, or hung up by either party. */
  "call.ended": CallEventData;
  /** Someone started typing to this user or in one of its conversations. */
  "typing.started": TypingEventData;
  /** They stopped (explicitly, or the engine's expiry lapsed). */
  "typing.stopped": TypingEventData;
}

/** Names of the server events known to this protocol version. */
export type WsEventType = keyof WsEventMap;
