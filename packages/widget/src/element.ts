import { liveChat } from "./background.js";
import { type LiveChatStrings, relativeTime, stringsFor } from "./locales/index.js";
import type { LiveChatRuntime } from "./runtime.js";
import type { LiveChatAttachment, LiveChatMessage } from "./wire.js";

const CSS = `
:host { display: block; font: 14px/1.4 system-ui, sans-serif; color: #1d2433; height: 100%; min-height: 320px; }
.root { display: flex; flex-direction: column; height: 100%; border: 1px solid #d6dae3; border-radius: 10px; overflow: hidden; background: #fff; }
header { display: flex; align-items: center; gap: 8px; padding: 10px 12px; background: #2f4bd6; color: #fff; }
header h2 { flex: 1; margin: 0; font-size: 15px; }
header button { background: transparent; color: inherit; border: 1px solid rgba(255,255,255,.5); border-radius: 6px; padding: 2px 8px; cursor: pointer; }
.status { padding: 6px 12px; font-size: 12px; background: #f3f5fa; color: #4a5366; }
.log { flex: 1; overflow-y: auto; margin: 0; padding: 12px; list-style: none; display: flex; flex-direction: column; gap: 8px; }
.msg { max-width: 80%; padding: 6px 10px; border-radius: 10px; background: #eef1f8; align-self: flex-start; }
.msg.mine { background: #dfe7ff; align-self: flex-end; }
.msg.system { align-self: center; background: none; color: #6b7385; font-size: 12px; }
.msg .quote { border-inline-start: 3px solid #8796d8; padding-inline-start: 6px; color: #4a5366; font-size: 12px; margin-bottom: 4px; }
.msg footer { display: flex; gap: 8px; align-items: center; font-size: 11px; color: #6b7385; margin-top: 2px; }
.msg footer button { border: none; background: none; color: #2f4bd6; cursor: pointer; padding: 0; font-size: 11px; }
.msg img { max-width: 200px; display: block; border-radius: 6px; }
.typing { min-height: 18px; padding: 0 12px; font-size: 12px; color: #6b7385; }
.replybar { display: none; gap: 8px; padding: 4px 12px; font-size: 12px; background: #f3f5fa; }
.replybar.on { display: flex; }
.replybar span { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
form { display: flex; gap: 6px; padding: 8px; border-top: 1px solid #e3e6ee; align-items: flex-end; }
textarea { flex: 1; resize: none; font: inherit; padding: 6px 8px; border: 1px solid #c9cfdb; border-radius: 8px; min-height: 20px; max-height: 120px; }
form button, label.attach { border: 1px solid #2f4bd6; background: #2f4bd6; color: #fff; border-radius: 8px; padding: 6px 12px; cursor: pointer; }
label.attach { background: #fff; color: #2f4bd6; }
label.attach svg { display: block; width: 18px; height: 18px; }
label.attach input { position: absolute; width: 1px; height: 1px; opacity: 0; }
.files { font-size: 12px; padding: 0 12px; color: #4a5366; }
:focus-visible { outline: 2px solid #f0a020; outline-offset: 2px; }
`;

// Outside browsers (SSR, Node tests importing the package) there is no HTMLElement; the class is then inert.
const ElementBase = ((globalThis as { HTMLElement?: typeof HTMLElement }).HTMLElement ?? class {}) as typeof HTMLElement;

/**
 * `<utd-chat-widget app-id="…" app-key="…" widget-id="…" language="en|ur" base-url="…">` — the visitor's
 * live chat. Mount it anywhere (full page, side panel, bottom sheet); remove it to close it (the
 * background listener, when started, keeps the events flowing). Fires a `close` event when the visitor
 * presses its close button. Sign the visitor in with `userLogin(jwt)`.
 */
export class UTDChatWidget extends ElementBase {
  static observedAttributes = ["app-id", "app-key", "widget-id", "language", "base-url"];

