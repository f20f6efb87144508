/**
 * The UTD Stream demo page: sign in as any name on the demo app (open mode), see who is online, chat,
 * call, go live and share an audio room. It uses only the public SDKs — @utd-stream/signaling for
 * presence, calls and chat, @utd-stream/media for LiveKit media — so it doubles as their reference integration.
 */
import type { UTDStreamClient } from "@utd-stream/media";
import { chatSessionFor, IndexedDbChatStorage, UTDSignaling, UTDStreamException } from "@utd-stream/signaling";
import { AudioRoomPanel } from "./audio-room.js";
import { Calls } from "./calls.js";
import { ChatPanel } from "./chat.js";
import { type DemoConfig, loadConfig } from "./config.js";
import type { Ctx } from "./context.js";
import { h, replace } from "./dom.js";
import { initLocale, otherLocale, setLocale, t } from "./i18n.js";
import { LivePanel } from "./live.js";
import { explain } from "./notice.js";
import { People } from "./people.js";
import { WatchPanel } from "./watch.js";
import "./style.css";

const USER_KEY = "utd-demo-user";
/** The last name signed in on this browser: an Answer on a call notification signs in as them. */
const LAST_USER_KEY = "utd-demo-last-user";

/** A call to answer once signed in (from a notification's Answer: `?answer=<call id>` or a message from the service worker). */
let pendingAnswer: string | null = new URLSearchParams(location.search).get("answer");
let answerNow: ((callId: string) => void) | undefined;
const DEVICE_KEY = "utd-demo-device";

const root = document.getElementById("app") as HTMLElement;
initLocale();

function langButton(): HTMLElement {
  const other = otherLocale();
  return h("button", { class: "lang", lang: other.id, "data-testid": "lang", onclick: () => setLocale(other.id) }, other.name);
}

/** One id per browser tab (sessionStorage), so two tabs are two devices and a reload is the same device. */
function deviceId(): string {
  let id = sessionStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = `web-${crypto.randomUUID().slice(0, 8)}`;
    sessionStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

function renderSignIn(cfg: DemoConfig, error?: HTMLElement): void {
  const name = h("input", {
    name: "name",
    required: true,
    maxlength: 64,
    autocomplete: "nickname",
    placeholder: t("signin.placeholder"),
    "data-testid": "name",
    dir: "auto",
  });
  const form = h(
    "form",
    { class: "card signin", "data-testid": "signin" },
    h("h1", {}, t("app.title")),
    h("p", {}, t("signin.intro")),
    h("label", {}, t("signin.name"), name),
    h("button", { type: "submit", "data-testid": "signin-button" }, t("signin.button")),
    error ?? null,
    h("p", { class: "muted" }, t("signin.hint")),
    langButton(),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const display = name.value.trim();
    if (display) void signIn(cfg, display);
  });
  replace(root, form);
  name.focus();
}

async function signIn(cfg: DemoConfig, display: string): Promise<void> {
  const me = display.replace(/\s+/g, "_");
  const device = deviceId();
  replace(root, h("p", { class: "center muted", "data-testid": "connecting" }, t("signin.connecting")));
  const signaling = new UTDSignaling({
    baseUrl: location.origin,
    appId: cfg.appId,
    appKey: cfg.appKey,
    userId: me,
    name: display,
    deviceId: device,
  });
  try {
    await signaling.connect();
  } catch (err) {
    console.error("sign-in failed", err);
    signaling.disconnect();
    sessionStorage.removeItem(USER_KEY);
    // With every real-time capability off, connect() rejects with feature_disabled: explain() shows the upsell.
    renderSignIn(cfg, explain(err));
    return;
  }
  sessionStorage.setItem(USER_KEY, display);
  localStorage.setItem(LAST_USER_KEY, display);
  // The service worker shows the call and message notifications Web Push brings while no tab is open.
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch((err: unknown) => console.warn("service worker", err));
  // One session for this user: chat shares the facade's WebSocket, REST client and token; it is off when
  // the app's plan has no chat.
  // Offline-first: conversations, recent messages and unsent messages are kept in IndexedDB.
  const chat =
    signaling.chatEnabled !== false
      ? chatSessionFor(signaling, typeof indexedDB === "undefined" ? {} : { offline: { storage: new IndexedDbChatStorage() } })
      : undefined;
  // Media shares the same session too (its user token renews itself); @utd-stream/media and livekit-client
  // are a separate chunk, loaded on first use.
  let mediaClient: Promise<UTDStreamClient> | undefined;
  const media = async (): Promise<UTDStreamClient> => {
    mediaClient ??= import("@utd-stream/media").then(({ UTDStreamClient }) => new UTDStreamClient({ signaling }));
    return mediaClient.catch((err: unknown) => {
      mediaClient = undefined; // a failed chunk load is retried next time
      throw err;
    });
  };
  shell({ cfg, me, deviceId: device, signaling, media, chat });
}

/** The typed error the SDK would raise for a capability the app's plan leaves off. */
function capabilityOff(capability: "chat" | "signaling"): UTDStreamException {
  return new UTDStreamException(403, "feature_disabled", `${capability} is off for this app`, { capability });
}

