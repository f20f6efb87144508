/**
 * The one place where chat wire shapes (snake_case, from @utd-stream/protocol) become the SDK's
 * camelCase types. App data (`custom`, upload metadata) passes through untouched.
 */
import type {
  Attachment,
  ChatSettings,
  Conversation,
  ConversationKind,
  Friend,
  FriendState,
  HistoryResponse,
  Member,
  MemberRole,
  Message,
  MessageType,
  Thread,
  ThreadEvent,
  ThreadSummary,
  UploadKind,
} from "@utd-stream/protocol";
import { date, dateOrNull } from "./dates.js";

/** App-defined JSON data on conversations and messages. */
export type UTDCustom = Record<string, unknown>;

/** Image/video width and height in pixels, media duration in seconds (when known). */
export interface UTDFileMetadata {
  width?: number;
  height?: number;
  duration?: number;
}

/** An uploaded file attached to a message. */
export interface UTDAttachment {
  fileToken: string;
  kind: UploadKind;
  filename: string;
  contentType: string;
  size: number;
  metadata: UTDFileMetadata;
}

/** A chat message. `pending`/`failed` are set only on the sender's optimistic copy before the engine stored it. */
export interface UTDMessage {
  id: string;
  conversationId: string;
  /** Position in the conversation (rises by one per message); null while pending. */
  seq: number | null;
  type: MessageType;
  /** Sender identity; null for system messages. */
  sender: string | null;
  text: string | null;
  custom: UTDCustom | null;
  attachments: UTDAttachment[];
  replyTo: string | null;
  /** The parent message's id when this is a thread reply (it is then not in the main timeline). */
  threadId: string | null;
  /** The thread this message started: reply count, last reply time, participants; null while nobody replied. */
  thread: UTDThreadSummary | null;
  /** Members the text mentions with `@identity` (resolved by the engine). */
  mentions: string[];
  clientMsgId: string | null;
  /** reaction → identities. */
  reactions: Record<string, string[]>;
  createdAt: Date;
  editedAt: Date | null;
  deleted: boolean;
  deletedAt: Date | null;
  pending?: boolean;
  failed?: boolean;
}

/** A thread's summary on its parent message. */
export interface UTDThreadSummary {
  replyCount: number;
  lastReplyAt: Date | null;
  lastReplySeq: number;
  /** The parent's sender and the repliers, first come first (at most 10). */
  participants: string[];
}

/** A thread the user takes part in, with their unread count in it. */
export interface UTDThread {
  conversationId: string;
  parent: UTDMessage;
  lastReadSeq: number;
  unreadCount: number;
}

/** `thread.updated`: a thread's new summary. */
export interface UTDThreadUpdate extends UTDThreadSummary {
  conversationId: string;
  threadId: string;
}

export function threadSummaryFromWire(t: ThreadSummary): UTDThreadSummary {
  return {
    replyCount: t.reply_count,
    lastReplyAt: dateOrNull(t.last_reply_at),
    lastReplySeq: t.last_reply_seq,
    participants: t.participants,
  };
}

export function threadFromWire(t: Thread): UTDThread {
  return {
    conversationId: t.conversation_id,
    parent: messageFromWire(t.parent),
    lastReadSeq: t.last_read_seq,
    unreadCount: t.unread_count,
  };
}

export function threadUpdateFromWire(e: ThreadEvent): UTDThreadUpdate {
  return { conversationId: e.conversation_id, threadId: e.thread_id, ...threadSummaryFromWire(e) };
}

/** A conversation as the current user sees it. */
export interface UTDConversation {
  id: string;
  kind: ConversationKind;
  name: string | null;
  custom: UTDCustom | null;
  createdBy: string;
  createdAt: Date;
  lastActiveAt: Date;
  closed: boolean;
  closedAt: Date | null;
  memberCount: number;
  /** Both identities of a direct conversation; empty otherwise. */
  members: string[];
  role: MemberRole | null;
  lastSeq: number;
  lastReadSeq: number;
  unreadCount: number;
  /** Unread messages that mention the user. */
  mentionCount: number;
  /** The user muted it: no pushes; its unread count is left out of badge totals. */
  muted: boolean;
  lastMessage: UTDMessage | null;
}

export interface UTDMember {
  identity: string;
  role: MemberRole;
  joinedAt: Date;
  /** null when that member does not share read receipts. */
  lastReadSeq: number | null;
}

export interface UTDFriend {
  identity: string;
  state: FriendState;
  createdAt: Date;
  updatedAt: Date;
}

