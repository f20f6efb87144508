import {
  ROOM_DEFAULT_ROLE,
  type RoomBroadcastResponse,
  type RoomClosedData,
  type RoomJoinFrame,
  type RoomJoinReply,
  type RoomLeaveReason,
  type RoomMember,
  type RoomPublishFrame,
  type RoomPublishReply,
  type SignalRoomFrameMap,
  type SignalRoomFrameType,
} from "@utd-stream/protocol";
import type { AppRecord } from "../../core/caller.js";
import { type AuthContext, requireCapability } from "../../core/caller.js";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { RateLimiter } from "../../core/rate-limit.js";
import type { WsConnection } from "../../ws/gateway.js";
import type { BackplaneEvent, RoomBackplane } from "./backplane.js";
import type { RoomsConfig } from "./config.js";
import { verifyRoomGrant } from "./grants.js";
import type { EffectivePolicy, RoomPolicies } from "./policies.js";

export interface SignalRoomsDeps {
  backplane: RoomBackplane;
  policies: RoomPolicies;
  limiter: RateLimiter;
  clock: Clock;
  config: RoomsConfig;
  /** This node's id: a socket's device entries are owned by `<nodeId>/<conn id>`. */
  nodeId: string;
  /** Longest accepted `exp - now` of a room grant (the identity-token bound). */
  grantMaxTtlS: number;
  log: { warn(obj: object, msg: string): void };
}

/** One socket's membership of one room, on this node. */
interface LocalSub {
  readonly appId: string;
  readonly room: string;
  readonly identity: string;
  readonly name: string | null;
  /** JSON text of the custom member data. */
  data: string | null;
  readonly deviceKey: string;
  readonly owner: string;
  readonly conn: WsConnection;
  role: string;
  canPublish: boolean;
  /** History length at join (the room's policy then). */
  keep: number;
  /** While joining: frames held back until the snapshot and history went out. */
  buffer: { frame: Buffer; offset: number | undefined }[] | null;
  /** When the socket dropped (ms); it leaves after the grace period. */
  detachedAt: number | null;
}

interface ConnRooms {
  readonly conn: WsConnection;
  readonly rooms: Map<string, LocalSub>;
}

const roomKey = (appId: string, room: string) => `${appId}/${room}`;
/** A signalling-room frame, typed by its declaration (`SIGNAL_ROOM_FRAME_DEFS`). */
const frameOf = <K extends SignalRoomFrameType>(type: K, data: SignalRoomFrameMap[K]) => JSON.stringify({ type, data });

/**
 * Signalling rooms: join/leave/publish over the socket, the member list and broadcasts through the
 * backplane (every node), policies, limits and the grace period of dropped sockets. Services never
 * touch `ws`: a socket is a {@link WsConnection}.
 */
