import type { SessionResponse, TokenResponse } from "@utd-stream/protocol";
import { UTDStreamException } from "@utd-stream/protocol";
import { UTDApiClient } from "./api.js";
import { UTDAudioRoomSession } from "./audio-room.js";
import { UTDCallSession } from "./call.js";
import { UTDLiveStreamSession } from "./live.js";
import { isCallType, type UTDStreamType } from "./types.js";
import { camelize, type UTDTokenResponse } from "./wire.js";

export interface UTDStreamClientOptions {
  /** Publishable app id. */
  appId: string;
  /** Publishable app key. */
  appKey: string;
  /** Engine REST base URL (default: same origin). */
  baseUrl?: string;
  /** Token-minting base URL (default: `baseUrl`). */
  tokenBaseUrl?: string;
  /**
   * Signed-mode apps: returns a fresh identity token from your backend. Used to re-authenticate by
   * itself when the user token has expired (an `authenticate()` call without `identityToken` uses it too).
   */
  tokenProvider?: () => Promise<string>;
}

export interface JoinOptions {
  identity: string;
  roomName: string;
  asHost?: boolean;
  name?: string;
  deviceId?: string;
  /** Signed-mode apps: a JWT from your backend (sub = identity). */
  identityToken?: string;
}

/**
 * Entry point (seed: `UTDStreamClient`): holds the publishable credentials and produces headless
 * sessions. One instance per signed-in user; no secret ever ships in the app.
 */
export class UTDStreamClient {
  readonly api: UTDApiClient;
  private currentIdentity: string | null = null;

  constructor(private readonly o: UTDStreamClientOptions) {
    const base = (o.baseUrl ?? UTDApiClient.defaultBaseUrl).replace(/\/+$/, "");
    this.api = new UTDApiClient(base, (o.tokenBaseUrl ?? base).replace(/\/+$/, ""));
  }

  /** The authenticated / joined identity, or null. */
  get identity(): string | null {
    return this.currentIdentity;
  }

  /** Mints a room-less user bearer (needed before calls); resolves with the `user_token`. */
  async authenticate(o: { identity: string; name?: string; deviceId?: string; identityToken?: string }): Promise<string> {
    const identityToken = o.identityToken ?? (this.o.tokenProvider ? await this.o.tokenProvider() : undefined);
    const s = await this.api.request<SessionResponse>(
      "POST",
      "/api/v1/auth/session",
      {
        appId: this.o.appId,
        appKey: this.o.appKey,
        identity: o.identity,
        name: o.name,
        deviceId: o.deviceId,
        identityToken,
      },
      { auth: false },
    );
    this.api.setUserToken(s.user_token);
    this.currentIdentity = o.identity;
    // An expired or revoked user token is replaced once, transparently, by minting again as this user.
    const again = {
      identity: o.identity,
      ...(o.name !== undefined ? { name: o.name } : {}),
      ...(o.deviceId !== undefined ? { deviceId: o.deviceId } : {}),
    };
    this.api.reauthenticate = () => this.authenticate(again);
    return s.user_token;
  }

  /** A 1:1 call session; `authenticate()` first. */
  callSession(type: UTDStreamType): UTDCallSession {
    if (!isCallType(type)) throw new UTDStreamException(0, "invalid_argument", `callSession needs audio_call or video_call, not ${type}`);
    if (!this.api.userToken) throw new UTDStreamException(401, "unauthorized", "call authenticate() before starting or accepting calls");
    return new UTDCallSession(type, this.api);
  }

  /** Mints a room token, connects, and returns a live stream session (host publishes with `goLive()`). */
  async joinLiveStream(o: JoinOptions): Promise<UTDLiveStreamSession> {
    const t = await this.mint(o, "live_stream");
    const s = new UTDLiveStreamSession(this.api, t.roomName, t.role === "host");
    await s.room.connect(t.url, t.token);
    await s.refreshStage();
    return s;
  }

  /** Mints a room token, connects, and returns an audio room session; a host may seed the seats. */
  async joinAudioRoom(o: JoinOptions & { seatCount?: number; seatMode?: "free" | "request" }): Promise<UTDAudioRoomSession> {
    const t = await this.mint(o, "audio_room");
    const s = new UTDAudioRoomSession(this.api, t.roomName, t.role === "host");
    await s.room.connect(t.url, t.token);
    if (s.isHost && (o.seatCount !== undefined || o.seatMode !== undefined))
      await s.setupSeats({ seatCount: o.seatCount, seatMode: o.seatMode });
    else await s.getSeats();
    return s;
  }

  /** Aborts HTTP requests in flight. Sessions are disposed separately. */
  dispose(): void {
    this.api.dispose();
  }

  /** Signs this client out: aborts HTTP requests in flight (sessions are left with their own `leave()`). */
  disconnect(): void {
    this.dispose();
  }

  private async mint(o: JoinOptions, type: "live_stream" | "audio_room"): Promise<UTDTokenResponse> {
    const sameUser = this.api.userToken && this.currentIdentity === o.identity;
    const body = {
      roomName: o.roomName,
      type,
      role: o.asHost ? "host" : "audience",
      name: o.name,
      deviceId: o.deviceId,
      ...(sameUser ? {} : { appId: this.o.appId, appKey: this.o.appKey, identity: o.identity, identityToken: o.identityToken }),
    };
    const t = camelize(
      await this.api.request<TokenResponse>("POST", "/api/v1/token", body, { base: this.api.tokenBaseUrl, auth: Boolean(sameUser) }),
    );
    this.api.setUserToken(t.userToken);
    this.currentIdentity = t.identity;
    return t;
  }
}
