import type { CallAction, CallStatus, CallType, PushPlatform } from "@utd-stream/protocol";
import { UTDStreamException } from "@utd-stream/protocol";
import { CallsApi, type UTDCallPage } from "./calls/api.js";
import { CallTracker } from "./calls/tracker.js";
import { type ClosedInfo, type ConnectionState, UTDSignalClient, type WebSocketConstructor } from "./client.js";
import { type FetchLike, sessionCredentials, UTDApi } from "./core/api.js";
import { TokenSource } from "./core/token-source.js";
import { Emitter } from "./emitter.js";
import { RoomRegistry, type UTDSignalRoom, type UTDSignalRoomOptions } from "./rooms.js";
import { type ReadableStore, Store } from "./store.js";
import { UsersApi } from "./users/api.js";
import { callFromWire, type UTDCall } from "./wire/calls.js";
import { presenceFromWire, typingFromWire, type UTDPresence, type UTDTyping } from "./wire/presence.js";
import type { UTDPushToken } from "./wire/push.js";
import type { UTDAuthSession, UTDPlanLimits } from "./wire/session.js";

export interface UTDSignalingOptions {
  /** The engine's base URL (default `http://127.0.0.1:7800`). */
  baseUrl?: string;
  appId: string;
  /** The publishable app key. */
  appKey: string;
  /** The user's identity in your app. */
  userId: string;
  name?: string;
  /** A stable id for this device (lets the engine tell devices apart: "answered elsewhere", push tokens). */
  deviceId?: string;
  /**
   * Signed mode: returns a fresh identity token (a JWT your backend signs with the app secret). Called
   * on every session mint, i.e. on `connect()` and again whenever the user token expires.
   */
  tokenProvider?: () => Promise<string>;
  /** Send `ringing` automatically when a call comes in (default true). */
  autoAcknowledgeCalls?: boolean;
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
  backoff?: { initialMs?: number; maxMs?: number };
}

/** How a call event reached this device. */
export interface UTDCallEvent {
  type: "incoming" | "ringing" | "accepted" | "rejected" | "busy" | "missed" | "ended";
  call: UTDCall;
  /** `accepted` on a device of the callee other than this one. */
  answeredElsewhere: boolean;
}

/** Events of the facade (camelCase data). */
export interface UTDSignalingEvents {
  presenceChanged: UTDPresence;
  call: UTDCallEvent;
  typing: UTDTyping & { typing: boolean };
  /** Events may have been missed: re-read what you show (calls, presence). */
  resync: { reason: string };
  error: UTDStreamException;
  closed: ClosedInfo;
}

const CALL_TYPES = {
  "call.incoming": "incoming",
  "call.ringing": "ringing",
  "call.accepted": "accepted",
  "call.rejected": "rejected",
  "call.busy": "busy",
  "call.missed": "missed",
  "call.ended": "ended",
} as const;

/**
 * One signed-in user (the seed's `UTDSignaling`): their session, REST client and WebSocket, shared by
 * everything else — presence, 1:1 call invitations, typing and push tokens here; chat with
 * `chatSessionFor(signaling)`; media with `new UTDStreamClient({ signaling })`. One user needs one of these.
 *
 * @example
 * const signaling = new UTDSignaling({ baseUrl, appId: "app_x", appKey: "pk_x", userId: "alice" });
 * await signaling.connect();
 * if (signaling.signalingEnabled === false) showUpsell();
 * signaling.incomingCalls.subscribe((calls) => render(calls));
 * const call = await signaling.invite("bob", { type: "video_call" });
 */
export class UTDSignaling {
  /** The REST client (its token comes from {@link tokens}). */
  readonly api: UTDApi;
  /** Where this user's token comes from: minted with the app key (and `tokenProvider` in signed mode), cached, renewed once for every caller. */
  readonly tokens: TokenSource;
  /** The call endpoints. */
  readonly callsApi: CallsApi;
  /** Presence and push-token endpoints. */
  readonly usersApi: UsersApi;
  /** The WebSocket client (created on `connect()`). */
  client: UTDSignalClient | undefined;
  private readonly emitter = new Emitter<UTDSignalingEvents>();
  private readonly stateStore = new Store<ConnectionState>("idle");
  private readonly incoming = new Store<readonly UTDCall[]>([]);
  private readonly tracker = new CallTracker();
  private readonly watched = new Set<string>();
  private readonly rooms = new RoomRegistry();
  private connecting: Promise<void> | undefined;
  private flags: { signaling: boolean | null; chat: boolean | null; limits: UTDPlanLimits | null } = {
    signaling: null,
    chat: null,
    limits: null,
  };

