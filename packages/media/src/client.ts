import { UTDStreamException } from "@utd-stream/protocol";
import {
  type FetchLike,
  jwtExpiry,
  MediaApi,
  trimSlash,
  UTDApi,
  UTDSignaling,
  type UTDSignalingOptions,
  type UTDTokenResponse,
  type WebSocketConstructor,
} from "@utd-stream/signaling";
import { UTDAudioRoomSession } from "./audio-room.js";
import { UTDCallSession } from "./call.js";
import { UTDLiveStreamSession } from "./live.js";
import { isCallType, type UTDStreamType } from "./types.js";

/** Options of a media client that shares a signed-in `UTDSignaling` (from `@utd-stream/signaling`) (one session per user). */
export interface UTDStreamClientSharedOptions {
  /** The signed-in user: its session, REST client, token renewal and socket (call events) are shared. */
  signaling: UTDSignaling;
  /** Token-minting base URL (default: the signaling's base URL). */
  tokenBaseUrl?: string;
}

/** Options of a stand-alone media client (it signs the user in itself with `authenticate()` or a join). */
export interface UTDStreamClientAppOptions {
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
  /** For Node 20 (the `ws` package): call sessions follow call events on the signalling socket. */
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
}

export type UTDStreamClientOptions = UTDStreamClientSharedOptions | UTDStreamClientAppOptions;

export interface JoinOptions {
  identity: string;
  roomName: string;
  asHost?: boolean;
  name?: string;
  deviceId?: string;
  /** Signed-mode apps: a JWT from your backend (sub = identity). */
  identityToken?: string;
}

/** Where the page is served from, for the default base URL (same origin). */
function sameOrigin(): string {
  const loc = (globalThis as { location?: { origin?: string } }).location;
  return loc?.origin && loc.origin !== "null" ? loc.origin : "";
}

/**
 * Entry point (seed: `UTDStreamClient`): produces headless media sessions for one user. Give it the
 * user's `UTDSignaling` (from `@utd-stream/signaling`) (`new UTDStreamClient({ signaling })`) and it shares that session, REST
 * client and socket; or give it the publishable app id and key, and it signs the user in itself on
 * `authenticate()` (or on a join). No secret ever ships in the app.
 */
export class UTDStreamClient {
  private user: UTDSignaling | undefined;
  /** The user was created here (and is signed out here). */
  private ownsUser = false;
  private readonly anonymous: UTDApi;
  private readonly tokenBaseUrl: string;

  constructor(private readonly o: UTDStreamClientOptions) {
    if ("signaling" in o) {
      this.user = o.signaling;
      this.anonymous = new UTDApi({ baseUrl: o.signaling.api.baseUrl });
      this.tokenBaseUrl = trimSlash(o.tokenBaseUrl ?? o.signaling.api.baseUrl);
    } else {
      const base = trimSlash(o.baseUrl ?? sameOrigin());
      this.anonymous = new UTDApi(o.fetch ? { baseUrl: base, fetch: o.fetch } : { baseUrl: base });
      this.tokenBaseUrl = trimSlash(o.tokenBaseUrl ?? base);
    }
  }

  /** The authenticated / joined identity, or null. */
  get identity(): string | null {
    return this.user?.userId ?? null;
  }

  /** The signed-in user's facade (shared, or created by `authenticate()` / a join); undefined before. */
  get signaling(): UTDSignaling | undefined {
    return this.user;
  }

  /** The REST client in use (the signed-in user's, else an anonymous one). */
  get api(): UTDApi {
    return this.user?.api ?? this.anonymous;
  }

  /**
   * Signs `identity` in (mints a user session; needed before calls) and resolves with the user token.
   * With a shared `signaling` this is that user's token. An expired or revoked token is replaced by
   * itself later, once, for every request waiting on it.
   */
  async authenticate(o: { identity: string; name?: string; deviceId?: string; identityToken?: string }): Promise<string> {
    return (await this.userFor(o.identity, o, undefined)).tokens.token();
  }

  /** A 1:1 call session; `authenticate()` first (or share a signed-in `signaling`). */
  callSession(type: UTDStreamType): UTDCallSession {
    if (!isCallType(type)) throw new UTDStreamException(400, "invalid_argument", `callSession needs audio_call or video_call, not ${type}`);
    if (!this.user) throw new UTDStreamException(401, "unauthorized", "call authenticate() before starting or accepting calls");
    return new UTDCallSession(type, this.user);
  }

