import type { UTDCallSession } from "@utd-stream/media";
import type { UTDCall } from "@utd-stream/signaling";
import type { Ctx } from "./context.js";
import { h, replace } from "./dom.js";
import { type Key, t } from "./i18n.js";
import { explain, mediaOff } from "./notice.js";
import { mountTiles } from "./tiles.js";

type CallType = "audio_call" | "video_call";

/** Statuses after which a call never changes (as the media SDK's `isTerminal`; kept here so the page
 * does not load the media chunk just for it). */
function isTerminal(s: UTDCall["status"]): boolean {
  return s === "ended" || s === "rejected" || s === "busy" || s === "missed";
}

interface Current {
  id: string;
  peer: string;
  type: CallType;
  status: UTDCall["status"];
  /** Media (LiveKit); absent when the engine runs without it — ringing still works. */
  session: UTDCallSession | undefined;
  /** Stops following the call's state. */
  off?: () => void;
  note?: Key;
}

/**
 * 1:1 calls. Ringing, accept/reject/busy and hang-up go through the engine's call state machine; the
 * callee hears about a call on the WebSocket (`UTDSignaling.incomingCalls`), and both sides follow
 * `call.*` events. With LiveKit, `UTDCallSession` from @utd-stream/media carries audio and video.
 */
export class Calls {
  readonly el = h("div", { class: "call-layer" });
  private readonly incomingEl = h("div", { class: "incoming" });
  private readonly panel = h("div", {
    class: "call-panel",
    hidden: true,
    "data-testid": "call-panel",
    role: "dialog",
    "aria-modal": "false",
  });
  private current: Current | undefined;
  private stopTiles: (() => void) | undefined;
  private micOn = true;
  private camOn = true;

  constructor(private readonly ctx: Ctx) {
    this.el.append(this.incomingEl, this.panel);
    ctx.signaling.incomingCalls.subscribe((calls) => this.renderIncoming(calls));
    ctx.signaling.on("call", (e) => {
      if (e.answeredElsewhere) ctx.toast(t("call.answeredElsewhere"));
      if (e.type === "missed" && e.call.calleeIdentity === ctx.me && this.current?.id !== e.call.id) {
        ctx.toast(t("call.missedFrom", { name: e.call.callerIdentity }));
      }
    });
  }

  /** Rings `peer`. */
  async start(peer: string, type: CallType): Promise<void> {
    if (this.current && !isTerminal(this.current.status)) {
      this.ctx.toast(t("call.alreadyIn"));
      return;
    }
    try {
      let call: UTDCall;
      let session: UTDCallSession | undefined;
      if (this.ctx.cfg.livekit) {
        session = (await this.ctx.media()).callSession(type);
        call = await session.start({ calleeIdentity: peer });
      } else {
        call = await this.ctx.signaling.invite(peer, { type });
      }
      this.current = { id: call.id, peer, type, status: call.status, session };
      this.micOn = true;
      this.camOn = type === "video_call";
      this.follow(call);
    } catch (err) {
      this.ctx.toast(explain(err));
    }
  }

  /** Takes a call by id (a notification's Answer): accepted if it still rings for us. */
  async answer(callId: string): Promise<void> {
    try {
      const call = await this.ctx.signaling.getCall(callId);
      if (call.status === "initiating" || call.status === "ringing") await this.accept(call);
      else this.ctx.toast(t("call.missedFrom", { name: call.callerIdentity }));
    } catch (err) {
      this.ctx.toast(explain(err));
    }
  }

  private async accept(call: UTDCall): Promise<void> {
    if (this.current && !isTerminal(this.current.status)) await this.hangUp();
    const type = call.type as CallType;
    this.current = { id: call.id, peer: call.callerIdentity, type, status: "ringing", session: undefined };
    this.micOn = true;
    this.camOn = type === "video_call";
    this.follow(call);
    try {
      if (this.ctx.cfg.livekit) {
        const session = (await this.ctx.media()).callSession(type);
        this.current.session = session;
        await session.accept(call.id);
      } else {
        await this.ctx.signaling.accept(call.id);
      }
    } catch (err) {
      this.ctx.toast(explain(err));
      if (this.current?.id === call.id) this.render();
    }
  }

  private async hangUp(): Promise<void> {
    const cur = this.current;
    if (!cur) return;
    try {
      if (cur.session) await cur.session.end();
      else await this.ctx.signaling.end(cur.id);
    } catch (err) {
      this.ctx.toast(explain(err));
    }
    if (this.current === cur && !isTerminal(cur.status)) this.setStatus("ended");
  }

