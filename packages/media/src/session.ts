import type { LocalParticipant, RemoteParticipant } from "livekit-client";
import { UTDRoom, type UTDRoomEvent, type UTDTrackRef } from "./room.js";
import type { EventStream, ReadableStore } from "./store.js";
import type { UTDStreamType } from "./types.js";

/** Where a session's media room is: a LiveKit URL and a token for it (minted again for every join). */
export interface RoomTicket {
  url: string;
  token: string;
}

/**
 * Base of every session type (seed: `UTDSession`): owns a {@link UTDRoom} and re-exposes its headless
 * state. Concrete sessions add call lifecycle, stage or seats. A session may `leave()` and `rejoin()` as
 * often as it likes: each join mints a fresh room token.
 */
export abstract class UTDSession {
  readonly room = new UTDRoom();

  constructor(readonly type: UTDStreamType) {}

  /** A fresh ticket for this session's room (the engine decides what it grants). */
  protected abstract ticket(): Promise<RoomTicket>;

  /** Whether the media room is connected. */
  get connected(): ReadableStore<boolean> {
    return this.room.connected;
  }

  /** Whether the server granted this participant publish capability (seat / stage authoritative). */
  get canPublish(): ReadableStore<boolean> {
    return this.room.canPublish;
  }

  /** The other participants of the room. */
  get remoteParticipants(): ReadableStore<RemoteParticipant[]> {
    return this.room.remoteParticipants;
  }

  /** Every track in the room, local first (see {@link UTDRoom.tracks}). */
  get tracks(): ReadableStore<readonly UTDTrackRef[]> {
    return this.room.tracks;
  }

  /** Raw LiveKit room events. */
  get events(): EventStream<UTDRoomEvent> {
    return this.room.events;
  }

  /** This participant, while connected. */
  get localParticipant(): LocalParticipant | undefined {
    return this.room.localParticipant;
  }

  /** Toggles the microphone; refused by the SFU unless the server granted publish. */
  setMicrophone(enabled: boolean): Promise<void> {
    return this.room.setMicrophone(enabled);
  }

  /** Sends data (chat, gifts, custom signalling) to the room or to `to`. */
  sendData(data: Uint8Array, opts: { reliable?: boolean; to?: string[] } = {}): Promise<void> {
    return this.room.sendData(data, { reliable: opts.reliable ?? true, ...(opts.to ? { destinationIdentities: opts.to } : {}) });
  }

  /** Joins the room (again) with a freshly minted token; a no-op while connected. */
  async rejoin(): Promise<void> {
    if (this.room.connected.value) return;
    const t = await this.ticket();
    await this.room.connect(t.url, t.token);
  }

  /** Leaves the media room; the session stays usable (`rejoin()`). */
  async leave(): Promise<void> {
    await this.room.disconnect();
  }

  /** Tears the session down. */
  async dispose(): Promise<void> {
    await this.leave();
  }
}
