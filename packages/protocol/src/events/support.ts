import { SupportEventSchema } from "../support.js";
import type { WsEventDefs } from "./define.js";

/** Support conversations; their messages and membership flow as chat events to the members. */
export const SUPPORT_EVENT_DEFS = {
  "support.updated": {
    data: SupportEventSchema,
    to: "the visitor and every operator of the app",
    doc: "A support conversation started, was claimed, transferred, closed or requeued (`change`; `by`: who did it).",
  },
} satisfies WsEventDefs;
