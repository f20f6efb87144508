import type {
  BlockList,
  ChatSettings,
  Conversation,
  ConversationKind,
  CreateUploadResponse,
  Friend,
  HistoryResponse,
  MarkReadResponse,
  MarkThreadReadResponse,
  Member,
  MemberPage,
  Message,
  MuteList,
  Report,
  SearchMessagesResponse,
  ThreadList,
  UnreadResponse,
  UploadInfo,
  UploadKind,
} from "@utd-stream/protocol";
import type { UploadData, UTDApi } from "../core/api.js";
import { xhrConstructor, xhrPut } from "../core/upload.js";
import {
  conversationFromWire,
  friendFromWire,
  historyFromWire,
  historyQuery,
  memberFromWire,
  messageFromWire,
  sendToWire,
  settingsFromWire,
  threadFromWire,
  type UTDChatSettings,
  type UTDConversation,
  type UTDCustom,
  type UTDFileMetadata,
  type UTDFriend,
  type UTDHistoryPage,
  type UTDHistoryQuery,
  type UTDMember,
  type UTDMessage,
  type UTDSendParams,
  type UTDThread,
} from "../wire/chat.js";

const enc = encodeURIComponent;

/** Unread counts: total and per conversation. */
export interface UTDUnread {
  total: number;
  conversations: Record<string, number>;
}

/** Message search filters (all optional); every word of the query must match, `word*` matches a prefix. */
export interface UTDSearchOptions {
  /** Only this conversation (else all of the caller's). */
  conversationId?: string;
  sender?: string;
  /** Created at or after / at or before. */
  from?: Date;
  to?: Date;
  hasAttachment?: boolean;
  /** `nextCursor` of the previous page. */
  cursor?: string;
  /** Page size, 1–50 (20 by default). */
  limit?: number;
}

/** One search hit: the message and the matched ranges of its text (UTF-16 indices; render the text escaped). */
export interface UTDSearchHit {
  message: UTDMessage;
  highlights: { start: number; end: number }[];
}

/** A page of hits, best first; `nextCursor` is null on the last page. */
export interface UTDSearchPage {
  hits: UTDSearchHit[];
  nextCursor: string | null;
}

/** Splits a hit's text into plain and matched parts, for rendering highlights without HTML. */
export function highlightParts(hit: UTDSearchHit): { text: string; match: boolean }[] {
  const text = hit.message.text ?? "";
  const out: { text: string; match: boolean }[] = [];
  let at = 0;
  for (const h of hit.highlights) {
    if (h.start > at) out.push({ text: text.slice(at, h.start), match: false });
    out.push({ text: text.slice(h.start, h.end), match: true });
    at = h.end;
  }
  if (at < text.length) out.push({ text: text.slice(at), match: false });
  return out;
}

/** A page of the user's threads, most recent reply first. */
export interface UTDThreadPage {
  threads: UTDThread[];
  /** Pass as `before` for the next (older) page; null at the end. */
  nextBefore: string | null;
  /** Unread replies over all the user's threads. */
  totalUnread: number;
}

/** A page of conversations, most recently active first. */
export interface UTDConversationPage {
  conversations: UTDConversation[];
  /** Pass as `before` for the next (older) page; null at the end. */
  nextBefore: string | null;
}

/** Typed REST access to the chat endpoints (`/api/v1/conversations`, `/api/v1/chatrooms`, friends, uploads), on the shared {@link UTDApi}. */
export class ChatApi {
  constructor(readonly api: UTDApi) {}

  async createConversation(
    kind: ConversationKind,
    opts: { members?: string[]; name?: string; custom?: UTDCustom } = {},
  ): Promise<UTDConversation> {
    const body: Record<string, unknown> = { kind };
    if (opts.members) body.members = opts.members;
    if (opts.name !== undefined) body.name = opts.name;
    if (opts.custom !== undefined) body.custom = opts.custom;
    return conversationFromWire(await this.api.request<Conversation>("POST", "/api/v1/conversations", body));
  }

  async listConversations(limit = 50): Promise<UTDConversation[]> {
    return (await this.conversationPage({ limit })).conversations;
  }

  /** A page of the user's conversations, most recently active first (`kind` filters; `before` pages back). */
  async conversationPage(q: { limit?: number; kind?: ConversationKind; before?: string } = {}): Promise<UTDConversationPage> {
    const s = new URLSearchParams();
    if (q.limit !== undefined) s.set("limit", String(q.limit));
    if (q.kind !== undefined) s.set("kind", q.kind);
    if (q.before !== undefined) s.set("before", q.before);
    const qs = s.toString();
    const r = await this.api.request<{ conversations: Conversation[]; next_before: string | null }>(
      "GET",
      `/api/v1/conversations${qs ? `?${qs}` : ""}`,
    );
    return { conversations: r.conversations.map(conversationFromWire), nextBefore: r.next_before };
  }