  constructor(private readonly opts: UTDSignalingOptions) {
    const apiOpts: ConstructorParameters<typeof UTDApi>[0] = { baseUrl: opts.baseUrl ?? "http://127.0.0.1:7800" };
    if (opts.fetch) apiOpts.fetch = opts.fetch;
    this.api = new UTDApi(apiOpts);
    const mint: Parameters<typeof sessionCredentials>[1] = { appId: opts.appId, appKey: opts.appKey, identity: opts.userId };
    if (opts.name !== undefined) mint.name = opts.name;
    if (opts.deviceId !== undefined) mint.deviceId = opts.deviceId;
    if (opts.tokenProvider) mint.identityToken = opts.tokenProvider;
    this.tokens = new TokenSource({ fetch: sessionCredentials(this.api, mint) });
    this.api.tokens = this.tokens;
    this.callsApi = new CallsApi(this.api);
    this.usersApi = new UsersApi(this.api);
    this.tokens.session.subscribe((s) => {
      if (s) this.flags = { signaling: s.signalingEnabled, chat: s.chatEnabled, limits: s.planLimits };
    });
  }

  /** Whether the paid `signaling` capability is on (null until known). Refreshed on every (re)connect. */
  get signalingEnabled(): boolean | null {
    return this.flags.signaling;
  }
  /** Whether the paid `chat` capability is on (null until known). */
  get chatEnabled(): boolean | null {
    return this.flags.chat;
  }
  /** Plan limits (null until known). */
  get planLimits(): UTDPlanLimits | null {
    return this.flags.limits;
  }
  /** The user this facade signed in. */
  get userId(): string {
    return this.opts.userId;
  }
  /** This device's id, when one was given. */
  get deviceId(): string | undefined {
    return this.opts.deviceId;
  }
  /** The app this user belongs to. */
  get appId(): string {
    return this.opts.appId;
  }
  /** The last minted session (token expiry, capabilities, limits, WebSocket URL); null until `connect()`. */
  get session(): ReadableStore<UTDAuthSession | null> {
    return this.tokens.session;
  }
  /** Connection state (`value` + `subscribe`). */
  get state(): ReadableStore<ConnectionState> {
    return this.stateStore;
  }
  /** Calls ringing on this device right now (`value` + `subscribe`). */
  get incomingCalls(): ReadableStore<readonly UTDCall[]> {
    return this.incoming;
  }

  /** Subscribes to a facade event; returns an unsubscribe function. */
  on<K extends keyof UTDSignalingEvents>(type: K, fn: (data: UTDSignalingEvents[K]) => void): () => void {
    return this.emitter.on(type, fn);
  }

  /**
   * Mints a session (capability flags and plan limits), opens the WebSocket and resolves once it is
   * connected. Throws `UTDStreamException` when the engine refuses (bad key, banned, rate limited) —
   * `feature_disabled` when the app's plan has both signalling and chat off (`isFeatureDisabled`). Calling
   * it again while connected (or connecting) is harmless.
   */
  connect(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    const { session } = await this.tokens.credentials();
    const s = session ?? this.tokens.session.value;
    if (s && s.signalingEnabled === false && s.chatEnabled === false) {
      // The socket would be refused (4403); say why in the terms the app's upsell check understands.
      throw new UTDStreamException(403, "feature_disabled", "signalling and chat are both off for this app", { capability: "signaling" });
    }
    const clientOpts: ConstructorParameters<typeof UTDSignalClient>[0] = {
      url: () => this.tokens.session.value?.wsUrl ?? `${this.api.baseUrl.replace(/^http/, "ws")}/api/v1/ws`,
      token: () => this.tokens.token(),
      refreshToken: (failed) => this.tokens.refresh(failed),
    };
    if (this.opts.deviceId !== undefined) clientOpts.deviceId = this.opts.deviceId;
    if (this.opts.WebSocket) clientOpts.WebSocket = this.opts.WebSocket;
    if (this.opts.backoff) clientOpts.backoff = this.opts.backoff;
    const client = new UTDSignalClient(clientOpts);
    this.client = client;
    client.state.subscribe((v) => this.stateStore.set(v));
    this.rooms.attach(client);
    client.on("welcome", ({ resumed }) => {
      const ws = client.session.value;
      if (ws) this.flags = { signaling: ws.signalingEnabled, chat: ws.chatEnabled, limits: ws.planLimits };
      // A new stream forgot the watch list: send it again.
      if (!resumed && this.watched.size > 0) void client.request("presence.watch", { identities: [...this.watched] }).catch(() => {});
      // Invitations published before this stream existed (e.g. the app was woken by a push) still ring here.
      if (!resumed) void this.syncRinging();
    });
    client.on("resync", (r) => this.emitter.emit("resync", r));
    client.on("error", (e) => this.emitter.emit("error", e));
    client.on("closed", (c) => this.emitter.emit("closed", c));
    client.on("presence.changed", (p) => this.emitter.emit("presenceChanged", presenceFromWire(p)));
    client.on("typing.started", (t) => this.emitter.emit("typing", { ...typingFromWire(t), typing: true }));
    client.on("typing.stopped", (t) => this.emitter.emit("typing", { ...typingFromWire(t), typing: false }));
    for (const type of Object.keys(CALL_TYPES) as (keyof typeof CALL_TYPES)[]) {
      client.on(type, (d) => this.onCall(CALL_TYPES[type], callFromWire(d.call)));
    }
    await new Promise<void>((resolve, reject) => {
      const offs = [
        client.on("welcome", () => {
          for (const o of offs) o();
          resolve();
        }),
        client.on("closed", (c) => {
          for (const o of offs) o();
          // A refused first connection leaves nothing behind: connect() may be called again.
          if (this.client === client) this.client = undefined;
          reject(c.error ?? new Error(`connection closed (${c.code})`));
        }),
      ];
      client.connect();
    });
  }

