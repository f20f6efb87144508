import { CHAT_EVENTS, type ConversationKind, isWsEvent, UTDStreamException, type WsEvent } from "@utd-stream/protocol";
import type { ConnectionState, UTDSignalClient } from "../client.js";
import { byteLength, type UploadData, type UTDApi } from "../core/api.js";
import { Emitter } from "../emitter.js";
import { type ReadableStore, Store } from "../store.js";
import { UsersApi } from "../users/api.js";
import {
  messageFromWire,
  threadUpdateFromWire,
  type UTDConversation,
  type UTDCustom,
  type UTDFileMetadata,
  type UTDFriend,
  type UTDMessage,
  type UTDThreadUpdate,
} from "../wire/chat.js";
import { ChatApi, type UTDConversationPage, type UTDSearchOptions, type UTDSearchPage, type UTDThreadPage, type UTDUnread } from "./api.js";
import { ConversationRef, type RefHost } from "./conversation.js";
import { type ChatStorage, OfflineCache, type OfflineLimits } from "./offline.js";
import { type UserRef, userRef } from "./user.js";

export interface ChatSessionOptions {
  appId: string;
  userId: string;
  /** REST client, already holding the user token. */
  api: UTDApi;
  /** The WebSocket client (live events, resume). The session does not connect or close it. */
  client: UTDSignalClient;
  /** Offline-first: keep conversations, recent messages and the outbox in this storage. */
  offline?: OfflineOptions;
}

/** Where and how much the offline-first cache keeps. */
export interface OfflineOptions {
  /** `IndexedDbChatStorage` in browsers, `keyValueChatStorage(AsyncStorage)` in React Native, `MemoryChatStorage` in Node. */
  storage: ChatStorage;
  limits?: OfflineLimits;
}

/** A live list of the user's most recently active conversations. */
export interface ConversationListSubscription {
  readonly conversations: ReadableStore<readonly UTDConversation[]>;
  /** Extends the list by up to `count` older conversations (200 at most in all); resolves false when there were none. */
  loadMore(count?: number): Promise<boolean>;
  unsubscribe(): void;
}

/** File details for the upload functions. */
export interface UTDUploadMetadata extends UTDFileMetadata {
  /** The file name including extension. */
  filename: string;
  /** Defaults to the Blob's type, else `application/octet-stream`. */
  contentType?: string;
}

/** Where an upload started with {@link ChatSession.startUpload} stands. */
export interface UTDUploadProgress {
  state: "uploading" | "done" | "failed";
  /** Bytes sent so far, of `total`. */
  sent: number;
  total: number;
  /** The file token once `done` (send it with `conversation.send({ files: [token] })`). */
  token: string | null;
  error: UTDStreamException | null;
}

/** One upload in flight: its progress as a store, its file token as a promise. */
export interface UTDUploadTask {
  readonly progress: ReadableStore<UTDUploadProgress>;
  /** Resolves to the file token; rejects with the `UTDStreamException` the upload failed with. */
  readonly result: Promise<string>;
}

/**
 * A user's chat session (TalkJS `TalkSession`): conversation and user references, the live list of
 * conversations, unread counts as stores, uploads, and `onError`. Get one with `getSession()`.
 */
export class ChatSession {
  readonly appId: string;
  /** The user this session acts as. */
  readonly me: UserRef;
  readonly chat: ChatApi;
  /** Presence and push-token endpoints. */
  readonly users: UsersApi;
  private readonly client: UTDSignalClient;
  private readonly refs = new Map<string, ConversationRef>();
  private readonly errors = new Emitter<{ error: UTDStreamException }>();
  private readonly threadEvents = new Emitter<{ thread: UTDThreadUpdate; reply: UTDMessage }>();
  private readonly unreadStore = new Store<UTDUnread>({ total: 0, conversations: {} });
  private readonly perConversation = new Map<string, Store<number>>();
  private readonly lists = new Set<ConversationList>();
  private readonly offs: (() => void)[] = [];
  private unreadRefresh: Promise<void> | undefined;
  private readonly host: RefHost;
  private _disposed = false;
  private _failed = false;
  readonly userId: string;
  /** The offline cache (when the session was made with `offline`). */
  readonly cache: OfflineCache | undefined;

