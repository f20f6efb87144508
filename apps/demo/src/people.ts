import { type UTDPresence, UTDStreamException } from "@utd-stream/signaling";
import type { Ctx } from "./context.js";
import { h, replace } from "./dom.js";
import { ago, t } from "./i18n.js";

const LOBBY = "Lobby";

/**
 * Who is online. Everyone who signs in joins one open chatroom, "Lobby"; its members are the people
 * listed, and their presence is watched over the WebSocket (`presence.changed`). Anyone can also be
 * added by name (that is how it works when the app's plan has chat off).
 */
export class People {
  readonly el = h("section", { class: "people", "data-testid": "people" });
  private readonly list = h("ul", { class: "people-list" });
  private readonly presence = new Map<string, UTDPresence | undefined>();
  private lobbyId: string | undefined;

  constructor(private readonly ctx: Ctx) {
    const input = h("input", { name: "person", placeholder: t("people.addPlaceholder"), autocomplete: "off", "data-testid": "add-person" });
    const form = h("form", { class: "row" }, input, h("button", { type: "submit" }, t("people.add")));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const id = input.value.trim().replace(/\s+/g, "_");
      input.value = "";
      if (id && id !== ctx.me) void this.add([id]);
    });
    replace(this.el, h("h2", {}, t("people.title")), this.list, form);
    ctx.signaling.on("presenceChanged", (p) => {
      if (!this.presence.has(p.identity)) return;
      this.presence.set(p.identity, p);
      this.render();
    });
    ctx.signaling.on("resync", () => void this.refresh());
    // New lobby members appear live.
    ctx.signaling.client?.on("member.added", (d) => {
      if (d.conversation_id === this.lobbyId && d.identity !== ctx.me) void this.add([d.identity]);
    });
    this.render();
  }

  /** Joins the lobby and watches its members. */
  async start(): Promise<void> {
    const chat = this.ctx.chat;
    if (!chat) return;
    try {
      this.lobbyId = await this.lobby();
      const members = await chat.conversation(this.lobbyId).members();
      await this.add(members.map((m) => m.identity).filter((i) => i !== this.ctx.me));
    } catch (err) {
      // Chat off or a limit hit: the list still works by name.
      if (!(err instanceof UTDStreamException)) throw err;
    }
  }

  private async lobby(): Promise<string> {
    const chat = this.ctx.chat;
    if (!chat) throw new Error("no chat");
    const find = async () => {
      const { conversations } = await chat.chatrooms({ limit: 200 });
      // Two people may create it at the same moment: the oldest one wins for everybody.
      return conversations
        .filter((c) => c.name === LOBBY)
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))[0];
    };
    let lobby = await find();
    if (!lobby) {
      await chat.createConversation("chatroom", { name: LOBBY });
      lobby = await find();
    }
    if (!lobby) throw new Error("no lobby");
    await chat.conversation(lobby.id).join();
    return lobby.id;
  }

  /** Adds people to the list and watches their presence. */
  async add(ids: string[]): Promise<void> {
    const fresh = [...new Set(ids)].filter((i) => i !== this.ctx.me && !this.presence.has(i));
    if (fresh.length === 0) return;
    for (const i of fresh) this.presence.set(i, undefined);
    this.render();
    for (const p of await this.ctx.signaling.watchPresence(fresh)) this.presence.set(p.identity, p);
    this.render();
  }

  private async refresh(): Promise<void> {
    const ids = [...this.presence.keys()];
    if (ids.length === 0) return;
    for (const p of await this.ctx.signaling.getPresence(ids)) this.presence.set(p.identity, p);
    this.render();
  }

  private render(): void {
    const ids = [...this.presence.keys()].sort((a, b) => {
      const on = (i: string) => (this.presence.get(i)?.status === "online" ? 0 : 1);
      return on(a) - on(b) || a.localeCompare(b);
    });
    if (ids.length === 0) {
      replace(this.list, h("li", { class: "muted" }, t("people.empty")));
      return;
    }
    replace(
      this.list,
      ids.map((id) => {
        const p = this.presence.get(id);
        const online = p?.status === "online";
        const status = !p
          ? "…"
          : online
            ? t("presence.online")
            : p.lastSeenAt
              ? t("presence.lastSeen", { when: ago(p.lastSeenAt) })
              : t("presence.offline");
        return h(
          "li",
          {
            class: `person ${online ? "online" : "offline"}`,
            "data-testid": "person",
            "data-identity": id,
            "data-status": p?.status ?? "unknown",
          },
          h("span", { class: "dot", "aria-hidden": "true" }),
          h("span", { class: "who" }, h("bdi", { class: "name" }, id), h("small", { class: "status", "data-testid": "presence" }, status)),
          h(
            "span",
            { class: "actions" },
            this.ctx.chat
              ? h(
                  "button",
                  {
                    title: t("people.chat"),
                    "aria-label": t("people.chat"),
                    onclick: () => this.ctx.openChatWith(id),
                    "data-testid": "chat-with",
                  },
                  t("people.chat"),
                )
              : null,
            h(
              "button",
              {
                title: t("call.audio"),
                "aria-label": t("call.audio"),
                onclick: () => this.ctx.call(id, "audio_call"),
                "data-testid": "audio-call",
              },
              t("call.audioShort"),
            ),
            h(
              "button",
              {
                title: t("call.video"),
                "aria-label": t("call.video"),
                onclick: () => this.ctx.call(id, "video_call"),
                "data-testid": "video-call",
              },
              t("call.videoShort"),
            ),
          ),
        );
      }),
    );
  }
}
