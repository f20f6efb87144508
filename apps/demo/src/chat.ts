import {
  type ChatSession,
  type ConversationRef,
  insertMention,
  type MessageSubscription,
  type UTDConversation,
  type UTDMessage,
} from "@utd-stream/signaling";
import type { Ctx } from "./context.js";
import { h, replace } from "./dom.js";
import { t, time } from "./i18n.js";
import { icon } from "./icons.js";
import { explain } from "./notice.js";

/** Renew `typing.start` this often while the user keeps typing (the engine lets it lapse after 6 s). */
const TYPING_RENEW_MS = 3000;

/**
 * The chat tab: the live conversation list (unread badges) and one open conversation with history
 * paging, typing, read receipts and inline images — all on `ChatSession` from @utd-stream/signaling.
 */
export class ChatPanel {
  readonly el = h("section", { class: "chat", "data-testid": "chat" });
  private readonly listEl = h("ul", { class: "conversations", "data-testid": "conversations" });
  private readonly pane = h("div", { class: "pane" });
  private conversations: readonly UTDConversation[] = [];
  private open: OpenConversation | undefined;

  constructor(
    private readonly ctx: Ctx,
    private readonly chat: ChatSession,
  ) {
    const name = h("input", { name: "group-name", placeholder: t("chat.groupName"), "data-testid": "group-name" });
    const members = h("input", { name: "group-members", placeholder: t("chat.groupMembers"), "data-testid": "group-members" });
    const group = h(
      "form",
      { class: "new-group" },
      h("h3", {}, t("chat.newGroup")),
      name,
      members,
      h("button", { type: "submit", "data-testid": "create-group" }, t("chat.create")),
    );
    group.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const ids = members.value.split(/[,،\s]+/).filter(Boolean);
      void chat
        .createConversation("group", { name: name.value.trim() || t("chat.group"), members: ids })
        .then((ref) => {
          name.value = "";
          members.value = "";
          this.show(ref.id);
        })
        .catch((err: unknown) => ctx.toast(explain(err)));
    });
    replace(this.el, h("aside", { class: "conv-side" }, h("h2", {}, t("chat.conversations")), this.listEl, group), this.pane);
    replace(this.pane, h("p", { class: "muted center" }, t("chat.pick")));
    chat.subscribeConversations((list) => {
      this.conversations = list;
      this.renderList();
    });
    chat.onThreadReply((m) => this.open?.onReply(m));
    chat.onError((err) => {
      if (err.isFeatureDisabled || err.code === "limit_exceeded") ctx.toast(explain(err));
    });
  }

  /** Opens the direct conversation with a person. */
  async openWith(identity: string): Promise<void> {
    try {
      const ref = await this.chat.user(identity).directConversation();
      this.show(ref.id);
    } catch (err) {
      this.ctx.toast(explain(err));
    }
  }

  private title(c: UTDConversation): string {
    if (c.kind === "direct") return c.members.find((m) => m !== this.ctx.me) ?? c.members[0] ?? "";
    return c.name ?? t("chat.group");
  }

  private renderList(): void {
    const visible = this.conversations.filter((c) => !(c.kind === "chatroom" && c.name === "Lobby" && !c.lastMessage));
    if (visible.length === 0) {
      replace(this.listEl, h("li", { class: "muted" }, t("chat.none")));
      return;
    }
    replace(
      this.listEl,
      visible.map((c) => {
        const unread = this.open?.id === c.id ? 0 : c.unreadCount;
        const last = c.lastMessage;
        const preview = last
          ? last.deleted
            ? t("chat.deleted")
            : (last.text ?? (last.attachments.length ? t("chat.attachment") : ""))
          : "";
        return h(
          "li",
          { class: `conversation${this.open?.id === c.id ? " active" : ""}`, "data-testid": "conversation", "data-title": this.title(c) },
          h(
            "button",
            { onclick: () => this.show(c.id) },
            h("bdi", { class: "title" }, this.title(c)),
            unread > 0
              ? h("span", { class: "badge", "data-testid": "unread", "aria-label": t("chat.unread", { n: unread }) }, unread)
              : null,
            this.open?.id !== c.id && c.mentionCount > 0
              ? h(
                  "span",
                  { class: "badge mention", "data-testid": "mentions", "aria-label": t("chat.mentions", { n: c.mentionCount }) },
                  "@",
                )
              : null,
            h("small", { class: "preview" }, preview),
          ),
        );
      }),
    );
  }

  private show(id: string): void {
    if (this.open?.id === id) return;
    this.open?.close();
    const c = this.conversations.find((x) => x.id === id);
    this.open = new OpenConversation(this.ctx, this.chat, this.chat.conversation(id), c ? this.title(c) : "");
    replace(this.pane, this.open.el);
    this.renderList();
  }
}

