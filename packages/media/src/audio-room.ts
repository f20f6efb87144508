import type { SeatsState, SpeakRequest } from "@utd-stream/protocol";
import type { UTDApiClient } from "./api.js";
import { UTDSession } from "./session.js";
import { Store } from "./store.js";
import { UTDStreamType } from "./types.js";
import { camelize, type UTDSeats, type UTDSpeakRequest } from "./wire.js";

/** How long `takeSeat` waits for LiveKit to apply the engine's grant before turning the mic on. */
const GRANT_TIMEOUT_MS = 10_000;

/**
 * An audio room (seed: `UTDAudioRoomSession`): speakers sit in seats and publish their microphone,
 * listeners subscribe. Publishing is seat occupancy, granted by the engine; audio only.
 */
export class UTDAudioRoomSession extends UTDSession {
  /** The seat grid, refreshed by calls here and by the engine's `seats.updated`. */
  readonly seats = new Store<UTDSeats | null>(null);
  /** Speak requests and invitations addressed to this user or (for hosts) to approve. */
  readonly speakEvents = new Store<UTDSpeakRequest | null>(null);

  constructor(
    api: UTDApiClient,
    readonly roomName: string,
    readonly isHost: boolean,
  ) {
    super(UTDStreamType.audioRoom, api);
    this.room.serverEvents.subscribe((e) => {
      if (e.type === "seats.updated") this.seats.set(camelize(e.data));
      else if (e.type === "speak.requested" || e.type === "speak.invited" || e.type === "speak.approved")
        this.speakEvents.set(camelize(e.data));
    });
    this.room.canPublish.subscribe((can) => {
      if (!can && this.room.localParticipant) void this.room.setMicrophone(false).catch(() => {});
    });
  }

  private get base(): string {
    return `/api/v1/rooms/${encodeURIComponent(this.roomName)}/seats`;
  }

  /** Host: configure the grid (count, mode `free` | `request`, mode id). */
  async setupSeats(o: { seatCount?: number; seatMode?: "free" | "request"; modeId?: string } = {}): Promise<UTDSeats> {
    return this.keep(
      await this.api.request<SeatsState>("POST", this.base, { seatCount: o.seatCount, seatMode: o.seatMode, modeId: o.modeId }),
    );
  }

  async getSeats(): Promise<UTDSeats> {
    return this.keep(await this.api.request<SeatsState>("GET", this.base));
  }

  /** Sit down: the engine grants the microphone, then the mic is turned on. */
  async takeSeat(index: number): Promise<void> {
    this.keep(await this.api.request<SeatsState>("POST", `${this.base}/${index}/take`));
    await this.room.canPublish.when((v) => v, GRANT_TIMEOUT_MS, "the seat's publish grant");
    await this.room.setMicrophone(true);
  }

  /** Stand up: the mic goes off and the engine revokes publish. */
  async leaveSeat(): Promise<void> {
    await this.room.setMicrophone(false);
    this.keep(await this.api.request<SeatsState>("POST", `${this.base}/leave`));
  }

  /** Listener (request mode): ask to speak; resolves with the request (its id is what the host approves). */
  async requestToSpeak(): Promise<UTDSpeakRequest> {
    return camelize(await this.api.request<SpeakRequest>("POST", `${this.base}/requests`));
  }

  /** Host: approve a pending request. */
  async approveSpeaker(requestId: number): Promise<void> {
    await this.api.request<SpeakRequest>("POST", `${this.base}/requests/${requestId}/approve`);
  }

  /** Host: invite a listener to speak, optionally to a given seat. */
  async inviteToSpeak(identity: string, o: { seatIndex?: number } = {}): Promise<void> {
    await this.api.request<SpeakRequest>("POST", `${this.base}/invite`, { identity, seatIndex: o.seatIndex });
  }

  private keep(s: SeatsState): UTDSeats {
    const seats = camelize(s);
    this.seats.set(seats);
    return seats;
  }
}
