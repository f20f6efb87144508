import type { RoomMember } from "@utd-stream/protocol";
import type { Cluster, Redis } from "ioredis";
import { iso } from "../../core/clock.js";
import {
  type BackplaneEvent,
  type DeviceJoin,
  historyAfter,
  type JoinOutcome,
  type LeaveOutcome,
  type RoomBackplane,
  type RoomHistory,
} from "./backplane.js";
import { newEpoch } from "./memory-backplane.js";

/**
 * Rooms shared by every node through Redis. Per room (keys share a hash tag): `m` member hash
 * (identity → `<joined_at ms>\n{identity,name,data,role}`), `d` device hash (`identity\ndevice` →
 * owner), `c` device counts, `s` epoch + offset, `h` history list. Every change is one Lua script, so
 * limits hold across nodes. Broadcasts are appended and PUBLISHed by the same script: Redis runs scripts
 * one at a time, so every node receives a room's broadcasts in offset order (the publishing node too —
 * it takes its own copy from Redis rather than short-cutting, for the same reason).
 *
 * A node renews a lease; when one stops (crash), the others remove its devices and tell the rooms. The node
 * bookkeeping keys share one hash tag of their own, so the same code runs on one Redis and on a Redis Cluster
 * (where a script's or a MULTI's keys must sit in one slot; PUBLISH reaches every node of a cluster).
 */
export interface RedisBackplaneOptions {
  /** Opens a connection (one Redis server or a Redis Cluster); called twice: commands, and the subscription. */
  connect: () => Redis | Cluster;
  nodeId: string;
  leaseS: number;
  /** Key and channel prefix (tests). */
  prefix?: string;
  onError?: (err: Error) => void;
}

const JOIN = `
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1])
local count = redis.call('HLEN', KEYS[1])
if exists == 0 and count >= tonumber(ARGV[5]) then return {0, count} end
if redis.call('HEXISTS', KEYS[4], 'epoch') == 0 then redis.call('HSET', KEYS[4], 'epoch', ARGV[6], 'offset', 0) end
local joined = ARGV[7]
if exists == 1 then joined = string.match(redis.call('HGET', KEYS[1], ARGV[1]), '^(%d+)') end
redis.call('HSET', KEYS[1], ARGV[1], joined .. '\\n' .. ARGV[4])
local newDevice = 0
if redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) == 1 then
  newDevice = 1
  redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
end
local devices = tonumber(redis.call('HGET', KEYS[3], ARGV[1]))
local s = redis.call('HMGET', KEYS[4], 'epoch', 'offset')
return {1, 1 - exists, newDevice, devices, joined, s[1], tonumber(s[2])}
`;

const DROP_IF_EMPTY = `
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]) end
`;

const LEAVE = `
local cur = redis.call('HGET', KEYS[2], ARGV[2])
if cur ~= ARGV[3] then return {0, tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or 0)} end
redis.call('HDEL', KEYS[2], ARGV[2])
local n = redis.call('HINCRBY', KEYS[3], ARGV[1], -1)
if n <= 0 then
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('HDEL', KEYS[1], ARGV[1])
  n = 0
end
${DROP_IF_EMPTY}
return {1, n}
`;

