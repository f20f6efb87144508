import { UTDStreamException } from "@utd-stream/protocol";
import type { UTDCall, UTDSignaling } from "@utd-stream/signaling";
import { type RoomTicket, UTDSession } from "./session.js";
import { Store } from "./store.js";
import { isTerminal, type UTDCallEndReason, type UTDCallStatus, type UTDStreamType } from "./types.js";

/**
 * A 1:1 audio or video call (seed: `UTDCallSession`), on either side. It follows the call on the user's
 * signalling socket — no polling: the caller `start`s and sees `ringing`, `active` and every end; the
 * callee `watch`es (or acts on) an incoming call and sees it cancelled, missed or answered on another
 * device. Once the call is active on this device, the session joins the call's room (capped at 2 by the
 * engine) and publishes microphone (and camera); when the call ends it leaves.
 */
export class UTDCallSession extends UTDSession {
  /** Current lifecycle status, null until a call starts or is watched. */
  readonly status = new Store<UTDCallStatus | null>(null);
  /** The call id, null until a call starts or is watched. */
  readonly callId = new Store<string | null>(null);
  /** The call as last known (caller, callee, answering device …), null until a call starts or is watched. */
  readonly call = new Store<UTDCall | null>(null);
  /** Why the call is over for this session (null while it is not): see {@link UTDCallEndReason}. */
  readonly endReason = new Store<UTDCallEndReason | null>(null);
  /** The last error joining the call's room (e.g. `media_unavailable` when the engine has no LiveKit). */
  readonly mediaError = new Store<UTDStreamException | null>(null);
  private offCall: (() => void) | undefined;
  private joining: Promise<void> | undefined;
  /** This device answered (so it, and no other device of the callee, joins the room). */
  private answeredHere = false;

  constructor(
    type: UTDStreamType,
    private readonly user: UTDSignaling,
  ) {
    super(type);
  }

  protected async ticket(): Promise<RoomTicket> {
    const id = this.callId.value;
    if (!id) throw new UTDStreamException(409, "conflict", "no call to join");
    return this.user.callsApi.media(id);
  }

  /** Caller: rings the callee; joins the room and publishes once the callee accepts. */
  async start(o: { calleeIdentity: string; calleeName?: string; metadata?: Record<string, unknown> }): Promise<UTDCall> {
    await this.user.connect();
    const p: Parameters<UTDSignaling["invite"]>[1] = { type: this.type as "audio_call" | "video_call" };
    if (o.calleeName !== undefined) p.calleeName = o.calleeName;
    if (o.metadata !== undefined) p.metadata = o.metadata;
    return this.follow(await this.user.invite(o.calleeIdentity, p));
  }

  /**
   * Callee: follows an incoming call (e.g. from `signaling.incomingCalls`) without acting on it, so an
   * incoming-call screen clears when the caller cancels, nobody answers in time, or another device answers.
   */
  watch(call: UTDCall): void {
    this.follow(call);
  }

  /** Callee: accepts on this device, joins the call's room and publishes. */
  async accept(id: string): Promise<UTDCall> {
    await this.user.connect();
    this.answeredHere = true;
    const call = this.follow(await this.user.accept(id));
    await this.join();
    return call;
  }

  /** Callee: tells the caller this device is ringing (the signalling facade does it by itself by default). */
  async ringing(id: string): Promise<void> {
    await this.user.connect();
    this.follow(await this.user.ringing(id));
  }

  /** Callee: declines. */
  async reject(id: string): Promise<void> {
    this.follow(await this.user.reject(id));
  }

  /** Callee: answers busy. */
  async busy(id: string): Promise<void> {
    this.follow(await this.user.busy(id));
  }

  /** Hangs up (or cancels before an answer) and leaves the room. Tolerant of calls that already ended and of repeats. */
  async end(): Promise<void> {
    const id = this.callId.value;
    if (id && !isTerminal(this.status.value ?? "initiating")) {
      try {
        this.follow(await this.user.end(id));
      } catch (err) {
        if (!(err instanceof UTDStreamException) || (err.code !== "conflict" && err.code !== "not_found")) throw err;
      }
    }
    await this.leave();
  }

  /** Joins the call's room again (after `leave()`), while the call is active on this device. */
  override async rejoin(): Promise<void> {
    if (this.status.value !== "active" || this.endReason.value)
      throw new UTDStreamException(409, "conflict", "the call is not active here");
    await this.join();
  }

  override async leave(): Promise<void> {
    this.joining = undefined;
    await super.leave();
  }

  override async dispose(): Promise<void> {
    this.offCall?.();
    this.offCall = undefined;
    await super.dispose();
  }

  /** Follows `call` on the socket from now on (state folded with what the socket already said). */
  private follow(call: UTDCall): UTDCall {
    if (this.callId.value !== call.id) {
      this.offCall?.();
      this.callId.set(call.id);
      this.endReason.set(null);
      this.offCall = this.user.callState(call).subscribe((c) => this.onCall(c));
    }
    return this.call.value ?? call;
  }

  private onCall(c: UTDCall): void {
    this.call.set(c);
    this.status.set(c.status);
    const callee = c.calleeIdentity === this.user.userId && c.callerIdentity !== this.user.userId;
    const elsewhere =
      c.status === "active" &&
      callee &&
      !this.answeredHere &&
      c.answeredDeviceId !== null &&
      c.answeredDeviceId !== (this.user.deviceId ?? null);
    if (elsewhere) this.endReason.set("answered_elsewhere");
    else if (isTerminal(c.status)) this.endReason.set(c.endReason ?? (c.status === "missed" ? "timeout" : "hangup"));
    if (this.endReason.value) {
      void this.leave().catch(() => {});
      return;
    }
    // Active: the caller joins when the callee accepts; the callee joins from accept().
    if (c.status === "active" && !callee) void this.join().catch(() => {});
  }

  /** Joins the call's room with a party token and publishes (once, however often it is asked). */
  private join(): Promise<void> {
    this.joining ??= (async () => {
      try {
        await super.rejoin();
        this.mediaError.set(null);
        await this.room.setMicrophone(true);
        if (this.type === "video_call") await this.room.setCamera(true);
      } catch (err) {
        this.joining = undefined;
        if (err instanceof UTDStreamException) this.mediaError.set(err);
        throw err;
      }
    })();
    return this.joining;
  }
}
