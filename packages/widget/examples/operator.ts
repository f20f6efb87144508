// The operator inbox of the example: the other half of the product, on @utd-stream/signaling only.
// Sign in (JWT from "your backend"), see the team queue, claim, reply (reply-to, attachments), transfer, close.
import {
  ChatApi,
  messageFromWire,
  SupportApi,
  sessionCredentials,
  TokenSource,
  UTDApi,
  type UTDMessage,
  UTDSignalClient,
  type UTDSupportConversation,
} from "@utd-stream/signaling";

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
const api = new UTDApi({ baseUrl: location.origin });
const chat = new ChatApi(api);
const support = new SupportApi(api);
let client: UTDSignalClient | undefined;
let me = "";
let selected: UTDSupportConversation | undefined;
let messages: UTDMessage[] = [];
let replyTo: UTDMessage | undefined;
let typingTimer: ReturnType<typeof setTimeout> | undefined;

async function signIn(): Promise<void> {
  me = $<HTMLInputElement>("identity").value.trim();
  const identity = me;
  // Signed-mode apps need an identity token on every mint; open-mode apps have none.
  const signed = (await identityToken(identity)) !== undefined;
  // One token source: minted now, minted again (with a fresh identity token) whenever it expires.
  const tokens = new TokenSource({
    fetch: sessionCredentials(new UTDApi({ baseUrl: location.origin }), {
      appId: cfg.appId,
      appKey: cfg.appKey,
      identity,
      ...(signed ? { identityToken: async () => (await identityToken(identity)) ?? "" } : {}),
    }),
  });
  const { session } = await tokens.credentials();
  api.tokens = tokens;
  const operator = await support.isOperator();
  $("me").textContent = operator ? `signed in as ${me}` : `${me} is not an operator of this app`;
  $("me").dataset.operator = String(operator);
  if (!operator) return;
  client?.disconnect();
  client = new UTDSignalClient({
    url: session?.wsUrl ?? `${location.origin.replace(/^http/, "ws")}/api/v1/ws`,
    token: () => tokens.token(),
    refreshToken: (failed) => tokens.refresh(failed),
  });
  client.on("welcome", () => void refresh());
  client.on("support.updated", () => void refresh());
  client.on("message.new", (wire) => {
    const m = messageFromWire(wire);
    if (m.conversationId === selected?.id && !messages.some((x) => x.id === m.id)) {
      messages.push(m);
      messages.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
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
  const conversations = await support.queue({ state });
  const ul = $("queue");
  ul.replaceChildren(
    ...conversations.map((c) => {
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
      last.textContent = c.lastMessage?.text ?? "";
      b.append(c.visitor, badge, last);
      b.addEventListener("click", () => void select(c.id));
      li.append(b);
      return li;
    }),
  );
}

async function select(id: string): Promise<void> {
  selected = await support.get(id);
  messages = (await support.history(id, { limit: 100 })).messages;
  renderConversation();
  const last = messages.at(-1);
  if (selected.assignee === me && last?.seq && selected.state !== "closed") {
    await chat.markRead(id, last.seq).catch(() => {});
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
      if (m.replyTo) {
        const q = document.createElement("div");
        q.className = "quote";
        q.textContent = byId.get(m.replyTo)?.text ?? "…";
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
          void chat.file(a.fileToken).then((f) => f.downloadUrl && window.open(f.downloadUrl, "_blank"));
        });
        li.append(link);
      }
      const f = document.createElement("footer");
      f.append(`${m.sender ?? "system"} · ${m.createdAt.toLocaleTimeString()}`);
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
  selected = await (verb === "claim" ? support.claim(selected.id) : support.close(selected.id));
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
  selected = await support.transfer(selected.id, $<HTMLInputElement>("transferTo").value.trim());
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
  const send: { text?: string; replyTo?: string; files?: string[] } = {};
  if (text) send.text = text;
  if (replyTo) send.replyTo = replyTo.id;
  if (file) {
    const kind = file.type.startsWith("image/") ? "image" : file.type.startsWith("audio/") ? "audio" : "file";
    send.files = [await chat.upload(kind, file, { filename: file.name, contentType: file.type || "application/octet-stream" })];
  }
  input.value = "";
  fileInput.value = "";
  replyTo = undefined;
  $("replying").textContent = "";
  const m = await chat.send(selected.id, send, crypto.randomUUID());
  if (!messages.some((x) => x.id === m.id)) messages.push(m);
  renderLog();
});
