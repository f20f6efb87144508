import { UTDStreamException } from "@utd-stream/protocol";
import { type ReadableStore, Store } from "../store.js";
import type {
  UTDConversation,
  UTDCustom,
  UTDHistoryPage,
  UTDHistoryQuery,
  UTDMember,
  UTDMessage,
  UTDSendParams,
  UTDThreadUpdate,
} from "../wire/chat.js";
import type { ChatApi } from "./api.js";
import { activeMention, type MentionQuery, suggestMentions } from "./mentions.js";
import type { OfflineCache } from "./offline.js";

/** What a conversation reference needs from its session. */
export interface RefHost {
  readonly me: string;
  readonly chat: ChatApi;
  unreadCount(conversationId: string): ReadableStore<number>;
  /** Resolves when it is worth retrying a failed send (after a backoff and, when offline, once reconnected). */
  waitToRetry(attempt: number): Promise<void>;
  reportError(err: UTDStreamException): void;
  /** Sends a WebSocket request (typing). */
  request(verb: string, body: Record<string, unknown>): Promise<unknown>;
  /** The offline cache, when the session keeps one. */
  readonly cache?: OfflineCache | undefined;
  readonly disposed: boolean;
}

/** A live window on a conversation's messages, oldest first; `loadMore` pages back. */
export interface MessageSubscription {
  /** The messages in the window (optimistic ones last, with `pending: true`). */
  readonly messages: ReadableStore<readonly UTDMessage[]>;
  /** Whether the window reaches the first message still kept. */
  readonly loadedAll: boolean;
  /** Loads up to `count` older messages into the window; resolves false when there are none. */
  loadMore(count?: number): Promise<boolean>;
  unsubscribe(): void;
}

/** The sender's optimistic copy of a message not stored yet (`pending: true`, no seq). */
function optimisticMessage(conversationId: string, me: string, p: UTDSendParams, clientMsgId: string, at: Date): UTDMessage {
  return {
    id: `local:${clientMsgId}`,
    conversationId,
    seq: null,
    type: "text",
    sender: me,
    text: p.text ?? null,
    custom: p.custom ?? null,
    attachments: [],
    replyTo: p.replyTo ?? null,
    threadId: p.threadId ?? null,
    thread: null,
    mentions: [],
    clientMsgId,
    reactions: {},
    createdAt: at,
    editedAt: null,
    deleted: false,
    deletedAt: null,
    pending: true,
  };
}

function newClientId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/** The state behind one `subscribeMessages` call. */
class MessageWindow implements MessageSubscription {
  readonly store = new Store<readonly UTDMessage[]>([]);
  loadedAll = false;
  private confirmed: UTDMessage[] = [];
  private pending: UTDMessage[] = [];
  private catchingUp: Promise<void> | undefined;
  closed = false;

  constructor(
    private readonly ref: ConversationRef,
    private readonly onClose: (w: MessageWindow) => void,
  ) {}

  get messages(): ReadableStore<readonly UTDMessage[]> {
    return this.store;
  }

  private publish(): void {
    this.store.set([...this.confirmed, ...this.pending]);
    void this.ref.host.cache?.saveMessages(this.ref.id, this.confirmed);
  }

  /** The highest seq seen in sequence, counting thread replies (which the main timeline skips). */
  private skippedTo = 0;

  private lastSeq(): number {
    return Math.max(this.confirmed.at(-1)?.seq ?? 0, this.skippedTo);
  }

