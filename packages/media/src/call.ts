import type { Call, CallMedia } from "@utd-stream/protocol";
import { UTDStreamException } from "@utd-stream/protocol";
import { RoomEvent } from "livekit-client";
import type { UTDApiClient } from "./api.js";
import { UTDSession } from "./session.js";
import { Store } from "./store.js";
import { isTerminal, type UTDCallStatus, type UTDStreamType } from "./types.js";
import { camelize, type UTDCall } from "./wire.js";

/** How often a ringing call is re-read while we wait for the other side. */
const POLL_MS = 300;

/**
 * A 1:1 audio or video call (seed: `UTDCallSession`). The caller `start`s, the callee `accept`s; once the
 * call is active both join its room (capped at 2 by the engine) and publish microphone (and camera).
 */
export class UTDCallSession extends UTDSession {
  /** Current lifecycle status, null until a call starts. */
  readonly status = new Store<UTDCallStatus | null>(null);
  /** The active call id, null until a call starts or is accepted. */
  readonly callId = new Store<string | null>(null);
  private poller: ReturnType<typeof setTimeout> | undefined;
  private joining: Promise<void> | undefined;

  constructor(type: UTDStreamType, api: UTDApiClient) {
    super(type, api);
    // The engine deletes the room when the call ends: learn the final status then.
    this.room.room.on(RoomEvent.Disconnected, () => {
      const id = this.callId.value;
      if (id && !isTerminal(this.status.value ?? "initiating")) void this.reload(id).catch(() => {});
    });
  }

  /** Caller: creates the call (ringing the callee); joins the room and publishes once the callee accepts. */
  async start(o: { calleeIdentity: string; calleeName?: string; metadata?: Record<string, unknown> }): Promise<UTDCall> {
    const call = await this.api.request<Call>("POST", "/api/v1/calls", {
      calleeIdentity: o.calleeIdentity,
      type: this.type,
      calleeName: o.calleeName,
      metadata: o.metadata,
    });
    this.track(call);
    this.poll(call.id);
    return camelize(call);
  }

  /** Callee: accepts an incoming call by id, joins its room and publishes. */
  async accept(id: string): Promise<UTDCall> {
    const call = await this.action(id, "accept");
    await this.join(id);
    return call;
  }

  /** Callee: tells the caller this device is ringing. */
  async ringing(id: string): Promise<void> {
    await this.action(id, "ringing");
  }

  async reject(id: string): Promise<void> {
    await this.action(id, "reject");
  }

  async busy(id: string): Promise<void> {
    await this.action(id, "busy");
  }

  /** Hangs up and disconnects. Tolerant of calls that already ended and of repeated calls. */
  async end(): Promise<void> {
    this.stopPolling();
    const id = this.callId.value;
    if (id && !isTerminal(this.status.value ?? "initiating")) {
      try {
        await this.action(id, "end");
      } catch (err) {
        if (!(err instanceof UTDStreamException) || (err.code !== "conflict" && err.code !== "not_found")) throw err;
      }
    }
    await this.leave();
  }

  override async dispose(): Promise<void> {
    this.stopPolling();
    await super.dispose();
  }

  private async action(id: string, verb: "ringing" | "accept" | "reject" | "busy" | "end"): Promise<UTDCall> {
    const call = await this.api.request<Call>("POST", `/api/v1/calls/${encodeURIComponent(id)}/${verb}`, {});
    this.track(call);
    return camelize(call);
  }

  private track(call: Call): void {
    this.callId.set(call.id);
    this.status.set(call.status);
  }

  private async reload(id: string): Promise<Call> {
    const call = await this.api.request<Call>("GET", `/api/v1/calls/${encodeURIComponent(id)}`);
    this.track(call);
    return call;
  }

  /** Joins the call's room with a party token and publishes (once, however often it is asked). */
  private join(id: string): Promise<void> {
    this.joining ??= (async () => {
      const media = camelize(await this.api.request<CallMedia>("POST", `/api/v1/calls/${encodeURIComponent(id)}/token`));
      await this.room.connect(media.url, media.token);
      await this.room.setMicrophone(true);
      if (this.type === "video_call") await this.room.setCamera(true);
    })();
    return this.joining;
  }

  private poll(id: string): void {
    this.stopPolling();
    this.poller = setTimeout(async () => {
      try {
        const call = await this.reload(id);
        if (call.status === "active") {
          await this.join(id);
          return;
        }
        if (isTerminal(call.status)) return;
      } catch {
        /* transient: try again */
      }
      this.poll(id);
    }, POLL_MS);
  }

  private stopPolling(): void {
    if (this.poller) clearTimeout(this.poller);
    this.poller = undefined;
  }
}
