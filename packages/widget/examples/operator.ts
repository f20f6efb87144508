// The operator inbox of the example: the other half of the product, on @utd-stream/signaling only.
// Sign in (JWT from "your backend"), see the team queue, claim, reply (reply-to, attachments), transfer, close.
import type { HistoryResponse, Message, SupportConversation } from "@utd-stream/protocol";
import { ChatApi, UTDApi, UTDSignalClient } from "@utd-stream/signaling";

declare global {
  interface Window {
    UTD_EXAMPLE?: { appId: string; appKey: string };
  }
}

// The example server injects the app; served by the engine (/widget/operator.html) it comes from the
// query string: ?app_id=…&app_key=… (both publishable).
const query = new URLSearchParams(location.search);
const cfg = window.UTD_EXAMPLE ?? { appId: query.get("app_id") ?? "", appKey: query.get("app_key") ?? "" };

/**
 * The operator's identity token: from the example backend when there is one; otherwise the one pasted
 * into the page (signed-mode apps), or none (open-mode apps).
 */
async function identityToken(identity: string): Promise<string | undefined> {
  if (window.UTD_EXAMPLE) return (await fetch(`backend/jwt?identity=${encodeURIComponent(identity)}`)).text();
  const pasted = $<HTMLInputElement>("token").value.trim();
  return pasted || undefined;
}
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
// A bound fetch: UTDApi calls it as a method, which the global fetch refuses in browsers.
const api = new UTDApi({ baseUrl: location.origin, fetch: (url, init) => fetch(url, init) });
const chat = new ChatApi(api);
let client: UTDSignalClient | undefined;
let me = "";
let selected: SupportConversation | undefined;
let messages: Message[] = [];
let replyTo: Message | undefined;
let typingTimer: ReturnType<typeof setTimeout> | undefined;

async function signIn(): Promise<void> {
  me = $<HTMLInputElement>("identity").value.trim();
  const jwt = await identityToken(me);
  const s = await api.mintSession({ appId: cfg.appId, appKey: cfg.appKey, identity: me, ...(jwt ? { identityToken: jwt } : {}) });
  const who = await api.request<{ operator: boolean }>("GET", "/api/v1/support/me");
  $("me").textContent = who.operator ? `signed in as ${me}` : `${me} is not an operator of this app`;
  $("me").dataset.operator = String(who.operator);
  if (!who.operator) return;
  client?.disconnect();
  client = new UTDSignalClient({
    url: s.wsUrl,
    token: () => s.userToken,
    refreshToken: async () => {
      const fresh = await identityToken(me);
      return (await api.mintSession({ appId: cfg.appId, appKey: cfg.appKey, identity: me, ...(fresh ? { identityToken: fresh } : {}) }))
        .userToken;
    },
  });
  client.on("welcome", () => void refresh());
  client.on("support.updated", () => void refresh());
  client.on("message.new" as never, (m: Message) => {
    if (m.conversation_id === selected?.id && !messages.some((x) => x.id === m.id)) {
      messages.push(m);
      messages.sort((a, b) => a.seq - b.seq);
      renderLog();
    }
    void refreshQueue();
  });
  client.on("typing.started", (t) => {
    if (t.conversation_id !== selected?.id) return;
    $("typing").textContent = `${t.identity} is typing…`;
    if (typingTimer) clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
      $("typing").textContent = "";
    }, 6000);
  });
  client.on("typing.stopped", () => {
    $("typing").textContent = "";
  });
  client.connect();
}

async function refresh(): Promise<void> {
  await refreshQueue();
  if (selected) await select(selected.id);
}

async function refreshQueue(): Promise<void> {
  const state = $<HTMLInputElement>("showClosed").checked ? "all" : "open";
  const r = await api.request<{ conversations: SupportConversation[] }>("GET", `/api/v1/support/queue?state=${state}`);
  const ul = $("queue");
  ul.replaceChildren(
    ...r.conversations.map((c) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.id = c.id;
      b.dataset.state = c.state;
      b.setAttribute("aria-current", String(c.id === selected?.id));
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = c.state === "assigned" ? `${c.state}: ${c.assignee}` : c.state;
      const last = document.createElement("div");
      last.style.fontSize = "12px";
      last.style.color = "#6b7385";
      last.textContent = c.last_message?.text ?? "";
      b.append(c.visitor, badge, last);
      b.addEventListener("click", () => void select(c.id));
      li.append(b);
      return li;
    }),
  );
}