  private async syncRinging(): Promise<void> {
    const before = new Set(this.incoming.value.map((c) => c.id));
    try {
      const { calls } = await this.callsApi.list({ status: ["initiating", "ringing"], limit: 20 });
      const known = new Set(this.incoming.value.map((c) => c.id));
      for (const c of calls) if (c.calleeIdentity === this.opts.userId && !known.has(c.id)) this.onCall("incoming", c);
      // Calls we rang for before the gap and that stopped ringing meanwhile (their end event was lost): re-read them.
      const live = new Set(calls.map((c) => c.id));
      for (const id of before) {
        if (live.has(id)) continue;
        const c = await this.callsApi.get(id).catch(() => undefined);
        this.incoming.set(this.incoming.value.filter((x) => x.id !== id));
        if (c) this.tracker.apply(c);
      }
    } catch (err) {
      if (err instanceof UTDStreamException) this.emitter.emit("error", err);
    }
  }

  private onCall(type: UTDCallEvent["type"], reported: UTDCall): void {
    const call = this.tracker.apply(reported);
    const me = this.opts.userId;
    const answeredElsewhere =
      type === "accepted" &&
      call.calleeIdentity === me &&
      call.answeredDeviceId !== null &&
      call.answeredDeviceId !== (this.opts.deviceId ?? null);
    if (type === "incoming") {
      this.incoming.set([...this.incoming.value.filter((c) => c.id !== call.id), call]);
      if (this.opts.autoAcknowledgeCalls !== false) void this.act(call.id, "ringing").catch(() => {});
    } else if (this.incoming.value.some((c) => c.id === call.id)) {
      const rest = this.incoming.value.filter((c) => c.id !== call.id);
      this.incoming.set(type === "ringing" ? [...rest, call] : rest);
    }
    this.emitter.emit("call", { type, call, answeredElsewhere });
  }

  /** Closes the socket; the session (token) stays cached for the next `connect()`. */
  disconnect(): void {
    this.rooms.detach();
    this.client?.disconnect();
    this.client = undefined;
    this.incoming.set([]);
  }

  // ----- signalling rooms -----

  /**
   * Joins a signalling room (or returns the handle of one already joined) and resolves once in it, with
   * the member list filled. Rejects with `UTDStreamException` when refused (`forbidden` by the room's
   * policy, `limit_exceeded`, `feature_disabled`). After a reconnect the room is rejoined by itself.
   *
   * @example
   * const room = await signaling.room("watch-party", { data: { avatar: "🦊" } });
   * room.messages.subscribe(({ data }) => player.apply(data));
   * await room.publish({ action: "pause", at: player.currentTime });
   */
  room(name: string, opts: UTDSignalRoomOptions = {}): Promise<UTDSignalRoom> {
    this.requireClient();
    return this.rooms.open(name, opts);
  }

  // ----- presence -----

