import { z } from "zod";
import { CustomData, MessageSchema } from "./chat.js";
import { Identity, Timestamp } from "./common.js";
import { SUPPORT_CHANGES, SUPPORT_STATES } from "./constants/support.js";

/** A support conversation as both sides see it: its state and assignee, plus the chat conversation's last message. */
export const SupportConversationSchema = z.object({
  /** The chat conversation id (kind `support`): send, read and receipts go through the chat API. */
  id: z.string(),
  visitor: z.string(),
  state: z.enum(SUPPORT_STATES),
  /** The operator handling it; null while queued. Stays set when closed. */
  assignee: z.string().nullable(),
  custom: z.record(z.string(), z.json()).nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
  closed_at: Timestamp.nullable(),
  closed_by: z.string().nullable(),
  last_seq: z.number().int(),
  last_message: MessageSchema.nullable(),
});
export type SupportConversation = z.infer<typeof SupportConversationSchema>;

/**
 * `POST /api/v1/support/conversations` — starts the caller's support conversation, or returns the one
 * still open (201 when created, 200 when it already existed): a visitor has at most one open at a time.
 */
export const StartSupportRequestSchema = z.strictObject({ custom: CustomData.optional() });
export type StartSupportRequest = z.infer<typeof StartSupportRequestSchema>;

/** `POST /api/v1/support/conversations/{id}/transfer` — the assignee hands over to another operator. */
export const TransferSupportRequestSchema = z.strictObject({ to: Identity });
export type TransferSupportRequest = z.infer<typeof TransferSupportRequestSchema>;

/** `GET /api/v1/support/conversations` (the caller's own) and `GET /api/v1/support/queue` (operators: the team's). `open` = queued or assigned. */
export const SupportListQuerySchema = z.strictObject({
  state: z.enum([...SUPPORT_STATES, "open", "all"]).default("open"),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type SupportListQuery = z.infer<typeof SupportListQuerySchema>;

export const SupportConversationListSchema = z.object({ conversations: z.array(SupportConversationSchema) });

/** `GET /api/v1/support/me` — whether the caller is an operator of its app. */
export const SupportMeSchema = z.object({ identity: z.string(), operator: z.boolean() });

/** An operator of an app (admin API `/admin/v1/apps/{id}/operators`). */
export const OperatorSchema = z.object({ identity: z.string(), created_at: Timestamp });
export type Operator = z.infer<typeof OperatorSchema>;
export const OperatorListSchema = z.object({ operators: z.array(OperatorSchema) });
/** `POST /admin/v1/apps/{id}/operators` (idempotent). */
export const AddOperatorRequestSchema = z.strictObject({ identity: Identity });

export const SupportEventSchema = z.object({
  change: z.enum(SUPPORT_CHANGES),
  /** Who did it. */
  by: z.string(),
  conversation: SupportConversationSchema,
});
export type SupportEvent = z.infer<typeof SupportEventSchema>;
