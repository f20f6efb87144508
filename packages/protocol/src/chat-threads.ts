import { z } from "zod";
import { MessageSchema } from "./chat.js";
import { Timestamp } from "./common.js";
import { THREAD_LIMITS } from "./constants/chat.js";

/**
 * One thread the caller takes part in (`GET /api/v1/threads`): its parent message with the summary, and
 * the caller's read position and unread count in it (others' live replies past that position).
 */
export const ThreadSchema = z.object({
  conversation_id: z.string(),
  /** The message that started the thread (its `thread` field is the summary). */
  parent: MessageSchema,
  last_read_seq: z.number().int(),
  unread_count: z.number().int(),
});
export type Thread = z.infer<typeof ThreadSchema>;

/** `GET /api/v1/threads?limit=&before=&conversation_id=` — most recent reply first; `before` is a `next_before`. */
export const ThreadListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(THREAD_LIMITS.maxListPage).default(20),
  conversation_id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/, "malformed id")
    .optional(),
  before: z
    .string()
    .max(100)
    .regex(/^\d{1,16}_[A-Za-z0-9_-]{1,64}$/, "not a next_before cursor")
    .optional(),
});
export type ThreadListQuery = z.infer<typeof ThreadListQuerySchema>;

export const ThreadListSchema = z.object({
  threads: z.array(ThreadSchema),
  /** Pass as `before` for the next (older) page; null at the end. */
  next_before: z.string().nullable(),
  /** The caller's unread replies over all their threads. */
  total_unread: z.number().int(),
});
export type ThreadList = z.infer<typeof ThreadListSchema>;

/** `POST /api/v1/conversations/{id}/threads/{message_id}/read` — the caller's thread read position (never moves back). */
export const MarkThreadReadResponseSchema = z.object({
  conversation_id: z.string(),
  thread_id: z.string(),
  last_read_seq: z.number().int(),
  unread_count: z.number().int(),
});
export type MarkThreadReadResponse = z.infer<typeof MarkThreadReadResponseSchema>;

/** `thread.updated`: a thread's summary after a reply was sent or deleted. */
export const ThreadEventSchema = z.object({
  conversation_id: z.string(),
  /** The parent message's id. */
  thread_id: z.string(),
  reply_count: z.number().int(),
  last_reply_at: Timestamp.nullable(),
  last_reply_seq: z.number().int(),
  participants: z.array(z.string()),
});
export type ThreadEvent = z.infer<typeof ThreadEventSchema>;