/** One conversation on screen. */
class OpenConversation {
  readonly el = h("div", { class: "conversation-view", "data-testid": "conversation-view" });
  private readonly log = h("ol", { class: "messages", "data-testid": "messages", "aria-live": "polite" });
  private readonly typingEl = h("div", { class: "typing", "data-testid": "typing", "aria-live": "polite" });
  private readonly more = h("button", { class: "more", "data-testid": "load-more" }, t("chat.older"));
  private readonly sub: MessageSubscription;
  private readonly offs: (() => void)[] = [];
  private messages: readonly UTDMessage[] = [];
  /** Other members' read positions (shared receipts only). */
  private readonly reads = new Map<string, number>();
  private readonly files = new Map<string, Promise<string | null>>();
  private markedUpTo = 0;
  private lastTypingSent = 0;
  private readonly suggestions = h("div", { class: "mention-suggestions", "data-testid": "mention-suggestions" });
  private readonly threadEl = h("aside", { class: "thread", "data-testid": "thread", hidden: true });
  private thread: { parentId: string; replies: UTDMessage[]; list: HTMLElement } | undefined;

  constructor(
    private readonly ctx: Ctx,
    private readonly chat: ChatSession,
    private readonly ref: ConversationRef,
    title: string,
  ) {
    const headerTitle = h("h2", { "data-testid": "conversation-title" }, h("bdi", {}, title));
    void ref
      .get()
      .then((c) => {
        if (c.kind !== "direct" && c.name) replace(headerTitle, h("bdi", {}, c.name));
      })
      .catch(() => {});
    this.more.addEventListener("click", () => void this.sub.loadMore(30));
    const input = h("input", {
      name: "message",
      placeholder: t("chat.placeholder"),
      autocomplete: "off",
      "data-testid": "composer",
      dir: "auto",
    });
    const file = h("input", {
      type: "file",
      accept: "image/*",
      class: "visually-hidden",
      "data-testid": "image-input",
      id: `file-${ref.id}`,
    });
    const form = h(
      "form",
      { class: "composer" },
      h("label", { for: `file-${ref.id}`, class: "attach", title: t("chat.image"), "aria-label": t("chat.image") }, t("chat.imageShort")),
      file,
      input,
      h("button", { type: "submit", "data-testid": "send" }, t("chat.send")),
    );
    input.addEventListener("input", () => {
      const now = Date.now();
      if (input.value && now - this.lastTypingSent > TYPING_RENEW_MS) {
        this.lastTypingSent = now;
        void ref.startTyping().catch(() => {});
      }
    });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      this.lastTypingSent = 0;
      void ref.stopTyping().catch(() => {});
      ref.send(text).catch((err: unknown) => ctx.toast(explain(err)));
    });
    file.addEventListener("change", () => {
      const f = file.files?.[0];
      file.value = "";
      if (f) void this.sendImage(f);
    });
    // Mention autocomplete over the conversation's members.
    input.addEventListener("input", () => void this.suggest(input));
    const actions = h("div", { class: "conv-actions" });
    void ref
      .get()
      .then((c) => this.renderActions(actions, c))
      .catch(() => {});
    replace(this.el, h("header", {}, headerTitle, actions, this.typingEl), this.more, this.log, this.suggestions, form, this.threadEl);

    this.sub = ref.subscribeMessages(
      (msgs) => {
        this.messages = msgs;
        this.render();
        this.markRead();
      },
      { limit: 30 },
    );
    this.offs.push(
      // Who else is typing here: the conversation's own store (entries lapse by themselves).
      ref.typing.subscribe(() => this.renderTyping()),
      // Other members' receipts (sent only when they share them) move the "seen" marks.
      ctx.signaling.client?.on("receipt.read", (r) => {
        if (r.conversation_id !== ref.id || r.identity === ctx.me) return;
        this.reads.set(r.identity, Math.max(this.reads.get(r.identity) ?? 0, r.last_read_seq));
        this.render();
      }) ?? (() => {}),
    );
    void ref
      .members()
      .then((ms) => {
        for (const m of ms)
          if (m.identity !== ctx.me && m.lastReadSeq !== null)
            this.reads.set(m.identity, Math.max(this.reads.get(m.identity) ?? 0, m.lastReadSeq));
        this.render();
      })
      .catch(() => {});
  }

  get id(): string {
    return this.ref.id;
  }

  close(): void {
    this.sub.unsubscribe();
    for (const off of this.offs) off();
  }

  /** Block/unblock (direct conversations) and mute/unmute (any conversation). */
  private renderActions(el: HTMLElement, c: UTDConversation): void {
    const peer = c.kind === "direct" ? c.members.find((m) => m !== this.ctx.me) : undefined;
    let muted = c.muted;
    const mute = h("button", { class: "link", "data-testid": "mute" }, muted ? t("chat.unmute") : t("chat.mute"));
    mute.addEventListener("click", () => {
      muted = !muted;
      void this.chat.chat
        .muteConversation(c.id, muted)
        .then(() => {
          mute.textContent = muted ? t("chat.unmute") : t("chat.mute");
        })
        .catch((err: unknown) => this.ctx.toast(explain(err)));
    });
    const parts: HTMLElement[] = [mute];
    if (peer) {
      const block = h("button", { class: "link", "data-testid": "block" }, t("chat.block"));
      void this.chat.chat
        .blocked()
        .then((list) => {
          if (list.some((b) => b.identity === peer)) block.textContent = t("chat.unblock");
        })
        .catch(() => {});
      block.addEventListener("click", () => {
        const blocking = block.textContent === t("chat.block");
        void (blocking ? this.chat.chat.block(peer) : this.chat.chat.unblock(peer))
          .then(() => {
            block.textContent = blocking ? t("chat.unblock") : t("chat.block");
            if (blocking) this.ctx.toast(t("chat.blockedDone"));
          })
          .catch((err: unknown) => this.ctx.toast(explain(err)));
      });
      parts.push(block);
    }
    replace(el, parts);
  }

  /** Suggests members for the `@mention` being typed; a click inserts it. */
  private async suggest(input: HTMLInputElement): Promise<void> {
    const caret = input.selectionStart ?? input.value.length;
    const { query, members } = await this.ref.mentionSuggestions(input.value, caret, 5).catch(() => ({ query: null, members: [] }));
    if (!query || members.length === 0) {
      replace(this.suggestions, []);
      return;
    }
    replace(
      this.suggestions,
      members.map((m) =>
        h(
          "button",
          {
            type: "button",
            class: "mention-suggestion",
            "data-testid": "mention-suggestion",
            onclick: () => {
              const next = insertMention(input.value, query, m.identity);
              input.value = next.text;
              input.setSelectionRange(next.caret, next.caret);
              input.focus();
              replace(this.suggestions, []);
            },
          },
          h("bdi", {}, `@${m.identity}`),
        ),
      ),
    );
  }

  /**
   * Opens the thread of a message beside the conversation: its replies, live, and a reply box. The box is built once
   * per opened thread and only the reply list is redrawn, so a history page or a live reply arriving while someone
   * types neither wipes what they typed nor drops a reply they already sent.
   */
  private async openThread(parentId: string): Promise<void> {
    const list = h("ol", { class: "messages", "data-testid": "thread-replies" });
    this.thread = { parentId, replies: [], list };
    this.threadEl.hidden = false;
    this.buildThread(parentId, list);
    try {
      const page = await this.ref.threadHistory(parentId, { limit: 50 });
      if (this.thread?.parentId !== parentId) return;
      // Replies that came in (live or from our own send) while the page was on its way stay: merge by id, in seq order.
      const known = new Set(page.messages.map((m) => m.id));
      this.thread.replies = [...page.messages, ...this.thread.replies.filter((m) => !known.has(m.id))].sort(
        (x, y) => (x.seq ?? Number.MAX_SAFE_INTEGER) - (y.seq ?? Number.MAX_SAFE_INTEGER),
      );
      this.renderThread();
      if (page.lastSeq > 0) void this.ref.markThreadRead(parentId, page.lastSeq).catch(() => {});
    } catch (err) {
      this.ctx.toast(explain(err));
    }
  }

  /** A new reply (from the session's thread events). */
  onReply(m: UTDMessage): void {
    if (!this.thread || m.threadId !== this.thread.parentId || this.thread.replies.some((r) => r.id === m.id)) return;
    this.thread.replies.push(m);
    this.renderThread();
    if (m.seq !== null) void this.ref.markThreadRead(this.thread.parentId, m.seq).catch(() => {});
  }

  private buildThread(parentId: string, list: HTMLElement): void {
    const parent = this.messages.find((m) => m.id === parentId);
    const input = h("input", { name: "reply", placeholder: t("chat.threadPlaceholder"), dir: "auto", "data-testid": "thread-composer" });
    const form = h("form", { class: "composer" }, input, h("button", { type: "submit", "data-testid": "thread-send" }, t("chat.send")));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      this.ref
        .reply(parentId, text)
        .then((m) => this.onReply(m))
        .catch((err: unknown) => this.ctx.toast(explain(err)));
    });
    const closeBtn = h("button", { class: "link", "data-testid": "close-thread" }, t("chat.closeThread"));
    closeBtn.addEventListener("click", () => {
      this.thread = undefined;
      this.threadEl.hidden = true;
      replace(this.threadEl);
    });
    replace(
      this.threadEl,
      h("header", {}, h("h3", {}, t("chat.thread")), closeBtn),
      parent?.text ? h("p", { class: "thread-parent", dir: "auto" }, parent.text) : null,
      list,
      form,
    );
  }

  private renderThread(): void {
    const th = this.thread;
    if (!th) return;
    replace(
      th.list,
      th.replies.map((m) =>
        h(
          "li",
          { class: `message${m.sender === this.ctx.me ? " mine" : ""}`, "data-testid": "thread-reply" },
          m.sender === this.ctx.me ? null : h("bdi", { class: "sender" }, m.sender ?? ""),
          m.deleted ? h("em", {}, t("chat.deleted")) : h("p", { dir: "auto" }, m.text ?? ""),
        ),
      ),
    );
  }

  private report(m: UTDMessage): void {
    const reason = globalThis.prompt?.(t("chat.reportReason"))?.trim();
    if (!reason) return;
    void this.chat.chat
      .report({ conversationId: this.ref.id, messageId: m.id }, reason)
      .then(() => this.ctx.toast(t("chat.reported")))
      .catch((err: unknown) => this.ctx.toast(explain(err)));
  }

  private async sendImage(f: File): Promise<void> {
    try {
      const dims = await imageSize(f);
      const token = await this.chat.uploadImage(f, { filename: f.name, contentType: f.type || "image/png", ...dims });
      await this.ref.send({ files: [token] });
    } catch (err) {
      this.ctx.toast(explain(err));
    }
  }

  /** Marks what is on screen as read (once per new message). */
  private markRead(): void {
    const last = [...this.messages].reverse().find((m) => m.seq !== null)?.seq ?? 0;
    if (last <= this.markedUpTo) return;
    this.markedUpTo = last;
    void this.ref.markRead(last).catch(() => {});
  }

  private renderTyping(): void {
    const who = this.ref.typing.value.filter((i) => i !== this.ctx.me);
    this.typingEl.textContent =
      who.length === 0 ? "" : who.length === 1 ? t("chat.typingOne", { name: who[0] ?? "" }) : t("chat.typingMany", { n: who.length });
  }

  private render(): void {
    this.more.hidden = this.sub?.loadedAll ?? true;
    // The newest message of mine that others have read carries the "seen" mark.
    const readers = (seq: number) => [...this.reads].filter(([, s]) => s >= seq).map(([who]) => who);
    const mine = this.messages.filter((m) => m.sender === this.ctx.me && m.seq !== null);
    const seen = [...mine].reverse().find((m) => readers(m.seq ?? 0).length > 0);
    replace(
      this.log,
      this.messages.map((m) => {
        const me = m.sender === this.ctx.me;
        const state = m.failed ? t("chat.failed") : m.pending ? t("chat.sending") : "";
        const seenBy = seen && m.id === seen.id ? readers(m.seq ?? 0) : [];
        return h(
          "li",
          {
            class: `message${me ? " mine" : ""}${m.type === "system" ? " system" : ""}${m.pending ? " pending" : ""}`,
            "data-testid": "message",
            "data-seq": m.seq ?? "",
            "data-sender": m.sender ?? "",
          },
          me || m.type === "system" ? null : h("bdi", { class: "sender" }, m.sender ?? ""),
          m.deleted ? h("em", {}, t("chat.deleted")) : m.text ? h("p", { dir: "auto", "data-testid": "message-text" }, m.text) : null,
          m.attachments.map((a) => (a.kind === "image" ? this.image(a.fileToken, a.filename) : h("span", { class: "file" }, a.filename))),
          m.type === "text" && !m.deleted && m.seq !== null
            ? h(
                "span",
                { class: "msg-actions" },
                h(
                  "button",
                  { class: "link", "data-testid": "open-thread", onclick: () => void this.openThread(m.id) },
                  m.thread ? t("chat.replies", { n: m.thread.replyCount }) : t("chat.replyInThread"),
                ),
                me ? null : h("button", { class: "link", "data-testid": "report", onclick: () => this.report(m) }, t("chat.report")),
              )
            : null,
          h(
            "small",
            { class: "meta" },
            time(m.createdAt),
            state ? ` · ${state}` : "",
            seenBy.length > 0
              ? h(
                  "span",
                  { class: "receipt", "data-testid": "receipt" },
                  " · ",
                  icon("seen"),
                  ` ${seenBy.length === 1 && this.reads.size === 1 ? t("chat.seen") : t("chat.seenBy", { names: seenBy.join(", ") })}`,
                )
              : null,
          ),
        );
      }),
    );
    this.log.lastElementChild?.scrollIntoView({ block: "end" });
  }

  /** An inline image: the signed download URL is fetched once per file. */
  private image(token: string, alt: string): HTMLElement {
    const img = h("img", { alt, class: "inline-image", "data-testid": "inline-image", loading: "lazy" });
    let url = this.files.get(token);
    if (!url) {
      url = this.chat.chat.file(token).then(
        (f) => f.downloadUrl,
        () => null,
      );
      this.files.set(token, url);
    }
    void url.then((u) => {
      if (u) img.src = u;
    });
    return img;
  }
}

/** Width and height of an image file (sent as upload metadata). */
async function imageSize(f: File): Promise<{ width?: number; height?: number }> {
  try {
    const bmp = await createImageBitmap(f);
    const size = { width: bmp.width, height: bmp.height };
    bmp.close();
    return size;
  } catch {
    return {};
  }
}