function shell(base: Pick<Ctx, "cfg" | "me" | "deviceId" | "signaling" | "media" | "chat">): void {
  const toasts = h("div", { class: "toasts", "aria-live": "polite", "data-testid": "toasts" });
  const ctx: Ctx = {
    ...base,
    openChatWith: (id) => {
      select("chat");
      void chatPanel?.openWith(id);
    },
    call: (id, type) => void calls.start(id, type),
    toast: (msg) => {
      const el = h(
        "div",
        { class: "toast", role: "status" },
        msg,
        h("button", { class: "close", "aria-label": t("toast.close"), onclick: () => el.remove() }, "×"),
      );
      toasts.append(el);
      while (toasts.childElementCount > 4) toasts.firstElementChild?.remove();
    },
  };
  const people = new People(ctx);
  const chatPanel = ctx.chat ? new ChatPanel(ctx, ctx.chat) : undefined;
  const calls = new Calls(ctx);
  answerNow = (id) => void calls.answer(id);
  if (pendingAnswer) {
    answerNow(pendingAnswer);
    pendingAnswer = null;
    history.replaceState(null, "", location.pathname);
  }
  const panels = {
    // Chat off for this app's plan: the tab shows the upsell the SDK's typed error describes.
    chat: chatPanel?.el ?? explain(capabilityOff("chat")),
    live: new LivePanel(ctx).el,
    room: new AudioRoomPanel(ctx).el,
    watch: new WatchPanel(ctx).el,
  } as const;
  type Tab = keyof typeof panels;
  const tabButtons = (Object.keys(panels) as Tab[]).map((id) =>
    h("button", { role: "tab", "data-testid": `tab-${id}`, "data-tab": id, onclick: () => select(id) }, t(`tab.${id}`)),
  );
  const main = h("main", { class: "main" });
  function select(id: Tab): void {
    for (const b of tabButtons) b.setAttribute("aria-selected", String(b.dataset.tab === id));
    replace(main, panels[id]);
  }
  const conn = h("span", { class: "conn", "data-testid": "connection" });
  const showConn = (s: string) => {
    conn.dataset.state = s;
    conn.textContent = t(s === "connected" ? "conn.online" : s === "closed" ? "conn.closed" : "conn.reconnecting");
  };
  showConn(ctx.signaling.state.value);
  ctx.signaling.state.subscribe(showConn);
  const signOut = async () => {
    // Signing out clears this user's offline chat cache.
    await ctx.chat?.signOut().catch(() => {});
    ctx.signaling.disconnect();
    sessionStorage.removeItem(USER_KEY);
    location.reload();
  };
  replace(
    root,
    h(
      "header",
      { class: "top" },
      h("strong", { class: "brand" }, t("app.title")),
      h("span", { class: "me", "data-testid": "me" }, t("header.signedInAs", { name: ctx.me })),
      conn,
      h("span", { class: "spacer" }),
      langButton(),
      h("button", { "data-testid": "signout", onclick: () => void signOut() }, t("header.signOut")),
    ),
    h(
      "div",
      { class: "layout" },
      h(
        "aside",
        { class: "side" },
        // Presence and call invitations are the `signaling` capability: say so when the plan has it off.
        ctx.signaling.signalingEnabled === false ? explain(capabilityOff("signaling")) : null,
        people.el,
      ),
      h("div", { class: "content" }, h("nav", { class: "tabs", role: "tablist" }, tabButtons), main),
    ),
    calls.el,
    toasts,
  );
  select("chat");
  // Total unread in the tab title, kept right by the SDK across reconnects and other devices' reads.
  ctx.chat?.unread.subscribe((u) => {
    document.title = u.total > 0 ? `(${u.total}) ${t("app.title")}` : t("app.title");
  });
  void people.start();
}

async function boot(): Promise<void> {
  let cfg: DemoConfig;
  try {
    cfg = await loadConfig();
  } catch {
    replace(
      root,
      h(
        "div",
        { class: "card notice error", "data-testid": "no-config" },
        h("h1", {}, t("app.title")),
        h("p", {}, t("config.missing")),
        h("code", { dir: "ltr" }, "npm start"),
      ),
    );
    return;
  }
  // Answer on a call notification: take the call, signing in as the last user of this browser if needed.
  navigator.serviceWorker?.addEventListener("message", (ev: MessageEvent<{ type?: string; call_id?: string }>) => {
    if (ev.data?.type !== "answer" || !ev.data.call_id) return;
    if (answerNow) answerNow(ev.data.call_id);
    else {
      pendingAnswer = ev.data.call_id;
      const last = localStorage.getItem(LAST_USER_KEY);
      if (last) void signIn(cfg, last);
    }
  });
  const saved = sessionStorage.getItem(USER_KEY) ?? (pendingAnswer ? localStorage.getItem(LAST_USER_KEY) : null);
  if (saved) await signIn(cfg, saved);
  else renderSignIn(cfg);
}

void boot();
