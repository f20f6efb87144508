import { TypingEventDataSchema } from "../typing.js";
import type { WsEventDefs } from "./define.js";

/** `typing.*`: sent to the other participants only. */
export const TYPING_EVENT_DEFS = {
  "typing.started": {
    data: TypingEventDataSchema,
    to: "the other participant(s)",
    doc: "Someone started typing to this user (`conversation_id: null`) or in one of its conversations; lapses at `expires_at` unless renewed.",
  },
  "typing.stopped": {
    data: TypingEventDataSchema,
    to: "the other participant(s)",
    doc: "They stopped (`expires_at: null`): explicitly, by expiry (`UTD_TYPING_TTL_S`, 6 s) or because the typer's socket closed.",
  },
} satisfies WsEventDefs;