  async load(limit: number): Promise<void> {
    const cache = this.ref.host.cache;
    if (cache) {
      // Offline-first: the cached messages and the unsent ones show at once.
      const [cached, outbox] = await Promise.all([cache.messages(this.ref.id), cache.outbox()]);
      if (this.confirmed.length === 0) this.confirmed = cached;
      for (const e of outbox) {
        if (e.conversationId !== this.ref.id || this.pending.some((p) => p.clientMsgId === e.clientMsgId)) continue;
        this.pending.push(optimisticMessage(this.ref.id, this.ref.host.me, e.params, e.clientMsgId, new Date(e.createdAt)));
      }
      if (cached.length > 0 || this.pending.length > 0) this.store.set([...this.confirmed, ...this.pending]);
    }
    const page = await this.ref.host.chat.history(this.ref.id, { limit });
    // Keep live messages that arrived while the page was loading and are newer than it.
    const last = page.messages.at(-1)?.seq ?? 0;
    this.confirmed = [...page.messages, ...this.confirmed.filter((m) => (m.seq ?? 0) > last)];
    this.loadedAll = !page.hasMore;
    this.publish();
  }

  async loadMore(count = 30): Promise<boolean> {
    const first = this.confirmed[0]?.seq;
    if (this.loadedAll || first === undefined || first === null) return false;
    const page = await this.ref.host.chat.history(this.ref.id, { before: first, limit: count });
    const known = new Set(this.confirmed.map((m) => m.id));
    this.confirmed = [...page.messages.filter((m) => !known.has(m.id)), ...this.confirmed];
    this.loadedAll = !page.hasMore;
    this.publish();
    return page.messages.length > 0;
  }

  /** A new message from the stream: appended in order; a gap in seq is filled from history first. */
  onNew(m: UTDMessage): void {
    if (this.confirmed.some((x) => x.id === m.id)) return;
    if (m.threadId !== null) {
      // A thread reply: not in the main timeline, but its seq is no gap in it.
      if (m.seq !== null && m.seq === this.lastSeq() + 1) this.skippedTo = m.seq;
      this.pending = this.pending.filter((p) => !(p.clientMsgId === m.clientMsgId && m.sender === this.ref.host.me));
      this.publish();
      return;
    }
    if (m.seq !== null && m.seq > this.lastSeq() + 1 && this.confirmed.length > 0) {
      void this.catchUp();
      return;
    }
    // Events from several engine nodes may arrive slightly out of seq order: keep the window sorted.
    const at = this.confirmed.findIndex((x) => (x.seq ?? 0) > (m.seq ?? 0));
    if (at < 0) this.confirmed.push(m);
    else this.confirmed.splice(at, 0, m);
    this.pending = this.pending.filter((p) => !(p.clientMsgId === m.clientMsgId && m.sender === this.ref.host.me));
    this.publish();
  }

  onChanged(m: UTDMessage): void {
    const i = this.confirmed.findIndex((x) => x.id === m.id);
    if (i < 0) return;
    this.confirmed[i] = m;
    this.publish();
  }

  onReactions(messageId: string, reactions: Record<string, string[]>): void {
    const i = this.confirmed.findIndex((x) => x.id === messageId);
    const cur = this.confirmed[i];
    if (!cur) return;
    this.confirmed[i] = { ...cur, reactions };
    this.publish();
  }

  /** A thread's summary changed: the parent in the window shows it. */
  onThread(u: UTDThreadUpdate): void {
    const i = this.confirmed.findIndex((x) => x.id === u.threadId);
    const cur = this.confirmed[i];
    if (!cur) return;
    const { conversationId: _c, threadId: _t, ...summary } = u;
    this.confirmed[i] = { ...cur, thread: summary };
    this.publish();
  }

  /** Fetches everything after the last seq in the window (after a gap or a resync). */
  catchUp(): Promise<void> {
    this.catchingUp ??= (async () => {
      try {
        for (;;) {
          const page = await this.ref.host.chat.history(this.ref.id, { after: this.lastSeq(), limit: 100 });
          const known = new Set(this.confirmed.map((m) => m.id));
          for (const m of page.messages) if (!known.has(m.id)) this.confirmed.push(m);
          this.confirmed.sort((x, y) => (x.seq ?? 0) - (y.seq ?? 0));
          const mine = new Set(page.messages.filter((m) => m.sender === this.ref.host.me).map((m) => m.clientMsgId));
          this.pending = this.pending.filter((p) => !mine.has(p.clientMsgId));
          this.publish();
          if (!page.hasMore) break;
        }
      } catch (err) {
        if (err instanceof UTDStreamException) this.ref.host.reportError(err);
      } finally {
        this.catchingUp = undefined;
      }
    })();
    return this.catchingUp;
  }

