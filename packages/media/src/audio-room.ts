import type { SeatMode } from "@utd-stream/protocol";
import { type MediaApi, seatsFromWire, speakRequestFromWire, type UTDSeats, type UTDSpeakRequest } from "@utd-stream/signaling";
import { type RoomTicket, UTDSession } from "./session.js";
import { Store } from "./store.js";
import { UTDStreamType } from "./types.js";

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
    private readonly media: MediaApi,
    readonly roomName: string,
    readonly isHost: boolean,
    private readonly mint: () => Promise<RoomTicket>,
  ) {
    super(UTDStreamType.audioRoom);
    this.room.serverEvents.subscribe((e) => {
      if (e.type === "seats.updated") this.seats.set(seatsFromWire(e.data));
      else if (e.type === "speak.requested" || e.type === "speak.invited" || e.type === "speak.approved") {
        this.speakEvents.set(speakRequestFromWire(e.data));
      }
    });
    this.room.canPublish.subscribe((can) => {
      if (!can && this.room.localParticipant) void this.room.setMicrophone(false).catch(() => {});
    });
  }

  protected ticket(): Promise<RoomTicket> {
    return this.mint();
  }

  /** Host: configure the grid (count, mode `free` | `request`, mode id). */
  async setupSeats(o: { seatCount?: number; seatMode?: SeatMode; modeId?: string } = {}): Promise<UTDSeats> {
    return this.keep(await this.media.setupSeats(this.roomName, o));
  }

  /** Re-reads the grid. */
  async getSeats(): Promise<UTDSeats> {
    return this.keep(await this.media.seats(this.roomName));
  }

  /** Sit down: the engine grants the microphone, then the mic is turned on. */
  async takeSeat(index: number): Promise<void> {
    this.keep(await this.media.takeSeat(this.roomName, index));
    await this.room.canPublish.when((v) => v, GRANT_TIMEOUT_MS, "the seat's publish grant");
    await this.room.setMicrophone(true);
  }

  /** Stand up: the mic goes off and the engine revokes publish. */
  async leaveSeat(): Promise<void> {
    await this.room.setMicrophone(false);
    this.keep(await this.media.leaveSeat(this.roomName));
  }

  /** Listener (request mode): ask to speak; resolves with the request (its id is what the host approves). */
  requestToSpeak(): Promise<UTDSpeakRequest> {
    return this.media.requestToSpeak(this.roomName);
  }

  /** Host: approve a pending request. */
  async approveSpeaker(requestId: number): Promise<void> {
    await this.media.approveSpeaker(this.roomName, requestId);
  }

  /** Host: invite a listener to speak, optionally to a given seat. */
  async inviteToSpeak(identity: string, o: { seatIndex?: number } = {}): Promise<void> {
    await this.media.inviteToSpeak(this.roomName, identity, o.seatIndex);
  }

  private keep(seats: UTDSeats): UTDSeats {
    this.seats.set(seats);
    return seats;
  }
}