  constructor(o: ChatSessionOptions) {
    this.appId = o.appId;
    this.userId = o.userId;
    this.cache = o.offline ? new OfflineCache(o.offline.storage, o.appId, o.userId, o.offline.limits) : undefined;
    this.client = o.client;
    this.chat = new ChatApi(o.api);
    this.users = new UsersApi(o.api);
    const self = this;
    this.host = {
      me: o.userId,
      chat: this.chat,
      unreadCount: (id) => this.unreadCount(id),
      waitToRetry: (attempt) => this.waitToRetry(attempt),
      reportError: (e) => this.reportError(e),
      request: (verb, body) => this.client.request(verb, body),
      cache: this.cache,
      get disposed() {
        return self._disposed;
      },
    };
    this.me = this.user(o.userId);
    this.offs.push(
      this.client.on("event", (ev) => {
        if (isWsEvent(ev)) this.onEvent(ev);
      }),
      this.client.on("welcome", (w) => {
        if (!w.resumed) this.resync();
      }),
      this.client.on("resync", () => this.resync()),
      this.client.on("closed", (c) => {
        if (c.error) {
          this._failed = true;
          this.reportError(c.error);
        }
      }),
    );
    void this.refreshUnread();
    void this.replayOutbox();
  }

  /**
   * Sends what was written offline (also in an earlier run of the app), in the order it was written, each
   * with its own `clientMsgId`: the engine stores each exactly once however often this runs.
   */
  private async replayOutbox(): Promise<void> {
    if (!this.cache) return;
    for (const e of await this.cache.outbox()) {
      if (this._disposed) return;
      await this.conversation(e.conversationId)
        .send({ ...e.params, clientMsgId: e.clientMsgId })
        .catch(() => {});
    }
  }

  /** Signs out: clears this user's offline cache (conversations, messages, unsent messages), then disposes. */
  async signOut(): Promise<void> {
    this.dispose();
    await this.cache?.clear();
  }

  /** The socket's connection state (shared with the signalling facade for `chatSessionFor` sessions). */
  get state(): ReadableStore<ConnectionState> {
    return this.client.state;
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this._disposed;
  }

  /** True after an unrecoverable error (banned, token refused); the registry then makes a fresh session. */
  get failed(): boolean {
    return this._failed;
  }

  /** Total and per-conversation unread counts, kept right across reconnects and other devices' reads. */
  get unread(): ReadableStore<UTDUnread> {
    return this.unreadStore;
  }

  /** One conversation's unread count as a store. */
  unreadCount(conversationId: string): ReadableStore<number> {
    let s = this.perConversation.get(conversationId);
    if (!s) {
      s = new Store(this.unreadStore.value.conversations[conversationId] ?? 0);
      this.perConversation.set(conversationId, s);
    }
    return s;
  }

  /**
   * Searches the messages this user may read, in all their conversations or one (`conversationId`):
   * ranked, paged by `nextCursor`, with the matched ranges of each text.
   */
  searchMessages(q: string, opts: UTDSearchOptions = {}): Promise<UTDSearchPage> {
    return this.chat.searchMessages(q, opts);
  }

  /** The threads this user takes part in, most recent reply first, with unread counts (`before` pages back). */
  threads(opts: { limit?: number; before?: string; conversationId?: string } = {}): Promise<UTDThreadPage> {
    return this.chat.threads(opts);
  }

  /** Calls `handler` with each thread's new summary (`thread.updated`); returns the unsubscribe function. */
  onThreadUpdated(handler: (u: UTDThreadUpdate) => void): () => void {
    return this.threadEvents.on("thread", handler);
  }

  /** Calls `handler` with each new thread reply in the user's conversations; returns the unsubscribe function. */
  onThreadReply(handler: (m: UTDMessage) => void): () => void {
    return this.threadEvents.on("reply", handler);
  }

  /** A reference to a conversation (the same object for the same id). */
  conversation(id: string): ConversationRef {
    let r = this.refs.get(id);
    if (!r) {
      r = new ConversationRef(id, this.host);
      this.refs.set(id, r);
    }
    return r;
  }

  /** Creates a conversation (`direct` returns the existing one with that user) and returns its reference. */
  async createConversation(
    kind: ConversationKind,
    opts: { members?: string[]; name?: string; custom?: UTDCustom } = {},
  ): Promise<ConversationRef> {
    const c = await this.chat.createConversation(kind, opts);
    return this.conversation(c.id);
  }

  /** A reference to a user of the app: profile (presence, friendship), friend requests, the direct conversation. */
  user(id: string): UserRef {
    return userRef(id, {
      chat: this.chat,
      users: this.users,
      client: this.client,
      reportError: (e) => this.reportError(e),
      direct: (identity) => this.createConversation("direct", { members: [identity] }),
    });
  }