  /** The app's open chatrooms (anyone may `join`), newest first. */
  async chatrooms(q: { limit?: number; before?: string } = {}): Promise<UTDConversationPage> {
    const s = new URLSearchParams();
    if (q.limit !== undefined) s.set("limit", String(q.limit));
    if (q.before !== undefined) s.set("before", q.before);
    const qs = s.toString();
    const r = await this.api.request<{ conversations: Conversation[]; next_before: string | null }>(
      "GET",
      `/api/v1/chatrooms${qs ? `?${qs}` : ""}`,
    );
    return { conversations: r.conversations.map(conversationFromWire), nextBefore: r.next_before };
  }

  async getConversation(id: string): Promise<UTDConversation> {
    return conversationFromWire(await this.api.request<Conversation>("GET", `/api/v1/conversations/${enc(id)}`));
  }

  /** Every member, in join order (fetched a page of 500 at a time). */
  async members(id: string): Promise<UTDMember[]> {
    const out: UTDMember[] = [];
    let after: string | null = null;
    do {
      const q: string = `?limit=500${after ? `&after=${encodeURIComponent(after)}` : ""}`;
      const page: MemberPage = await this.api.request<MemberPage>("GET", `/api/v1/conversations/${enc(id)}/members${q}`);
      out.push(...page.members.map(memberFromWire));
      after = page.next_after;
    } while (after);
    return out;
  }

  /** Renames and/or changes custom data (owner or admin); `null` clears. */
  async update(id: string, change: { name?: string | null; custom?: UTDCustom | null }): Promise<UTDConversation> {
    return conversationFromWire(await this.api.request<Conversation>("PATCH", `/api/v1/conversations/${enc(id)}`, change));
  }

  /** Closes (no more messages; history stays) or reopens a group or chatroom (owner). */
  async setClosed(id: string, closed: boolean): Promise<UTDConversation> {
    return conversationFromWire(
      await this.api.request<Conversation>("POST", `/api/v1/conversations/${enc(id)}/${closed ? "close" : "reopen"}`),
    );
  }

  /** Adds members to a group (owner or admin; `max_group_members`); resolves to every member. */
  async addMembers(id: string, identities: readonly string[]): Promise<UTDMember[]> {
    const r = await this.api.request<{ members: Member[] }>("POST", `/api/v1/conversations/${enc(id)}/members`, {
      identities: [...identities],
    });
    return r.members.map(memberFromWire);
  }

  /** Changes a member's role (owner only). */
  async setRole(id: string, identity: string, role: "admin" | "member"): Promise<UTDMember[]> {
    const r = await this.api.request<{ members: Member[] }>("PATCH", `/api/v1/conversations/${enc(id)}/members/${enc(identity)}`, {
      role,
    });
    return r.members.map(memberFromWire);
  }

  /** Removes a member (owner: anyone; admin: members), or leaves when it is you. */
  async removeMember(id: string, identity: string): Promise<void> {
    await this.api.request("DELETE", `/api/v1/conversations/${enc(id)}/members/${enc(identity)}`);
  }

  async join(id: string): Promise<UTDConversation> {
    return conversationFromWire(await this.api.request<Conversation>("POST", `/api/v1/conversations/${enc(id)}/join`));
  }

  async leave(id: string): Promise<void> {
    await this.api.request("POST", `/api/v1/conversations/${enc(id)}/leave`);
  }

  async send(id: string, p: UTDSendParams, clientMsgId: string): Promise<UTDMessage> {
    return messageFromWire(
      await this.api.request<Message>("POST", `/api/v1/conversations/${enc(id)}/messages`, sendToWire(p, clientMsgId)),
    );
  }

  async history(id: string, q: UTDHistoryQuery = {}): Promise<UTDHistoryPage> {
    return historyFromWire(await this.api.request<HistoryResponse>("GET", `/api/v1/conversations/${enc(id)}/messages${historyQuery(q)}`));
  }

  async edit(id: string, messageId: string, p: { text?: string | null; custom?: UTDCustom | null }): Promise<UTDMessage> {
    return messageFromWire(await this.api.request<Message>("PATCH", `/api/v1/conversations/${enc(id)}/messages/${enc(messageId)}`, p));
  }

  async delete(id: string, messageId: string): Promise<UTDMessage> {
    return messageFromWire(await this.api.request<Message>("DELETE", `/api/v1/conversations/${enc(id)}/messages/${enc(messageId)}`));
  }

