import {
  EventStream,
  type RoomJoinReply,
  type RoomLeaveReason,
  type RoomMember,
  type RoomMessageData,
  type RoomPosition,
  type RoomPublishReply,
  type SignalRoomFrame,
  UTDStreamException,
} from "@utd-stream/protocol";
import type { UTDSignalClient } from "./client.js";
import { Emitter } from "./emitter.js";
import { type ReadableStore, Store } from "./store.js";

/** JSON, as room data and member data are. */
export type UTDJson = RoomMessageData["data"];

/** A member of a signalling room. Several devices of one identity are one member. */
export interface UTDSignalRoomMember {
  identity: string;
  name: string | null;
  /** Custom member data (what the member's latest join sent). */
  data: UTDJson | null;
  role: string;
  devices: number;
  joinedAt: Date;
}

/** A broadcast. `from` is null when the app's backend sent it. */
export interface UTDSignalRoomMessage {
  room: string;
  epoch: string;
  offset: number;
  from: { identity: string; name: string | null } | null;
  data: UTDJson;
  sentAt: Date;
}

/** Events of a {@link UTDSignalRoom} besides messages. */
export interface UTDSignalRoomEvents {
  /** Someone became a member (not: another device of a member). */
  memberJoined: UTDSignalRoomMember;
  /** A member is gone (its last device left). */
  memberLeft: { identity: string; reason: RoomLeaveReason };
  /** The engine removed this socket (kicked, or the signalling capability was switched off); no rejoin follows. */
  closed: { reason: "kicked" | "banned" | "feature_disabled" };
  /** A rejoin after a reconnect failed (the room is left). */
  error: UTDStreamException;
  /** A rejoin could not replay everything missed since the drop (the history did not cover it). */
  gap: { epoch: string; offset: number };
}

export interface UTDSignalRoomOptions {
  /** Custom member data (≤ 1 KiB of JSON), shown to the other members. */
  data?: UTDJson;
  /**
   * A room grant from your backend (required in `token` rooms): a string, or a function asked before
   * every join and rejoin (a grant is checked when joining, so a rejoin after a reconnect needs a fresh one).
   */
  grant?: string | (() => Promise<string>);
  /** Also deliver this device's own broadcasts to it (default false). */
  echo?: boolean;
}

/** What a room handle needs from the socket. */
export interface RoomTransport {
  request<T>(verb: string, body: Record<string, unknown>): Promise<T>;
}

export function roomMemberFromWire(m: RoomMember): UTDSignalRoomMember {
  return { identity: m.identity, name: m.name, data: m.data, role: m.role, devices: m.devices, joinedAt: new Date(m.joined_at) };
}

export function roomMessageFromWire(m: RoomMessageData): UTDSignalRoomMessage {
  return { room: m.room, epoch: m.epoch, offset: m.offset, from: m.from, data: m.data, sentAt: new Date(m.sent_at) };
}

/**
 * One signalling room as this device sees it: the member list and whether it is joined (stores),
 * broadcasts (`messages`), `publish` and `leave`. Made by `UTDSignaling.room(name)`; after a reconnect
 * it rejoins by itself and asks for what it missed (`since`), so no broadcast is seen twice and a gap
 * the room's history cannot cover is reported (`gap`).
 *
 * @example
 * const room = await signaling.room("doc-42", { data: { color: "#e33" } });
 * room.members.subscribe((ms) => renderAvatars(ms));
 * room.messages.subscribe((m) => moveCursor(m.from?.identity, m.data));
 * await room.publish({ x: 10, y: 20 });
 */
export class UTDSignalRoom {
  private readonly membersStore = new Store<readonly UTDSignalRoomMember[]>([]);
  private readonly joinedStore = new Store<boolean>(false);
  private readonly emitter = new Emitter<UTDSignalRoomEvents>();
  /** Every broadcast, in offset order, each once. */
  readonly messages = new EventStream<UTDSignalRoomMessage>();
  private position: RoomPosition | undefined;
  private wanted = false;
  private joining: Promise<void> | undefined;
  private reply: RoomJoinReply | undefined;

  /** @internal — use `UTDSignaling.room(name)`. */
  constructor(
    readonly name: string,
    private readonly transport: RoomTransport,
    private readonly opts: UTDSignalRoomOptions,
    private readonly onGone: (room: UTDSignalRoom) => void,
  ) {}

  /** The members, in join order (`value` + `subscribe`). */
  get members(): ReadableStore<readonly UTDSignalRoomMember[]> {
    return this.membersStore;
  }
  /** Whether this device is in the room now (false while rejoining after a drop, and after leave/close). */
  get joined(): ReadableStore<boolean> {
    return this.joinedStore;
  }
  /** This device's role in the room (from the last join). */
  get role(): string | undefined {
    return this.reply?.role;
  }
  /** Whether this device may publish (the room's publish role, or a listen-only grant, may forbid it). */
  get canPublish(): boolean {
    return this.reply?.can_publish ?? false;
  }

  /** Subscribes to a room event; returns an unsubscribe function. */
  on<K extends keyof UTDSignalRoomEvents>(type: K, fn: (data: UTDSignalRoomEvents[K]) => void): () => void {
    return this.emitter.on(type, fn);
  }

  /** Broadcasts to the room's other devices; resolves to the broadcast's position. */
  async publish(data: UTDJson): Promise<{ epoch: string; offset: number }> {
    const body: Record<string, unknown> = { room: this.name, data };
    if (this.opts.echo) body.echo = true;
    const r = await this.transport.request<RoomPublishReply>("room.publish", body);
    return { epoch: r.epoch, offset: r.offset };
  }

