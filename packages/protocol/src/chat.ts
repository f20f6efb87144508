import { z } from "zod";
import { DisplayName, Id, Identity, Timestamp } from "./common.js";
import { CHAT_LIMITS, CONVERSATION_CHANGES, CONVERSATION_KINDS, MEMBER_ROLES, MESSAGE_TYPES } from "./constants/chat.js";
import { UPLOAD_KINDS } from "./constants/uploads.js";
import { UploadMetadataSchema } from "./uploads.js";

/** A client-chosen idempotency key for a send (Stream's client `id`, Matrix's txnId). */
export const ClientMsgId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._:-]+$/, "may only contain letters, digits, '.', '_', ':' and '-'");

const encoder = new TextEncoder();
/** Size of a value's JSON encoding in UTF-8 bytes (works in browsers too). */
export function jsonBytes(v: unknown): number {
  return encoder.encode(JSON.stringify(v)).length;
}

/** Free-form app data on conversations and messages: a JSON object up to `CHAT_LIMITS.maxCustomBytes`. */
export const CustomData = z.record(z.string().max(64), z.json()).refine((v) => jsonBytes(v) <= CHAT_LIMITS.maxCustomBytes, {
  message: `must be at most ${CHAT_LIMITS.maxCustomBytes} bytes of JSON`,
});
export type CustomData = z.infer<typeof CustomData>;

const ConversationName = DisplayName.min(1).max(128);

/** `POST /api/v1/conversations` — `members` are the other identities (exactly one for `direct`). */
export const CreateConversationRequestSchema = z.strictObject({
  kind: z.enum(["direct", "group", "chatroom"]),
  members: z.array(Identity).max(CHAT_LIMITS.maxMembersPerRequest).optional(),
  name: ConversationName.optional(),
  custom: CustomData.optional(),
});
export type CreateConversationRequest = z.infer<typeof CreateConversationRequestSchema>;

/** `PATCH /api/v1/conversations/{id}` (owner or admin). */
export const UpdateConversationRequestSchema = z.strictObject({
  name: ConversationName.nullable().optional(),
  custom: CustomData.nullable().optional(),
});
export type UpdateConversationRequest = z.infer<typeof UpdateConversationRequestSchema>;

/** `POST /api/v1/conversations/{id}/members` (group: owner or admin). */
export const AddMembersRequestSchema = z.strictObject({
  identities: z.array(Identity).min(1).max(CHAT_LIMITS.maxMembersPerRequest),
});

/** `PATCH /api/v1/conversations/{id}/members/{identity}` (owner only). */
export const UpdateMemberRequestSchema = z.strictObject({ role: z.enum(["admin", "member"]) });

export const MemberSchema = z.object({
  identity: z.string(),
  role: z.enum(MEMBER_ROLES),
  joined_at: Timestamp,
  /** Highest seq this member has read; null when they do not share read receipts. */
  last_read_seq: z.number().int().nullable(),
});
export type Member = z.infer<typeof MemberSchema>;

/** `GET /api/v1/conversations/{id}/members?limit=&after=` — members in join order, a page at a time. */
export const MembersQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** `next_after` of the previous page. */
  after: z
    .string()
    .max(200)
    .regex(/^\d+_\S+$/, "malformed cursor")
    .optional(),
});

export const MemberPageSchema = z.object({
  members: z.array(MemberSchema),
  /** Pass as `after` for the next page; null on the last page. */
  next_after: z.string().nullable(),
});
export type MemberPage = z.infer<typeof MemberPageSchema>;

/** An uploaded file as attached to a message. */
export const AttachmentSchema = z.object({
  file_token: z.string(),
  kind: z.enum(UPLOAD_KINDS),
  filename: z.string(),
  content_type: z.string(),
  size: z.number().int(),
  metadata: UploadMetadataSchema,
});
export type Attachment = z.infer<typeof AttachmentSchema>;

/**
 * A thread's summary, carried by the message that started it (the parent): how many replies, when the
 * last one came, who took part (the parent's sender and every replier, first come first; at most
 * `THREAD_LIMITS.maxParticipantsShown`).
 */
export const ThreadSummarySchema = z.object({
  reply_count: z.number().int(),
  last_reply_at: Timestamp.nullable(),
  /** Seq of the newest reply (0 while there is none). */
  last_reply_seq: z.number().int(),
  participants: z.array(z.string()),
});
export type ThreadSummary = z.infer<typeof ThreadSummarySchema>;