const REMOVE_MEMBER = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local devices = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or 0)
local p = ARGV[1] .. '\\n'
for _, f in ipairs(redis.call('HKEYS', KEYS[2])) do
  if string.sub(f, 1, #p) == p then redis.call('HDEL', KEYS[2], f) end
end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
${DROP_IF_EMPTY}
return devices
`;

/** Removes every device owned by a node (prefix `<node>/`); returns identity, devices left, … for each. */
const REMOVE_OWNER = `
local removed = {}
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  local f, v = all[i], all[i + 1]
  if string.sub(v, 1, #ARGV[1]) == ARGV[1] then
    redis.call('HDEL', KEYS[2], f)
    local ident = string.match(f, '^(.-)\\n')
    local n = redis.call('HINCRBY', KEYS[3], ident, -1)
    if n <= 0 then
      redis.call('HDEL', KEYS[3], ident)
      redis.call('HDEL', KEYS[1], ident)
      n = 0
    end
    table.insert(removed, ident)
    table.insert(removed, n)
  end
end
${DROP_IF_EMPTY}
return removed
`;

// KEYS: s h m; ARGV: room, rest, keep, channel, header head, header tail
const PUBLISH = `
if redis.call('HLEN', KEYS[3]) == 0 then return false end
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
local frame = '{"type":"room.message","data":{"room":"' .. ARGV[1] .. '","epoch":"' .. epoch .. '","offset":' .. offset .. ',' .. ARGV[2]
local keep = tonumber(ARGV[3])
if keep > 0 then
  redis.call('RPUSH', KEYS[2], frame)
  redis.call('LTRIM', KEYS[2], -keep, -1)
else
  redis.call('DEL', KEYS[2])
end
redis.call('PUBLISH', ARGV[4], ARGV[5] .. offset .. ARGV[6] .. frame)
return {epoch, offset}
`;

// KEYS: s (for its slot only); ARGV: channel, payload. Frames without an offset are published from the room's slot
// too, by a script like the broadcasts: on a cluster a plain PUBLISH could take another path and overtake them.
const SEND = `redis.call('PUBLISH', ARGV[1], ARGV[2])`;

type Header =
  | { k: "f"; a: string; r: string; o?: number; x?: string }
  | { k: "e"; a: string; r: string; i: string; w: "kicked" | "banned" };

interface Scripted {
  roomJoin(m: string, d: string, c: string, s: string, h: string, ...args: (string | number)[]): Promise<[number, ...unknown[]]>;
  roomLeave(m: string, d: string, c: string, s: string, h: string, ...args: string[]): Promise<[number, number]>;
  roomRemoveMember(m: string, d: string, c: string, s: string, h: string, identity: string): Promise<number>;
  roomRemoveOwner(m: string, d: string, c: string, s: string, h: string, prefix: string): Promise<(string | number)[]>;
  roomPublish(s: string, h: string, m: string, ...args: (string | number)[]): Promise<[string, number] | null>;
  roomSend(s: string, channel: string, payload: string): Promise<null>;
}

export class RedisBackplane implements RoomBackplane {
  private readonly pub: (Redis | Cluster) & Scripted;
  private readonly sub: Redis | Cluster;
  /** Node bookkeeping: one hash tag, so each MULTI over it stays in one slot of a cluster. */
  private readonly nodeKeys: string;
  private readonly handlers = new Set<(e: BackplaneEvent) => void>();
  private readonly prefix: string;
  private readonly channel: string;
  private readonly subscribed: Promise<void>;
  private readonly timer: NodeJS.Timeout;
  private readonly onError: (err: Error) => void;

  constructor(private readonly o: RedisBackplaneOptions) {
    this.prefix = o.prefix ?? "utd:sr";
    this.channel = `${this.prefix}:events`;
    this.onError = o.onError ?? (() => {});
    this.nodeKeys = `${this.prefix}:{${this.prefix}:nodes}`;
    this.pub = o.connect() as (Redis | Cluster) & Scripted;
    this.sub = o.connect();
    this.pub.on("error", (e: Error) => this.onError(e));
    this.sub.on("error", (e: Error) => this.onError(e));
    this.pub.defineCommand("roomJoin", { numberOfKeys: 5, lua: JOIN });
    this.pub.defineCommand("roomLeave", { numberOfKeys: 5, lua: LEAVE });
    this.pub.defineCommand("roomRemoveMember", { numberOfKeys: 5, lua: REMOVE_MEMBER });
    this.pub.defineCommand("roomRemoveOwner", { numberOfKeys: 5, lua: REMOVE_OWNER });
    this.pub.defineCommand("roomPublish", { numberOfKeys: 3, lua: PUBLISH });
    this.pub.defineCommand("roomSend", { numberOfKeys: 1, lua: SEND });
    this.sub.on("messageBuffer", (_ch: Buffer, payload: Buffer) => this.receive(payload.toString("utf8")));
    this.subscribed = this.sub.subscribe(this.channel).then(() => this.renew());
    this.timer = setInterval(() => void this.renew().then(() => this.reapDeadNodes()), (o.leaseS * 1000) / 3);
    this.timer.unref();
  }

  private keys(appId: string, room: string): [string, string, string, string, string] {
    const t = `${this.prefix}:{${appId}/${room}}`;
    return [`${t}:m`, `${t}:d`, `${t}:c`, `${t}:s`, `${t}:h`];
  }

  async join(j: DeviceJoin): Promise<JoinOutcome> {
    const member = `{"identity":${JSON.stringify(j.identity)},"name":${JSON.stringify(j.name)},"data":${j.data ?? "null"},"role":${JSON.stringify(j.role)}}`;
    const r = await this.pub.roomJoin(
      ...this.keys(j.appId, j.room),
      j.identity,
      `${j.identity}\n${j.deviceKey}`,
      j.owner,
      member,
      j.maxMembers,
      newEpoch(),
      j.now,
    );
    if (r[0] === 0) return { ok: false, members: Number(r[1]) };
    const [, newMember, newDevice, devices, joined, epoch, offset] = r as [number, number, number, number, string, string, number];
    this.pub.sadd(`${this.nodeKeys}:rooms:${this.o.nodeId}`, `${j.appId}/${j.room}`).catch((e: Error) => this.onError(e));
    return {
      ok: true,
      member: {
        identity: j.identity,
        name: j.name,
        data: j.data === null ? null : JSON.parse(j.data),
        role: j.role,
        devices,
        joined_at: iso(Number(joined)),
      },
      newMember: newMember === 1,
      newDevice: newDevice === 1,
      epoch,
      offset,
    };
  }

  async leaveDevice(appId: string, room: string, identity: string, deviceKey: string, owner: string): Promise<LeaveOutcome> {
    const [removed, devices] = await this.pub.roomLeave(...this.keys(appId, room), identity, `${identity}\n${deviceKey}`, owner);
    return { removed: removed === 1, devices: Number(devices) };
  }

  async removeMember(appId: string, room: string, identity: string): Promise<number> {
    return Number(await this.pub.roomRemoveMember(...this.keys(appId, room), identity));
  }

  async members(appId: string, room: string): Promise<RoomMember[]> {
    const [m, , c] = this.keys(appId, room);
    const res = await this.pub.multi().hgetall(m).hgetall(c).exec();
    const members = (res?.[0]?.[1] ?? {}) as Record<string, string>;
    const counts = (res?.[1]?.[1] ?? {}) as Record<string, string>;
    const out: (RoomMember & { at: number })[] = [];
    for (const [identity, v] of Object.entries(members)) {
      const nl = v.indexOf("\n");
      const at = Number(v.slice(0, nl));
      const body = JSON.parse(v.slice(nl + 1)) as Omit<RoomMember, "devices" | "joined_at">;
      out.push({ ...body, identity, devices: Number(counts[identity] ?? 0), joined_at: iso(at), at });
    }
    out.sort((a, b) => a.at - b.at || (a.identity < b.identity ? -1 : 1));
    return out.map(({ at: _at, ...m }) => m);
  }

  async count(appId: string, room: string): Promise<number> {
    return this.pub.hlen(this.keys(appId, room)[0]);
  }

  async publish(appId: string, room: string, rest: string, keep: number, exclude?: string) {
    const [m, , , s, h] = this.keys(appId, room);
    const head = JSON.stringify({ k: "f", a: appId, r: room, ...(exclude === undefined ? {} : { x: exclude }) }).slice(0, -1);
    const r = await this.pub.roomPublish(s, h, m, room, rest, keep, this.channel, `${head},"o":`, "}\n");
    if (!r) return undefined;
    return { epoch: String(r[0]), offset: Number(r[1]) };
  }

  async history(appId: string, room: string, since?: { epoch: string; offset: number }): Promise<RoomHistory> {
    const [, , , s, h] = this.keys(appId, room);
    const res = await this.pub.multi().hmget(s, "epoch", "offset").lrange(h, 0, -1).exec();
    const [epoch, offset] = (res?.[0]?.[1] ?? [null, null]) as [string | null, string | null];
    if (epoch === null) return { epoch: "", offset: 0, frames: [], recovered: false };
    return historyAfter(epoch, Number(offset), (res?.[1]?.[1] ?? []) as string[], since);
  }

  send(appId: string, room: string, frame: string, exclude?: string): void {
    this.emit({ k: "f", a: appId, r: room, ...(exclude === undefined ? {} : { x: exclude }) }, frame);
  }

  evict(appId: string, room: string, identity: string, reason: "kicked" | "banned"): void {
    this.emit({ k: "e", a: appId, r: room, i: identity, w: reason }, "");
  }

  private emit(h: Header, frame: string): void {
    const s = this.keys(h.a, h.r)[3];
    this.pub.roomSend(s, this.channel, `${JSON.stringify(h)}\n${frame}`).catch((e: Error) => this.onError(e));
  }

  private receive(payload: string): void {
    const nl = payload.indexOf("\n");
    if (nl < 0) return;
    let h: Header;
    try {
      h = JSON.parse(payload.slice(0, nl)) as Header;
    } catch (err) {
      this.onError(err as Error);
      return;
    }
    let e: BackplaneEvent;
    if (h.k === "e") e = { kind: "evict", appId: h.a, room: h.r, identity: h.i, reason: h.w };
    else {
      e = { kind: "frame", appId: h.a, room: h.r, frame: payload.slice(nl + 1) };
      if (h.o !== undefined) e.offset = h.o;
      if (h.x !== undefined) e.exclude = h.x;
    }
    for (const fn of this.handlers) fn(e);
  }

  /** Renews this node's lease and registers it. */
  private async renew(): Promise<void> {
    try {
      await this.pub
        .multi()
        .set(`${this.nodeKeys}:lease:${this.o.nodeId}`, "1", "PX", this.o.leaseS * 1000)
        .sadd(`${this.nodeKeys}:all`, this.o.nodeId)
        .exec();
    } catch (err) {
      this.onError(err as Error);
    }
  }

  /** Removes the devices of nodes whose lease ran out, and tells their rooms (`room.left`, reason disconnected). */
  private async reapDeadNodes(): Promise<void> {
    try {
      for (const node of await this.pub.smembers(`${this.nodeKeys}:all`)) {
        if (node === this.o.nodeId || (await this.pub.exists(`${this.nodeKeys}:lease:${node}`)) === 1) continue;
        const roomsKey = `${this.nodeKeys}:rooms:${node}`;
        for (const ref of await this.pub.smembers(roomsKey)) {
          const slash = ref.indexOf("/");
          const appId = ref.slice(0, slash);
          const room = ref.slice(slash + 1);
          const removed = await this.pub.roomRemoveOwner(...this.keys(appId, room), `${node}/`);
          for (let i = 0; i < removed.length; i += 2) {
            const identity = String(removed[i]);
            const devices = Number(removed[i + 1]);
            this.send(appId, room, JSON.stringify({ type: "room.left", data: { room, identity, devices, reason: "disconnected" } }));
          }
        }
        await this.pub.multi().del(roomsKey).srem(`${this.nodeKeys}:all`, node).exec();
      }
    } catch (err) {
      this.onError(err as Error);
    }
  }

  /** Forgets that this node has sockets in a room (its last one left). */
  forget(appId: string, room: string): void {
    this.pub.srem(`${this.nodeKeys}:rooms:${this.o.nodeId}`, `${appId}/${room}`).catch((e: Error) => this.onError(e));
  }

  subscribe(handler: (e: BackplaneEvent) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  ready(): Promise<void> {
    return this.subscribed;
  }

  /**
   * Stops renewing. The lease is shortened to `graceS` rather than dropped, so sockets that reconnect to
   * another node within the grace period take their devices over without a leave/join.
   */
  async close(graceS = 0): Promise<void> {
    clearInterval(this.timer);
    this.handlers.clear();
    try {
      if (graceS > 0) await this.pub.pexpire(`${this.nodeKeys}:lease:${this.o.nodeId}`, graceS * 1000);
      else await this.pub.del(`${this.nodeKeys}:lease:${this.o.nodeId}`);
    } catch {
      /* Redis is gone: the lease runs out by itself */
    }
    await Promise.allSettled([this.sub.quit(), this.pub.quit()]);
  }
}