  addPending(m: UTDMessage): void {
    if (m.threadId !== null) return;
    // A retry of a failed send (same client id) replaces the failed copy instead of showing twice.
    this.pending = [...this.pending.filter((p) => p.clientMsgId !== m.clientMsgId), m];
    this.publish();
  }

  settlePending(clientMsgId: string, stored: UTDMessage | undefined): void {
    if (stored) {
      this.pending = this.pending.filter((p) => p.clientMsgId !== clientMsgId);
      if (stored.threadId === null && !this.confirmed.some((x) => x.id === stored.id)) {
        if (stored.seq !== null && stored.seq === this.lastSeq() + 1) this.confirmed.push(stored);
        else void this.catchUp();
      }
    } else {
      this.pending = this.pending.map((p) => (p.clientMsgId === clientMsgId ? { ...p, pending: false, failed: true } : p));
    }
    this.publish();
  }

  unsubscribe(): void {
    this.closed = true;
    this.onClose(this);
  }
}

/** A live view of one conversation (from `ConversationRef.subscribe`). */
export interface ConversationSubscription {
  /** The conversation as last loaded (null until the first load). */
  readonly conversation: ReadableStore<UTDConversation | null>;
  unsubscribe(): void;
}

/** The state behind one `ConversationRef.subscribe` call. */
class ConversationWatch implements ConversationSubscription {
  readonly store = new Store<UTDConversation | null>(null);
  closed = false;
  private loading: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly ref: ConversationRef,
    private readonly onClose: (w: ConversationWatch) => void,
  ) {}

  get conversation(): ReadableStore<UTDConversation | null> {
    return this.store;
  }

  /** Re-reads the conversation; a change announced during a read triggers one more read after it. */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        do {
          this.again = false;
          const c = await this.ref.get();
          if (!this.closed) this.store.set(c);
        } while (this.again && !this.closed);
      } catch (err) {
        if (err instanceof UTDStreamException) this.ref.host.reportError(err);
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** A new message: patched in locally (no request per message in a busy room). */
  onMessage(m: UTDMessage, me: string): void {
    const c = this.store.value;
    if (!c || (m.seq !== null && m.seq <= c.lastSeq)) return;
    const mine = m.sender === me;
    if (m.threadId !== null) {
      this.store.set({ ...c, lastSeq: Math.max(c.lastSeq, m.seq ?? 0) });
      return;
    }
    this.store.set({
      ...c,
      lastMessage: m,
      lastActiveAt: m.createdAt,
      lastSeq: Math.max(c.lastSeq, m.seq ?? 0),
      lastReadSeq: mine ? Math.max(c.lastReadSeq, m.seq ?? 0) : c.lastReadSeq,
      unreadCount: mine ? 0 : c.unreadCount + (m.type === "text" ? 1 : 0),
      mentionCount: mine ? 0 : c.mentionCount + (m.mentions.includes(me) ? 1 : 0),
    });
  }

  /** This user read up to `lastReadSeq` (on any device). */
  onRead(lastReadSeq: number, unread: number): void {
    const c = this.store.value;
    if (c) this.store.set({ ...c, lastReadSeq, unreadCount: unread });
  }

  unsubscribe(): void {
    this.closed = true;
    this.onClose(this);
  }
}

/**
 * A reference to one conversation (TalkJS `ConversationRef`): send, edit, delete, react, mark read,
 * and live message windows. Cheap to create; the session hands out one per id.
 */
