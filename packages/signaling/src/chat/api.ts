import type {
  ChatSettings,
  Conversation,
  ConversationKind,
  CreateUploadResponse,
  Friend,
  HistoryResponse,
  MarkReadResponse,
  MemberPage,
  Message,
  SearchMessagesResponse,
  UnreadResponse,
  UploadInfo,
  UploadKind,
} from "@utd-stream/protocol";
import { UTDStreamException } from "@utd-stream/protocol";
import type { UTDApi } from "../api.js";
import {
  conversationFromWire,
  friendFromWire,
  memberFromWire,
  messageFromWire,
  sendToWire,
  settingsFromWire,
  type UTDChatSettings,
  type UTDConversation,
  type UTDCustom,
  type UTDFileMetadata,
  type UTDFriend,
  type UTDMember,
  type UTDMessage,
  type UTDSendParams,
} from "./wire.js";

const enc = encodeURIComponent;

/** Bytes to upload: a `Blob`/`File`, an `ArrayBuffer` or a typed array. */
export type UploadData = Blob | ArrayBuffer | Uint8Array;

/** A `fetch` able to PUT binary bodies (the global one by default). */
export type BinaryFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: UploadData },
) => Promise<{ status: number; text(): Promise<string> }>;

/** A page of history, oldest first. */
export interface UTDHistoryPage {
  messages: UTDMessage[];
  hasMore: boolean;
  lastSeq: number;
}

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

/** Typed REST access to the chat endpoints, on top of {@link UTDApi} (same token, same errors). */
export class ChatApi {
  constructor(
    readonly api: UTDApi,
    private readonly fetchBinary?: BinaryFetch,
  ) {}

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
    const r = await this.api.request<{ conversations: Conversation[] }>("GET", `/api/v1/conversations?limit=${limit}`);
    return r.conversations.map(conversationFromWire);
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

  async history(id: string, q: { before?: number; after?: number; limit?: number } = {}): Promise<UTDHistoryPage> {
    const s = new URLSearchParams();
    if (q.before !== undefined) s.set("before", String(q.before));
    if (q.after !== undefined) s.set("after", String(q.after));
    if (q.limit !== undefined) s.set("limit", String(q.limit));
    const qs = s.toString();
    const r = await this.api.request<HistoryResponse>("GET", `/api/v1/conversations/${enc(id)}/messages${qs ? `?${qs}` : ""}`);
    return { messages: r.messages.map(messageFromWire), hasMore: r.has_more, lastSeq: r.last_seq };
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

  /** Reserves an upload, PUTs the bytes to the signed URL and resolves to the file token. */
  async upload(kind: UploadKind, data: UploadData, meta: { filename: string; contentType?: string } & UTDFileMetadata): Promise<string> {
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
    const f = this.fetchBinary ?? (globalThis.fetch as unknown as BinaryFetch | undefined);
    if (!f) throw new Error("no fetch available for uploads");
    let res: { status: number; text(): Promise<string> };
    try {
      res = await f(p.upload_url, { method: p.method, headers: p.headers, body: data });
    } catch (err) {
      throw UTDStreamException.network(err instanceof Error ? err.message : String(err));
    }
    const text = await res.text();
    if (res.status < 200 || res.status >= 300) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      throw UTDStreamException.fromResponse(res.status, body);
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
