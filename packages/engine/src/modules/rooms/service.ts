import type {
  MediaPermission,
  MediaRole,
  RoomEventMessage,
  RoomEventType,
  RoomInfo,
  RoomType,
  TokenRequest,
  TokenRequestSchema,
  TokenResponse,
  TrackSourceName,
  WsEventMap,
} from "@utd-stream/protocol";
import { ROOM_EVENTS_TOPIC } from "@utd-stream/protocol";
import type { Selectable } from "kysely";
import type { z } from "zod";
import { type AuthContext, requireCapability } from "../../core/caller.js";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { EventSink } from "../../core/events.js";
import type { MediaWebhookHub } from "../../media/hub.js";
import { parseRoomKey, roomKey } from "../../media/names.js";
import { type MediaPort, requireMedia } from "../../media/port.js";
import type { Store } from "../../store/port.js";
import type { AuthService } from "../auth/index.js";
import type { MediaRoomsTable } from "./migrations.js";
import { AUDIENCE, ISSUED_AT_ATTRIBUTE, permissionWith } from "./permissions.js";
import { inRoom, isRoom, roomColumns } from "./scope.js";

export type RoomRow = Selectable<MediaRoomsTable>;

/**
 * Something besides the room's own roles that may let an identity publish (seats in audio rooms).
 * Returns the sources it grants, or null.
 */
export type GrantSource = (room: RoomRow, identity: string) => Promise<readonly TrackSourceName[] | null>;

/** Something to run when a participant leaves a room or LiveKit closes it. */
export type RoomListener = {
  participantLeft?(room: RoomRow, identity: string): Promise<void>;
};

export interface RoomsDeps {
  store: Store;
  clock: Clock;
  auth: AuthService;
  media: MediaPort | undefined;
  events: EventSink;
  hub: MediaWebhookHub;
  /** Lifetime of a room token: it only has to get the participant in; LiveKit refreshes it while connected. */
  tokenTtlS: number;
}

const HOST_SOURCES: readonly TrackSourceName[] = ["camera", "microphone", "screen_share", "screen_share_audio"];
const CO_HOST_SOURCES: readonly TrackSourceName[] = ["camera", "microphone"];

/**
 * Live streams and audio rooms: who owns them, token minting with server-decided permissions, and
 * pushing permission changes to LiveKit. Stage and seats build on it.
 */
export class RoomsService {
  private readonly grantSources: GrantSource[] = [];
  private readonly listeners: RoomListener[] = [];

  constructor(private readonly d: RoomsDeps) {
    d.hub.on(async (ev) => {
      const scoped = parseRoomKey(ev.room);
      if (scoped?.kind !== "room") return;
      if (ev.event === "room_finished") await this.forget(scoped.appId, scoped.name);
      else if ((ev.event === "participant_left" || ev.event === "participant_connection_aborted") && ev.identity) {
        const room = await this.find(scoped.appId, scoped.name);
        if (room) for (const l of this.listeners) await l.participantLeft?.(room, ev.identity);
      }
    });
  }

  /** Lets another module grant publish sources (seats). */
  addGrantSource(fn: GrantSource): void {
    this.grantSources.push(fn);
  }

  addListener(l: RoomListener): void {
    this.listeners.push(l);
  }

  get media(): MediaPort {
    return requireMedia(this.d.media);
  }

  /** Refuses with `media_unavailable` when no LiveKit is configured. */
  assertMedia(): void {
    requireMedia(this.d.media);
  }

  /**
   * `POST /api/v1/token`. `bearer` authenticates a signed-in user; without it the body's app
   * credentials mint a session first (the seed's `joinLiveStream`).
   */
  async mintToken(
    input: z.output<typeof TokenRequestSchema>,
    bearer: string | undefined,
    wsUrl: string,
    clientAddress: string,
  ): Promise<TokenResponse> {
    const { ctx, userToken } = await this.resolveCaller(input, bearer, wsUrl, clientAddress);
    requireCapability(ctx.app, "signaling");
    const media = this.media;
    const room = await this.ensureRoom(ctx.app.id, input.room_name, input.type);
    const name = input.name ?? ctx.user.name ?? undefined;
    if (input.role === "host") await this.claimHost(room, ctx.identity, name ?? null);
    // Room state, not the requested role, decides what the token allows.
    const permission = await this.permissionFor(room, ctx.identity);
    const isHost = await this.isHost(room, ctx.identity);
    const key = roomKey(ctx.app.id, room.name);
    await media.createRoom(key, { emptyTimeoutS: 300, departureTimeoutS: 20, metadata: JSON.stringify({ type: room.type }) });
    const role: MediaRole = isHost ? "host" : "audience";
    const { token, expiresAt } = await media.mintToken({
      room: key,
      identity: ctx.identity,
      name,
      permission,
      ttlS: this.d.tokenTtlS,
      attributes: { role, type: room.type, [ISSUED_AT_ATTRIBUTE]: String(ctx.claims.issuedAt) },
    });
    return {
      token,
      url: media.url,
      room_name: room.name,
      user_token: userToken,
      ws_url: wsUrl,
      identity: ctx.identity,
      type: room.type as RoomType,
      role,
      expires_at: iso(expiresAt),
      permission,
    };
  }