async function select(id: string): Promise<void> {
  selected = await api.request<SupportConversation>("GET", `/api/v1/support/conversations/${encodeURIComponent(id)}`);
  messages = (await api.request<HistoryResponse>("GET", `/api/v1/support/conversations/${encodeURIComponent(id)}/messages?limit=100`))
    .messages;
  renderConversation();
  const last = messages.at(-1);
  if (selected.assignee === me && last && selected.state !== "closed") {
    await api.request("POST", `/api/v1/conversations/${encodeURIComponent(id)}/read`, { seq: last.seq }).catch(() => {});
  }
  void refreshQueue();
}

function renderConversation(): void {
  const c = selected;
  if (!c) return;
  $("title").textContent = c.visitor;
  $("state").textContent = c.state === "assigned" ? `assigned to ${c.assignee}` : c.state;
  $("state").dataset.state = c.state;
  const mine = c.assignee === me && c.state === "assigned";
  $("claim").hidden = c.state !== "queued";
  $("transferBox").hidden = !mine;
  $("close").hidden = !(mine || c.state === "queued");
  $("composer").hidden = !mine;
  renderLog();
}

function renderLog(): void {
  const byId = new Map(messages.map((m) => [m.id, m]));
  $("log").replaceChildren(
    ...messages.map((m) => {
      const li = document.createElement("li");
      li.dataset.id = m.id;
      if (m.sender === me) li.className = "mine";
      if (m.reply_to) {
        const q = document.createElement("div");
        q.className = "quote";
        q.textContent = byId.get(m.reply_to)?.text ?? "…";
        li.append(q);
      }
      const text = document.createElement("div");
      text.dir = "auto";
      text.textContent = m.text ?? "";
      li.append(text);
      for (const a of m.attachments) {
        const link = document.createElement("a");
        link.className = "attachment";
        link.textContent = `📎 ${a.filename}`;
        link.href = "#";
        link.addEventListener("click", (e) => {
          e.preventDefault();
          void chat.file(a.file_token).then((f) => f.downloadUrl && window.open(f.downloadUrl, "_blank"));
        });
        li.append(link);
      }
      const f = document.createElement("footer");
      f.append(`${m.sender ?? "system"} · ${new Date(m.created_at).toLocaleTimeString()}`);
      const reply = document.createElement("button");
      reply.type = "button";
      reply.textContent = "Reply";
      reply.addEventListener("click", () => {
        replyTo = m;
        $("replying").textContent = `Replying to: ${m.text ?? "attachment"}`;
        $<HTMLInputElement>("text").focus();
      });
      f.append(reply);
      li.append(f);
      return li;
    }),
  );
  $("log").scrollTop = $("log").scrollHeight;
}

async function action(verb: "claim" | "close"): Promise<void> {
  if (!selected) return;
  selected = await api.request<SupportConversation>("POST", `/api/v1/support/conversations/${encodeURIComponent(selected.id)}/${verb}`);
  renderConversation();
  void refreshQueue();
}

if (window.UTD_EXAMPLE) $("tokenBox").hidden = true; // the example backend signs tokens
$("signin").addEventListener("click", () => void signIn());
$("showClosed").addEventListener("change", () => void refreshQueue());
$("claim").addEventListener("click", () => void action("claim"));
$("close").addEventListener("click", () => void action("close"));
$("transfer").addEventListener("click", async () => {
  if (!selected) return;
  selected = await api.request<SupportConversation>("POST", `/api/v1/support/conversations/${encodeURIComponent(selected.id)}/transfer`, {
    to: $<HTMLInputElement>("transferTo").value.trim(),
  });
  renderConversation();
});
$("text").addEventListener("input", () => {
  if (selected) client?.request("typing.start", { conversation_id: selected.id }).catch(() => {});
});
$<HTMLFormElement>("composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!selected) return;
  const input = $<HTMLInputElement>("text");
  const fileInput = $<HTMLInputElement>("file");
  const text = input.value.trim();
  const file = fileInput.files?.[0];
  if (!text && !file) return;
  const body: Record<string, unknown> = { client_msg_id: crypto.randomUUID() };
  if (text) body.text = text;
  if (replyTo) body.reply_to = replyTo.id;
  if (file) {
    const kind = file.type.startsWith("image/") ? "image" : file.type.startsWith("audio/") ? "audio" : "file";
    body.attachments = [
      { file_token: await chat.upload(kind, file, { filename: file.name, contentType: file.type || "application/octet-stream" }) },
    ];
  }
  input.value = "";
  fileInput.value = "";
  replyTo = undefined;
  $("replying").textContent = "";
  const m = await api.request<Message>("POST", `/api/v1/conversations/${encodeURIComponent(selected.id)}/messages`, body);
  if (!messages.some((x) => x.id === m.id)) messages.push(m);
  renderLog();
});