  /** Watches identities: `presenceChanged` fires for them; resolves to their current presence. */
  async watchPresence(identities: readonly string[]): Promise<UTDPresence[]> {
    for (const i of identities) this.watched.add(i);
    const r = await this.requireClient().request<{ presence: Parameters<typeof presenceFromWire>[0][] }>("presence.watch", {
      identities: [...identities],
    });
    return r.presence.map(presenceFromWire);
  }

  /** Stops watching identities. */
  async unwatchPresence(identities: readonly string[]): Promise<void> {
    for (const i of identities) this.watched.delete(i);
    await this.requireClient().request("presence.unwatch", { identities: [...identities] });
  }

  /** Presence of up to 200 identities (REST). */
  getPresence(identities: readonly string[]): Promise<UTDPresence[]> {
    return this.usersApi.presence(identities);
  }

  // ----- calls -----

  /**
   * Rings every device of `calleeId`. The call may come back `busy` at once (callee in another call). The
   * answer is folded with what the socket already said about the call (the callee's `ringing` can arrive
   * first), so it is never older than the events.
   */
  async invite(
    calleeId: string,
    opts: { type?: CallType; calleeName?: string; metadata?: Record<string, unknown>; clientCallId?: string } = {},
  ): Promise<UTDCall> {
    const p: Parameters<CallsApi["create"]>[1] = { type: opts.type ?? "audio_call" };
    if (opts.calleeName !== undefined) p.calleeName = opts.calleeName;
    if (opts.metadata !== undefined) p.metadata = opts.metadata;
    if (opts.clientCallId !== undefined) p.clientCallId = opts.clientCallId;
    return this.tracker.apply(await this.callsApi.create(calleeId, p));
  }

  /**
   * One call as a store: its latest state from the HTTP answers and the `call.*` events of this socket
   * (whichever came last in the call's lifecycle), current value first. Media call sessions follow it.
   */
  callState(call: UTDCall): ReadableStore<UTDCall> {
    return this.tracker.follow(call);
  }

  private async act(id: string, action: CallAction): Promise<UTDCall> {
    return this.tracker.apply(await this.callsApi.act(id, action, this.opts.deviceId));
  }
  /** Tells the caller this device is ringing (sent automatically unless `autoAcknowledgeCalls: false`). */
  ringing(callId: string): Promise<UTDCall> {
    return this.act(callId, "ringing");
  }
  /** Answers on this device; the callee's other devices see `answeredElsewhere`. */
  accept(callId: string): Promise<UTDCall> {
    return this.act(callId, "accept");
  }
  /** Declines. */
  reject(callId: string): Promise<UTDCall> {
    return this.act(callId, "reject");
  }
  /** Answers busy. */
  busy(callId: string): Promise<UTDCall> {
    return this.act(callId, "busy");
  }
  /** Cancels (caller, before an answer) or hangs up; repeating it is harmless. */
  end(callId: string): Promise<UTDCall> {
    return this.act(callId, "end");
  }
  /** One call (REST). */
  async getCall(callId: string): Promise<UTDCall> {
    return this.tracker.apply(await this.callsApi.get(callId));
  }
  /** Call history, newest first. */
  callHistory(opts: { limit?: number; before?: string; status?: readonly CallStatus[] } = {}): Promise<UTDCallPage> {
    return this.callsApi.list(opts);
  }

  // ----- typing -----

  /** Shows "typing…" to one user (`{ to }`) or a conversation's members (`{ conversationId }`); lapses unless renewed. */
  async startTyping(target: { to: string } | { conversationId: string }): Promise<void> {
    await this.requireClient().request("typing.start", "to" in target ? { to: target.to } : { conversation_id: target.conversationId });
  }
  /** Stops the indicator. */
  async stopTyping(target: { to: string } | { conversationId: string }): Promise<void> {
    await this.requireClient().request("typing.stop", "to" in target ? { to: target.to } : { conversation_id: target.conversationId });
  }

  // ----- push -----

  /** Registers this device's push token (deduplicated by the engine). */
  registerPushToken(platform: PushPlatform, token: string): Promise<UTDPushToken> {
    return this.usersApi.registerPushToken(platform, token, this.opts.deviceId);
  }
  /** Removes a token (e.g. on logout). */
  async unregisterPushToken(token: string): Promise<void> {
    await this.usersApi.unregisterPushToken({ token });
  }
  /** This user's registered tokens. */
  listPushTokens(): Promise<UTDPushToken[]> {
    return this.usersApi.pushTokens();
  }

  private requireClient(): UTDSignalClient {
    if (!this.client) throw new Error("UTDSignaling: call connect() first");
    return this.client;
  }
}
