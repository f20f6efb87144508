import { z } from "zod";
import { Id, Identity, Timestamp } from "./common.js";
import { RequestId } from "./ws-frames.js";

/**
 * WebSocket `typing.start` / `typing.stop`. Name exactly one target: a user (`to`, a 1:1 typing
 * indicator) or a chat conversation (`conversation_id`; the other members receive it).
 */
export const TypingFrameSchema = z
  .strictObject({
    type: z.enum(["typing.start", "typing.stop"]),
    id: RequestId.optional(),
    to: Identity.optional(),
    conversation_id: Id.optional(),
  })
  .refine((f) => (f.to === undefined) !== (f.conversation_id === undefined), "name exactly one of to, conversation_id");
export type TypingFrame = z.infer<typeof TypingFrameSchema>;

/** Data of `typing.started` and `typing.stopped` (sent to the other participants only). */
export const TypingEventDataSchema = z.object({
  identity: z.string(),
  /** Set for conversation typing; null for a 1:1 `to` indicator. */
  conversation_id: z.string().nullable(),
  /** `typing.started`: when it lapses unless renewed. */
  expires_at: Timestamp.nullable(),
});
export type TypingEventData = z.infer<typeof TypingEventDataSchema>;
