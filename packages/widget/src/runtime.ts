import type { SupportEvent, UploadKind } from "@utd-stream/protocol";
import {
  ChatApi,
  CLOSE_CODES,
  type FetchLike,
  messageFromWire,
  type ReadableStore,
  Store,
  SupportApi,
  sessionCredentials,
  supportConversationFromWire,
  TokenSource,
  UTDApi,
  type UTDCredentials,
  type UTDSendParams,
  UTDSignalClient,
  UTDStreamException,
  type WebSocketConstructor,
} from "@utd-stream/signaling";
import { MessageDeduper, OnceSet } from "./dedup.js";
import type { UTDEventBus } from "./events.js";
import { type KeyValueStorage, type PersistedSession, SessionStore } from "./session-store.js";
import { jwtSubject, type LiveChatConversation, type LiveChatMessage, stored } from "./wire.js";

/** Where the engine is and which app the visitor belongs to. */
export interface LiveChatConfig {
  /** The engine's base URL (default: the page's origin). */
  baseUrl?: string;
  appId: string;
  /** The publishable app key. */
  appKey: string;
  /** Your widget's id; stored on the conversations it starts (`custom.widget_id`). */
  widgetId?: string;
}

export interface LiveChatRuntimeOptions {
  bus: UTDEventBus;
  storage?: KeyValueStorage;
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
  /** Reconnect backoff (defaults: 300 ms → 10 s). */
  backoff?: { initialMs?: number; maxMs?: number };
}

/**
 * `signed_out`: no session (log in with `userLogin`); `offline`: reconnecting; `unavailable`: the engine
 * refused this visitor or app for good (banned, or chat switched off) — no reconnects until a new login.
 */
export type LiveChatConnection = "signed_out" | "idle" | "connecting" | "online" | "offline" | "unavailable";

/** A message being sent from this page (shown before the engine stored it). */
export interface PendingMessage {
  clientMsgId: string;
  text: string | null;
  replyTo: string | null;
  files: string[];
  failed: boolean;
}

/** A send in progress or waiting for a retry (files are uploaded once; the client id never changes). */
interface SendJob {
  clientMsgId: string;
  text: string | null;
  replyTo: string | null;
  files: File[];
  tokens?: string[];
  sending: boolean;
}

function isAuthError(err: unknown): boolean {
  return err instanceof UTDStreamException && (err.code === "unauthorized" || err.statusCode === 401);
}

