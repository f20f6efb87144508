import type { Stage } from "@utd-stream/protocol";
import type { UTDApiClient } from "./api.js";
import { UTDSession } from "./session.js";
import { Store } from "./store.js";
import { UTDStreamType } from "./types.js";
import { camelize, type UTDStageMember } from "./wire.js";

/**
 * A live stream (seed: `UTDLiveStreamSession`): one host publishes, viewers subscribe, and the host
 * promotes any number of co-hosts. Promotion is server-authoritative: `canPublish` follows the engine.
 */
export class UTDLiveStreamSession extends UTDSession {
  /** Host + co-hosts, refreshed by `refreshStage()` and by the engine's `stage.updated`. */
  readonly stage = new Store<UTDStageMember[]>([]);

  constructor(
    api: UTDApiClient,
    readonly roomName: string,
    readonly isHost: boolean,
  ) {
    super(UTDStreamType.liveStream, api);
    this.room.serverEvents.subscribe((e) => {
      if (e.type === "stage.updated") this.setStage(e.data);
    });
    // Demoted by the host: stop what we were publishing (the SFU already unpublished it).
    this.room.canPublish.subscribe((can) => {
      if (!can && this.room.localParticipant) void this.stopMedia().catch(() => {});
    });
  }

  private get base(): string {
    return `/api/v1/rooms/${encodeURIComponent(this.roomName)}/stage`;
  }

  /** Host (or promoted co-host): publish microphone and, by default, camera. */
  async goLive(o: { withVideo?: boolean } = {}): Promise<void> {
    await this.room.setMicrophone(true);
    if (o.withVideo ?? true) await this.room.setCamera(true);
  }

  async refreshStage(): Promise<void> {
    this.setStage(await this.api.request<Stage>("GET", this.base));
  }

  /** Host: promote a viewer to co-publish (audio + video). */
  async inviteToStage(identity: string): Promise<void> {
    this.setStage(await this.api.request<Stage>("POST", `${this.base}/invite`, { identity }));
  }

  /** Host: send a co-host back to the audience. */
  async removeFromStage(identity: string): Promise<void> {
    this.setStage(await this.api.request<Stage>("POST", `${this.base}/remove`, { identity }));
  }

  /** Viewer: raise a hand (the host gets `stage.requested`). */
  async requestStage(): Promise<void> {
    await this.api.request("POST", `${this.base}/request`);
  }

  /** Co-host: step down, stopping camera and microphone. */
  async leaveStage(): Promise<void> {
    await this.stopMedia();
    this.setStage(await this.api.request<Stage>("POST", `${this.base}/leave`));
  }

  private async stopMedia(): Promise<void> {
    await this.room.setCamera(false);
    await this.room.setMicrophone(false);
  }

  private setStage(s: Stage): void {
    this.stage.set(camelize(s).members);
  }
}
