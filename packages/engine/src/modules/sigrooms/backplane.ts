import type { RoomMember } from "@utd-stream/protocol";

/**
 * The room backplane: who is in each signalling room (across every node), the room's broadcast
 * position and short history, and delivery of room frames to every node. The in-process one serves a
 * single node; the Redis one shares it between nodes (see redis-backplane.ts). One contract suite runs
 * over both (test/sigrooms-backplane.test.ts).
 *
 * Membership is per device: a device is a `deviceKey` (the socket's device id, or a key of the socket
 * itself) owned by one socket (`owner`, `<node>/<conn>`). A second socket with the same device key
 * takes the device over, so a reconnect within the grace period shows no leave/join.
 */
export interface RoomBackplane {
  /** Adds (or takes over) a device of a member. Refused with `full` when a new member would pass `maxMembers`. */
  join(j: DeviceJoin): Promise<JoinOutcome>;
  /** Removes one device if `owner` still owns it. */
  leaveDevice(appId: string, room: string, identity: string, deviceKey: string, owner: string): Promise<LeaveOutcome>;
  /** Removes every device of a member (kick); resolves to how many there were (0: not a member). */
  removeMember(appId: string, room: string, identity: string): Promise<number>;
  /** The members, sorted by join time (empty when nobody is in the room). */
  members(appId: string, room: string): Promise<RoomMember[]>;
  /** How many members the room has. */
  count(appId: string, room: string): Promise<number>;
  /**
   * Appends a broadcast: assigns the next offset, keeps the frame in the room's history (the last `keep`),
   * and delivers it to every node, in offset order. `rest` is the frame after the offset: `"from":…}}`.
   * Resolves to undefined when the room has no members. `exclude` names the owner that does not get it.
   */
  publish(
    appId: string,
    room: string,
    rest: string,
    keep: number,
    exclude?: string,
  ): Promise<{ epoch: string; offset: number } | undefined>;
  /** History after `since` (all of it without), and whether that covers everything since then. */
  history(appId: string, room: string, since?: { epoch: string; offset: number }): Promise<RoomHistory>;
  /** Delivers a frame (joined/left) to every node's sockets in the room (but `exclude`). */
  send(appId: string, room: string, frame: string, exclude?: string): void;
  /** Tells every node to drop a member's sockets from a room (kick, ban) with `room.closed`. */
  evict(appId: string, room: string, identity: string, reason: "kicked" | "banned"): void;
  subscribe(handler: (e: BackplaneEvent) => void): () => void;
  /** This node has no socket left in the room (lets a shared backplane stop tracking it for this node). */
  forget?(appId: string, room: string): void;
  /** Resolves once events from other nodes are being received. */
  ready(): Promise<void>;
  /** Stops; a shared backplane keeps this node's members for `graceS` (sockets reconnecting elsewhere take them over). */
  close(graceS?: number): Promise<void>;
}

export interface DeviceJoin {
  appId: string;
  room: string;
  identity: string;
  deviceKey: string;
  owner: string;
  name: string | null;
  /** JSON text of the custom member data, or null. */
  data: string | null;
  role: string;
  now: number;
  maxMembers: number;
}

export type JoinOutcome =
  | { ok: true; member: RoomMember; newMember: boolean; newDevice: boolean; epoch: string; offset: number }
  | { ok: false; members: number };

export interface LeaveOutcome {
  /** Whether `owner` owned the device (and it is now gone). */
  removed: boolean;
  /** Devices of the member left in the room (0: the member is gone). */
  devices: number;
}

export interface RoomHistory {
  epoch: string;
  offset: number;
  /** Frames with their offsets, oldest first. */
  frames: { offset: number; frame: string }[];
  /** `since` was given, of this epoch, and nothing after it has been dropped from the history. */
  recovered: boolean;
}

/** What a node receives from the backplane. */
export type BackplaneEvent =
  /** A frame for the room's sockets; `offset` set on broadcasts; `exclude` an owner that must not get it. */
  | { kind: "frame"; appId: string; room: string; frame: string; offset?: number; exclude?: string }
  /** Drop `identity`'s sockets from the room. */
  | { kind: "evict"; appId: string; room: string; identity: string; reason: "kicked" | "banned" };

/** The part of a broadcast frame before `rest`. Room names need no escaping (`[A-Za-z0-9._-]`), epochs are base36. */
export function messageHead(room: string, epoch: string, offset: number): string {
  return `{"type":"room.message","data":{"room":"${room}","epoch":"${epoch}","offset":${offset},`;
}

/** Which history frames follow `since`, and whether they cover everything after it. */
export function historyAfter(
  epoch: string,
  offset: number,
  kept: string[],
  since: { epoch: string; offset: number } | undefined,
): RoomHistory {
  // The kept frames are the last `kept.length` broadcasts: offsets offset-len+1 … offset.
  const first = offset - kept.length + 1;
  const all = kept.map((frame, i) => ({ offset: first + i, frame }));
  if (!since) return { epoch, offset, frames: all, recovered: false };
  const recovered = since.epoch === epoch && since.offset <= offset && since.offset >= first - 1;
  return { epoch, offset, frames: recovered ? all.filter((f) => f.offset > since.offset) : all, recovered };
}
