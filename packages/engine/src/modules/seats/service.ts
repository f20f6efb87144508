import type { SeatMode, SeatsState, SetupSeatsRequest, SpeakRequest } from "@utd-stream/protocol";
import type { Selectable } from "kysely";
import { type AuthContext, requireCapability } from "../../core/caller.js";
import type { Clock } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import { type Outbox, webhookEvent } from "../../core/outbox.js";
import type { Store } from "../../store/port.js";
import { inRoom, isRoom, type RoomRow, type RoomsService, roomColumns } from "../rooms/index.js";
import type { MediaSpeakRequestsTable } from "./migrations.js";

type RequestRow = Selectable<MediaSpeakRequestsTable>;

/**
 * Audio-room seats: publishing is seat occupancy. Taking a seat grants microphone-only publish in
 * LiveKit; leaving revokes it (LiveKit then unpublishes the track). In `request` mode only hosts and
 * listeners a host approved or invited may sit.
 */
export class SeatsService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly rooms: RoomsService,
    /** `seat.updated` webhooks (a snapshot written right after the change commits). */
    private readonly outbox?: Outbox,
  ) {
    rooms.addGrantSource(async (room, identity) => ((await this.seatOf(room, identity)) === undefined ? null : ["microphone"]));
    rooms.addListener({
      participantLeft: async (room, identity) => {
        if (room.type !== "audio_room") return;
        const seat = await this.seatOf(room, identity);
        const req = await this.requestOf(room, identity);
        if (seat === undefined && !req) return;
        await this.store.db.deleteFrom("media_seats").where(inRoom(room)).where("identity", "=", identity).execute();
        await this.deleteRequests(room, identity);
        await this.announce(room);
      },
    });
  }

  private async audioRoom(ctx: AuthContext, roomName: string): Promise<RoomRow> {
    requireCapability(ctx.app, "signaling");
    this.rooms.assertMedia();
    return this.rooms.require(ctx.app.id, roomName, "audio_room");
  }

  /** Host: configure the grid. Occupants of seats that no longer exist are stood up (and revoked). */
  async setup(ctx: AuthContext, roomName: string, req: SetupSeatsRequest): Promise<SeatsState> {
    const room = await this.audioRoom(ctx, roomName);
    await this.rooms.requireHost(room, ctx.identity);
    const count = req.seat_count ?? room.seat_count;
    if (count < 1) throw ApiError.invalid("seat_count is required the first time seats are set up");
    const mode: SeatMode = req.seat_mode ?? (room.seat_mode as SeatMode);
    const modeId = req.mode_id === undefined ? room.mode_id : req.mode_id;
    const dropped = await this.store.db
      .selectFrom("media_seats")
      .select("identity")
      .where(inRoom(room))
      .where("seat_index", ">=", count)
      .execute();
    await this.store.db.transaction().execute(async (tx) => {
      await tx
        .updateTable("media_rooms")
        .set({ seat_count: count, seat_mode: mode, mode_id: modeId, updated_at: this.clock.now() })
        .where(isRoom(room))
        .execute();
      await tx.deleteFrom("media_seats").where(inRoom(room)).where("seat_index", ">=", count).execute();
    });
    const updated = await this.rooms.require(room.app_id, room.name);
    for (const d of dropped) await this.rooms.apply(updated, d.identity);
    return this.announce(updated);
  }

  /** `GET /api/v1/rooms/{room}/seats`. */
  async get(ctx: AuthContext, roomName: string): Promise<SeatsState> {
    return this.state(await this.audioRoom(ctx, roomName));
  }

  /** Sit in seat `index`: free mode, a host, or an approved/invited listener in request mode. */
  async take(ctx: AuthContext, roomName: string, index: number): Promise<SeatsState> {
    const room = await this.audioRoom(ctx, roomName);
    if (room.seat_count < 1) throw ApiError.conflict(`room ${room.name} has no seats yet; the host sets them up`);
    if (index >= room.seat_count) throw ApiError.invalid(`seat ${index} does not exist (the room has ${room.seat_count})`);
    const current = await this.seatOf(room, ctx.identity);
    // Retrying a take that succeeded is fine; sitting in two seats is not.
    if (current === index) return this.state(room);
    if (current !== undefined) throw ApiError.conflict(`you already sit in seat ${current}; leave it first`);
    const taken = await this.occupant(room, index);
    if (taken === ctx.identity) return this.state(room); // the same take, retried concurrently, got there first
    if (taken !== undefined) throw ApiError.conflict(`seat ${index} is taken`);
    // A seat is for someone in the room: otherwise one user could hold every seat without ever joining.
    await this.rooms.requirePresent(room, ctx.identity);
    const req = await this.requestOf(room, ctx.identity);
    if (room.seat_mode === "request" && !(await this.rooms.isHost(room, ctx.identity))) {
      if (req?.status !== "approved") throw ApiError.forbidden("this room's seats are by request: request to speak and wait for a host");
      if (req.seat_index !== null && req.seat_index !== index) throw ApiError.forbidden(`you were invited to seat ${req.seat_index}`);
    }
    try {
      await this.store.db
        .insertInto("media_seats")
        .values({
          ...roomColumns(room),
          seat_index: index,
          identity: ctx.identity,
          name: ctx.user.name,
          taken_at: this.clock.now(),
        })
        .execute();
    } catch (err) {
      // Lost a race for the seat (primary key) or to a second seat of our own (unique index) — unless the
      // winner was this same take, retried concurrently: that is the retry that succeeded.
      const mine = await this.seatOf(room, ctx.identity);
      if (mine === index) return this.state(room);
      if ((await this.occupant(room, index)) !== undefined || mine !== undefined) {
        throw ApiError.conflict(`seat ${index} is taken`);
      }
      throw err;
    }
    try {
      await this.rooms.apply(room, ctx.identity);
    } catch (err) {
      await this.vacate(room, ctx.identity);
      throw err;
    }
    await this.deleteRequests(room, ctx.identity);
    return this.announce(room);
  }

  /** Stand up: LiveKit revokes the microphone and unpublishes the track. */
  async leave(ctx: AuthContext, roomName: string): Promise<SeatsState> {
    const room = await this.audioRoom(ctx, roomName);
    if ((await this.seatOf(room, ctx.identity)) === undefined) throw ApiError.conflict("you are not in a seat");
    await this.vacate(room, ctx.identity);
    await this.rooms.apply(room, ctx.identity);
    return this.announce(room);
  }

  /** Listener: ask to speak; hosts get `speak.requested`. Asking again returns the same request. */
  async requestToSpeak(ctx: AuthContext, roomName: string): Promise<SpeakRequest> {
    const room = await this.audioRoom(ctx, roomName);
    if (room.seat_mode !== "request") throw ApiError.conflict("seats are free in this room: take one");
    if ((await this.seatOf(room, ctx.identity)) !== undefined) throw ApiError.conflict("you already sit in a seat");
    const existing = await this.requestOf(room, ctx.identity);
    if (existing) return toWire(room, existing);
    await this.rooms.requirePresent(room, ctx.identity);
    await this.store.db
      .insertInto("media_speak_requests")
      .values({
        ...roomColumns(room),
        identity: ctx.identity,
        name: ctx.user.name,
        kind: "request",
        status: "pending",
        seat_index: null,
        created_at: this.clock.now(),
      })
      .onConflict((oc) => oc.columns(["app_id", "room_name", "identity"]).doNothing())
      .execute();
    const row = await this.requestOf(room, ctx.identity);
    if (!row) throw new Error("speak request vanished after insert");
    const wire = toWire(room, row);
    await this.rooms.toHosts(room, "speak.requested", wire);
    await this.announce(room);
    return wire;
  }

  /** Host: approve a pending request; the listener gets `speak.approved` and may take a seat. */
  async approve(ctx: AuthContext, roomName: string, requestId: number): Promise<SpeakRequest> {
    const room = await this.audioRoom(ctx, roomName);
    await this.rooms.requireHost(room, ctx.identity);
    const row = await this.store.db
      .selectFrom("media_speak_requests")
      .selectAll()
      .where("id", "=", requestId)
      .where(inRoom(room))
      .executeTakeFirst();
    if (!row) throw ApiError.notFound(`speak request ${requestId}`);
    if (row.status !== "approved") {
      await this.store.db.updateTable("media_speak_requests").set({ status: "approved" }).where("id", "=", row.id).execute();
    }
    const wire = toWire(room, { ...row, status: "approved" });
    await this.rooms.toUsers(room, [row.identity], "speak.approved", wire);
    await this.announce(room);
    return wire;
  }

  /** Host: invite someone in the room to speak (optionally to a given seat); they get `speak.invited`. */
  async invite(ctx: AuthContext, roomName: string, identity: string, seatIndex: number | undefined): Promise<SpeakRequest> {
    const room = await this.audioRoom(ctx, roomName);
    await this.rooms.requireHost(room, ctx.identity);
    if (seatIndex !== undefined && seatIndex >= room.seat_count)
      throw ApiError.invalid(`seat ${seatIndex} does not exist (the room has ${room.seat_count})`);
    if (seatIndex !== undefined && (await this.occupant(room, seatIndex)) !== undefined)
      throw ApiError.conflict(`seat ${seatIndex} is taken`);
    if ((await this.seatOf(room, identity)) !== undefined) throw ApiError.conflict(`${identity} already sits in a seat`);
    const name = await this.rooms.presentParticipantName(room, identity);
    const values = { kind: "invite", status: "approved", seat_index: seatIndex ?? null };
    await this.store.db
      .insertInto("media_speak_requests")
      .values({ ...roomColumns(room), identity, name, created_at: this.clock.now(), ...values })
      .onConflict((oc) => oc.columns(["app_id", "room_name", "identity"]).doUpdateSet(values))
      .execute();
    const row = await this.requestOf(room, identity);
    if (!row) throw new Error("invitation vanished after upsert");
    const wire = toWire(room, row);
    await this.rooms.toUsers(room, [identity], "speak.invited", wire);
    await this.announce(room);
    return wire;
  }

  async state(room: RoomRow): Promise<SeatsState> {
    const seated = await this.store.db.selectFrom("media_seats").select(["seat_index", "identity", "name"]).where(inRoom(room)).execute();
    const byIndex = new Map(seated.map((s) => [s.seat_index, s]));
    const requests = await this.store.db.selectFrom("media_speak_requests").selectAll().where(inRoom(room)).orderBy("id").execute();
    return {
      room_name: room.name,
      seat_count: room.seat_count,
      seat_mode: room.seat_mode as SeatMode,
      mode_id: room.mode_id,
      seats: Array.from({ length: room.seat_count }, (_, index) => {
        const s = byIndex.get(index);
        return { index, identity: s?.identity ?? null, name: s?.name ?? null };
      }),
      requests: requests.map((r) => toWire(room, r)),
    };
  }

  private async announce(room: RoomRow): Promise<SeatsState> {
    const state = await this.state(await this.rooms.require(room.app_id, room.name));
    if (this.outbox) {
      const o = this.outbox;
      await this.store.db
        .transaction()
        .execute((trx) =>
          o.write(trx, webhookEvent(room.app_id, "seat.updated", { room_name: room.name, seats: state }, `room:${room.name}`)),
        );
      o.wake();
    }
    await this.rooms.broadcast(room, "seats.updated", state);
    return state;
  }

  private async seatOf(room: RoomRow, identity: string): Promise<number | undefined> {
    const row = await this.store.db
      .selectFrom("media_seats")
      .select("seat_index")
      .where(inRoom(room))
      .where("identity", "=", identity)
      .executeTakeFirst();
    return row?.seat_index;
  }

  private async occupant(room: RoomRow, index: number): Promise<string | undefined> {
    const row = await this.store.db
      .selectFrom("media_seats")
      .select("identity")
      .where(inRoom(room))
      .where("seat_index", "=", index)
      .executeTakeFirst();
    return row?.identity;
  }

  private async requestOf(room: RoomRow, identity: string): Promise<RequestRow | undefined> {
    return this.store.db
      .selectFrom("media_speak_requests")
      .selectAll()
      .where(inRoom(room))
      .where("identity", "=", identity)
      .executeTakeFirst();
  }

  private async vacate(room: RoomRow, identity: string): Promise<void> {
    await this.store.db.deleteFrom("media_seats").where(inRoom(room)).where("identity", "=", identity).execute();
  }

  private async deleteRequests(room: RoomRow, identity: string): Promise<void> {
    await this.store.db.deleteFrom("media_speak_requests").where(inRoom(room)).where("identity", "=", identity).execute();
  }
}

function toWire(room: RoomRow, r: RequestRow): SpeakRequest {
  return {
    request_id: Number(r.id),
    room_name: room.name,
    identity: r.identity,
    name: r.name,
    kind: r.kind === "invite" ? "invite" : "request",
    status: r.status === "approved" ? "approved" : "pending",
    seat_index: r.seat_index,
  };
}
