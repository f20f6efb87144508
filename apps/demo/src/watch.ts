import type { UTDSignalRoom, UTDSignalRoomMember } from "@utd-stream/signaling";
import type { Ctx } from "./context.js";
import { h, replace } from "./dom.js";
import { t } from "./i18n.js";
import { icon } from "./icons.js";
import { explain } from "./notice.js";

/** What a watch party agrees on: playing or not, the position then, and who said so. */
interface PlayState {
  playing: boolean;
  /** Position in seconds when `since` was taken. */
  at: number;
  since: number;
  by: string | null;
}

/** The broadcast: `{action: "play" | "pause", at}` (and `sync` for a late joiner). */
interface PlayMessage {
  action: "play" | "pause" | "sync";
  at: number;
  /** `sync`: the state being passed on, and who set it. */
  playing?: boolean;
  by?: string | null;
}

function isPlayMessage(d: unknown): d is PlayMessage {
  if (typeof d !== "object" || d === null) return false;
  const m = d as Record<string, unknown>;
  return (m.action === "play" || m.action === "pause" || m.action === "sync") && typeof m.at === "number" && Number.isFinite(m.at);
}

const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;

/**
 * "Watch together": a signalling room (`UTDSignaling.room`) keeps everyone's player in step. Play and
 * pause are broadcasts to the room; the member list is the room's `members` store. A late joiner is
 * brought up to date by the member who has been there longest. No media flows: it is the room itself.
 */
export class WatchPanel {
  readonly el = h("section", { class: "watch", "data-testid": "watch-panel" });
  private room: UTDSignalRoom | undefined;
  private state: PlayState = { playing: false, at: 0, since: Date.now(), by: null };
  private readonly offs: (() => unknown)[] = [];
  private ticker: ReturnType<typeof setInterval> | undefined;
  private readonly status = h("p", { class: "watch-status", "data-testid": "watch-status", "aria-live": "polite" });
  private readonly members = h("ul", { class: "watch-members", "data-testid": "watch-members" });

  constructor(private readonly ctx: Ctx) {
    this.renderJoin();
  }

  private renderJoin(error?: unknown): void {
    const name = h("input", { name: "watch-room", value: "movie-night", "data-testid": "watch-room", dir: "ltr", maxlength: 64 });
    const form = h(
      "form",
      { class: "row" },
      h("label", {}, t("watch.room"), " ", name),
      h("button", { type: "submit", "data-testid": "watch-join" }, t("watch.join")),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.join(name.value.trim() || "movie-night");
    });
    replace(this.el, h("h2", {}, t("watch.title")), h("p", { class: "muted" }, t("watch.intro")), form, error ? explain(error) : null);
  }

  private async join(name: string): Promise<void> {
    let room: UTDSignalRoom;
    try {
      room = await this.ctx.signaling.room(name);
    } catch (err) {
      this.renderJoin(err);
      return;
    }
    this.room = room;
    this.state = { playing: false, at: 0, since: Date.now(), by: null };
    this.offs.push(
      room.members.subscribe((ms) => this.renderMembers(ms)),
      room.messages.subscribe((m) => {
        if (!isPlayMessage(m.data)) return;
        const by = m.data.action === "sync" && typeof m.data.by === "string" ? m.data.by : (m.from?.identity ?? null);
        const playing = m.data.action === "sync" ? m.data.playing === true : m.data.action === "play";
        this.apply({ playing, at: m.data.at, since: Date.now(), by });
      }),
      room.on("memberJoined", () => {
        // The longest-standing member tells a newcomer where the party is.
        const first = room.members.value[0];
        if (first?.identity === this.ctx.me && this.state.by !== null) void this.send("sync");
      }),
      room.on("closed", ({ reason }) => this.leave(t("watch.closed", { reason }))),
      room.on("error", (e) => this.leave(e.message)),
    );
    this.ticker = setInterval(() => this.renderStatus(), 500);
    replace(
      this.el,
      h("h2", {}, t("watch.title")),
      h("p", { class: "muted" }, t("watch.inRoom", { room: name })),
      h(
        "div",
        { class: "player" },
        h("div", { class: "screen", "aria-hidden": "true" }, icon("play", 48)),
        this.status,
        h(
          "div",
          { class: "row" },
          h("button", { "data-testid": "watch-play", onclick: () => void this.send("play") }, t("watch.play")),
          h("button", { "data-testid": "watch-pause", onclick: () => void this.send("pause") }, t("watch.pause")),
          h("button", { "data-testid": "watch-leave", onclick: () => void this.leave() }, t("watch.leave")),
        ),
      ),
      h("h3", {}, t("watch.members")),
      this.members,
    );
    this.renderStatus();
  }

  private position(): number {
    const s = this.state;
    return s.playing ? s.at + (Date.now() - s.since) / 1000 : s.at;
  }

  private async send(action: PlayMessage["action"]): Promise<void> {
    const room = this.room;
    if (!room) return;
    const at = Math.round(this.position() * 10) / 10;
    const playing = action === "sync" ? this.state.playing : action === "play";
    try {
      await room.publish(action === "sync" ? { action, at, playing, by: this.state.by } : { action, at });
      if (action !== "sync") this.apply({ playing, at, since: Date.now(), by: this.ctx.me });
    } catch (err) {
      this.ctx.toast(explain(err));
    }
  }

  private apply(s: PlayState): void {
    this.state = s;
    this.renderStatus();
  }

  private renderStatus(): void {
    const s = this.state;
    this.status.dataset.playing = String(s.playing);
    this.status.dataset.by = s.by ?? "";
    const where = clock(this.position());
    this.status.textContent = s.by
      ? t(s.playing ? "watch.playingBy" : "watch.pausedBy", { at: where, name: s.by })
      : t("watch.ready", { at: where });
  }

  private renderMembers(ms: readonly UTDSignalRoomMember[]): void {
    replace(
      this.members,
      ms.map((m) =>
        h(
          "li",
          { "data-testid": "watch-member", "data-identity": m.identity },
          m.name ?? m.identity,
          m.identity === this.ctx.me ? ` ${t("watch.you")}` : "",
          m.devices > 1 ? ` ×${m.devices}` : "",
        ),
      ),
    );
  }

  private async leave(notice?: string): Promise<void> {
    const room = this.room;
    this.room = undefined;
    for (const off of this.offs.splice(0)) off();
    if (this.ticker) clearInterval(this.ticker);
    this.renderJoin();
    if (notice) this.ctx.toast(notice);
    await room?.leave().catch(() => {});
  }
}
