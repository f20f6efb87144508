import type { UTDAudioRoomSession, UTDSeats } from "@utd-stream/media";
import type { Ctx } from "./context.js";
import { h, replace } from "./dom.js";
import { t } from "./i18n.js";
import { explain, mediaOff } from "./notice.js";
import { mountTiles } from "./tiles.js";

/**
 * Audio room: a seat grid in free or request mode. Listeners take a seat (free) or ask to speak and
 * wait for the host's approval (request); a seat is what lets a microphone publish.
 */
export class AudioRoomPanel {
  readonly el = h("section", { class: "audio-room", "data-testid": "audio-room" });
  private session: UTDAudioRoomSession | undefined;
  private readonly offs: (() => unknown)[] = [];
  private stopTiles: (() => void) | undefined;
  private requested = false;
  private approved = false;

  constructor(private readonly ctx: Ctx) {
    this.renderJoin();
  }

  private renderJoin(): void {
    if (!this.ctx.cfg.livekit) {
      replace(this.el, h("h2", {}, t("room.title")), mediaOff());
      return;
    }
    const room = h("input", { name: "audio-room", value: "demo-room", "data-testid": "room-name", dir: "ltr" });
    const mode = h(
      "select",
      { name: "seat-mode", "data-testid": "seat-mode" },
      h("option", { value: "free" }, t("room.modeFree")),
      h("option", { value: "request" }, t("room.modeRequest")),
    );
    const status = h("div", {});
    const join = (asHost: boolean) => async () => {
      try {
        const media = await this.ctx.media();
        const s = await media.joinAudioRoom({
          identity: this.ctx.me,
          roomName: room.value.trim() || "demo-room",
          asHost,
          deviceId: this.ctx.deviceId,
          ...(asHost ? { seatCount: 6, seatMode: mode.value === "request" ? ("request" as const) : ("free" as const) } : {}),
        });
        this.attach(s);
      } catch (err) {
        replace(status, explain(err));
      }
    };
    replace(
      this.el,
      h("h2", {}, t("room.title")),
      h("p", { class: "muted" }, t("room.intro")),
      h(
        "div",
        { class: "row" },
        h("label", {}, t("room.name"), " ", room),
        h("label", {}, t("room.mode"), " ", mode),
        h("button", { "data-testid": "open-room", onclick: join(true) }, t("room.open")),
        h("button", { "data-testid": "join-room", onclick: join(false) }, t("room.join")),
      ),
      status,
    );
  }

  private attach(s: UTDAudioRoomSession): void {
    this.session = s;
    this.requested = false;
    this.approved = false;
    this.offs.push(
      s.seats.subscribe(() => this.render()),
      s.canPublish.subscribe(() => this.render()),
      s.speakEvents.subscribe((e) => {
        if (e && e.identity === this.ctx.me && (e.status === "approved" || e.kind === "invite")) this.approved = true;
        if (s.isHost && e?.status === "pending") void s.getSeats().catch(() => {});
        this.render();
      }),
    );
    this.render();
  }

  private async leave(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    this.stopTiles?.();
    this.stopTiles = undefined;
    await this.session?.dispose().catch(() => {});
    this.session = undefined;
    this.renderJoin();
  }

  private act(fn: () => Promise<unknown>): () => void {
    return () => void fn().catch((e: unknown) => this.ctx.toast(explain(e)));
  }

  private render(): void {
    const s = this.session;
    if (!s) return;
    const seats: UTDSeats | null = s.seats.value;
    const mySeat = seats?.seats.find((x) => x.identity === this.ctx.me);
    const mayTake = s.isHost || seats?.seatMode === "free" || this.approved;
    const pending = (seats?.requests ?? []).filter((r) => r.status === "pending" && r.kind === "request");
    const tiles = h("div", { class: "tiles audio-only" });
    this.stopTiles?.();
    replace(
      this.el,
      h(
        "h2",
        {},
        t("room.titleIn", { room: s.roomName }),
        " ",
        h(
          "span",
          { class: "pill", "data-testid": "seat-mode-label" },
          seats?.seatMode === "request" ? t("room.modeRequest") : t("room.modeFree"),
        ),
      ),
      h(
        "ol",
        { class: "seats", "data-testid": "seats" },
        (seats?.seats ?? []).map((seat) =>
          h(
            "li",
            {
              class: `seat${seat.identity ? " taken" : ""}`,
              "data-testid": "seat",
              "data-index": seat.index,
              "data-identity": seat.identity ?? "",
            },
            h("span", { class: "seat-no" }, seat.index + 1),
            seat.identity ? h("bdi", { class: "occupant" }, seat.name ?? seat.identity) : h("span", { class: "muted" }, t("room.empty")),
            !seat.identity && !mySeat && mayTake
              ? h("button", { "data-testid": "take-seat", onclick: this.act(() => s.takeSeat(seat.index)) }, t("room.take"))
              : null,
            seat.identity === this.ctx.me
              ? h("button", { "data-testid": "leave-seat", onclick: this.act(() => s.leaveSeat()) }, t("room.leaveSeat"))
              : null,
          ),
        ),
      ),
      mySeat ? h("p", { "data-testid": "speaking" }, s.canPublish.value ? t("room.onMic") : t("room.waitingMic")) : null,
      !s.isHost && !mySeat && seats?.seatMode === "request" && !this.approved
        ? h(
            "button",
            {
              "data-testid": "request-speak",
              disabled: this.requested,
              onclick: this.act(async () => {
                await s.requestToSpeak();
                this.requested = true;
                this.render();
              }),
            },
            this.requested ? t("room.requested") : t("room.requestSpeak"),
          )
        : null,
      !s.isHost && this.approved && !mySeat ? h("p", { "data-testid": "approved" }, t("room.approved")) : null,
      s.isHost && pending.length > 0
        ? h(
            "ul",
            { class: "requests", "data-testid": "speak-requests" },
            pending.map((r) =>
              h(
                "li",
                { "data-testid": "speak-request", "data-identity": r.identity },
                h("bdi", {}, r.name ?? r.identity),
                ` ${t("room.wantsToSpeak")} `,
                h("button", { "data-testid": "approve", onclick: this.act(() => s.approveSpeaker(r.requestId)) }, t("room.approve")),
              ),
            ),
          )
        : null,
      tiles,
      h(
        "div",
        { class: "controls" },
        h("button", { class: "reject", "data-testid": "leave-room", onclick: () => void this.leave() }, t("room.leave")),
      ),
    );
    this.stopTiles = mountTiles(s, tiles);
  }
}