  /** The app's open chatrooms (join one with `conversation(id).join()`), newest first; `before` pages back. */
  chatrooms(q: { limit?: number; before?: string } = {}): Promise<UTDConversationPage> {
    return this.chat.chatrooms(q);
  }

  /** Friends and pending requests. */
  friends(): Promise<UTDFriend[]> {
    return this.chat.friends();
  }

  /** A live list of friends and pending requests (`state`: friends, outgoing, incoming). */
  subscribeFriends(onSnapshot: (friends: readonly UTDFriend[]) => void): {
    friends: ReadableStore<readonly UTDFriend[]>;
    unsubscribe(): void;
  } {
    const store = new Store<readonly UTDFriend[]>([]);
    let closed = false;
    const load = () =>
      this.chat
        .friends()
        .then((f) => {
          if (!closed) store.set(f);
        })
        .catch((err: unknown) => {
          if (err instanceof UTDStreamException) this.reportError(err);
        });
    // Snapshots start with the first load, not with the empty placeholder.
    const offStore = store.onChange(onSnapshot);
    const offEvents = this.client.on("event", (ev) => {
      if (ev.type === CHAT_EVENTS.friendUpdated) void load();
    });
    const offWelcome = this.client.on("welcome", (w) => {
      if (!w.resumed) void load();
    });
    void load();
    return {
      friends: store,
      unsubscribe: () => {
        closed = true;
        offStore();
        offEvents();
        offWelcome();
      },
    };
  }

  /** Calls `handler` whenever the session meets an error; returns the function that detaches it. */
  onError(handler: (err: UTDStreamException) => void): () => void {
    return this.errors.on("error", handler);
  }

  /** Subscribes to the most recently active conversations (live: new messages move a conversation to the top). */
  subscribeConversations(
    onSnapshot: (conversations: readonly UTDConversation[]) => void,
    opts: { limit?: number } = {},
  ): ConversationListSubscription {
    const list = new ConversationList(this, opts.limit ?? 30, (l) => this.lists.delete(l));
    this.lists.add(list);
    list.store.onChange(onSnapshot);
    void list.reload();
    return list;
  }

  /** Uploads a file; resolves to a file token to send with `conversation.send({ files: [token] })`. */
  uploadFile(data: UploadData, metadata: UTDUploadMetadata): Promise<string> {
    return this.upload("file", data, metadata);
  }
  uploadImage(data: UploadData, metadata: UTDUploadMetadata): Promise<string> {
    return this.upload("image", data, metadata);
  }
  uploadVideo(data: UploadData, metadata: UTDUploadMetadata): Promise<string> {
    return this.upload("video", data, metadata);
  }
  uploadAudio(data: UploadData, metadata: UTDUploadMetadata): Promise<string> {
    return this.upload("audio", data, metadata);
  }
  uploadVoice(data: UploadData, metadata: UTDUploadMetadata): Promise<string> {
    return this.upload("voice", data, metadata);
  }

  /**
   * Starts an upload and returns at once: `progress` (a store: bytes sent, then `done` with the token or
   * `failed` with the error) for progress bars, `result` for the file token.
   */
  startUpload(kind: "file" | "image" | "video" | "audio" | "voice", data: UploadData, metadata: UTDUploadMetadata): UTDUploadTask {
    const total = byteLength(data);
    const progress = new Store<UTDUploadProgress>({ state: "uploading", sent: 0, total, token: null, error: null });
    const result = this.upload(kind, data, metadata, (sent, t) => {
      if (progress.value.state === "uploading") progress.set({ ...progress.value, sent, total: t });
    }).then(
      (token) => {
        progress.set({ state: "done", sent: total, total, token, error: null });
        return token;
      },
      (err: unknown) => {
        const e = err instanceof UTDStreamException ? err : UTDStreamException.network(String(err));
        progress.set({ ...progress.value, state: "failed", error: e });
        throw e;
      },
    );
    // The caller may watch only the store: an unobserved failure is not an unhandled rejection.
    result.catch(() => {});
    return { progress, result };
  }

  private async upload(
    kind: "file" | "image" | "video" | "audio" | "voice",
    data: UploadData,
    metadata: UTDUploadMetadata,
    onProgress?: (sent: number, total: number) => void,
  ): Promise<string> {
    try {
      return await this.chat.upload(kind, data, metadata, onProgress);
    } catch (err) {
      if (err instanceof UTDStreamException) this.reportError(err);
      throw err;
    }
  }

