import type { Stage, StageMember, StageRequest, StageRole } from "@utd-stream/protocol";
import { type AuthContext, requireCapability } from "../../core/caller.js";
import type { Clock } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import { type Outbox, webhookEvent } from "../../core/outbox.js";
import type { Store } from "../../store/port.js";
import { inRoom, type RoomRow, type RoomsService, roomColumns } from "../rooms/index.js";

/**
 * Live-stream stage: the host(s) plus any number of co-hosts who may publish audio and video.
 * Promotion and demotion are server-authoritative: the roster lives here and each change is pushed
 * to LiveKit as a full permission object.
 */
export class StageService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly rooms: RoomsService,
    /** `stage.updated` webhooks (a snapshot written right after the change commits). */
    private readonly outbox?: Outbox,
  ) {
    // A co-host who leaves the room leaves the stage, and a viewer who leaves lowers their hand; hosts stay hosts.
    rooms.addListener({
      participantLeft: async (room, identity) => {
        if (room.type !== "live_stream") return;
        const lowered = await this.lowerHand(room, identity);
        const wasCoHost = (await rooms.roleOf(room, identity)) === "co_host";
        if (wasCoHost) await this.deleteMember(room, identity);
        if (wasCoHost || lowered) await this.announce(room);
      },
    });
  }

  private async liveRoom(ctx: AuthContext, roomName: string): Promise<RoomRow> {
    requireCapability(ctx.app, "signaling");
    this.rooms.assertMedia();
    return this.rooms.require(ctx.app.id, roomName, "live_stream");
  }

  /** `GET /api/v1/rooms/{room}/stage`. */
  async get(ctx: AuthContext, roomName: string): Promise<Stage> {
    return this.roster(await this.liveRoom(ctx, roomName));
  }

  /** Host: the raised hands, oldest first (`GET /api/v1/rooms/{room}/stage/requests`). */
  async requests(ctx: AuthContext, roomName: string): Promise<StageRequest[]> {
    const room = await this.liveRoom(ctx, roomName);
    await this.rooms.requireHost(room, ctx.identity);
    return this.raisedHands(room);
  }

  /** Host: promote a viewer who is in the room to co-publish (audio + video). */
  async invite(ctx: AuthContext, roomName: string, identity: string): Promise<Stage> {
    const room = await this.liveRoom(ctx, roomName);
    await this.rooms.requireHost(room, ctx.identity);
    return this.promote(room, identity);
  }

  /** Host: send a co-host back to the audience (LiveKit then unpublishes their tracks). */
  async remove(ctx: AuthContext, roomName: string, identity: string): Promise<Stage> {
    const room = await this.liveRoom(ctx, roomName);
    await this.rooms.requireHost(room, ctx.identity);
    return this.demote(room, identity);
  }

  /** Admin (the app's operator, admin API): promote, whoever hosts the room. */
  async adminInvite(appId: string, roomName: string, identity: string): Promise<Stage> {
    this.rooms.assertMedia();
    return this.promote(await this.rooms.require(appId, roomName, "live_stream"), identity);
  }

  /** Admin (the app's operator, admin API): demote, whoever hosts the room. */
  async adminRemove(appId: string, roomName: string, identity: string): Promise<Stage> {
    this.rooms.assertMedia();
    return this.demote(await this.rooms.require(appId, roomName, "live_stream"), identity);
  }

  private async promote(room: RoomRow, identity: string): Promise<Stage> {
    const role = await this.rooms.roleOf(room, identity);
    if (role === "host") throw ApiError.conflict(`${identity} is a host of ${room.name}`);
    if (role === undefined) {
      const name = await this.rooms.presentParticipantName(room, identity);
      await this.store.db
        .insertInto("media_room_members")
        .values({
          ...roomColumns(room),
          identity,
          role: "co_host",
          name,
          added_at: this.clock.now(),
        })
        .onConflict((oc) => oc.columns(["app_id", "room_name", "identity"]).doNothing())
        .execute();
    }
    await this.pushOrUndo(room, identity, () => this.deleteMember(room, identity));
    await this.lowerHand(room, identity);
    return this.announce(room);
  }

  private async demote(room: RoomRow, identity: string): Promise<Stage> {
    const role = await this.rooms.roleOf(room, identity);
    if (role === "host") throw ApiError.conflict(`${identity} is a host of ${room.name}; hosts cannot be removed from the stage`);
    if (role === undefined) throw ApiError.notFound(`stage member ${identity}`);
    await this.deleteMember(room, identity);
    await this.rooms.apply(room, identity);
    return this.announce(room);
  }

  /**
   * Viewer: raise a hand. It is stored (a host who reloads still sees it) until the host invites them or they
   * leave the room; the host(s) get `stage.requested` and everyone `stage.updated`. Raising it again is a no-op.
   */
  async request(ctx: AuthContext, roomName: string): Promise<void> {
    const room = await this.liveRoom(ctx, roomName);
    if ((await this.rooms.roleOf(room, ctx.identity)) !== undefined) throw ApiError.conflict("already on the stage");
    await this.rooms.requirePresent(room, ctx.identity);
    const inserted = await this.store.db
      .insertInto("media_stage_requests")
      .values({ ...roomColumns(room), identity: ctx.identity, name: ctx.user.name, requested_at: this.clock.now() })
      .onConflict((oc) => oc.columns(["app_id", "room_name", "identity"]).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return;
    await this.rooms.toHosts(room, "stage.requested", { room_name: room.name, identity: ctx.identity, name: ctx.user.name });
    await this.announce(room);
  }

  /** Co-host: step down to the audience. */
  async leave(ctx: AuthContext, roomName: string): Promise<Stage> {
    const room = await this.liveRoom(ctx, roomName);
    const role = await this.rooms.roleOf(room, ctx.identity);
    if (role === "host") throw ApiError.conflict("a host cannot leave the stage; leave the room instead");
    if (role === undefined) throw ApiError.conflict("not on the stage");
    await this.deleteMember(room, ctx.identity);
    await this.rooms.apply(room, ctx.identity);
    return this.announce(room);
  }

  async roster(room: RoomRow): Promise<Stage> {
    const rows = await this.store.db
      .selectFrom("media_room_members")
      .select(["identity", "name", "role"])
      .where(inRoom(room))
      .orderBy("added_at")
      .orderBy("identity")
      .execute();
    // Hosts first, then co-hosts in promotion order.
    const members: StageMember[] = rows
      .map((r) => ({ identity: r.identity, name: r.name, role: r.role as StageRole }))
      .sort((a, b) => (a.role === b.role ? 0 : a.role === "host" ? -1 : 1));
    return { room_name: room.name, members, requests: await this.raisedHands(room) };
  }

  private async raisedHands(room: RoomRow): Promise<StageRequest[]> {
    return this.store.db
      .selectFrom("media_stage_requests")
      .select(["identity", "name", "requested_at"])
      .where(inRoom(room))
      .orderBy("requested_at")
      .orderBy("identity")
      .execute()
      .then((rows) => rows.map((r) => ({ identity: r.identity, name: r.name, requested_at: Number(r.requested_at) })));
  }

  /** Removes a raised hand; true when there was one. */
  private async lowerHand(room: RoomRow, identity: string): Promise<boolean> {
    const res = await this.store.db
      .deleteFrom("media_stage_requests")
      .where(inRoom(room))
      .where("identity", "=", identity)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  private async announce(room: RoomRow): Promise<Stage> {
    const stage = await this.roster(room);
    if (this.outbox) {
      const o = this.outbox;
      await this.store.db
        .transaction()
        .execute((trx) => o.write(trx, webhookEvent(room.app_id, "stage.updated", { room_name: room.name, stage }, `room:${room.name}`)));
      o.wake();
    }
    await this.rooms.broadcast(room, "stage.updated", stage);
    return stage;
  }

  private async deleteMember(room: RoomRow, identity: string): Promise<void> {
    await this.store.db
      .deleteFrom("media_room_members")
      .where(inRoom(room))
      .where("identity", "=", identity)
      .where("role", "=", "co_host")
      .execute();
  }

  /** Applies the permission in LiveKit; when LiveKit fails, the stored change is undone so nothing changed. */
  private async pushOrUndo(room: RoomRow, identity: string, undo: () => Promise<void>): Promise<void> {
    try {
      await this.rooms.apply(room, identity);
    } catch (err) {
      await undo();
      throw err;
    }
  }
}
