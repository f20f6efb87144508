// The host page of the example: boot the background listener, subscribe once, log in with a JWT from
// "your backend", and mount/unmount the widget like a side panel.
import * as UTDWidget from "../src/index.js";
import {
  configure,
  defineChatWidget,
  liveChat,
  startBackgroundEvents,
  UTDEvents,
  type UTDEventType,
  userLogin,
  userLogout,
} from "../src/index.js";

declare global {
  interface Window {
    UTD_EXAMPLE?: { appId: string; appKey: string };
    UTDWidget: typeof UTDWidget;
    /** Every event the host received, in order (the end-to-end test reads it). */
    hostEvents: { type: UTDEventType; data: unknown }[];
  }
}

const cfg = window.UTD_EXAMPLE as { appId: string; appKey: string };
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
window.UTDWidget = UTDWidget;
window.hostEvents = [];

defineChatWidget();
configure({ appId: cfg.appId, appKey: cfg.appKey, baseUrl: location.origin, widgetId: "acme-shop" });

function toast(text: string): void {
  const t = $("toast");
  t.textContent = text;
  t.style.display = "block";
  setTimeout(() => {
    t.style.display = "none";
  }, 4000);
}

function record(type: UTDEventType, data: unknown, line: string): void {
  window.hostEvents.push({ type, data: JSON.parse(JSON.stringify(data)) });
  const li = document.createElement("li");
  li.dataset.type = type;
  li.textContent = `${type}: ${line}`;
  $("events").append(li);
}

// Subscribed once for the page's lifetime: the widget may come and go.
UTDEvents.on("conversationWasStarted", (c) => record("conversationWasStarted", c, `${c.id} (${c.state})`));
UTDEvents.on("conversationMessageReceived", (m) => {
  record("conversationMessageReceived", m, `${m.sender}: ${m.text ?? "[attachment]"}`);
  toast(`${m.sender}: ${m.text ?? "sent an attachment"}`);
});
UTDEvents.on("conversationWasClosed", (e) => record("conversationWasClosed", e, `${e.id} by ${e.closedBy ?? "?"}`));
UTDEvents.on("conversationAuthFailed", (e) => {
  record("conversationAuthFailed", e, `${e.conversationId ?? "-"} (${e.reason})`);
  $("who").textContent = "signed out — please log in again";
});

function showWho(): void {
  const id = liveChat().identity;
  $("who").textContent = id ? `signed in as ${id}` : "not signed in";
}

async function login(): Promise<void> {
  const identity = $<HTMLInputElement>("identity").value.trim();
  // Your backend signs this with the app secret after your own login; never in the browser.
  const jwt = await (await fetch(`/backend/jwt?identity=${encodeURIComponent(identity)}`)).text();
  await userLogin(jwt);
  showWho();
}

function openChat(): void {
  const panel = $("panel");
  if (panel.firstElementChild) {
    panel.replaceChildren();
    return;
  }
  const w = document.createElement("utd-chat-widget");
  w.setAttribute("app-id", cfg.appId);
  w.setAttribute("app-key", cfg.appKey);
  w.setAttribute("widget-id", "acme-shop");
  w.setAttribute("base-url", location.origin);
  w.setAttribute("language", $<HTMLSelectElement>("lang").value);
  w.addEventListener("close", () => panel.replaceChildren());
  panel.append(w);
}

$("login").addEventListener("click", () => void login());
$("logout").addEventListener("click", () => void userLogout().then(showWho));
$("open").addEventListener("click", openChat);
$("lang").addEventListener("change", () => {
  $("panel").querySelector("utd-chat-widget")?.setAttribute("language", $<HTMLSelectElement>("lang").value);
});

// App boot: resume from the persisted session (a no-op before the first login). `?boot=0` skips it.
if (new URLSearchParams(location.search).get("boot") !== "0") void startBackgroundEvents().then(showWho);
else showWho();