export class ConversationRef {
  private readonly windows = new Set<MessageWindow>();
  private readonly watches = new Set<ConversationWatch>();
  private highestSeen = 0;
  private memberCache: Promise<UTDMember[]> | undefined;
  private readonly typingStore = new Store<readonly string[]>([]);
  private readonly receiptStore = new Store<Readonly<Record<string, number>>>({});

  constructor(
    readonly id: string,
    readonly host: RefHost,
  ) {}

  /** The conversation as the current user sees it. */
  get(): Promise<UTDConversation> {
    return this.host.chat.getConversation(this.id);
  }

  /** Its members, with roles and (when shared) read positions. */
  members(): Promise<UTDMember[]> {
    return this.host.chat.members(this.id);
  }

  /**
   * Subscribes to the conversation itself (name, custom data, member count, closed, last message, unread):
   * `onSnapshot` gets it once loaded and again whenever it changes (renamed, members added or removed,
   * closed or reopened, a message, a read on another device).
   */
  subscribe(onSnapshot: (conversation: UTDConversation) => void): ConversationSubscription {
    const sub = new ConversationWatch(this, (w) => this.watches.delete(w));
    this.watches.add(sub);
    sub.store.onChange((c) => {
      if (c && !sub.closed) onSnapshot(c);
    });
    void sub.reload();
    return sub;
  }

  /** Renames the conversation (owner or admin); `null` clears the name. */
  rename(name: string | null): Promise<UTDConversation> {
    return this.update({ name });
  }

  /** Changes the name and/or custom data (owner or admin); `null` clears a field. */
  update(change: { name?: string | null; custom?: UTDCustom | null }): Promise<UTDConversation> {
    return this.host.chat.update(this.id, change);
  }

  /** Adds members to a group (owner or admin; the plan's `max_group_members` applies); resolves to every member. */
  addMembers(identities: readonly string[]): Promise<UTDMember[]> {
    return this.host.chat.addMembers(this.id, identities);
  }

  /** Removes a member (owner: anyone; admin: members); removing yourself leaves. */
  removeMember(identity: string): Promise<void> {
    return this.host.chat.removeMember(this.id, identity);
  }

  /** Makes a member an admin or a plain member again (owner only). */
  setRole(identity: string, role: "admin" | "member"): Promise<UTDMember[]> {
    return this.host.chat.setRole(this.id, identity, role);
  }

  /** Closes a group or chatroom: no more messages, history stays (owner). A closed chatroom frees its `max_chatrooms` slot. */
  close(): Promise<UTDConversation> {
    return this.host.chat.setClosed(this.id, true);
  }

  /** Reopens a closed group or chatroom (owner; `max_chatrooms` applies). */
  reopen(): Promise<UTDConversation> {
    return this.host.chat.setClosed(this.id, false);
  }

  /** This conversation's unread count, kept current from the live stream. */
  get unread(): ReadableStore<number> {
    return this.host.unreadCount(this.id);
  }

  join(): Promise<UTDConversation> {
    return this.host.chat.join(this.id);
  }

  leave(): Promise<void> {
    return this.host.chat.leave(this.id);
  }

  /**
   * Sends a message. It shows at once in this conversation's message windows as `pending`; the send is
   * retried with the same client id after network failures and reconnects, so it is stored exactly once.
   * Resolves with the stored message; rejects (and marks the optimistic copy `failed`) on a refusal.
   */
  async send(content: string | UTDSendParams): Promise<UTDMessage> {
    const p: UTDSendParams = typeof content === "string" ? { text: content } : content;
    const clientMsgId = p.clientMsgId ?? newClientId();
    const optimistic = optimisticMessage(this.id, this.host.me, p, clientMsgId, new Date());
    for (const w of this.windows) w.addPending(optimistic);
    const cache = this.host.cache;
    if (!cache) return this.deliver(p, clientMsgId);
    // Offline-first: the send is persisted before it leaves, and sends go out one after another, in order.
    const { clientMsgId: _c, ...params } = p;
    await cache.addToOutbox({ conversationId: this.id, clientMsgId, params, createdAt: optimistic.createdAt.toISOString() });
    const run = this.sendChain.then(
      () => this.deliver(p, clientMsgId),
      () => this.deliver(p, clientMsgId),
    );
    this.sendChain = run.catch(() => {});
    try {
      const stored = await run;
      await cache.removeFromOutbox(clientMsgId);
      return stored;
    } catch (err) {
      // Refused for good: it leaves the outbox. A session disposed while offline keeps it for the next run.
      if (!this.host.disposed) await cache.removeFromOutbox(clientMsgId);
      throw err;
    }
  }