  async react(id: string, messageId: string, reaction: string, on: boolean): Promise<UTDMessage> {
    const path = `/api/v1/conversations/${enc(id)}/messages/${enc(messageId)}/reactions`;
    const m = on
      ? await this.api.request<Message>("POST", path, { reaction })
      : await this.api.request<Message>("DELETE", `${path}/${enc(reaction)}`);
    return messageFromWire(m);
  }

  async markRead(id: string, seq: number): Promise<{ lastReadSeq: number; unreadCount: number; totalUnread: number }> {
    const r = await this.api.request<MarkReadResponse>("POST", `/api/v1/conversations/${enc(id)}/read`, { seq });
    return { lastReadSeq: r.last_read_seq, unreadCount: r.unread_count, totalUnread: r.total_unread };
  }

  /** The threads the user takes part in (`GET /api/v1/threads`), most recent reply first. */
  async threads(q: { limit?: number; before?: string; conversationId?: string } = {}): Promise<UTDThreadPage> {
    const s = new URLSearchParams();
    if (q.limit !== undefined) s.set("limit", String(q.limit));
    if (q.before !== undefined) s.set("before", q.before);
    if (q.conversationId !== undefined) s.set("conversation_id", q.conversationId);
    const qs = s.toString();
    const r = await this.api.request<ThreadList>("GET", `/api/v1/threads${qs ? `?${qs}` : ""}`);
    return { threads: r.threads.map(threadFromWire), nextBefore: r.next_before, totalUnread: r.total_unread };
  }

  /** A page of a thread's replies, oldest first. */
  async threadHistory(id: string, parentId: string, q: UTDHistoryQuery = {}): Promise<UTDHistoryPage> {
    return historyFromWire(
      await this.api.request<HistoryResponse>(
        "GET",
        `/api/v1/conversations/${enc(id)}/threads/${enc(parentId)}/messages${historyQuery({ ...q, includeThreads: false })}`,
      ),
    );
  }

  /** Marks a thread read up to `seq`; resolves to the thread's read position and unread count. */
  async markThreadRead(id: string, parentId: string, seq: number): Promise<{ lastReadSeq: number; unreadCount: number }> {
    const r = await this.api.request<MarkThreadReadResponse>("POST", `/api/v1/conversations/${enc(id)}/threads/${enc(parentId)}/read`, {
      seq,
    });
    return { lastReadSeq: r.last_read_seq, unreadCount: r.unread_count };
  }

  /**
   * Reports a message (`{ conversationId, messageId }`) or a user (`{ identity }`) to the app's moderators
   * with a reason; reporting the same thing again while it is open returns the same report id.
   */
  async report(
    target: { conversationId: string; messageId: string } | { identity: string },
    reason: string,
  ): Promise<{ id: string; state: string }> {
    const body =
      "identity" in target
        ? { kind: "user", identity: target.identity, reason }
        : { kind: "message", conversation_id: target.conversationId, message_id: target.messageId, reason };
    const r = await this.api.request<Report>("POST", "/api/v1/reports", body);
    return { id: r.id, state: r.state };
  }

  /** Blocks a user: they cannot DM or call you, and their messages are hidden from you (idempotent). */
  async block(identity: string): Promise<void> {
    await this.api.request("PUT", `/api/v1/blocks/${enc(identity)}`);
  }

  /** Unblocks a user (idempotent). */
  async unblock(identity: string): Promise<void> {
    await this.api.request("DELETE", `/api/v1/blocks/${enc(identity)}`);
  }

  /** The users you blocked, most recent first. */
  async blocked(): Promise<{ identity: string; createdAt: Date }[]> {
    const r = await this.api.request<BlockList>("GET", "/api/v1/blocks");
    return r.blocked.map((b) => ({ identity: b.identity, createdAt: new Date(b.created_at) }));
  }

  /** Mutes a user: their messages ring no push and count in no unread badge of yours (idempotent). */
  async muteUser(identity: string): Promise<void> {
    await this.api.request("PUT", `/api/v1/mutes/users/${enc(identity)}`);
  }

  /** Unmutes a user (idempotent). */
  async unmuteUser(identity: string): Promise<void> {
    await this.api.request("DELETE", `/api/v1/mutes/users/${enc(identity)}`);
  }

  /** The users you muted, most recent first. */
  async mutedUsers(): Promise<{ identity: string; createdAt: Date }[]> {
    const r = await this.api.request<MuteList>("GET", "/api/v1/mutes/users");
    return r.muted.map((b) => ({ identity: b.identity, createdAt: new Date(b.created_at) }));
  }

  /** Mutes or unmutes a conversation for you: no pushes, and its unread count leaves your badge total. */
  async muteConversation(id: string, muted: boolean): Promise<void> {
    await this.api.request("PUT", `/api/v1/conversations/${enc(id)}/mute`, { muted });
  }