  /**
   * Stops this session: listeners detach, live lists stop; a session from `getSession` also closes the
   * socket it opened (one from `chatSessionFor` leaves the facade's socket to `signaling.disconnect()`).
   * The registry hands out a fresh session for this user next time. Same as {@link dispose}.
   */
  disconnect(): void {
    this.dispose();
  }

  /** Stops listening; the registry will hand out a fresh session for this user next time. */
  dispose(): void {
    this._disposed = true;
    for (const off of this.offs.splice(0)) off();
    for (const l of [...this.lists]) l.unsubscribe();
  }

  // ---------- internals ----------

  /** @internal */
  reportError(err: UTDStreamException): void {
    this.errors.emit("error", err);
  }

  private async waitToRetry(attempt: number): Promise<void> {
    await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
    if (this.client.state.value === "connected" || this._disposed) return;
    await this.client.state.when((s) => s === "connected" || s === "closed");
  }

  private setUnread(next: UTDUnread): void {
    this.unreadStore.set(next);
    for (const [id, s] of this.perConversation) s.set(next.conversations[id] ?? 0);
  }

  /** Re-reads unread counts from the engine (after a resync, or when a deletion changed them). */
  refreshUnread(): Promise<void> {
    this.unreadRefresh ??= this.chat
      .unread()
      .then((u) => this.setUnread(u))
      .catch((err: unknown) => {
        if (err instanceof UTDStreamException) this.reportError(err);
      })
      .finally(() => {
        this.unreadRefresh = undefined;
      });
    return this.unreadRefresh;
  }

  private resync(): void {
    void this.refreshUnread();
    for (const r of this.refs.values()) r.resync();
    for (const l of this.lists) void l.reload();
  }

  private onEvent(ev: WsEvent): void {
    switch (ev.type) {
      case CHAT_EVENTS.messageNew: {
        const m = messageFromWire(ev.data);
        this.refs.get(m.conversationId)?.onNew(m);
        if (m.threadId !== null) {
          // Thread replies count in their thread (`threads()`), not in the conversation list or its unread count.
          this.threadEvents.emit("reply", m);
          return;
        }
        for (const l of this.lists) l.onMessage(m);
        const u = this.unreadStore.value;
        const cur = u.conversations[m.conversationId] ?? 0;
        if (m.sender === this.userId) {
          // Sending implies having read the conversation (the engine moves the read position too).
          const { [m.conversationId]: _gone, ...rest } = u.conversations;
          this.setUnread({ total: u.total - cur, conversations: rest });
        } else if (m.type === "text") {
          this.setUnread({ total: u.total + 1, conversations: { ...u.conversations, [m.conversationId]: cur + 1 } });
        }
        return;
      }
      case CHAT_EVENTS.messageUpdated:
      case CHAT_EVENTS.messageDeleted: {
        const m = messageFromWire(ev.data);
        this.refs.get(m.conversationId)?.onChanged(m);
        for (const l of this.lists) l.onChanged(m);
        if (m.deleted) void this.refreshUnread();
        return;
      }
      case CHAT_EVENTS.threadUpdated: {
        const u = threadUpdateFromWire(ev.data);
        this.refs.get(u.conversationId)?.onThread(u);
        this.threadEvents.emit("thread", u);
        return;
      }
      case CHAT_EVENTS.reactionAdded:
      case CHAT_EVENTS.reactionRemoved: {
        const r = ev.data;
        this.refs.get(r.conversation_id)?.onReactions(r.message_id, r.reactions);
        return;
      }
      case CHAT_EVENTS.receiptRead: {
        const r = ev.data;
        if (r.identity !== this.userId) {
          this.refs.get(r.conversation_id)?.onReceipt(r.identity, r.last_read_seq);
          return;
        }
        if (r.unread_count === undefined || r.total_unread === undefined) return;
        const conversations = { ...this.unreadStore.value.conversations };
        if (r.unread_count > 0) conversations[r.conversation_id] = r.unread_count;
        else delete conversations[r.conversation_id];
        this.setUnread({ total: r.total_unread, conversations });
        for (const l of this.lists) l.onRead(r.conversation_id, r.last_read_seq, r.unread_count);
        this.refs.get(r.conversation_id)?.onRead(r.last_read_seq, r.unread_count);
        return;
      }
      case "typing.started":
      case "typing.stopped": {
        const t = ev.data;
        if (t.conversation_id) this.refs.get(t.conversation_id)?.onTyping(t.identity, ev.type === "typing.started");
        return;
      }
      case CHAT_EVENTS.conversationUpdated:
      case CHAT_EVENTS.memberAdded:
      case CHAT_EVENTS.memberRemoved:
      case CHAT_EVENTS.memberUpdated:
        this.refs.get(ev.data.conversation_id)?.onConversationChanged();
        for (const l of this.lists) void l.reload();
        return;
    }
  }
}

