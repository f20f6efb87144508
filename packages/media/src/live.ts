import { type MediaApi, stageFromWire, type UTDStage, type UTDStageMember, type UTDStageRequest } from "@utd-stream/signaling";
import { type RoomTicket, UTDSession } from "./session.js";
import { Store } from "./store.js";
import { UTDStreamType } from "./types.js";

/**
 * A live stream (seed: `UTDLiveStreamSession`): one host publishes, viewers subscribe, and the host
 * promotes any number of co-hosts. Promotion is server-authoritative: `canPublish` follows the engine.
 */
export class UTDLiveStreamSession extends UTDSession {
  /** Host + co-hosts, refreshed by `refreshStage()` and by the engine's `stage.updated`. */
  readonly stage = new Store<UTDStageMember[]>([]);
  /**
   * Raised hands, oldest first (the host's queue). The engine stores them, so a host who reloads sees them
   * again after `refreshStage()`; kept current by `stage.updated`.
   */
  readonly raisedHands = new Store<UTDStageRequest[]>([]);

  constructor(
    private readonly media: MediaApi,
    readonly roomName: string,
    readonly isHost: boolean,
    private readonly mint: () => Promise<RoomTicket>,
  ) {
    super(UTDStreamType.liveStream);
    this.room.serverEvents.subscribe((e) => {
      if (e.type === "stage.updated") this.setStage(stageFromWire(e.data));
    });
    // Demoted by the host: stop what we were publishing (the SFU already unpublished it).
    this.room.canPublish.subscribe((can) => {
      if (!can && this.room.localParticipant) void this.stopMedia().catch(() => {});
    });
  }

  protected ticket(): Promise<RoomTicket> {
    return this.mint();
  }

  /** Host (or promoted co-host): publish microphone and, by default, camera. */
  async goLive(o: { withVideo?: boolean } = {}): Promise<void> {
    await this.room.setMicrophone(true);
    if (o.withVideo ?? true) await this.room.setCamera(true);
  }

  /** Re-reads the stage. */
  async refreshStage(): Promise<void> {
    this.setStage(await this.media.stage(this.roomName));
  }

  private setStage(stage: UTDStage): void {
    this.stage.set(stage.members);
    this.raisedHands.set(stage.requests);
  }

  /** Host: promote a viewer to co-publish (audio + video). */
  async inviteToStage(identity: string): Promise<void> {
    this.setStage(await this.media.inviteToStage(this.roomName, identity));
  }

  /** Host: send a co-host back to the audience. */
  async removeFromStage(identity: string): Promise<void> {
    this.setStage(await this.media.removeFromStage(this.roomName, identity));
  }

  /** Viewer: raise a hand (the host gets `stage.requested`). */
  async requestStage(): Promise<void> {
    await this.media.requestStage(this.roomName);
  }

  /** Co-host: step down, stopping camera and microphone. */
  async leaveStage(): Promise<void> {
    await this.stopMedia();
    this.setStage(await this.media.leaveStage(this.roomName));
  }

  private async stopMedia(): Promise<void> {
    await this.room.setCamera(false);
    await this.room.setMicrophone(false);
  }
}