  /** Full-text search over the messages the caller may read (`GET /api/v1/search/messages`). */
  async searchMessages(q: string, o: UTDSearchOptions = {}): Promise<UTDSearchPage> {
    const s = new URLSearchParams({ q });
    if (o.conversationId !== undefined) s.set("conversation_id", o.conversationId);
    if (o.sender !== undefined) s.set("sender", o.sender);
    if (o.from !== undefined) s.set("from", o.from.toISOString());
    if (o.to !== undefined) s.set("to", o.to.toISOString());
    if (o.hasAttachment !== undefined) s.set("has_attachment", String(o.hasAttachment));
    if (o.cursor !== undefined) s.set("cursor", o.cursor);
    if (o.limit !== undefined) s.set("limit", String(o.limit));
    const r = await this.api.request<SearchMessagesResponse>("GET", `/api/v1/search/messages?${s}`);
    return { hits: r.hits.map((h) => ({ message: messageFromWire(h.message), highlights: h.highlights })), nextCursor: r.next_cursor };
  }

  async unread(): Promise<UTDUnread> {
    const r = await this.api.request<UnreadResponse>("GET", "/api/v1/unread");
    return { total: r.total, conversations: Object.fromEntries(r.conversations.map((c) => [c.conversation_id, c.unread_count])) };
  }

  async settings(): Promise<UTDChatSettings> {
    return settingsFromWire(await this.api.request<ChatSettings>("GET", "/api/v1/chat/settings"));
  }

  async updateSettings(s: UTDChatSettings): Promise<UTDChatSettings> {
    return settingsFromWire(
      await this.api.request<ChatSettings>("PATCH", "/api/v1/chat/settings", { share_read_receipts: s.shareReadReceipts }),
    );
  }

  async friends(): Promise<UTDFriend[]> {
    return (await this.api.request<{ friends: Friend[] }>("GET", "/api/v1/friends")).friends.map(friendFromWire);
  }

  async requestFriend(identity: string): Promise<UTDFriend> {
    return friendFromWire(await this.api.request<Friend>("POST", "/api/v1/friends/requests", { identity }));
  }

  async acceptFriend(identity: string): Promise<UTDFriend> {
    return friendFromWire(await this.api.request<Friend>("POST", `/api/v1/friends/${enc(identity)}/accept`));
  }

  async declineFriend(identity: string): Promise<void> {
    await this.api.request("POST", `/api/v1/friends/${enc(identity)}/decline`);
  }

  async removeFriend(identity: string): Promise<void> {
    await this.api.request("DELETE", `/api/v1/friends/${enc(identity)}`);
  }

  /** Reserves an upload, PUTs the bytes to the signed URL and resolves to the file token; `onProgress` sees the bytes go. */
  async upload(
    kind: UploadKind,
    data: UploadData,
    meta: { filename: string; contentType?: string } & UTDFileMetadata,
    onProgress?: (sent: number, total: number) => void,
  ): Promise<string> {
    const size = data instanceof ArrayBuffer ? data.byteLength : data instanceof Uint8Array ? data.byteLength : data.size;
    const contentType =
      meta.contentType ?? (typeof Blob !== "undefined" && data instanceof Blob && data.type ? data.type : "application/octet-stream");
    const metadata: UTDFileMetadata = {};
    if (meta.width !== undefined) metadata.width = meta.width;
    if (meta.height !== undefined) metadata.height = meta.height;
    if (meta.duration !== undefined) metadata.duration = meta.duration;
    const p = await this.api.request<CreateUploadResponse>("POST", "/api/v1/uploads", {
      kind,
      filename: meta.filename,
      content_type: contentType,
      size,
      metadata,
    });
    // With progress wanted and XMLHttpRequest there (browsers, React Native): bytes reported as they go.
    const XHR = onProgress ? xhrConstructor() : undefined;
    if (XHR && onProgress) await xhrPut(XHR, p.upload_url, p.method, p.headers, data, onProgress);
    else {
      await this.api.put(p.upload_url, p.method, p.headers, data);
      onProgress?.(size, size);
    }
    return p.file_token;
  }

  /** A file's record with a signed download URL (for the uploader and members of a conversation it was sent in). */
  async file(
    token: string,
  ): Promise<{ downloadUrl: string | null; filename: string; contentType: string; size: number; uploaded: boolean }> {
    const r = await this.api.request<UploadInfo>("GET", `/api/v1/uploads/${enc(token)}`);
    return { downloadUrl: r.download_url, filename: r.filename, contentType: r.content_type, size: r.size, uploaded: r.uploaded };
  }
}