  /** Mints a room token, connects, and returns a live stream session (host publishes with `goLive()`). */
  async joinLiveStream(o: JoinOptions): Promise<UTDLiveStreamSession> {
    const first = await this.mint(o, "live_stream");
    const user = this.user as UTDSignaling;
    const s = new UTDLiveStreamSession(new MediaApi(user.api), first.roomName, first.role === "host", () => this.mint(o, "live_stream"));
    await s.room.connect(first.url, first.token);
    await s.refreshStage();
    return s;
  }

  /** Mints a room token, connects, and returns an audio room session; a host may seed the seats. */
  async joinAudioRoom(o: JoinOptions & { seatCount?: number; seatMode?: "free" | "request" }): Promise<UTDAudioRoomSession> {
    const first = await this.mint(o, "audio_room");
    const user = this.user as UTDSignaling;
    const s = new UTDAudioRoomSession(new MediaApi(user.api), first.roomName, first.role === "host", () => this.mint(o, "audio_room"));
    await s.room.connect(first.url, first.token);
    if (s.isHost && (o.seatCount !== undefined || o.seatMode !== undefined)) {
      const setup: Parameters<UTDAudioRoomSession["setupSeats"]>[0] = {};
      if (o.seatCount !== undefined) setup.seatCount = o.seatCount;
      if (o.seatMode !== undefined) setup.seatMode = o.seatMode;
      await s.setupSeats(setup);
    } else await s.getSeats();
    return s;
  }

  /** Aborts HTTP requests in flight. Sessions are disposed separately. */
  dispose(): void {
    this.anonymous.abortAll();
    this.user?.api.abortAll();
  }

  /** Signs this client out: aborts requests and, when it signed the user in itself, closes that user's socket. */
  disconnect(): void {
    this.dispose();
    if (this.ownsUser) this.user?.disconnect();
  }

  /** The signed-in user for `identity`: the current one, or a new one (the shared `signaling` is never replaced). */
  private async userFor(
    identity: string,
    o: { name?: string; deviceId?: string; identityToken?: string },
    token: UTDTokenResponse | undefined,
  ): Promise<UTDSignaling> {
    if (this.user && this.user.userId === identity) return this.user;
    if ("signaling" in this.o) {
      throw new UTDStreamException(403, "forbidden", `this media client belongs to ${this.o.signaling.userId}, not ${identity}`);
    }
    const app = this.o;
    const provider = app.tokenProvider;
    let given = o.identityToken;
    const opts: UTDSignalingOptions = { baseUrl: this.anonymous.baseUrl, appId: app.appId, appKey: app.appKey, userId: identity };
    if (o.name !== undefined) opts.name = o.name;
    if (o.deviceId !== undefined) opts.deviceId = o.deviceId;
    if (given !== undefined || provider) {
      // The identity token given here serves the first mint; later mints ask the provider (or reuse it).
      opts.tokenProvider = async () => {
        const t = given ?? (provider ? await provider() : undefined);
        given = undefined;
        if (t === undefined) throw new UTDStreamException(401, "unauthorized", "no identity token for a new session");
        return t;
      };
    }
    if (app.WebSocket) opts.WebSocket = app.WebSocket;
    if (app.fetch) opts.fetch = app.fetch;
    const user = new UTDSignaling(opts);
    if (token) user.tokens.set({ token: token.userToken, expiresAt: jwtExpiry(token.userToken) });
    else await user.tokens.credentials();
    if (this.ownsUser) this.user?.disconnect();
    this.user = user;
    this.ownsUser = true;
    return user;
  }

  private async mint(o: JoinOptions, type: "live_stream" | "audio_room"): Promise<UTDTokenResponse> {
    const signedIn = this.user?.userId === o.identity;
    const p: Parameters<MediaApi["roomToken"]>[0] = {
      roomName: o.roomName,
      type,
      role: o.asHost ? "host" : "audience",
      baseUrl: this.tokenBaseUrl,
    };
    if (o.name !== undefined) p.name = o.name;
    if (o.deviceId !== undefined) p.deviceId = o.deviceId;
    if (!signedIn) {
      if ("signaling" in this.o) {
        throw new UTDStreamException(403, "forbidden", `this media client belongs to ${this.o.signaling.userId}, not ${o.identity}`);
      }
      // The seed's joinLiveStream: mint with the app's publishable credentials; the answer signs the user in.
      p.app = { appId: this.o.appId, appKey: this.o.appKey, identity: o.identity };
      const identityToken = o.identityToken ?? (this.o.tokenProvider ? await this.o.tokenProvider() : undefined);
      if (identityToken !== undefined) p.app.identityToken = identityToken;
      const t = await new MediaApi(this.anonymous).roomToken(p);
      await this.userFor(t.identity, o, t);
      return t;
    }
    return new MediaApi((this.user as UTDSignaling).api).roomToken(p);
  }
}
