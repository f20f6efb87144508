import { CallEventDataSchema } from "../calls.js";
import type { WsEventDefs } from "./define.js";

const both = "every device of both parties";

/** `call.*`: a 1:1 call's transitions. data: `{call}` (see `CallSchema`). */
export const CALL_EVENT_DEFS = {
  "call.incoming": { data: CallEventDataSchema, to: "every device of the callee", doc: "Someone invites this user to a call." },
  "call.ringing": { data: CallEventDataSchema, to: both, doc: "A callee device acknowledged the invitation (`POST …/ringing`)." },
  "call.accepted": {
    data: CallEventDataSchema,
    to: both,
    doc: "The callee accepted; `call.answered_device_id` is the device that answered (other callee devices: answered elsewhere).",
  },
  "call.rejected": { data: CallEventDataSchema, to: both, doc: 'The callee declined (`end_reason: "declined"`).' },
  "call.busy": {
    data: CallEventDataSchema,
    to: "both parties (auto-busy: the caller)",
    doc: 'The callee is busy, explicitly or automatically while in another active call (`end_reason: "busy"`).',
  },
  "call.missed": {
    data: CallEventDataSchema,
    to: both,
    doc: 'Nobody answered within `UTD_CALL_RING_TIMEOUT_S` (`end_reason: "timeout"`).',
  },
  "call.ended": {
    data: CallEventDataSchema,
    to: both,
    doc: 'Canceled by the caller before an answer (`end_reason: "canceled"`) or hung up by either party (`"hangup"`).',
  },
} satisfies WsEventDefs;