/** A message as the engine stores and delivers it. A deleted message is a tombstone (`deleted: true`, no content). */
export const MessageSchema = z.object({
  id: z.string(),
  conversation_id: z.string(),
  /** Rises by one per message within the conversation, without gaps. */
  seq: z.number().int(),
  type: z.enum(MESSAGE_TYPES),
  /** Sender identity; null for system messages. */
  sender: z.string().nullable(),
  text: z.string().nullable(),
  custom: z.record(z.string(), z.json()).nullable(),
  attachments: z.array(AttachmentSchema),
  reply_to: z.string().nullable(),
  /** The parent message's id when this is a thread reply; null in the main timeline. */
  thread_id: z.string().nullable(),
  /** The thread this message started (null while nobody replied). */
  thread: ThreadSummarySchema.nullable(),
  /** Members named with `@identity` in the text (parsed by the engine; only members of the conversation count). */
  mentions: z.array(z.string()),
  client_msg_id: z.string().nullable(),
  /** reaction → identities that reacted with it. */
  reactions: z.record(z.string(), z.array(z.string())),
  created_at: Timestamp,
  edited_at: Timestamp.nullable(),
  deleted: z.boolean(),
  deleted_at: Timestamp.nullable(),
});
export type Message = z.infer<typeof MessageSchema>;

/** A conversation as seen by the calling user (role, unread count and read position are theirs). */
export const ConversationSchema = z.object({
  id: z.string(),
  kind: z.enum(CONVERSATION_KINDS),
  name: z.string().nullable(),
  custom: z.record(z.string(), z.json()).nullable(),
  created_by: z.string(),
  created_at: Timestamp,
  /** The last message's time, or the creation time when there is none yet. */
  last_active_at: Timestamp,
  closed: z.boolean(),
  closed_at: Timestamp.nullable(),
  member_count: z.number().int(),
  /** For `direct`: both identities. Empty for other kinds (see `GET …/members`). */
  members: z.array(z.string()),
  /** The caller's role; null when the caller is not a member (chatroom discovery). */
  role: z.enum(MEMBER_ROLES).nullable(),
  last_seq: z.number().int(),
  last_read_seq: z.number().int(),
  unread_count: z.number().int(),
  /** Unread messages (past `last_read_seq`) that mention the caller. */
  mention_count: z.number().int(),
  /** The caller muted it: no pushes, and its unread count is left out of badge totals. */
  muted: z.boolean(),
  last_message: MessageSchema.nullable(),
});
export type Conversation = z.infer<typeof ConversationSchema>;

/** A page of conversations; pass `next_before` as `before` for the next (older) page; null at the end. */
export const ConversationListSchema = z.object({ conversations: z.array(ConversationSchema), next_before: z.string().nullable() });

/** `GET /api/v1/conversations?limit=&kind=&before=` (`before`: a previous page's `next_before`). */
export const ListConversationsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  kind: z.enum(CONVERSATION_KINDS).optional(),
  before: z
    .string()
    .max(100)
    .regex(/^\d{1,16}_[A-Za-z0-9_-]{1,64}$/, "not a next_before cursor")
    .optional(),
});

/** An attachment reference in a send: a file token from `POST /api/v1/uploads`, once uploaded. */
export const AttachmentRefSchema = z.strictObject({ file_token: z.string().min(1).max(128) });

const sendFields = {
  client_msg_id: ClientMsgId,
  text: z.string().min(1).max(CHAT_LIMITS.maxTextLength).optional(),
  custom: CustomData.optional(),
  attachments: z.array(AttachmentRefSchema).max(CHAT_LIMITS.maxAttachments).optional(),
  reply_to: Id.optional(),
  /** Reply in the thread of this message (a main-timeline message of the same conversation). */
  thread_id: Id.optional(),
};
const hasContent = (m: { text?: string | undefined; custom?: unknown; attachments?: unknown[] | undefined }) =>
  m.text !== undefined || m.custom !== undefined || (m.attachments?.length ?? 0) > 0;

/** `POST /api/v1/conversations/{id}/messages` — at least one of text, custom or attachments. */
export const SendMessageRequestSchema = z
  .strictObject(sendFields)
  .refine(hasContent, { message: "a message needs text, custom or attachments" });
export type SendMessageRequest = z.infer<typeof SendMessageRequestSchema>;

/** `PATCH /api/v1/conversations/{id}/messages/{message_id}` (the sender only). */
export const EditMessageRequestSchema = z
  .strictObject({
    text: z.string().min(1).max(CHAT_LIMITS.maxTextLength).nullable().optional(),
    custom: CustomData.nullable().optional(),
  })
  .refine((m) => m.text !== undefined || m.custom !== undefined, { message: "nothing to change" });
export type EditMessageRequest = z.infer<typeof EditMessageRequestSchema>;

/** `GET /api/v1/conversations/{id}/messages?before=&after=&limit=` — by seq; newest page when neither is given. */
export const HistoryQuerySchema = z.strictObject({
  before: z.coerce.number().int().min(0).optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(CHAT_LIMITS.maxPageSize).default(50),
  /** `true`: thread replies appear in the main timeline too (by default they are only in their thread). */
  include_threads: z.enum(["true", "false"]).optional(),
});
export type HistoryQuery = z.infer<typeof HistoryQuerySchema>;