export interface UTDChatSettings {
  shareReadReceipts: boolean;
}

export function attachmentFromWire(a: Attachment): UTDAttachment {
  return {
    fileToken: a.file_token,
    kind: a.kind,
    filename: a.filename,
    contentType: a.content_type,
    size: a.size,
    metadata: { ...a.metadata },
  };
}

export function messageFromWire(m: Message): UTDMessage {
  return {
    id: m.id,
    conversationId: m.conversation_id,
    seq: m.seq,
    type: m.type,
    sender: m.sender,
    text: m.text,
    custom: m.custom as UTDCustom | null,
    attachments: m.attachments.map(attachmentFromWire),
    replyTo: m.reply_to,
    threadId: m.thread_id,
    thread: m.thread ? threadSummaryFromWire(m.thread) : null,
    mentions: m.mentions,
    clientMsgId: m.client_msg_id,
    reactions: m.reactions,
    createdAt: date(m.created_at),
    editedAt: dateOrNull(m.edited_at),
    deleted: m.deleted,
    deletedAt: dateOrNull(m.deleted_at),
  };
}

export function conversationFromWire(c: Conversation): UTDConversation {
  return {
    id: c.id,
    kind: c.kind,
    name: c.name,
    custom: c.custom as UTDCustom | null,
    createdBy: c.created_by,
    createdAt: date(c.created_at),
    lastActiveAt: date(c.last_active_at),
    closed: c.closed,
    closedAt: dateOrNull(c.closed_at),
    memberCount: c.member_count,
    members: c.members,
    role: c.role,
    lastSeq: c.last_seq,
    lastReadSeq: c.last_read_seq,
    unreadCount: c.unread_count,
    mentionCount: c.mention_count,
    muted: c.muted,
    lastMessage: c.last_message ? messageFromWire(c.last_message) : null,
  };
}

export function memberFromWire(m: Member): UTDMember {
  return { identity: m.identity, role: m.role, joinedAt: date(m.joined_at), lastReadSeq: m.last_read_seq };
}

export function friendFromWire(f: Friend): UTDFriend {
  return { identity: f.identity, state: f.state, createdAt: date(f.created_at), updatedAt: date(f.updated_at) };
}

export function settingsFromWire(s: ChatSettings): UTDChatSettings {
  return { shareReadReceipts: s.share_read_receipts };
}

/** What `send` takes: text, app data, file tokens from the upload functions, a reply target. */
export interface UTDSendParams {
  text?: string;
  custom?: UTDCustom;
  /** File tokens returned by `uploadFile` / `uploadImage` / …. */
  files?: string[];
  replyTo?: string;
  /** Reply in the thread of this (main-timeline) message. */
  threadId?: string;
  /** Your own idempotency key; one is generated when absent. Retries reuse it, so a message is never sent twice. */
  clientMsgId?: string;
}

export function sendToWire(p: UTDSendParams, clientMsgId: string): Record<string, unknown> {
  const body: Record<string, unknown> = { client_msg_id: clientMsgId };
  if (p.text !== undefined) body.text = p.text;
  if (p.custom !== undefined) body.custom = p.custom;
  if (p.files?.length) body.attachments = p.files.map((file_token) => ({ file_token }));
  if (p.replyTo !== undefined) body.reply_to = p.replyTo;
  if (p.threadId !== undefined) body.thread_id = p.threadId;
  return body;
}

/** A page of history, oldest first. */
export interface UTDHistoryPage {
  messages: UTDMessage[];
  hasMore: boolean;
  lastSeq: number;
}

/** Wire → SDK: a history page. */
export function historyFromWire(r: HistoryResponse): UTDHistoryPage {
  return { messages: r.messages.map(messageFromWire), hasMore: r.has_more, lastSeq: r.last_seq };
}

/** History paging: `before`/`after` a seq, at most `limit` messages. */
export interface UTDHistoryQuery {
  before?: number;
  after?: number;
  limit?: number;
  /** Main timeline only: show thread replies there too. */
  includeThreads?: boolean;
}

/** The query string of a history request (empty, or `?…`). */
export function historyQuery(q: UTDHistoryQuery): string {
  const s = new URLSearchParams();
  if (q.before !== undefined) s.set("before", String(q.before));
  if (q.after !== undefined) s.set("after", String(q.after));
  if (q.limit !== undefined) s.set("limit", String(q.limit));
  if (q.includeThreads) s.set("include_threads", "true");
  const qs = s.toString();
  return qs ? `?${qs}` : "";
}