/** The state behind one `subscribeConversations` call. */
class ConversationList implements ConversationListSubscription {
  readonly store = new Store<readonly UTDConversation[]>([]);
  private closed = false;
  private loading: Promise<void> | undefined;
  /** A reload was asked for while one was on its way: that read may predate the change, so one more follows it. */
  private stale = false;

  constructor(
    private readonly session: ChatSession,
    private limit: number,
    private readonly onClose: (l: ConversationList) => void,
  ) {}

  async loadMore(count = 30): Promise<boolean> {
    const before = this.store.value.length;
    if (before < this.limit || this.limit >= 200) return false;
    this.limit = Math.min(200, this.limit + count);
    // A reload already in flight asked for the old count: wait for it, then load the longer list.
    await this.loading;
    await this.reload();
    return this.store.value.length > before;
  }

  get conversations(): ReadableStore<readonly UTDConversation[]> {
    return this.store;
  }

  reload(): Promise<void> {
    // Offline-first: the cached list shows at once, before (or without) the network.
    if (this.store.value.length === 0 && this.session.cache) {
      void this.session.cache.conversations().then((cached) => {
        if (!this.closed && this.store.value.length === 0 && cached.length > 0) this.store.set(cached);
      });
    }
    if (this.loading) {
      // E.g. a message of a conversation created after the first read went out: joining that read would keep a
      // list without it until the next event.
      this.stale = true;
      return this.loading;
    }
    this.loading = this.session.chat
      .listConversations(this.limit)
      .then((list) => {
        if (!this.closed) this.store.set(list);
        void this.session.cache?.saveConversations(list);
      })
      .catch((err: unknown) => {
        if (err instanceof UTDStreamException) this.session.reportError(err);
      })
      .finally(() => {
        this.loading = undefined;
      })
      .then(() => {
        if (!this.stale || this.closed) return;
        this.stale = false;
        return this.reload();
      });
    return this.loading;
  }

  onMessage(m: UTDMessage): void {
    const list = this.store.value;
    const c = list.find((x) => x.id === m.conversationId);
    if (!c) {
      void this.reload();
      return;
    }
    // Already counted: a list read that answered after the message was stored holds it (as the
    // conversation's own store, a message at or below the known last seq changes nothing).
    if (m.seq !== null && m.seq <= c.lastSeq) return;
    const mine = m.sender === this.session.userId;
    const updated: UTDConversation = {
      ...c,
      lastMessage: m,
      lastActiveAt: m.createdAt,
      lastSeq: Math.max(c.lastSeq, m.seq ?? 0),
      lastReadSeq: mine ? Math.max(c.lastReadSeq, m.seq ?? 0) : c.lastReadSeq,
      unreadCount: mine ? 0 : c.unreadCount + (m.type === "text" ? 1 : 0),
      mentionCount: mine ? 0 : c.mentionCount + (m.mentions.includes(this.session.userId) ? 1 : 0),
    };
    this.store.set([updated, ...list.filter((x) => x.id !== c.id)]);
  }

  onChanged(m: UTDMessage): void {
    const list = this.store.value;
    if (!list.some((c) => c.lastMessage?.id === m.id)) return;
    this.store.set(list.map((c) => (c.lastMessage?.id === m.id ? { ...c, lastMessage: m } : c)));
  }

  onRead(conversationId: string, lastReadSeq: number, unread: number): void {
    const list = this.store.value;
    if (!list.some((c) => c.id === conversationId)) return;
    this.store.set(
      list.map((c) =>
        c.id === conversationId ? { ...c, lastReadSeq, unreadCount: unread, mentionCount: unread === 0 ? 0 : c.mentionCount } : c,
      ),
    );
  }

  unsubscribe(): void {
    this.closed = true;
    this.onClose(this);
  }
}