/** A page of history, oldest first. `has_more` says whether more lie beyond the page in the direction asked. */
export const HistoryResponseSchema = z.object({
  messages: z.array(MessageSchema),
  has_more: z.boolean(),
  last_seq: z.number().int(),
});
export type HistoryResponse = z.infer<typeof HistoryResponseSchema>;

/** `POST /api/v1/conversations/{id}/messages/{message_id}/reactions` */
export const ReactionRequestSchema = z.strictObject({
  reaction: z
    .string()
    .min(1)
    .max(CHAT_LIMITS.maxReactionLength)
    .regex(/^[^\s\p{Cc}]+$/u, "must not contain whitespace or control characters"),
});

/** `POST /api/v1/conversations/{id}/read` — marks everything up to `seq` as read (never moves backwards). */
export const MarkReadRequestSchema = z.strictObject({ seq: z.number().int().min(0) });

export const MarkReadResponseSchema = z.object({
  conversation_id: z.string(),
  last_read_seq: z.number().int(),
  unread_count: z.number().int(),
  total_unread: z.number().int(),
});
export type MarkReadResponse = z.infer<typeof MarkReadResponseSchema>;

/**
 * `GET /api/v1/unread` — per-conversation and total unread counts (others' non-deleted messages past the read
 * position; not from users the caller blocked or muted). `total` leaves muted conversations out.
 */
export const UnreadResponseSchema = z.object({
  total: z.number().int(),
  conversations: z.array(
    z.object({
      conversation_id: z.string(),
      unread_count: z.number().int(),
      last_read_seq: z.number().int(),
      /** Unread messages mentioning the caller. */
      mention_count: z.number().int(),
      /** Muted by the caller: its count is not in `total`. */
      muted: z.boolean(),
    }),
  ),
  /** Unread messages mentioning the caller, over all conversations. */
  total_mentions: z.number().int(),
});
export type UnreadResponse = z.infer<typeof UnreadResponseSchema>;

/** `GET|PATCH /api/v1/chat/settings` — per-user chat privacy. */
export const ChatSettingsSchema = z.object({ share_read_receipts: z.boolean() });
export const UpdateChatSettingsRequestSchema = z.strictObject({ share_read_receipts: z.boolean() });
export type ChatSettings = z.infer<typeof ChatSettingsSchema>;

export const ReactionEventSchema = z.object({
  conversation_id: z.string(),
  message_id: z.string(),
  seq: z.number().int(),
  reaction: z.string(),
  identity: z.string(),
  reactions: z.record(z.string(), z.array(z.string())),
});
export type ReactionEvent = z.infer<typeof ReactionEventSchema>;

export const ReceiptEventSchema = z.object({
  conversation_id: z.string(),
  identity: z.string(),
  last_read_seq: z.number().int(),
  /** Only on the reader's own stream: their new counts, so every device agrees. */
  unread_count: z.number().int().optional(),
  total_unread: z.number().int().optional(),
});
export type ReceiptEvent = z.infer<typeof ReceiptEventSchema>;

export const ConversationEventSchema = z.object({
  conversation_id: z.string(),
  change: z.enum(CONVERSATION_CHANGES),
  by: z.string(),
  name: z.string().nullable(),
  custom: z.record(z.string(), z.json()).nullable(),
  closed: z.boolean(),
  kind: z.enum(CONVERSATION_KINDS),
});
export type ConversationEvent = z.infer<typeof ConversationEventSchema>;

export const MemberEventSchema = z.object({
  conversation_id: z.string(),
  identity: z.string(),
  role: z.enum(MEMBER_ROLES),
  /** Who did it (the member themself for join/leave). */
  by: z.string(),
});
export type MemberEvent = z.infer<typeof MemberEventSchema>;

/** WebSocket request `message.send`: the REST send body plus `conversation_id`; the reply's data is the `Message`. */
export const MessageSendFrameSchema = z
  .strictObject({
    type: z.literal("message.send"),
    id: z.string().min(1).max(64).optional(),
    conversation_id: Id,
    ...sendFields,
  })
  .refine(hasContent, { message: "a message needs text, custom or attachments" });
export type MessageSendFrame = z.infer<typeof MessageSendFrameSchema>;

/** WebSocket request `message.read`: marks read up to `seq`; the reply's data is a `MarkReadResponse`. */
export const MessageReadFrameSchema = z.strictObject({
  type: z.literal("message.read"),
  id: z.string().min(1).max(64).optional(),
  conversation_id: Id,
  seq: z.number().int().min(0),
});
export type MessageReadFrame = z.infer<typeof MessageReadFrameSchema>;
