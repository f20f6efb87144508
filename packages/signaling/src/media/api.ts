import type { MediaRole, RoomType, SeatMode, SeatsState, SpeakRequest, Stage, StageRequestList, TokenResponse } from "@utd-stream/protocol";
import type { UTDApi } from "../core/api.js";
import {
  seatsFromWire,
  speakRequestFromWire,
  stageFromWire,
  stageRequestFromWire,
  tokenResponseFromWire,
  type UTDSeats,
  type UTDSpeakRequest,
  type UTDStage,
  type UTDStageRequest,
  type UTDTokenResponse,
} from "../wire/media.js";

const enc = encodeURIComponent;

/** What a room token mint needs: the room, its type, the role asked for. */
export interface RoomTokenParams {
  roomName: string;
  type: RoomType;
  role: MediaRole;
  name?: string;
  deviceId?: string;
  /** Without a user token: mint with the app's publishable credentials (the seed's `joinLiveStream`). */
  app?: { appId: string; appKey: string; identity: string; identityToken?: string };
  /** Another base URL for the mint (the media SDK's `tokenBaseUrl`). */
  baseUrl?: string;
}

/**
 * The engine's media endpoints: room tokens (`POST /api/v1/token`), a live stream's stage and an audio
 * room's seats (`/api/v1/rooms/{room}/…`). The engine applies every grant through LiveKit's server API.
 */
export class MediaApi {
  constructor(private readonly api: UTDApi) {}

  /** `POST /api/v1/token`: a LiveKit token for a live stream or an audio room (and the engine bearer it implies). */
  async roomToken(p: RoomTokenParams): Promise<UTDTokenResponse> {
    const body: Record<string, unknown> = { room_name: p.roomName, type: p.type, role: p.role };
    if (p.name !== undefined) body.name = p.name;
    if (p.deviceId !== undefined) body.device_id = p.deviceId;
    if (p.app) {
      body.app_id = p.app.appId;
      body.app_key = p.app.appKey;
      body.identity = p.app.identity;
      if (p.app.identityToken !== undefined) body.identity_token = p.app.identityToken;
    }
    const opts = p.baseUrl !== undefined ? { auth: !p.app, baseUrl: p.baseUrl } : { auth: !p.app };
    return tokenResponseFromWire(await this.api.request<TokenResponse>("POST", "/api/v1/token", body, opts));
  }

  // ----- live stream stage -----

  private stagePath(room: string): string {
    return `/api/v1/rooms/${enc(room)}/stage`;
  }

  /** `GET …/stage`: the host and co-hosts. */
  async stage(room: string): Promise<UTDStage> {
    return stageFromWire(await this.api.request<Stage>("GET", this.stagePath(room)));
  }

  /** Host: the raised hands, oldest first (`GET …/stage/requests`). */
  async stageRequests(room: string): Promise<UTDStageRequest[]> {
    const res = await this.api.request<StageRequestList>("GET", `${this.stagePath(room)}/requests`);
    return res.requests.map(stageRequestFromWire);
  }

  /** Host: promote a viewer to co-publish. */
  async inviteToStage(room: string, identity: string): Promise<UTDStage> {
    return stageFromWire(await this.api.request<Stage>("POST", `${this.stagePath(room)}/invite`, { identity }));
  }

  /** Host: send a co-host back to the audience. */
  async removeFromStage(room: string, identity: string): Promise<UTDStage> {
    return stageFromWire(await this.api.request<Stage>("POST", `${this.stagePath(room)}/remove`, { identity }));
  }

  /** Viewer: raise a hand (the hosts get `stage.requested`). */
  async requestStage(room: string): Promise<void> {
    await this.api.request("POST", `${this.stagePath(room)}/request`);
  }

  /** Co-host: step down. */
  async leaveStage(room: string): Promise<UTDStage> {
    return stageFromWire(await this.api.request<Stage>("POST", `${this.stagePath(room)}/leave`));
  }

  // ----- audio room seats -----

  private seatsPath(room: string): string {
    return `/api/v1/rooms/${enc(room)}/seats`;
  }

  /** `GET …/seats`: the grid, mode and open requests. */
  async seats(room: string): Promise<UTDSeats> {
    return seatsFromWire(await this.api.request<SeatsState>("GET", this.seatsPath(room)));
  }

  /** Host: configure the grid; omitted fields keep their value. */
  async setupSeats(room: string, o: { seatCount?: number; seatMode?: SeatMode; modeId?: string | null } = {}): Promise<UTDSeats> {
    const body: Record<string, unknown> = {};
    if (o.seatCount !== undefined) body.seat_count = o.seatCount;
    if (o.seatMode !== undefined) body.seat_mode = o.seatMode;
    if (o.modeId !== undefined) body.mode_id = o.modeId;
    return seatsFromWire(await this.api.request<SeatsState>("POST", this.seatsPath(room), body));
  }

  /** Sit down (the engine grants the microphone). */
  async takeSeat(room: string, index: number): Promise<UTDSeats> {
    return seatsFromWire(await this.api.request<SeatsState>("POST", `${this.seatsPath(room)}/${index}/take`));
  }

  /** Stand up (the engine revokes publish). */
  async leaveSeat(room: string): Promise<UTDSeats> {
    return seatsFromWire(await this.api.request<SeatsState>("POST", `${this.seatsPath(room)}/leave`));
  }

  /** Listener (request mode): ask to speak. */
  async requestToSpeak(room: string): Promise<UTDSpeakRequest> {
    return speakRequestFromWire(await this.api.request<SpeakRequest>("POST", `${this.seatsPath(room)}/requests`));
  }

  /** Host: approve a pending request. */
  async approveSpeaker(room: string, requestId: number): Promise<UTDSpeakRequest> {
    return speakRequestFromWire(await this.api.request<SpeakRequest>("POST", `${this.seatsPath(room)}/requests/${requestId}/approve`));
  }

  /** Host: invite a listener to speak, optionally to a given seat. */
  async inviteToSpeak(room: string, identity: string, seatIndex?: number): Promise<UTDSpeakRequest> {
    const body: Record<string, unknown> = { identity };
    if (seatIndex !== undefined) body.seat_index = seatIndex;
    return speakRequestFromWire(await this.api.request<SpeakRequest>("POST", `${this.seatsPath(room)}/invite`, body));
  }
}