  private async resolveCaller(
    input: z.output<typeof TokenRequestSchema>,
    bearer: string | undefined,
    wsUrl: string,
    clientAddress: string,
  ): Promise<{ ctx: AuthContext; userToken: string }> {
    if (bearer) {
      const { ctx } = await this.d.auth.authenticate(bearer);
      if (input.identity !== undefined && input.identity !== ctx.identity) {
        throw ApiError.invalid("identity does not match the bearer token's user");
      }
      return { ctx, userToken: bearer };
    }
    if (!input.app_id || !input.app_key || !input.identity) {
      throw ApiError.unauthorized("send a bearer user_token, or app_id + app_key + identity");
    }
    const { body } = await this.d.auth.mintSession(
      {
        app_id: input.app_id,
        app_key: input.app_key,
        identity: input.identity,
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.device_id !== undefined ? { device_id: input.device_id } : {}),
        ...(input.identity_token !== undefined ? { identity_token: input.identity_token } : {}),
      },
      wsUrl,
      clientAddress,
    );
    const { ctx } = await this.d.auth.authenticate(body.user_token, { rateLimit: false });
    return { ctx, userToken: body.user_token };
  }

  async find(appId: string, name: string): Promise<RoomRow | undefined> {
    return this.d.store.db.selectFrom("media_rooms").selectAll().where("app_id", "=", appId).where("name", "=", name).executeTakeFirst();
  }

  /** The room, or `not_found` (also for another app's room: names are per app). */
  async require(appId: string, name: string, type?: RoomType): Promise<RoomRow> {
    const room = await this.find(appId, name);
    if (!room) throw ApiError.notFound(`room ${name}`);
    if (type && room.type !== type) throw ApiError.conflict(`room ${name} is a ${room.type}, not a ${type}`);
    return room;
  }

  private async ensureRoom(appId: string, name: string, type: RoomType): Promise<RoomRow> {
    let room = await this.find(appId, name);
    if (!room) {
      const now = this.d.clock.now();
      await this.d.store.db
        .insertInto("media_rooms")
        .values({ app_id: appId, name, type, seat_count: 0, seat_mode: "free", mode_id: null, created_at: now, updated_at: now })
        .onConflict((oc) => oc.columns(["app_id", "name"]).doNothing())
        .execute();
      room = await this.find(appId, name);
      if (!room) throw new Error("room vanished after insert");
    }
    if (room.type !== type) throw ApiError.conflict(`room ${name} is a ${room.type}, not a ${type}`);
    return room;
  }

  /** Makes `identity` the room's host when it has none; refuses a second host (a host adds more). */
  private async claimHost(room: RoomRow, identity: string, name: string | null): Promise<void> {
    await this.d.store.db.transaction().execute(async (tx) => {
      // Touching the room row first serialises concurrent claims on PostgreSQL (row lock) and SQLite (write lock).
      await tx.updateTable("media_rooms").set({ updated_at: this.d.clock.now() }).where(isRoom(room)).execute();
      const hosts = await tx.selectFrom("media_room_members").select("identity").where(inRoom(room)).where("role", "=", "host").execute();
      if (hosts.some((h) => h.identity === identity)) return;
      if (hosts.length > 0) throw ApiError.conflict(`room ${room.name} already has a host; a host can add more hosts`);
      await tx
        .insertInto("media_room_members")
        .values({ ...roomColumns(room), identity, role: "host", name, added_at: this.d.clock.now() })
        .onConflict((oc) => oc.columns(["app_id", "room_name", "identity"]).doUpdateSet({ role: "host" }))
        .execute();
    });
  }

  async isHost(room: RoomRow, identity: string): Promise<boolean> {
    return (await this.roleOf(room, identity)) === "host";
  }

  /** `host`, `co_host`, or undefined for the audience. */
  async roleOf(room: RoomRow, identity: string): Promise<"host" | "co_host" | undefined> {
    const row = await this.d.store.db
      .selectFrom("media_room_members")
      .select("role")
      .where(inRoom(room))
      .where("identity", "=", identity)
      .executeTakeFirst();
    return row?.role === "host" || row?.role === "co_host" ? row.role : undefined;
  }

  /** Refuses (`conflict`) someone who is not connected to the room: asking happens from inside it. */
  async requirePresent(room: RoomRow, identity: string): Promise<void> {
    const present = await this.media.listIdentities(roomKey(room.app_id, room.name));
    if (!present.includes(identity)) throw ApiError.conflict(`join room ${room.name} first`);
  }

  /**
   * Someone a host brings up (stage or seat) must be in the room right now (`not_found` otherwise);
   * resolves to their display name.
   */
  async presentParticipantName(room: RoomRow, identity: string): Promise<string | null> {
    const present = await this.media.listIdentities(roomKey(room.app_id, room.name));
    if (!present.includes(identity)) throw ApiError.notFound(`participant ${identity} in room ${room.name}`);
    const user = await this.d.store.db
      .selectFrom("users")
      .select("name")
      .where("app_id", "=", room.app_id)
      .where("identity", "=", identity)
      .executeTakeFirst();
    return user?.name ?? null;
  }

  /** Refuses anyone but a host of the room (`forbidden`). */
  async requireHost(room: RoomRow, identity: string): Promise<void> {
    if (!(await this.isHost(room, identity))) throw ApiError.forbidden(`only a host of ${room.name} may do this`);
  }

  async hosts(room: RoomRow): Promise<string[]> {
    const rows = await this.d.store.db
      .selectFrom("media_room_members")
      .select("identity")
      .where(inRoom(room))
      .where("role", "=", "host")
      .orderBy("added_at")
      .execute();
    return rows.map((r) => r.identity);
  }

  async info(room: RoomRow): Promise<RoomInfo> {
    return { room_name: room.name, type: room.type as RoomType, hosts: await this.hosts(room), created_at: iso(room.created_at) };
  }

  /** `GET /api/v1/rooms/{room}`: the room's type and hosts. */
  async get(ctx: AuthContext, roomName: string): Promise<RoomInfo> {
    requireCapability(ctx.app, "signaling");
    this.assertMedia();
    return this.info(await this.require(ctx.app.id, roomName));
  }

  /** `POST /api/v1/rooms/{room}/hosts`: a host makes another user a host too. */
  async addHost(ctx: AuthContext, roomName: string, identity: string): Promise<RoomInfo> {
    requireCapability(ctx.app, "signaling");
    this.assertMedia();
    const room = await this.require(ctx.app.id, roomName);
    await this.requireHost(room, ctx.identity);
    await this.d.store.db
      .insertInto("media_room_members")
      .values({ ...roomColumns(room), identity, role: "host", name: null, added_at: this.d.clock.now() })
      .onConflict((oc) => oc.columns(["app_id", "room_name", "identity"]).doUpdateSet({ role: "host" }))
      .execute();
    await this.apply(room, identity);
    return this.info(room);
  }

  /** What `identity` may do in `room` right now: the single place publish rights are decided. */
  async permissionFor(room: RoomRow, identity: string): Promise<MediaPermission> {
    const sources = new Set<TrackSourceName>();
    if (room.type === "live_stream") {
      const role = await this.roleOf(room, identity);
      for (const s of role === "host" ? HOST_SOURCES : role === "co_host" ? CO_HOST_SOURCES : []) sources.add(s);
    }
    for (const g of this.grantSources) for (const s of (await g(room, identity)) ?? []) sources.add(s);
    // Audio rooms are audio only, whatever else is granted.
    if (room.type === "audio_room") {
      sources.delete("camera");
      sources.delete("screen_share");
    }
    return sources.size ? permissionWith([...sources]) : AUDIENCE;
  }

  /** Pushes `identity`'s current permission to LiveKit (a no-op when they are not connected). */
  async apply(room: RoomRow, identity: string): Promise<void> {
    await this.media.updatePermission(roomKey(room.app_id, room.name), identity, await this.permissionFor(room, identity));
  }

  /** Who gets the room's events: everyone connected to it, and its hosts. */
  async recipients(room: RoomRow): Promise<string[]> {
    const connected = await this.media.listIdentities(roomKey(room.app_id, room.name));
    return [...new Set([...connected, ...(await this.hosts(room))])];
  }

  /** Publishes a room event to everyone in the room. */
  async broadcast<K extends RoomEventType>(room: RoomRow, type: K, data: WsEventMap[K]): Promise<void> {
    this.d.events.toUsers(room.app_id, await this.recipients(room), type, data);
    await this.intoRoom(room, type, data);
  }

  /** Publishes a room event to the room's hosts. */
  async toHosts<K extends RoomEventType>(room: RoomRow, type: K, data: WsEventMap[K]): Promise<void> {
    const hosts = await this.hosts(room);
    this.d.events.toUsers(room.app_id, hosts, type, data);
    await this.intoRoom(room, type, data, hosts);
  }

  async toUsers<K extends RoomEventType>(room: RoomRow, identities: string[], type: K, data: WsEventMap[K]): Promise<void> {
    this.d.events.toUsers(room.app_id, identities, type, data);
    await this.intoRoom(room, type, data, identities);
  }

  /**
   * The same event as a LiveKit data message (topic `utd.room`), so a media-only client learns of
   * stage and seat changes without the signalling socket. Best effort: the WebSocket event is the record.
   */
  private async intoRoom<K extends RoomEventType>(room: RoomRow, type: K, data: WsEventMap[K], to?: readonly string[]): Promise<void> {
    const message: RoomEventMessage<K> = { type, data };
    const payload = new TextEncoder().encode(JSON.stringify(message));
    await this.media.sendData(roomKey(room.app_id, room.name), payload, ROOM_EVENTS_TOPIC, to).catch(() => {});
  }

  /** LiveKit closed the room: its roles, stage and seats go with it (the name can be reused). */
  private async forget(appId: string, name: string): Promise<void> {
    // Members, seats and speak requests go by cascade.
    await this.d.store.db.deleteFrom("media_rooms").where("app_id", "=", appId).where("name", "=", name).execute();
  }
}

export type { TokenRequest };