function newClientId(): string {
  const c = globalThis.crypto as Crypto | undefined;
  if (c?.randomUUID) return c.randomUUID();
  return `m${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * The live-chat engine of a page: the visitor's session (persisted), one WebSocket shared by the widget
 * and the background listener, the support conversation, and the app-wide events. Runs while the
 * background listener is on or a widget is mounted, and a session exists.
 *
 * Every message from the socket, from the REST catch-up after each (re)connect, and from the widget's
 * history load goes through one exact de-duplication (by message id, plus a persisted seq watermark),
 * so the host hears each operator message once — with the widget open, closed, or across a reload.
 */
export class LiveChatRuntime {
  private readonly sessions: SessionStore;
  private config: LiveChatConfig | null = null;
  private background = false;
  private widgets = 0;
  private client: UTDSignalClient | undefined;
  private support: SupportApi | undefined;
  private chatApi: ChatApi | undefined;
  private offs: (() => void)[] = [];
  private readonly once = new OnceSet();
  private deduper: { conversationId: string; d: MessageDeduper } | undefined;
  private authFailedFired = false;
  private lastTyping = 0;
  private readonly jobs = new Map<string, SendJob>();

  private readonly connectionStore = new Store<LiveChatConnection>("signed_out");
  private readonly conversationStore = new Store<LiveChatConversation | null>(null);
  private readonly messagesStore = new Store<readonly LiveChatMessage[]>([]);
  private readonly pendingStore = new Store<readonly PendingMessage[]>([]);
  private readonly typingStore = new Store<boolean>(false);
  private readonly peerReadStore = new Store<number>(0);

  constructor(private readonly opts: LiveChatRuntimeOptions) {
    this.sessions = new SessionStore(opts.storage);
    if (this.sessions.load()) this.connectionStore.set("idle");
  }

  /** Connection state (`value` + `subscribe`). */
  get connection(): ReadableStore<LiveChatConnection> {
    return this.connectionStore;
  }
  /** The visitor's current support conversation (state, assignee), or null before the first message. */
  get conversation(): ReadableStore<LiveChatConversation | null> {
    return this.conversationStore;
  }
  /** The conversation's messages, by seq. */
  get messages(): ReadableStore<readonly LiveChatMessage[]> {
    return this.messagesStore;
  }
  /** Messages this page is still sending. */
  get pending(): ReadableStore<readonly PendingMessage[]> {
    return this.pendingStore;
  }
  /** Whether the operator is typing. */
  get operatorTyping(): ReadableStore<boolean> {
    return this.typingStore;
  }
  /** Up to which seq the operator has read. */
  get operatorReadSeq(): ReadableStore<number> {
    return this.peerReadStore;
  }
  /** The signed-in visitor, or null. */
  get identity(): string | null {
    return this.sessions.load()?.identity ?? null;
  }

  /** Sets where the engine is and which app (the widget's attributes, or your code). */
  configure(config: LiveChatConfig): void {
    this.config = { ...config };
    const s = this.sessions.load();
    // A session of another app (or engine) is not this visitor's: drop it.
    if (s && (s.appId !== config.appId || (config.baseUrl !== undefined && s.baseUrl !== trimSlash(config.baseUrl)))) void this.logout();
  }

  /**
   * Signs the visitor in with a JWT your backend signed with the app secret (`sub` = the visitor's
   * identity): mints a session, persists it, and (re)connects when something is listening.
   */
  async login(jwt: string, config?: LiveChatConfig): Promise<void> {
    if (config) this.configure(config);
    const prev = this.sessions.load();
    const cfg = this.config ?? (prev ? { baseUrl: prev.baseUrl, appId: prev.appId, appKey: prev.appKey } : null);
    if (!cfg) throw new Error("userLogin: call configure({ appId, appKey }) or mount <utd-chat-widget> first");
    const identity = jwtSubject(jwt);
    if (!identity) throw new Error("userLogin: the JWT has no `sub` (the visitor's identity)");
    const baseUrl = trimSlash(cfg.baseUrl ?? defaultBaseUrl());
    const same = prev && prev.identity === identity && prev.appId === cfg.appId && prev.baseUrl === baseUrl;
    const deviceId = same ? prev.deviceId : `web-${newClientId()}`;
    let s: Awaited<ReturnType<UTDApi["mintSession"]>>;
    try {
      s = await this.makeApi(baseUrl).mintSession({ appId: cfg.appId, appKey: cfg.appKey, identity, identityToken: jwt, deviceId });
    } catch (err) {
      // A banned visitor gets the "unavailable" screen, not an endless sign-in prompt.
      if (err instanceof UTDStreamException && err.isBanned) this.connectionStore.set("unavailable");
      throw err;
    }
    if (!same) this.resetConversation();
    this.sessions.save({
      v: 1,
      baseUrl,
      wsUrl: s.wsUrl,
      appId: cfg.appId,
      appKey: cfg.appKey,
      widgetId: cfg.widgetId ?? prev?.widgetId ?? null,
      identity,
      identityToken: jwt,
      userToken: s.userToken,
      userTokenExpiresAt: s.expiresAt.getTime(),
      deviceId,
      conversationId: same ? prev.conversationId : null,
      lastSeq: same ? prev.lastSeq : 0,
    });
    this.authFailedFired = false;
    this.teardown();
    this.connectionStore.set("idle");
    this.ensureRunning();
  }

  /** Signs out: drops the persisted session and disconnects (the host stays subscribed to `UTDEvents`). */
  async logout(): Promise<void> {
    this.sessions.clear();
    this.teardown();
    this.resetConversation();
    this.connectionStore.set("signed_out");
  }

  /**
   * Another tab changed the stored session: a logout there (or an auth failure) signs this page out
   * too; a login there is picked up on the next (re)connect.
   */
  storageChanged(): void {
    this.sessions.invalidate();
    if (this.sessions.load()) return;
    this.teardown();
    this.resetConversation();
    this.connectionStore.set("signed_out");
  }

  /** The browser is back online: reconnect at once (no backoff wait) and send what failed. */
  networkOnline(): void {
    this.client?.reconnect();
    if (this.jobs.size > 0) void this.retryFailed();
  }

  /** Keeps events flowing with no widget on screen; resumes from the persisted session. False when there is none (yet). */
  startBackground(): boolean {
    this.background = true;
    this.sessions.invalidate();
    this.ensureRunning();
    return this.sessions.load() !== null;
  }

  stopBackground(): void {
    this.background = false;
    this.maybeStop();
  }

  /** A widget mounted (the connection runs while at least one is). */
  retain(): void {
    this.widgets++;
    this.ensureRunning();
  }

  release(): void {
    this.widgets = Math.max(0, this.widgets - 1);
    this.maybeStop();
  }

  // ---------- connection ----------

  private makeApi(baseUrl: string, tokens?: TokenSource): UTDApi {
    const o: ConstructorParameters<typeof UTDApi>[0] = { baseUrl };
    if (this.opts.fetch) o.fetch = this.opts.fetch;
    if (tokens) o.tokens = tokens;
    return new UTDApi(o);
  }

  /**
   * The visitor's token source: the persisted user token while it lasts, then a new session minted with
   * the stored JWT (persisted again). A refusal means the visitor must log in again.
   */
  private tokenSource(s: PersistedSession): TokenSource {
    const mint = sessionCredentials(this.makeApi(s.baseUrl), {
      appId: s.appId,
      appKey: s.appKey,
      identity: s.identity,
      deviceId: s.deviceId,
      identityToken: async () => {
        const jwt = this.sessions.load()?.identityToken;
        if (!jwt) throw new UTDStreamException(401, "unauthorized", "no stored identity token");
        return jwt;
      },
    });
    const fetch = async (): Promise<UTDCredentials> => {
      if (!this.sessions.load()) throw new UTDStreamException(401, "unauthorized", "signed out");
      try {
        const c = await mint();
        this.sessions.update({ userToken: c.token, userTokenExpiresAt: c.expiresAt?.getTime() ?? 0, wsUrl: c.session?.wsUrl ?? s.wsUrl });
        return c;
      } catch (err) {
        if (isAuthError(err) || (err instanceof UTDStreamException && err.isForbidden)) {
          const banned = err instanceof UTDStreamException && err.isBanned;
          this.authFailed(err instanceof Error ? err.message : "the stored token no longer works", banned ? "unavailable" : "signed_out");
        }
        throw err;
      }
    };
    return new TokenSource({ fetch, initial: { token: s.userToken, expiresAt: new Date(s.userTokenExpiresAt) } });
  }

  private ensureRunning(): void {
    if (this.client || (!this.background && this.widgets === 0)) return;
    const s = this.sessions.load();
    if (!s) {
      this.connectionStore.set("signed_out");
      return;
    }
    const tokens = this.tokenSource(s);
    const api = this.makeApi(s.baseUrl, tokens);
    this.support = new SupportApi(api);
    this.chatApi = new ChatApi(api);
    const o: ConstructorParameters<typeof UTDSignalClient>[0] = {
      url: () => this.sessions.load()?.wsUrl ?? s.wsUrl,
      // A stored token that is about to lapse is swapped before the hello (no doomed round trip).
      token: () => tokens.token(),
      refreshToken: (failed) => tokens.refresh(failed),
      deviceId: s.deviceId,
      backoff: this.opts.backoff ?? { initialMs: 300, maxMs: 10_000 },
    };
    if (this.opts.WebSocket) o.WebSocket = this.opts.WebSocket;
    const client = new UTDSignalClient(o);
    this.client = client;
    this.offs = [
      client.state.subscribe((v) => {
        if (this.client !== client) return;
        this.connectionStore.set(
          v === "connected" ? "online" : v === "reconnecting" ? "offline" : v === "closed" ? "offline" : "connecting",
        );
      }),
      client.on("welcome", () => void this.catchUp()),
      client.on("resync", () => void this.catchUp()),
      client.on("closed", (c) => {
        if (this.client !== client) return;
        // Banned (4403 "banned", or a refused refresh): the stored session is worthless; say so and drop it.
        if (c.error?.isBanned) this.authFailed(c.error.message || "this visitor is banned", "unavailable");
        else if (c.code === CLOSE_CODES.forbidden) {
          // The app's chat was switched off: the session may work again later, but not on this socket.
          this.teardown();
          this.connectionStore.set("unavailable");
        } else if (c.error && (isAuthError(c.error) || c.code === CLOSE_CODES.unauthorized)) {
          this.authFailed(c.reason || "the stored token no longer works");
        }
      }),
      client.on("message.new", (m) => this.onMessage(stored(messageFromWire(m)))),
      client.on("message.updated", (m) => this.onChanged(stored(messageFromWire(m)))),
      client.on("message.deleted", (m) => this.onChanged(stored(messageFromWire(m)))),
      client.on("conversation.updated", (e) => {
        if (e.change === "closed" && e.conversation_id === this.conversationStore.value?.id) this.onClosed(e.conversation_id, e.by);
      }),
      client.on("support.updated", (e) => this.onSupport(e)),
      client.on("typing.started", (t) => this.onTyping(t.conversation_id, t.identity, true)),
      client.on("typing.stopped", (t) => this.onTyping(t.conversation_id, t.identity, false)),
      client.on("receipt.read", (r) => {
        if (r.conversation_id === this.conversationStore.value?.id && r.identity !== this.identity) {
          this.peerReadStore.set(Math.max(this.peerReadStore.value, r.last_read_seq));
        }
      }),
    ];
    client.connect();
  }

  private maybeStop(): void {
    if (this.background || this.widgets > 0) return;
    this.teardown();
    if (this.sessions.load()) this.connectionStore.set("idle");
  }

  private teardown(): void {
    for (const off of this.offs) off();
    this.offs = [];
    const c = this.client;
    this.client = undefined;
    c?.disconnect();
  }

  /** The support API of the running session (undefined when signed out or stopped). */
  private supportApi(): SupportApi {
    if (!this.support) throw new UTDStreamException(401, "unauthorized", "signed out");
    return this.support;
  }

  private chat(): ChatApi {
    if (!this.chatApi) throw new UTDStreamException(401, "unauthorized", "signed out");
    return this.chatApi;
  }

  /** The stored session stopped working: drop it, show `state`, and tell the host (`conversationAuthFailed`) once. */
  private authFailed(reason: string, state: "signed_out" | "unavailable" = "signed_out"): void {
    if (this.authFailedFired) {
      if (state === "unavailable") this.connectionStore.set(state);
      return;
    }
    this.authFailedFired = true;
    const conversationId = this.sessions.load()?.conversationId ?? this.conversationStore.value?.id ?? null;
    // Drop the stored session first, so a listener that logs in again starts clean.
    this.sessions.clear();
    this.teardown();
    this.connectionStore.set(state);
    this.opts.bus.emit("conversationAuthFailed", { conversationId, reason });
  }

  // ---------- conversation state ----------

  private resetConversation(): void {
    this.deduper = undefined;
    this.jobs.clear();
    this.conversationStore.set(null);
    this.messagesStore.set([]);
    this.pendingStore.set([]);
    this.typingStore.set(false);
    this.peerReadStore.set(0);
  }

  private dedupFor(conversationId: string): MessageDeduper {
    if (this.deduper?.conversationId !== conversationId) {
      const s = this.sessions.load();
      const mark = s?.conversationId === conversationId ? s.lastSeq : 0;
      this.deduper = { conversationId, d: new MessageDeduper(mark) };
    }
    return this.deduper.d;
  }

  /** Makes `c` the current conversation (persisting it) and announces it once per page lifetime. */
  private adopt(c: LiveChatConversation): void {
    const s = this.sessions.load();
    if (s && c.state !== "closed" && s.conversationId !== c.id) {
      // Found, not started here (another tab or device): what it already holds is not news.
      this.sessions.update({ conversationId: c.id, lastSeq: c.lastSeq });
      this.deduper = undefined;
    }
    const before = this.conversationStore.value;
    if (before?.id !== c.id) {
      this.messagesStore.set([]);
      this.peerReadStore.set(0);
    }
    this.conversationStore.set(c);
    if (c.state !== "closed" && this.once.first(`started:${c.id}`)) this.opts.bus.emit("conversationWasStarted", c);
    if (c.state === "closed") this.onClosed(c.id, c.closedBy);
  }

  /** After every (re)connect: the conversation's state and every message the socket may have missed. */
  private async catchUp(): Promise<void> {
    try {
      const s = this.sessions.load();
      if (!s) return;
      const c = s.conversationId
        ? await this.supportApi().get(s.conversationId)
        : (await this.supportApi().mine({ state: "open", limit: 1 }))[0];
      if (!c) return;
      if (s.conversationId !== c.id && c.state !== "closed") {
        // Found, not started here (another tab, device or login): what it already holds is not news.
        this.sessions.update({ conversationId: c.id, lastSeq: c.lastSeq });
        this.deduper = undefined;
      }
      // Messages first (so the host hears a last reply before the close), then the state.
      await this.loadAfter(c.id, this.dedupFor(c.id).watermark);
      this.adopt(c);
    } catch (err) {
      if (!isAuthError(err)) this.reportLater(err);
    } finally {
      // Back online: what failed to send goes out now.
      if (this.jobs.size > 0) void this.retryFailed();
    }
  }

  private async loadAfter(conversationId: string, after: number): Promise<void> {
    let cursor = after;
    for (let page = 0; page < 50; page++) {
      const r = await this.supportApi().history(conversationId, { after: cursor, limit: 200 });
      for (const m of r.messages) this.onMessage(stored(m));
      const last = r.messages.at(-1);
      if (!r.hasMore || !last) return;
      cursor = last.seq ?? cursor;
    }
  }

  /** Loads the latest page for display (the widget opening); messages already handled are not announced again. */
  async loadRecent(limit = 50): Promise<void> {
    const c = this.conversationStore.value;
    if (!c) return;
    const r = await this.supportApi().history(c.id, { limit });
    for (const m of r.messages) this.onMessage(stored(m));
  }

  private onMessage(m: LiveChatMessage): void {
    const conv = this.conversationStore.value;
    const s = this.sessions.load();
    const current = conv?.id ?? s?.conversationId;
    if (m.conversationId !== current) return;
    this.upsert(m);
    const d = this.dedupFor(m.conversationId);
    const fresh = d.accept(m);
    this.sessions.advance(m.conversationId, d.watermark);
    if (m.clientMsgId && m.sender === this.identity) {
      this.jobs.delete(m.clientMsgId);
      this.pendingStore.set(this.pendingStore.value.filter((p) => p.clientMsgId !== m.clientMsgId));
    }
    if (m.sender !== null && m.sender !== this.identity && m.type === "text") this.typingStore.set(false);
    if (fresh && m.type === "text" && m.sender !== null && m.sender !== this.identity && !m.deleted) {
      this.opts.bus.emit("conversationMessageReceived", m);
    }
  }

  private onChanged(m: LiveChatMessage): void {
    if (m.conversationId !== this.conversationStore.value?.id) return;
    this.upsert(m);
  }

  private upsert(m: LiveChatMessage): void {
    const list = this.messagesStore.value;
    const i = list.findIndex((x) => x.id === m.id);
    if (i >= 0) {
      const next = [...list];
      next[i] = m;
      this.messagesStore.set(next);
      return;
    }
    const next = [...list, m].sort((a, b) => a.seq - b.seq);
    this.messagesStore.set(next);
  }

  private onSupport(e: SupportEvent): void {
    const c = supportConversationFromWire(e.conversation);
    const cur = this.conversationStore.value;
    if (c.visitor !== this.identity) return;
    if (cur && cur.id !== c.id && cur.state !== "closed") return;
    this.adopt(c);
  }

  private onClosed(id: string, closedBy: string | null): void {
    const cur = this.conversationStore.value;
    if (cur?.id === id && cur.state !== "closed") this.conversationStore.set({ ...cur, state: "closed", closedBy, closedAt: new Date() });
    this.typingStore.set(false);
    const s = this.sessions.load();
    if (s?.conversationId === id) this.sessions.update({ conversationId: null, lastSeq: 0 });
    if (this.once.first(`closed:${id}`)) this.opts.bus.emit("conversationWasClosed", { id, closedBy });
  }

  private onTyping(conversationId: string | null, identity: string, typing: boolean): void {
    if (conversationId === null || conversationId !== this.conversationStore.value?.id || identity === this.identity) return;
    this.typingStore.set(typing);
  }

  // ---------- actions (the widget's) ----------

  /** Starts the support conversation, or returns the open one. */
  async ensureConversation(): Promise<LiveChatConversation> {
    const cur = this.conversationStore.value;
    if (cur && cur.state !== "closed") return cur;
    const widgetId = this.sessions.load()?.widgetId ?? this.config?.widgetId;
    const conv = await this.supportApi().start(widgetId ? { widget_id: widgetId } : undefined);
    const s = this.sessions.load();
    if (s && s.conversationId !== conv.id) this.sessions.update({ conversationId: conv.id, lastSeq: 0 });
    this.deduper = undefined;
    this.adopt(conv);
    return conv;
  }

  /**
   * Sends a message (starting the conversation first when needed). It shows as pending at once; when
   * sending fails (offline) it stays, marked failed, and is sent again after the next reconnect (or
   * `retryFailed()`), with the same client id, so it is neither lost nor doubled.
   */
  async send(p: { text?: string; replyTo?: string | null; files?: File[] }): Promise<LiveChatMessage> {
    const job: SendJob = {
      clientMsgId: newClientId(),
      text: p.text ?? null,
      replyTo: p.replyTo ?? null,
      files: p.files ?? [],
      sending: false,
    };
    this.jobs.set(job.clientMsgId, job);
    this.pendingStore.set([
      ...this.pendingStore.value,
      { clientMsgId: job.clientMsgId, text: job.text, replyTo: job.replyTo, files: job.files.map((f) => f.name), failed: false },
    ]);
    return this.deliver(job);
  }

  /** Sends again every message that failed. */
  async retryFailed(): Promise<void> {
    for (const job of [...this.jobs.values()]) if (!job.sending) await this.deliver(job).catch(() => {});
  }

  private async deliver(job: SendJob): Promise<LiveChatMessage> {
    job.sending = true;
    this.markPending(job.clientMsgId, false);
    try {
      const conv = await this.ensureConversation();
      if (!job.tokens) {
        const tokens: string[] = [];
        for (const f of job.files) {
          tokens.push(
            await this.chat().upload(uploadKind(f.type), f, { filename: f.name, contentType: f.type || "application/octet-stream" }),
          );
        }
        job.tokens = tokens;
      }
      const p: UTDSendParams = {};
      if (job.text) p.text = job.text;
      if (job.tokens.length) p.files = job.tokens;
      if (job.replyTo) p.replyTo = job.replyTo;
      const m = stored(await this.supportApi().send(conv.id, p, job.clientMsgId));
      this.jobs.delete(job.clientMsgId);
      this.onMessage(m);
      return m;
    } catch (err) {
      if (this.jobs.has(job.clientMsgId)) this.markPending(job.clientMsgId, true);
      throw err;
    } finally {
      job.sending = false;
    }
  }

  private markPending(clientMsgId: string, failed: boolean): void {
    this.pendingStore.set(this.pendingStore.value.map((x) => (x.clientMsgId === clientMsgId ? { ...x, failed } : x)));
  }

  /** The visitor ends the conversation. */
  async close(): Promise<void> {
    const cur = this.conversationStore.value;
    if (!cur || cur.state === "closed") return;
    const c = await this.supportApi().close(cur.id);
    this.onClosed(c.id, c.closedBy);
  }

  /** Marks everything shown as read. */
  async markRead(): Promise<void> {
    const c = this.conversationStore.value;
    const last = this.messagesStore.value.at(-1);
    if (!c || !last || c.state === "closed") return;
    await this.chat().markRead(c.id, last.seq);
  }

  /** Tells the operator the visitor is typing (at most every 3 s). */
  typing(): void {
    const c = this.conversationStore.value;
    const now = Date.now();
    if (!c || c.state === "closed" || !this.client || now - this.lastTyping < 3000) return;
    this.lastTyping = now;
    this.client.request("typing.start", { conversation_id: c.id }).catch(() => {});
  }

  /** A signed download URL for an attachment. */
  async fileUrl(fileToken: string): Promise<string | null> {
    return (await this.chat().file(fileToken)).downloadUrl;
  }

  private reportLater(err: unknown): void {
    // Not fatal (the next reconnect catches up again); surface it for the developer console.
    if (typeof console !== "undefined") console.warn("[utd-chat] catch-up failed:", err);
  }
}

function trimSlash(u: string): string {
  return u.replace(/\/+$/, "");
}

function defaultBaseUrl(): string {
  const loc = (globalThis as { location?: { origin?: string } }).location;
  return loc?.origin && loc.origin !== "null" ? loc.origin : "http://127.0.0.1:7800";
}

function uploadKind(contentType: string): UploadKind {
  if (contentType.startsWith("image/")) return "image";
  if (contentType.startsWith("audio/")) return "audio";
  if (contentType.startsWith("video/")) return "video";
  return "file";
}

export type { PersistedSession };
