/**
 * Conversation kinds: one `direct` per pair of users, `group` with roles, open `chatroom`, and
 * `support` (a visitor and the app's operator team; created only through `/api/v1/support`).
 */
export const CONVERSATION_KINDS = ["direct", "group", "chatroom", "support"] as const;
export type ConversationKind = (typeof CONVERSATION_KINDS)[number];

/** Member roles. `owner` manages roles and closes; `admin` adds/removes members; `member` chats. */
export const MEMBER_ROLES = ["owner", "admin", "member"] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

/** Limits on messages (Stream's text cap is 5,000 characters). */
export const CHAT_LIMITS = {
  /** Longest message text, in characters (UTF-16 code units). */
  maxTextLength: 5000,
  /** Largest `custom` JSON object, in bytes of its JSON encoding. */
  maxCustomBytes: 4096,
  /** Most attachments on one message. */
  maxAttachments: 10,
  /** Most members named when creating or adding to a conversation in one request. */
  maxMembersPerRequest: 100,
  /** Largest history page. */
  maxPageSize: 200,
  /** Longest reaction (an emoji or a short name). */
  maxReactionLength: 32,
  /** Most different reactions one user may put on one message. */
  maxReactionsPerUser: 20,
} as const;

/** Message types: `text` (with optional custom data and attachments) and engine-written `system`. */
export const MESSAGE_TYPES = ["text", "system"] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Server events of the chat domain (`{"type","seq","data"}` on the user's stream). */
export const CHAT_EVENTS = {
  /** data: `Message`. To every member. */
  messageNew: "message.new",
  /** data: `Message` (edited). */
  messageUpdated: "message.updated",
  /** data: `Message` (the tombstone). */
  messageDeleted: "message.deleted",
  /** data: `ReactionEvent`. */
  reactionAdded: "reaction.added",
  reactionRemoved: "reaction.removed",
  /** data: `ReceiptEvent`. To the reader's own devices always; to other members only when the reader shares receipts. */
  receiptRead: "receipt.read",
  /** data: `ConversationEvent` (created, renamed, closed, reopened, …). */
  conversationUpdated: "conversation.updated",
  /** data: `MemberEvent`. To the members, including the one added or removed. */
  memberAdded: "member.added",
  memberRemoved: "member.removed",
  memberUpdated: "member.updated",
  /** data: `ThreadEvent`. To every member: a thread's summary changed (a reply came or was deleted). */
  threadUpdated: "thread.updated",
  /** data: `FriendEvent`. */
  friendUpdated: "friend.updated",
} as const;
export type ChatEventType = (typeof CHAT_EVENTS)[keyof typeof CHAT_EVENTS];

export const CONVERSATION_CHANGES = ["created", "updated", "closed", "reopened"] as const;

/** Limits on threads. */
export const THREAD_LIMITS = {
  /** Most participants listed on a thread summary (the first ones to take part). */
  maxParticipantsShown: 10,
  /** Largest page of `GET /api/v1/threads`. */
  maxListPage: 100,
} as const;

/** Limits on mentions. */
export const MENTION_LIMITS = {
  /** Most distinct identities one message may mention (more are ignored, in text order). */
  maxPerMessage: 50,
} as const;
