import type { UTDLiveStreamSession } from "@utd-stream/media";
import type { Ctx } from "./context.js";
import { h, replace } from "./dom.js";
import { t } from "./i18n.js";
import { icon } from "./icons.js";
import { explain, mediaOff } from "./notice.js";
import { mountTiles } from "./tiles.js";

/**
 * Live stream: a host goes live, viewers watch and raise a hand, the host brings a viewer on stage and
 * back. Who may publish is decided by the engine (`canPublish` follows the server's grant).
 */
export class LivePanel {
  readonly el = h("section", { class: "live", "data-testid": "live" });
  private session: UTDLiveStreamSession | undefined;
  private readonly offs: (() => unknown)[] = [];
  private stopTiles: (() => void) | undefined;
  private handRaised = false;

  constructor(private readonly ctx: Ctx) {
    this.renderJoin();
  }

  private renderJoin(): void {
    if (!this.ctx.cfg.livekit) {
      replace(this.el, h("h2", {}, t("live.title")), mediaOff());
      return;
    }
    const room = h("input", { name: "live-room", value: "demo-live", "data-testid": "live-room", dir: "ltr" });
    const status = h("div", {});
    const join = (asHost: boolean) => async () => {
      try {
        const media = await this.ctx.media();
        const s = await media.joinLiveStream({
          identity: this.ctx.me,
          roomName: room.value.trim() || "demo-live",
          asHost,
          deviceId: this.ctx.deviceId,
        });
        if (asHost) await s.goLive({ withVideo: true });
        this.attach(s);
      } catch (err) {
        replace(status, explain(err));
      }
    };
    replace(
      this.el,
      h("h2", {}, t("live.title")),
      h("p", { class: "muted" }, t("live.intro")),
      h(
        "div",
        { class: "row" },
        h("label", {}, t("live.room"), " ", room),
        h("button", { "data-testid": "go-live", onclick: join(true) }, t("live.goLive")),
        h("button", { "data-testid": "watch", onclick: join(false) }, t("live.watch")),
      ),
      status,
    );
  }

  private attach(s: UTDLiveStreamSession): void {
    this.session = s;
    this.handRaised = false;
    // Raised hands are stored by the engine: a host who reloads sees them again.
    if (s.isHost) void s.refreshStage().catch(() => {});
    this.offs.push(
      s.stage.subscribe(() => this.render()),
      s.raisedHands.subscribe(() => this.render()),
      s.remoteParticipants.subscribe(() => this.render()),
      s.canPublish.subscribe((can) => {
        // Promoted by the host: publish camera and microphone; demoted: the SDK stops them.
        if (can && !s.isHost) void s.goLive({ withVideo: true }).catch((e: unknown) => this.ctx.toast(explain(e)));
        if (can) this.handRaised = false;
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

  private act(fn: () => Promise<void>): () => void {
    return () => void fn().catch((e: unknown) => this.ctx.toast(explain(e)));
  }

  private render(): void {
    const s = this.session;
    if (!s) return;
    const stage = s.stage.value;
    const onStage = new Set(stage.map((m) => m.identity));
    const meOnStage = onStage.has(this.ctx.me);
    const viewers = s.remoteParticipants.value.map((p) => p.identity).filter((i) => !onStage.has(i));
    const tiles = h("div", { class: "tiles" });
    this.stopTiles?.();
    replace(
      this.el,
      h(
        "h2",
        {},
        t("live.titleIn", { room: s.roomName }),
        " ",
        h(
          "span",
          { class: "pill", "data-testid": "live-role" },
          s.isHost ? t("live.host") : meOnStage ? t("live.cohost") : t("live.viewer"),
        ),
      ),
      tiles,
      h(
        "div",
        { class: "stage-list" },
        h("h3", {}, t("live.stage")),
        h(
          "ul",
          { "data-testid": "stage" },
          stage.map((m) =>
            h(
              "li",
              { "data-testid": "stage-member", "data-identity": m.identity },
              h("bdi", {}, m.identity),
              ` · ${m.role === "host" ? t("live.host") : t("live.cohost")}`,
              s.isHost && m.role !== "host"
                ? h("button", { "data-testid": "demote", onclick: this.act(() => s.removeFromStage(m.identity)) }, t("live.backToAudience"))
                : null,
            ),
          ),
        ),
      ),
      s.isHost
        ? h(
            "div",
            { class: "viewers" },
            h("h3", {}, t("live.viewers")),
            h(
              "ul",
              { "data-testid": "viewers" },
              viewers.length === 0 ? h("li", { class: "muted" }, t("live.noViewers")) : null,
              viewers.map((v) =>
                h(
                  "li",
                  { "data-testid": "viewer", "data-identity": v },
                  h("bdi", {}, v),
                  this.session?.raisedHands.value.some((r) => r.identity === v)
                    ? h("span", { class: "hand", "data-testid": "hand-raised" }, " ", icon("hand"))
                    : null,
                  h("button", { "data-testid": "promote", onclick: this.act(() => s.inviteToStage(v)) }, t("live.bringOnStage")),
                ),
              ),
            ),
          )
        : null,
      h(
        "div",
        { class: "controls" },
        !s.isHost && !meOnStage
          ? h(
              "button",
              {
                "data-testid": "raise-hand",
                disabled: this.handRaised,
                onclick: this.act(async () => {
                  await s.requestStage();
                  this.handRaised = true;
                  this.render();
                }),
              },
              this.handRaised ? t("live.handRaised") : t("live.raiseHand"),
            )
          : null,
        !s.isHost && meOnStage
          ? h("button", { "data-testid": "leave-stage", onclick: this.act(() => s.leaveStage()) }, t("live.leaveStage"))
          : null,
        h(
          "button",
          { class: "reject", "data-testid": "leave-live", onclick: () => void this.leave() },
          s.isHost ? t("live.end") : t("live.leave"),
        ),
      ),
    );
    this.stopTiles = mountTiles(s, tiles);
  }
}
