import type { LocalParticipant, RemoteParticipant } from "livekit-client";
import type { UTDApiClient } from "./api.js";
import { UTDRoom, type UTDRoomEvent } from "./room.js";
import type { EventStream, ReadableStore } from "./store.js";
import type { UTDStreamType } from "./types.js";

/**
 * Base of every session type (seed: `UTDSession`): owns a {@link UTDRoom} and re-exposes its headless
 * state. Concrete sessions add call lifecycle, stage or seats.
 */
export abstract class UTDSession {
  readonly room = new UTDRoom();

  constructor(
    readonly type: UTDStreamType,
    protected readonly api: UTDApiClient,
  ) {}

  get connected(): ReadableStore<boolean> {
    return this.room.connected;
  }

  /** Whether the server granted this participant publish capability (seat / stage authoritative). */
  get canPublish(): ReadableStore<boolean> {
    return this.room.canPublish;
  }

  get remoteParticipants(): ReadableStore<RemoteParticipant[]> {
    return this.room.remoteParticipants;
  }

  /** Raw LiveKit room events. */
  get events(): EventStream<UTDRoomEvent> {
    return this.room.events;
  }

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

  /** Leaves the media room; the session object stays usable. */
  async leave(): Promise<void> {
    await this.room.disconnect();
  }

  /** Tears the session down. */
  async dispose(): Promise<void> {
    await this.leave();
  }
}