  private sendChain: Promise<unknown> = Promise.resolve();

  private async deliver(p: UTDSendParams, clientMsgId: string): Promise<UTDMessage> {
    for (let attempt = 0; ; attempt++) {
      try {
        const stored = await this.host.chat.send(this.id, p, clientMsgId);
        for (const w of this.windows) w.settlePending(clientMsgId, stored);
        return stored;
      } catch (err) {
        const e = err instanceof UTDStreamException ? err : UTDStreamException.network(String(err));
        if (e.retryable && !this.host.disposed) {
          await this.host.waitToRetry(attempt);
          continue;
        }
        for (const w of this.windows) w.settlePending(clientMsgId, undefined);
        this.host.reportError(e);
        throw e;
      }
    }
  }

  /** Who else is typing in this conversation right now (identities; updated live, entries lapse by themselves). */
  get typing(): ReadableStore<readonly string[]> {
    return this.typingStore;
  }

  /**
   * The other members' read positions (identity → last read seq), for "seen" marks: filled by
   * {@link loadReceipts} and kept current by `receipt.read` events (members who share read receipts).
   */
  get receipts(): ReadableStore<Readonly<Record<string, number>>> {
    return this.receiptStore;
  }

  /** Reads the members' read positions into {@link receipts} (members who hide theirs are left out). */
  async loadReceipts(): Promise<void> {
    const next: Record<string, number> = { ...this.receiptStore.value };
    for (const m of await this.members()) {
      if (m.identity !== this.host.me && m.lastReadSeq !== null) next[m.identity] = Math.max(next[m.identity] ?? 0, m.lastReadSeq);
    }
    this.receiptStore.set(next);
  }

  /** Tells the other members you are typing (renew every few seconds while typing; it lapses otherwise). */
  async startTyping(): Promise<void> {
    await this.host.request("typing.start", { conversation_id: this.id });
  }

  async stopTyping(): Promise<void> {
    await this.host.request("typing.stop", { conversation_id: this.id });
  }

  /** Edits your message's text and/or custom data. */
  edit(messageId: string, change: { text?: string | null; custom?: UTDCustom | null }): Promise<UTDMessage> {
    return this.host.chat.edit(this.id, messageId, change);
  }

  /** Deletes a message (others see a tombstone). */
  delete(messageId: string): Promise<UTDMessage> {
    return this.host.chat.delete(this.id, messageId);
  }

  /** Adds (`on`, default) or removes your reaction. */
  react(messageId: string, reaction: string, on = true): Promise<UTDMessage> {
    return this.host.chat.react(this.id, messageId, reaction, on);
  }

  /** Marks read up to `seq` (default: the newest message this client has seen, or the conversation's last). */
  async markRead(seq?: number): Promise<{ lastReadSeq: number; unreadCount: number; totalUnread: number }> {
    const upTo = seq ?? (this.highestSeen || (await this.get()).lastSeq);
    return this.host.chat.markRead(this.id, upTo);
  }