  private rt: LiveChatRuntime | undefined;
  private offs: (() => void)[] = [];
  private replyTo: LiveChatMessage | null = null;
  private files: File[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly urls = new Map<string, Promise<string | null>>();
  private readonly els: {
    root: HTMLDivElement;
    title: HTMLHeadingElement;
    end: HTMLButtonElement;
    close: HTMLButtonElement;
    status: HTMLDivElement;
    log: HTMLOListElement;
    typing: HTMLDivElement;
    replybar: HTMLDivElement;
    replyText: HTMLSpanElement;
    replyCancel: HTMLButtonElement;
    files: HTMLDivElement;
    form: HTMLFormElement;
    input: HTMLTextAreaElement;
    inputLabel: HTMLLabelElement;
    attach: HTMLLabelElement;
    fileInput: HTMLInputElement;
    send: HTMLButtonElement;
  };

  constructor() {
    super();
    const shadow = this.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = CSS;
    const h = <K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string): HTMLElementTagNameMap[K] => {
      const e = document.createElement(tag);
      if (cls) e.className = cls;
      return e;
    };
    const root = h("div", "root");
    const header = h("header");
    const title = h("h2");
    title.id = "t";
    const end = h("button");
    end.type = "button";
    end.className = "end";
    const close = h("button");
    close.type = "button";
    close.className = "close";
    close.textContent = "×";
    header.append(title, end, close);
    const status = h("div", "status");
    status.setAttribute("role", "status");
    const log = h("ol", "log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.tabIndex = 0;
    const typing = h("div", "typing");
    typing.setAttribute("aria-live", "polite");
    const replybar = h("div", "replybar");
    const replyText = h("span");
    const replyCancel = h("button");
    replyCancel.type = "button";
    replyCancel.textContent = "×";
    replybar.append(replyText, replyCancel);
    const files = h("div", "files");
    const form = h("form");
    const inputLabel = h("label");
    inputLabel.htmlFor = "in";
    inputLabel.style.position = "absolute";
    inputLabel.style.left = "-9999px";
    const input = h("textarea");
    input.id = "in";
    input.rows = 1;
    const attach = h("label", "attach");
    // An inline SVG paperclip: a glyph such as U+1F4CE renders as an empty box where no emoji font is installed.
    attach.append(paperclip());
    const fileInput = h("input");
    fileInput.type = "file";
    fileInput.multiple = true;
    fileInput.accept = "image/*,audio/*,video/*,application/pdf,text/plain,.zip";
    attach.append(fileInput);
    const send = h("button");
    send.type = "submit";
    form.append(inputLabel, input, attach, send);
    root.append(header, status, log, typing, replybar, files, form);
    root.setAttribute("role", "region");
    root.setAttribute("aria-labelledby", "t");
    shadow.append(style, root);
    this.els = {
      root,
      title,
      end,
      close,
      status,
      log,
      typing,
      replybar,
      replyText,
      replyCancel,
      files,
      form,
      input,
      inputLabel,
      attach,
      fileInput,
      send,
    };

    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.submit();
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        void this.submit();
      } else if (e.key === "Escape" && this.replyTo) {
        this.setReply(null);
      }
    });
    input.addEventListener("input", () => this.rt?.typing());
    fileInput.addEventListener("change", () => {
      this.files = Array.from(fileInput.files ?? []);
      this.els.files.textContent = this.files.map((f) => f.name).join(", ");
    });
    replyCancel.addEventListener("click", () => this.setReply(null));
    end.addEventListener("click", () => void this.rt?.close().catch(() => {}));
    close.addEventListener("click", () => this.dispatchEvent(new CustomEvent("close", { bubbles: true, composed: true })));
  }

  private get locale(): string {
    return this.getAttribute("language") ?? "en";
  }

  private get t(): LiveChatStrings {
    return stringsFor(this.locale);
  }

  connectedCallback(): void {
    const rt = liveChat();
    this.rt = rt;
    this.applyConfig();
    this.offs = [
      rt.connection.subscribe(() => this.renderStatus()),
      rt.conversation.subscribe(() => {
        this.renderStatus();
        this.renderLog();
      }),
      rt.messages.subscribe(() => {
        this.renderLog();
        this.maybeMarkRead();
      }),
      rt.pending.subscribe(() => this.renderLog()),
      rt.operatorTyping.subscribe(() => this.renderTyping()),
      rt.operatorReadSeq.subscribe(() => this.renderLog()),
    ];
    rt.retain();
    // Show what was said so far (already-handled messages are not announced to the host again).
    void rt.loadRecent().catch(() => {});
    this.timer = setInterval(() => this.renderLog(), 30_000);
    this.renderAll();
  }

  disconnectedCallback(): void {
    for (const off of this.offs) off();
    this.offs = [];
    if (this.timer) clearInterval(this.timer);
    this.rt?.release();
  }

  attributeChangedCallback(name: string): void {
    if (name === "language") this.renderAll();
    else if (this.isConnected) this.applyConfig();
  }

  private applyConfig(): void {
    const appId = this.getAttribute("app-id");
    const appKey = this.getAttribute("app-key");
    if (!this.rt || !appId || !appKey) return;
    const cfg: Parameters<LiveChatRuntime["configure"]>[0] = { appId, appKey };
    const base = this.getAttribute("base-url");
    if (base) cfg.baseUrl = base;
    const widgetId = this.getAttribute("widget-id");
    if (widgetId) cfg.widgetId = widgetId;
    this.rt.configure(cfg);
  }

  private renderAll(): void {
    const t = this.t;
    const { root, title, end, close, input, inputLabel, attach, send, replyCancel, log } = this.els;
    root.dir = t.dir;
    root.lang = this.locale;
    title.textContent = t.title;
    end.textContent = t.endChat;
    close.setAttribute("aria-label", t.close);
    inputLabel.textContent = t.inputLabel;
    input.placeholder = t.placeholder;
    attach.title = t.attach;
    attach.setAttribute("aria-label", t.attach);
    send.textContent = t.send;
    replyCancel.setAttribute("aria-label", t.cancelReply);
    log.setAttribute("aria-label", t.messages);
    this.renderStatus();
    this.renderLog();
    this.renderTyping();
  }

  /** One word for tests and styling: signed_out | unavailable | connecting | offline | ready | queued | assigned | closed. */
  private state(): string {
    const rt = this.rt;
    if (!rt) return "connecting";
    const c = rt.connection.value;
    if (c === "signed_out" || c === "unavailable") return c;
    const conv = rt.conversation.value;
    if (conv?.state === "closed") return "closed";
    if (c === "offline") return "offline";
    if (c !== "online") return "connecting";
    return conv?.state ?? "ready";
  }

  private renderStatus(): void {
    const t = this.t;
    const s = this.state();
    const conv = this.rt?.conversation.value;
    const text: Record<string, string> = {
      signed_out: t.signedOut,
      unavailable: t.unavailable,
      connecting: t.connecting,
      offline: t.offline,
      ready: t.empty,
      queued: t.queued,
      assigned: t.assigned(conv?.assignee ?? t.agent),
      closed: `${t.closed} ${t.startAgain}`,
    };
    this.els.root.dataset.state = s;
    this.els.status.textContent = text[s] ?? "";
    this.els.end.hidden = !(conv && conv.state !== "closed");
    const disabled = s === "signed_out" || s === "unavailable";
    this.els.input.disabled = disabled;
    this.els.send.disabled = disabled;
  }

  private renderTyping(): void {
    const conv = this.rt?.conversation.value;
    this.els.typing.textContent = this.rt?.operatorTyping.value ? this.t.typing(conv?.assignee ?? this.t.agent) : "";
  }

  private renderLog(): void {
    const rt = this.rt;
    if (!rt) return;
    const t = this.t;
    const me = rt.identity;
    const now = new Date();
    const messages = rt.messages.value;
    const byId = new Map(messages.map((m) => [m.id, m]));
    const readSeq = rt.operatorReadSeq.value;
    const lastMine = [...messages].reverse().find((m) => m.sender === me);
    const items: HTMLLIElement[] = [];
    for (const m of messages) {
      const li = document.createElement("li");
      li.dataset.id = m.id;
      li.dataset.seq = String(m.seq);
      const mine = m.sender === me;
      li.className = `msg ${m.type === "system" ? "system" : mine ? "mine" : "theirs"}`;
      if (m.replyTo) {
        const parent = byId.get(m.replyTo);
        const q = document.createElement("div");
        q.className = "quote";
        q.textContent = parent?.text ?? t.attachment;
        li.append(q);
      }
      if (m.text) {
        const p = document.createElement("div");
        p.className = "text";
        p.dir = "auto";
        p.textContent = m.text;
        li.append(p);
      }
      for (const a of m.attachments) li.append(this.attachmentEl(a));
      if (m.type !== "system") {
        const f = document.createElement("footer");
        const who = document.createElement("span");
        who.textContent = mine ? t.you : (m.sender ?? "");
        const time = document.createElement("time");
        time.dateTime = m.createdAt.toISOString();
        time.title = m.createdAt.toLocaleString(this.locale);
        time.textContent = relativeTime(m.createdAt, now, this.locale);
        f.append(who, time);
        if (mine && m.id === lastMine?.id && readSeq >= m.seq) {
          const seen = document.createElement("span");
          seen.className = "seen";
          seen.textContent = t.seen;
          f.append(seen);
        }
        const reply = document.createElement("button");
        reply.type = "button";
        reply.className = "reply";
        reply.textContent = t.reply;
        reply.setAttribute("aria-label", `${t.reply}: ${m.text ?? t.attachment}`);
        reply.addEventListener("click", () => this.setReply(m));
        f.append(reply);
        li.append(f);
      }
      items.push(li);
    }
    for (const p of rt.pending.value) {
      const li = document.createElement("li");
      li.className = `msg mine pending${p.failed ? " failed" : ""}`;
      li.textContent = `${p.text ?? p.files.join(", ")} — ${p.failed ? t.failed : t.sending}`;
      if (p.failed) {
        const retry = document.createElement("button");
        retry.type = "button";
        retry.className = "retry";
        retry.textContent = t.retry;
        retry.addEventListener("click", () => void rt.retryFailed());
        li.append(" ", retry);
      }
      items.push(li);
    }
    const log = this.els.log;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.replaceChildren(...items);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  private attachmentEl(a: LiveChatAttachment): HTMLElement {
    const wrap = document.createElement("div");
    wrap.className = `attachment ${a.kind}`;
    let url = this.urls.get(a.fileToken);
    if (!url) {
      url = this.rt?.fileUrl(a.fileToken).catch(() => null) ?? Promise.resolve(null);
      this.urls.set(a.fileToken, url);
    }
    if (a.kind === "image") {
      const img = document.createElement("img");
      img.alt = a.filename;
      void url.then((u) => {
        if (u) img.src = u;
      });
      wrap.append(img);
    } else if (a.kind === "audio" || a.kind === "voice") {
      const audio = document.createElement("audio");
      audio.controls = true;
      audio.setAttribute("aria-label", a.filename);
      void url.then((u) => {
        if (u) audio.src = u;
      });
      wrap.append(audio);
    } else {
      const link = document.createElement("a");
      link.textContent = a.filename;
      link.target = "_blank";
      link.rel = "noopener";
      void url.then((u) => {
        if (u) link.href = u;
      });
      wrap.append(link);
    }
    return wrap;
  }

  private setReply(m: LiveChatMessage | null): void {
    this.replyTo = m;
    this.els.replybar.classList.toggle("on", m !== null);
    this.els.replyText.textContent = m ? `${this.t.replyingTo}: ${m.text ?? this.t.attachment}` : "";
    this.els.input.focus();
  }

  private async submit(): Promise<void> {
    const rt = this.rt;
    if (!rt) return;
    const text = this.els.input.value.trim();
    const files = this.files;
    if (!text && files.length === 0) return;
    const replyTo = this.replyTo?.id ?? null;
    this.els.input.value = "";
    this.files = [];
    this.els.fileInput.value = "";
    this.els.files.textContent = "";
    this.setReply(null);
    try {
      await rt.send({ text, replyTo, files });
    } catch {
      /* the pending entry shows "not sent" */
    }
  }

  private maybeMarkRead(): void {
    const rt = this.rt;
    if (!rt || (typeof document !== "undefined" && document.visibilityState === "hidden")) return;
    const last = rt.messages.value.at(-1);
    if (!last || last.sender === rt.identity) return;
    void rt.markRead().catch(() => {});
  }
}

/** Registers `<utd-chat-widget>` (idempotent; a no-op outside browsers). */
export function defineChatWidget(tag = "utd-chat-widget"): void {
  const registry = (globalThis as { customElements?: CustomElementRegistry }).customElements;
  if (registry && !registry.get(tag)) registry.define(tag, UTDChatWidget);
}

/** The attach button's icon: a paperclip drawn in SVG (decorative; the label carries the name). */
function paperclip(): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "2");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9");
  svg.append(path);
  return svg;
}