  /** Leaves the room (no rejoin after reconnects). */
  async leave(): Promise<void> {
    this.wanted = false;
    this.onGone(this);
    const was = this.joinedStore.value;
    this.joinedStore.set(false);
    if (was) {
      try {
        await this.transport.request("room.leave", { room: this.name });
      } catch (err) {
        // Already out (kicked, dropped and swept): nothing left to leave.
        if (!(err instanceof UTDStreamException && err.code === "not_found")) throw err;
      }
    }
  }

  /** @internal Joins (or rejoins after a reconnect, from where it left off). */
  join(): Promise<void> {
    this.wanted = true;
    this.joining ??= this.doJoin().finally(() => {
      this.joining = undefined;
    });
    return this.joining;
  }

  private async doJoin(): Promise<void> {
    const body: Record<string, unknown> = { room: this.name };
    if (this.opts.data !== undefined) body.data = this.opts.data;
    if (this.opts.grant !== undefined) body.grant = typeof this.opts.grant === "string" ? this.opts.grant : await this.opts.grant();
    const since = this.position;
    if (since) body.since = since;
    const r = await this.transport.request<RoomJoinReply>("room.join", body);
    this.reply = r;
    // Where the room stood at the join (broadcasts already delivered above may be further on).
    if (!this.position || this.position.epoch !== r.epoch || this.position.offset < r.offset)
      this.position = { epoch: r.epoch, offset: r.offset };
    if (since && !r.recovered) this.emitter.emit("gap", { epoch: r.epoch, offset: r.offset });
    if (!this.wanted) return;
    this.joinedStore.set(true);
  }

  /** @internal The socket reconnected: membership belonged to the old socket, so join again. */
  rejoin(): void {
    if (!this.wanted) return;
    this.joinedStore.set(false);
    this.join().catch((err: unknown) => {
      this.wanted = false;
      this.onGone(this);
      this.emitter.emit("error", err instanceof UTDStreamException ? err : UTDStreamException.network(String(err)));
    });
  }

  /** @internal The socket dropped. */
  dropped(): void {
    this.joinedStore.set(false);
  }

  /** @internal A frame for this room. */
  onFrame(f: SignalRoomFrame): void {
    switch (f.type) {
      case "room.members":
        this.membersStore.set(f.data.members.map(roomMemberFromWire));
        return;
      case "room.joined": {
        const m = roomMemberFromWire(f.data.member);
        const list = this.membersStore.value;
        const i = list.findIndex((x) => x.identity === m.identity);
        if (i < 0) {
          this.membersStore.set([...list, m]);
          this.emitter.emit("memberJoined", m);
        } else this.membersStore.set(list.map((x, k) => (k === i ? m : x)));
        return;
      }
      case "room.left": {
        const { identity, devices, reason } = f.data;
        const list = this.membersStore.value;
        if (!list.some((x) => x.identity === identity)) return;
        if (devices > 0) {
          this.membersStore.set(list.map((x) => (x.identity === identity ? { ...x, devices } : x)));
          return;
        }
        this.membersStore.set(list.filter((x) => x.identity !== identity));
        this.emitter.emit("memberLeft", { identity, reason });
        return;
      }
      case "room.message": {
        const m = f.data;
        // Each broadcast once: a replay after a rejoin may overlap what arrived live.
        if (this.position && this.position.epoch === m.epoch && m.offset <= this.position.offset) return;
        this.position = { epoch: m.epoch, offset: m.offset };
        this.messages.emit(roomMessageFromWire(m));
        return;
      }
      case "room.closed":
        this.wanted = false;
        this.onGone(this);
        this.joinedStore.set(false);
        this.emitter.emit("closed", { reason: f.data.reason });
        return;
    }
  }
}

/** What the registry needs from the WebSocket client. */
export type RoomClient = Pick<UTDSignalClient, "request" | "on" | "state">;

/**
 * The rooms of one `UTDSignaling`: routes room frames to their handle and rejoins every room after a
 * reconnect (a room's membership belongs to the socket that joined).
 */
export class RoomRegistry {
  private readonly rooms = new Map<string, UTDSignalRoom>();
  private client: RoomClient | undefined;
  private offs: (() => void)[] = [];

  /** Follows a (new) WebSocket client. */
  attach(client: RoomClient): void {
    this.detach();
    this.client = client;
    this.offs = [
      client.on("roomFrame", (f) => this.rooms.get(f.data.room)?.onFrame(f)),
      client.on("welcome", () => {
        for (const r of this.rooms.values()) r.rejoin();
      }),
      client.state.subscribe((s) => {
        if (s !== "connected") for (const r of this.rooms.values()) r.dropped();
      }),
    ];
  }

  /** Stops following the client; every room handle is left (without telling the engine: the socket is gone). */
  detach(): void {
    for (const off of this.offs) off();
    this.offs = [];
    for (const r of [...this.rooms.values()]) r.dropped();
    this.rooms.clear();
    this.client = undefined;
  }

  /** The joined handle of `name` (joining it first when needed). */
  async open(name: string, opts: UTDSignalRoomOptions): Promise<UTDSignalRoom> {
    const client = this.client;
    if (!client) throw new Error("UTDSignaling: call connect() first");
    let room = this.rooms.get(name);
    if (!room) {
      room = new UTDSignalRoom(name, { request: (verb, body) => client.request(verb, body) }, opts, (r) => {
        if (this.rooms.get(r.name) === r) this.rooms.delete(r.name);
      });
      this.rooms.set(name, room);
    }
    try {
      await room.join();
    } catch (err) {
      if (this.rooms.get(name) === room) this.rooms.delete(name);
      throw err;
    }
    return room;
  }

  /** Rooms this device is in (or rejoining). */
  names(): string[] {
    return [...this.rooms.keys()];
  }
}