export class SignalRooms {
  private readonly byRoom = new Map<string, Set<LocalSub>>();
  private readonly byConn = new Map<string, ConnRooms>();
  /** join/leave of one socket run one after another (by conn id). */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly unsub: () => void;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly d: SignalRoomsDeps) {
    this.unsub = d.backplane.subscribe((e) => this.onEvent(e));
  }

  /** Starts the sweeper that removes dropped sockets after the grace period. */
  start(): void {
    const every = Math.max(100, Math.min(1000, (this.d.config.graceS * 1000) / 2));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.unsub();
  }

  // ----- socket verbs -----

  /** `room.join`: admits (policy, grant, limits), joins, sends `room.members` and history, then the reply. */
  join(ctx: AuthContext, f: RoomJoinFrame, conn: WsConnection): Promise<RoomJoinReply> {
    return this.serial(conn, () => this.doJoin(ctx, f, conn));
  }

  /** `room.leave`. */
  leave(ctx: AuthContext, room: string, conn: WsConnection): Promise<{ room: string }> {
    return this.serial(conn, async () => {
      requireCapability(ctx.app, "signaling");
      const sub = this.byConn.get(conn.id)?.rooms.get(room);
      if (!sub) throw new ApiError("not_found", `this socket is not in room "${room}"`);
      await this.release(sub, "left");
      return { room };
    });
  }

  /** `room.publish`: a broadcast from a member. */
  async publish(ctx: AuthContext, f: RoomPublishFrame, conn: WsConnection): Promise<RoomPublishReply> {
    requireCapability(ctx.app, "signaling");
    const sub = this.byConn.get(conn.id)?.rooms.get(f.room);
    if (!sub || sub.buffer !== null) throw new ApiError("not_found", `join room "${f.room}" before publishing to it`);
    if (!sub.canPublish) throw ApiError.forbidden(`your role (${sub.role}) may not publish in room "${f.room}"`);
    const json = this.payload(f.data);
    const rate = await this.d.limiter.take(`room-pub:${sub.appId}:${sub.room}:${sub.identity}`, this.d.config.publishRate);
    if (!rate.allowed) throw ApiError.rateLimited(rate.retryAfterS, rate);
    const from = JSON.stringify({ identity: sub.identity, name: sub.name });
    const r = await this.d.backplane.publish(sub.appId, sub.room, this.rest(from, json), sub.keep, f.echo ? undefined : sub.owner);
    if (!r) throw new ApiError("not_found", `room "${f.room}" has no members`);
    return { room: f.room, epoch: r.epoch, offset: r.offset };
  }

  // ----- the app's backend (REST) -----

  /** `POST /api/v1/rooms/{room}/broadcast`: a broadcast from the app's backend (`from: null`). */
  async broadcast(app: AppRecord, room: string, data: unknown): Promise<RoomBroadcastResponse> {
    requireCapability(app, "signaling");
    const json = this.payload(data);
    const policy = await this.d.policies.effective(app, room);
    const r = await this.d.backplane.publish(app.id, room, this.rest("null", json), policy.history);
    if (!r) throw new ApiError("not_found", `room "${room}" has no members`);
    return { room, epoch: r.epoch, offset: r.offset, members: await this.d.backplane.count(app.id, room) };
  }

  /** `GET /api/v1/rooms/{room}/members`. */
  async members(app: AppRecord, room: string): Promise<RoomMember[]> {
    requireCapability(app, "signaling");
    const members = await this.d.backplane.members(app.id, room);
    if (members.length === 0) throw new ApiError("not_found", `room "${room}" has no members`);
    return members;
  }

  /** `DELETE /api/v1/rooms/{room}/members/{identity}`: every device of the member leaves; its sockets get `room.closed`. */
  async kick(app: AppRecord, room: string, identity: string): Promise<void> {
    requireCapability(app, "signaling");
    const devices = await this.d.backplane.removeMember(app.id, room, identity);
    if (devices === 0) throw new ApiError("not_found", `"${identity}" is not in room "${room}"`);
    this.d.backplane.evict(app.id, room, identity, "kicked");
    this.d.backplane.send(app.id, room, frameOf("room.left", { room, identity, devices: 0, reason: "kicked" }));
  }

  // ----- connection lifecycle and app changes -----

  /** A socket closed: its rooms are left after the grace period (at once when it is 0). */
  disconnected(conn: WsConnection): void {
    const cr = this.byConn.get(conn.id);
    if (!cr) return;
    const now = this.d.clock.now();
    for (const sub of cr.rooms.values()) sub.detachedAt ??= now;
    if (this.d.config.graceS === 0) this.sweep();
  }

  /** The app changed: with signalling off, every socket of it leaves its rooms with `room.closed`. */
  appChanged(app: AppRecord | undefined, appId: string): void {
    if (app?.signalingEnabled) return;
    for (const cr of this.byConn.values()) {
      for (const sub of [...cr.rooms.values()]) {
        if (sub.appId !== appId) continue;
        this.sendClosed(sub, "feature_disabled");
        this.logged(this.release(sub, "feature_disabled"));
      }
    }
  }

  /** A user was banned: their sockets leave every room now (not after the grace period). */
  banned(appId: string, identity: string): void {
    for (const cr of this.byConn.values()) {
      for (const sub of [...cr.rooms.values()]) {
        if (sub.appId === appId && sub.identity === identity) this.logged(this.release(sub, "banned"));
      }
    }
  }

  /** Rooms a socket is in (tests, metrics). */
  roomsOf(connId: string): string[] {
    return [...(this.byConn.get(connId)?.rooms.keys() ?? [])];
  }

  // ----- internals -----

  private async doJoin(ctx: AuthContext, f: RoomJoinFrame, conn: WsConnection): Promise<RoomJoinReply> {
    requireCapability(ctx.app, "signaling");
    const app = ctx.app;
    let cr = this.byConn.get(conn.id);
    const existing = cr?.rooms.get(f.room);
    if (!existing && (cr?.rooms.size ?? 0) >= this.d.config.roomsPerSocket) {
      throw ApiError.limitExceeded("rooms_per_socket", this.d.config.roomsPerSocket);
    }
    const policy = await this.d.policies.effective(app, f.room);
    const { role, canPublish } = await this.admit(ctx, f.room, policy, f.grant);
    if (conn.closed) throw ApiError.conflict("the socket closed");
    const owner = `${this.d.nodeId}/${conn.id}`;
    const sub: LocalSub = existing ?? {
      appId: app.id,
      room: f.room,
      identity: ctx.identity,
      name: ctx.user.name,
      data: null,
      deviceKey: conn.deviceId ?? `socket:${owner}`,
      owner,
      conn,
      role,
      canPublish,
      keep: policy.history,
      buffer: null,
      detachedAt: null,
    };
    sub.role = role;
    sub.canPublish = canPublish;
    sub.keep = policy.history;
    sub.data = f.data === undefined ? null : JSON.stringify(f.data);
    // From here on, frames for the room wait in the buffer until the snapshot and history are out.
    sub.buffer = [];
    if (!existing) {
      if (!cr) {
        cr = { conn, rooms: new Map() };
        this.byConn.set(conn.id, cr);
      }
      this.link(cr, sub);
    }
    try {
      const out = await this.d.backplane.join({
        appId: app.id,
        room: f.room,
        identity: ctx.identity,
        deviceKey: sub.deviceKey,
        owner,
        name: sub.name,
        data: sub.data,
        role,
        now: this.d.clock.now(),
        maxMembers: policy.maxMembers,
      });
      if (!out.ok) {
        if (!existing) this.unlink(sub);
        throw ApiError.limitExceeded("max_room_members", policy.maxMembers);
      }
      // Another socket of this device on this node (a reconnect within the grace period) hands over silently.
      for (const other of [...(this.byRoom.get(roomKey(app.id, f.room)) ?? [])]) {
        if (other !== sub && other.identity === sub.identity && other.deviceKey === sub.deviceKey) this.unlink(other);
      }
      this.d.backplane.send(app.id, f.room, frameOf("room.joined", { room: f.room, member: out.member }), owner);
      const [members, history] = await Promise.all([
        this.d.backplane.members(app.id, f.room),
        this.d.backplane.history(app.id, f.room, f.since),
      ]);
      conn.sendFrame(Buffer.from(frameOf("room.members", { room: f.room, members })));
      let replayedTo = 0;
      for (const h of history.frames) {
        conn.sendFrame(Buffer.from(h.frame));
        replayedTo = h.offset;
      }
      for (const b of sub.buffer ?? []) if (b.offset === undefined || b.offset > replayedTo) conn.sendFrame(b.frame);
      if (conn.closed) sub.detachedAt ??= this.d.clock.now();
      return {
        room: f.room,
        role,
        can_publish: canPublish,
        epoch: history.epoch || out.epoch,
        offset: Math.max(history.offset, out.offset),
        recovered: history.recovered,
        members: members.length,
      };
    } catch (err) {
      // The backplane failed (not a refusal): undo this join as far as it got.
      if (!existing && !(err instanceof ApiError)) await this.release(sub, "left").catch(() => this.unlink(sub));
      throw err;
    } finally {
      sub.buffer = null;
    }
  }

  /** Who may join: a valid grant always admits; otherwise the room's policy decides. */
  private async admit(
    ctx: AuthContext,
    room: string,
    policy: EffectivePolicy,
    grant: string | undefined,
  ): Promise<{ role: string; canPublish: boolean }> {
    let role: string;
    let canPublish = true;
    if (grant !== undefined) {
      const g = await verifyRoomGrant(grant, ctx.app.secret(), ctx.identity, room, this.d.clock.now(), this.d.grantMaxTtlS);
      role = g.role ?? (await this.d.policies.allowedRole(ctx.app.id, room, ctx.identity)) ?? ROOM_DEFAULT_ROLE;
      canPublish = g.publish;
    } else if (policy.policy === "token") {
      throw ApiError.forbidden(`room "${room}" needs a room grant from the app's backend`);
    } else {
      const listed = await this.d.policies.allowedRole(ctx.app.id, room, ctx.identity);
      if (policy.policy === "members" && listed === undefined) throw ApiError.forbidden(`you are not on the member list of room "${room}"`);
      role = listed ?? ROOM_DEFAULT_ROLE;
    }
    if (policy.publishRole !== null && role !== policy.publishRole) canPublish = false;
    return { role, canPublish };
  }

  private payload(data: unknown): string {
    const json = JSON.stringify(data ?? null);
    const bytes = Buffer.byteLength(json);
    if (bytes > this.d.config.maxPayloadBytes) {
      throw new ApiError(
        "payload_too_large",
        `room broadcast data is ${bytes} bytes; at most ${this.d.config.maxPayloadBytes} are allowed`,
      );
    }
    return json;
  }

  private rest(fromJson: string, dataJson: string): string {
    return `"from":${fromJson},"data":${dataJson},"sent_at":"${iso(this.d.clock.now())}"}}`;
  }

  /** Takes a socket out of a room on this node and in the backplane; tells the room. */
  private async release(sub: LocalSub, reason: RoomLeaveReason): Promise<void> {
    if (!this.unlink(sub)) return;
    const k = roomKey(sub.appId, sub.room);
    // Another live socket of the same device here keeps the device in the room.
    const heir = [...(this.byRoom.get(k) ?? [])].find(
      (s) => s.identity === sub.identity && s.deviceKey === sub.deviceKey && s.detachedAt === null,
    );
    if (heir) {
      await this.d.backplane.join({
        appId: heir.appId,
        room: heir.room,
        identity: heir.identity,
        deviceKey: heir.deviceKey,
        owner: heir.owner,
        name: heir.name,
        data: heir.data,
        role: heir.role,
        now: this.d.clock.now(),
        maxMembers: Number.MAX_SAFE_INTEGER,
      });
      return;
    }
    const out = await this.d.backplane.leaveDevice(sub.appId, sub.room, sub.identity, sub.deviceKey, sub.owner);
    if (out.removed) {
      this.d.backplane.send(
        sub.appId,
        sub.room,
        frameOf("room.left", { room: sub.room, identity: sub.identity, devices: out.devices, reason }),
      );
    }
  }

  private link(cr: ConnRooms, sub: LocalSub): void {
    cr.rooms.set(sub.room, sub);
    const k = roomKey(sub.appId, sub.room);
    let set = this.byRoom.get(k);
    if (!set) {
      set = new Set();
      this.byRoom.set(k, set);
    }
    set.add(sub);
  }

  /** Removes a socket's membership on this node; false when it was already gone. */
  private unlink(sub: LocalSub): boolean {
    const cr = this.byConn.get(sub.conn.id);
    if (cr?.rooms.get(sub.room) !== sub) return false;
    cr.rooms.delete(sub.room);
    if (cr.rooms.size === 0) this.byConn.delete(sub.conn.id);
    const k = roomKey(sub.appId, sub.room);
    const set = this.byRoom.get(k);
    set?.delete(sub);
    if (set?.size === 0) {
      this.byRoom.delete(k);
      this.d.backplane.forget?.(sub.appId, sub.room);
    }
    return true;
  }

  private sendClosed(sub: LocalSub, reason: RoomClosedData["reason"]): void {
    if (!sub.conn.closed) sub.conn.sendFrame(Buffer.from(frameOf("room.closed", { room: sub.room, reason })));
  }

  private onEvent(e: BackplaneEvent): void {
    const subs = this.byRoom.get(roomKey(e.appId, e.room));
    if (!subs) return;
    if (e.kind === "evict") {
      for (const sub of [...subs]) {
        if (sub.identity !== e.identity) continue;
        // The backplane entry is gone already (the kicker removed it); only this node's socket remains.
        this.unlink(sub);
        this.sendClosed(sub, e.reason);
      }
      return;
    }
    // One buffer for every socket in the room: the frame is encoded once per node.
    const frame = Buffer.from(e.frame);
    for (const sub of subs) {
      if (sub.owner === e.exclude || sub.detachedAt !== null) continue;
      if (sub.buffer) sub.buffer.push({ frame, offset: e.offset });
      else sub.conn.sendFrame(frame);
    }
  }

  private sweep(): void {
    const cutoff = this.d.clock.now() - this.d.config.graceS * 1000;
    for (const cr of [...this.byConn.values()]) {
      for (const sub of [...cr.rooms.values()]) {
        if (sub.detachedAt !== null && sub.detachedAt <= cutoff) this.logged(this.release(sub, "disconnected"));
      }
    }
  }

  private serial<T>(conn: WsConnection, fn: () => Promise<T>): Promise<T> {
    const run = (this.chains.get(conn.id) ?? Promise.resolve()).then(fn);
    const tail = run.then(
      () => {},
      () => {},
    );
    this.chains.set(conn.id, tail);
    void tail.then(() => {
      if (this.chains.get(conn.id) === tail) this.chains.delete(conn.id);
    });
    return run;
  }

  private logged(p: Promise<void>): void {
    p.catch((err: unknown) => this.d.log.warn({ err }, "signalling rooms: could not update the backplane"));
  }
}