  /**
   * Subscribes to a live window of the newest `limit` messages; `onSnapshot` gets the whole window on
   * every change. Page back with `loadMore()`.
   */
  subscribeMessages(
    onSnapshot: (messages: readonly UTDMessage[], loadedAll: boolean) => void,
    opts: { limit?: number } = {},
  ): MessageSubscription {
    const w = new MessageWindow(this, (x) => this.windows.delete(x));
    this.windows.add(w);
    w.store.onChange((msgs) => {
      if (!w.closed) onSnapshot(msgs, w.loadedAll);
    });
    w.load(opts.limit ?? 30).catch((err: unknown) => {
      if (err instanceof UTDStreamException) this.host.reportError(err);
    });
    return w;
  }

  // --- fed by the session from the event stream ---

  /** @internal */
  onNew(m: UTDMessage): void {
    if (m.seq !== null && m.seq > this.highestSeen) this.highestSeen = m.seq;
    for (const w of this.windows) w.onNew(m);
    for (const w of this.watches) w.onMessage(m, this.host.me);
  }

  /** @internal Another member's read position moved. */
  onReceipt(identity: string, lastReadSeq: number): void {
    const cur = this.receiptStore.value;
    if ((cur[identity] ?? -1) >= lastReadSeq) return;
    this.receiptStore.set({ ...cur, [identity]: lastReadSeq });
  }

  /** @internal A thread of this conversation changed (`thread.updated`). */
  onThread(u: UTDThreadUpdate): void {
    for (const w of this.windows) w.onThread(u);
  }

  /**
   * Members to suggest for the mention being typed at `caret` in `text` (empty when the caret is not in
   * an `@mention`). The member list is fetched once per reference and then reused.
   */
  async mentionSuggestions(text: string, caret = text.length, limit = 8): Promise<{ query: MentionQuery | null; members: UTDMember[] }> {
    const query = activeMention(text, caret);
    if (!query) return { query, members: [] };
    this.memberCache ??= this.members().catch((err: unknown) => {
      this.memberCache = undefined;
      throw err;
    });
    const all = await this.memberCache;
    const hits = suggestMentions(all, query.query, { limit, exclude: [this.host.me] });
    return { query, members: hits.map((h) => all.find((m) => m.identity === h.identity) as UTDMember) };
  }

  /** A page of a thread's replies, oldest first (newest page when neither `before` nor `after` is given). */
  threadHistory(parentId: string, q: UTDHistoryQuery = {}): Promise<UTDHistoryPage> {
    return this.host.chat.threadHistory(this.id, parentId, q);
  }

  /** Replies in the thread of `parentId` (a main-timeline message of this conversation). */
  reply(parentId: string, content: string | UTDSendParams): Promise<UTDMessage> {
    const p = typeof content === "string" ? { text: content } : content;
    return this.send({ ...p, threadId: parentId });
  }

  /** Marks a thread read up to `seq`. */
  markThreadRead(parentId: string, seq: number): Promise<{ lastReadSeq: number; unreadCount: number }> {
    return this.host.chat.markThreadRead(this.id, parentId, seq);
  }

  /** @internal This user's read position moved (on any device). */
  onRead(lastReadSeq: number, unread: number): void {
    for (const w of this.watches) w.onRead(lastReadSeq, unread);
  }

  /** @internal */
  onChanged(m: UTDMessage): void {
    for (const w of this.windows) w.onChanged(m);
  }

  /** @internal */
  onReactions(messageId: string, reactions: Record<string, string[]>): void {
    for (const w of this.windows) w.onReactions(messageId, reactions);
  }

  /** @internal */
  onTyping(identity: string, typing: boolean): void {
    const cur = this.typingStore.value;
    if (typing && !cur.includes(identity)) this.typingStore.set([...cur, identity]);
    if (!typing && cur.includes(identity)) this.typingStore.set(cur.filter((i) => i !== identity));
  }

  /** @internal The conversation changed (an event named it): live subscriptions re-read it. */
  onConversationChanged(): void {
    this.memberCache = undefined;
    for (const w of this.watches) void w.reload();
  }

  /** @internal Re-reads what may have been missed (after `resync`). */
  resync(): void {
    for (const w of this.windows) void w.catchUp();
    this.onConversationChanged();
  }
}
