import { randomBytes } from "node:crypto";
import type { RoomMember } from "@utd-stream/protocol";
import { iso } from "../../core/clock.js";
import {
  type BackplaneEvent,
  type DeviceJoin,
  historyAfter,
  type JoinOutcome,
  type LeaveOutcome,
  messageHead,
  type RoomBackplane,
  type RoomHistory,
} from "./backplane.js";

interface MemberState {
  identity: string;
  name: string | null;
  data: string | null;
  role: string;
  joinedAt: number;
  /** device key → owner */
  devices: Map<string, string>;
}

interface RoomState {
  epoch: string;
  offset: number;
  members: Map<string, MemberState>;
  history: string[];
}

/** A fresh room epoch: base36, unique enough that a recreated room never matches an old cursor. */
export function newEpoch(): string {
  return `${Date.now().toString(36)}${randomBytes(5).toString("hex")}`;
}

function memberOf(m: MemberState): RoomMember {
  return {
    identity: m.identity,
    name: m.name,
    data: m.data === null ? null : JSON.parse(m.data),
    role: m.role,
    devices: m.devices.size,
    joined_at: iso(m.joinedAt),
  };
}

/** The single-node backplane: rooms in this process; frames delivered synchronously, in order. */
export class MemoryBackplane implements RoomBackplane {
  private readonly rooms = new Map<string, RoomState>();
  private readonly handlers = new Set<(e: BackplaneEvent) => void>();

  private key(appId: string, room: string): string {
    return `${appId}/${room}`;
  }

  async join(j: DeviceJoin): Promise<JoinOutcome> {
    const k = this.key(j.appId, j.room);
    let r = this.rooms.get(k);
    const existing = r?.members.get(j.identity);
    if (!existing && (r?.members.size ?? 0) >= j.maxMembers) return { ok: false, members: r?.members.size ?? 0 };
    if (!r) {
      r = { epoch: newEpoch(), offset: 0, members: new Map(), history: [] };
      this.rooms.set(k, r);
    }
    const m: MemberState = existing ?? {
      identity: j.identity,
      name: j.name,
      data: j.data,
      role: j.role,
      joinedAt: j.now,
      devices: new Map(),
    };
    m.name = j.name;
    m.data = j.data;
    m.role = j.role;
    const newDevice = !m.devices.has(j.deviceKey);
    m.devices.set(j.deviceKey, j.owner);
    r.members.set(j.identity, m);
    return { ok: true, member: memberOf(m), newMember: !existing, newDevice, epoch: r.epoch, offset: r.offset };
  }

  async leaveDevice(appId: string, room: string, identity: string, deviceKey: string, owner: string): Promise<LeaveOutcome> {
    const k = this.key(appId, room);
    const r = this.rooms.get(k);
    const m = r?.members.get(identity);
    if (!r || !m) return { removed: false, devices: 0 };
    if (m.devices.get(deviceKey) !== owner) return { removed: false, devices: m.devices.size };
    m.devices.delete(deviceKey);
    if (m.devices.size === 0) r.members.delete(identity);
    if (r.members.size === 0) this.rooms.delete(k);
    return { removed: true, devices: m.devices.size };
  }

  async removeMember(appId: string, room: string, identity: string): Promise<number> {
    const k = this.key(appId, room);
    const r = this.rooms.get(k);
    const m = r?.members.get(identity);
    if (!r || !m) return 0;
    r.members.delete(identity);
    if (r.members.size === 0) this.rooms.delete(k);
    return m.devices.size;
  }

  async members(appId: string, room: string): Promise<RoomMember[]> {
    const r = this.rooms.get(this.key(appId, room));
    if (!r) return [];
    return [...r.members.values()].sort((a, b) => a.joinedAt - b.joinedAt || (a.identity < b.identity ? -1 : 1)).map(memberOf);
  }

  async count(appId: string, room: string): Promise<number> {
    return this.rooms.get(this.key(appId, room))?.members.size ?? 0;
  }

  async publish(appId: string, room: string, rest: string, keep: number, exclude?: string) {
    const r = this.rooms.get(this.key(appId, room));
    if (!r) return undefined;
    const offset = ++r.offset;
    const frame = messageHead(room, r.epoch, offset) + rest;
    if (keep > 0) {
      r.history.push(frame);
      if (r.history.length > keep) r.history.splice(0, r.history.length - keep);
    } else if (r.history.length > 0) r.history = [];
    this.emit(
      exclude === undefined ? { kind: "frame", appId, room, frame, offset } : { kind: "frame", appId, room, frame, offset, exclude },
    );
    return { epoch: r.epoch, offset };
  }

  async history(appId: string, room: string, since?: { epoch: string; offset: number }): Promise<RoomHistory> {
    const r = this.rooms.get(this.key(appId, room));
    if (!r) return { epoch: "", offset: 0, frames: [], recovered: false };
    return historyAfter(r.epoch, r.offset, r.history, since);
  }

  send(appId: string, room: string, frame: string, exclude?: string): void {
    this.emit(exclude === undefined ? { kind: "frame", appId, room, frame } : { kind: "frame", appId, room, frame, exclude });
  }

  evict(appId: string, room: string, identity: string, reason: "kicked" | "banned"): void {
    this.emit({ kind: "evict", appId, room, identity, reason });
  }

  private emit(e: BackplaneEvent): void {
    for (const h of this.handlers) h(e);
  }

  subscribe(handler: (e: BackplaneEvent) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async ready(): Promise<void> {}

  async close(): Promise<void> {
    this.handlers.clear();
    this.rooms.clear();
  }
}