  /**
   * Follows the call's state on the signalling socket: the SDK folds the HTTP answers and the `call.*`
   * events (which may overtake our own request's answer), so this is simply the call's latest status.
   */
  private follow(call: UTDCall): void {
    const cur = this.current;
    if (!cur) return;
    cur.off?.();
    cur.off = this.ctx.signaling.callState(call).subscribe((c) => {
      if (this.current === cur) this.setStatus(c.status);
    });
  }

  private setStatus(status: UTDCall["status"]): void {
    const cur = this.current;
    if (!cur) return;
    if (isTerminal(cur.status) && !isTerminal(status)) return;
    cur.status = status;
    if (isTerminal(status)) {
      cur.off?.();
      this.stopTiles?.();
      this.stopTiles = undefined;
      void cur.session?.leave().catch(() => {});
    }
    this.render();
  }

  private renderIncoming(calls: readonly UTDCall[]): void {
    replace(
      this.incomingEl,
      calls.map((c) =>
        h(
          "div",
          { class: "incoming-call", role: "alertdialog", "data-testid": "incoming-call", "data-caller": c.callerIdentity },
          h("p", {}, t(c.type === "video_call" ? "call.incomingVideo" : "call.incomingAudio", { name: c.callerName ?? c.callerIdentity })),
          h("button", { class: "accept", "data-testid": "accept-call", onclick: () => void this.accept(c) }, t("call.accept")),
          h(
            "button",
            {
              class: "reject",
              "data-testid": "reject-call",
              onclick: () => void this.ctx.signaling.reject(c.id).catch((e: unknown) => this.ctx.toast(explain(e))),
            },
            t("call.reject"),
          ),
          h(
            "button",
            {
              "data-testid": "busy-call",
              onclick: () => void this.ctx.signaling.busy(c.id).catch((e: unknown) => this.ctx.toast(explain(e))),
            },
            t("call.busy"),
          ),
        ),
      ),
    );
  }

  private render(): void {
    const cur = this.current;
    if (!cur) {
      this.panel.hidden = true;
      return;
    }
    this.panel.hidden = false;
    const done = isTerminal(cur.status);
    const tiles = h("div", { class: "tiles" });
    const session = cur.session;
    const controls = done
      ? [h("button", { "data-testid": "close-call", onclick: () => this.close() }, t("call.close"))]
      : [
          session && cur.status === "active"
            ? h(
                "button",
                { "data-testid": "toggle-mic", "aria-pressed": String(!this.micOn), onclick: () => void this.toggleMic() },
                this.micOn ? t("call.mute") : t("call.unmute"),
              )
            : null,
          session && cur.status === "active" && cur.type === "video_call"
            ? h(
                "button",
                { "data-testid": "toggle-camera", "aria-pressed": String(!this.camOn), onclick: () => void this.toggleCam() },
                this.camOn ? t("call.cameraOff") : t("call.cameraOn"),
              )
            : null,
          h(
            "button",
            { class: "reject", "data-testid": "hang-up", onclick: () => void this.hangUp() },
            cur.status === "active" ? t("call.hangUp") : t("call.cancel"),
          ),
        ];
    this.stopTiles?.();
    this.stopTiles = undefined;
    replace(
      this.panel,
      h("h2", {}, t(cur.type === "video_call" ? "call.videoWith" : "call.audioWith", { name: cur.peer })),
      h("p", { class: "call-status", "data-testid": "call-status", "data-status": cur.status }, t(`call.status.${cur.status}` as Key)),
      !done && !session && cur.status === "active" ? mediaOff() : null,
      !done && session ? tiles : null,
      h("div", { class: "controls" }, controls),
    );
    if (!done && session) this.stopTiles = mountTiles(session, tiles);
  }

  private async toggleMic(): Promise<void> {
    const s = this.current?.session;
    if (!s) return;
    this.micOn = !this.micOn;
    await s.setMicrophone(this.micOn).catch((e: unknown) => this.ctx.toast(explain(e)));
    this.render();
  }

  private async toggleCam(): Promise<void> {
    const s = this.current?.session;
    if (!s) return;
    this.camOn = !this.camOn;
    await s.room.setCamera(this.camOn).catch((e: unknown) => this.ctx.toast(explain(e)));
    this.render();
  }

  private close(): void {
    this.current?.off?.();
    this.stopTiles?.();
    this.stopTiles = undefined;
    void this.current?.session?.dispose().catch(() => {});
    this.current = undefined;
    this.render();
  }
}
