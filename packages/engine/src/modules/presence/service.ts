import type { Presence, WsEventMap, WsEventType } from "@utd-stream/protocol";
import { type AuthContext, requireCapability } from "../../core/caller.js";
import { type Clock, iso } from "../../core/clock.js";
import type { Store } from "../../store/port.js";

/** Where `presence.changed` goes: the gateway delivers to users watching `identity` (plus `extra`). */
export interface PresencePublisher {
  toWatchers<K extends WsEventType>(appId: string, subject: string, extra: readonly string[], type: K, data: WsEventMap[K]): void;
}

/** Extra watchers of an identity beyond explicit watch lists (e.g. its friends). */
export type WatcherSource = (appId: string, identity: string) => Promise<readonly string[]>;

export interface PresenceDeps {
  store: Store;
  clock: Clock;
  publisher: PresencePublisher;
  nodeId: string;
  graceS: number;
  leaseS: number;
  /** Who else learns of an identity's presence besides its explicit watchers (its friends, from the friends module). */
  watchers?: WatcherSource;
  log?: { warn(obj: unknown, msg: string): void };
}

/**
 * Presence: online while any device of an identity holds a socket on any node, offline `graceS` after
 * the last one drops (a reload does not flap), last-seen kept. Connections live in the database with a
 * lease each node renews, so presence is right across nodes and a crashed node's users go offline
 * after `leaseS`. The online/offline flip is a conditional update: exactly one node announces it.
 */
export class PresenceService {
  private readonly inflight = new Set<Promise<unknown>>();
  /** Pending connect writes per connection, so a quick disconnect is applied after its connect. */
  private readonly connecting = new Map<string, Promise<unknown>>();
  private timers: NodeJS.Timeout[] = [];
  private sweeping = false;

  constructor(private readonly d: PresenceDeps) {}

  private track<T>(p: Promise<T>): Promise<unknown> {
    const q = p.catch((err: unknown) => this.d.log?.warn({ err }, "presence: update failed"));
    this.inflight.add(q);
    void q.finally(() => this.inflight.delete(q));
    return q;
  }

  /** A socket authenticated (called by the gateway). */
  connected(appId: string, identity: string, connId: string, deviceId: string | null): void {
    const p = this.track(this.onConnect(appId, identity, `${this.d.nodeId}:${connId}`, deviceId));
    this.connecting.set(connId, p);
    void p.finally(() => {
      if (this.connecting.get(connId) === p) this.connecting.delete(connId);
    });
  }

  /** A socket closed: its row lingers for the grace period. */
  disconnected(_appId: string, _identity: string, connId: string): void {
    const after = this.connecting.get(connId) ?? Promise.resolve();
    this.track(after.then(() => this.closeRow(connId)));
  }

  private async closeRow(connId: string): Promise<void> {
    const now = this.d.clock.now();
    await this.d.store.db
      .updateTable("presence_connections")
      .set({ closed_at: now, expires_at: now + this.d.graceS * 1000 })
      .where("conn_id", "=", `${this.d.nodeId}:${connId}`)
      .execute();
  }

  private async onConnect(appId: string, identity: string, connId: string, deviceId: string | null): Promise<void> {
    const now = this.d.clock.now();
    const db = this.d.store.db;
    // The same device coming back within the grace period replaces its lingering row (no flap, no extra event).
    let replaced = 0;
    if (deviceId !== null) {
      const r = await db
        .deleteFrom("presence_connections")
        .where("app_id", "=", appId)
        .where("identity", "=", identity)
        .where("device_id", "=", deviceId)
        .where("closed_at", "is not", null)
        .executeTakeFirst();
      replaced = Number(r.numDeletedRows);
    }
    const before = await this.devicesOf(appId, identity, now);
    await db
      .insertInto("presence_connections")
      .values({
        conn_id: connId,
        node_id: this.d.nodeId,
        app_id: appId,
        identity,
        device_id: deviceId,
        connected_at: now,
        closed_at: null,
        expires_at: now + this.d.leaseS * 1000,
      })
      .execute();
    await db
      .insertInto("presence_status")
      .values({ app_id: appId, identity, online: 0, last_seen_at: now })
      .onConflict((oc) => oc.columns(["app_id", "identity"]).doNothing())
      .execute();
    const flip = await db
      .updateTable("presence_status")
      .set({ online: 1, last_seen_at: now })
      .where("app_id", "=", appId)
      .where("identity", "=", identity)
      .where("online", "=", 0)
      .executeTakeFirst();
    const newDevice = deviceId !== null && !before.includes(deviceId) && replaced === 0;
    if (Number(flip.numUpdatedRows) === 1 || newDevice) await this.announce(appId, identity, now);
  }

  private async devicesOf(appId: string, identity: string, now: number): Promise<string[]> {
    const rows = await this.d.store.db
      .selectFrom("presence_connections")
      .select("device_id")
      .where("app_id", "=", appId)
      .where("identity", "=", identity)
      .where("expires_at", ">", now)
      .execute();
    return [...new Set(rows.map((r) => r.device_id).filter((d): d is string => d !== null))].sort();
  }

  private async announce(appId: string, identity: string, now: number): Promise<void> {
    const [p] = await this.read(appId, [identity], now);
    if (!p) return;
    const extra = this.d.watchers ? await this.d.watchers(appId, identity) : [];
    this.d.publisher.toWatchers(appId, identity, extra, "presence.changed", p);
  }

  private async read(appId: string, identities: readonly string[], now: number): Promise<Presence[]> {
    if (identities.length === 0) return [];
    const db = this.d.store.db;
    const conns = await db
      .selectFrom("presence_connections")
      .select(["identity", "device_id"])
      .where("app_id", "=", appId)
      .where("identity", "in", [...identities])
      .where("expires_at", ">", now)
      .execute();
    const status = await db
      .selectFrom("presence_status")
      .select(["identity", "last_seen_at"])
      .where("app_id", "=", appId)
      .where("identity", "in", [...identities])
      .execute();
    const seen = new Map(status.map((s) => [s.identity, s.last_seen_at]));
    const live = new Map<string, Set<string>>();
    for (const c of conns) {
      let set = live.get(c.identity);
      if (!set) {
        set = new Set();
        live.set(c.identity, set);
      }
      if (c.device_id !== null) set.add(c.device_id);
    }
    return identities.map((identity) => {
      const devices = live.get(identity);
      const last = seen.get(identity);
      return {
        identity,
        status: devices ? "online" : "offline",
        last_seen_at: devices ? iso(now) : last === undefined ? null : iso(last),
        devices: devices ? [...devices].sort() : [],
      };
    });
  }

  /** `GET /api/v1/presence?identities=…` (and the reply to `presence.watch`). */
  async get(ctx: AuthContext, identities: readonly string[]): Promise<Presence[]> {
    requireCapability(ctx.app, "signaling");
    return this.read(ctx.app.id, [...new Set(identities)], this.d.clock.now());
  }

  /** Deletes expired rows and announces identities that went offline (or lost a device). */
  async sweep(): Promise<void> {
    const now = this.d.clock.now();
    const db = this.d.store.db;
    const gone = await db
      .deleteFrom("presence_connections")
      .where("expires_at", "<=", now)
      .returning(["app_id", "identity", "closed_at", "expires_at"])
      .execute();
    // Last seen is when the identity's last connection closed (not when its grace ran out); for a crashed
    // node's connection, the last lease renewal.
    const lastSeen = new Map<string, number>();
    for (const g of gone) {
      const k = `${g.app_id}\u0000${g.identity}`;
      const at = Math.min(now, g.closed_at ?? g.expires_at - this.d.leaseS * 1000);
      lastSeen.set(k, Math.max(lastSeen.get(k) ?? 0, at));
    }
    const seen = new Set<string>();
    for (const g of gone) {
      const k = `${g.app_id}\u0000${g.identity}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const left = await db
        .selectFrom("presence_connections")
        .select("conn_id")
        .where("app_id", "=", g.app_id)
        .where("identity", "=", g.identity)
        .where("expires_at", ">", now)
        .executeTakeFirst();
      if (left) {
        await this.announce(g.app_id, g.identity, now);
        continue;
      }
      const flip = await db
        .updateTable("presence_status")
        .set({ online: 0, last_seen_at: lastSeen.get(k) ?? now })
        .where("app_id", "=", g.app_id)
        .where("identity", "=", g.identity)
        .where("online", "=", 1)
        .executeTakeFirst();
      if (Number(flip.numUpdatedRows) === 1) await this.announce(g.app_id, g.identity, now);
    }
  }

  /** Renews this node's connection leases now (the timer does it every `leaseS / 3`). */
  renewNow(): Promise<void> {
    return this.renew();
  }

  private async renew(): Promise<void> {
    const now = this.d.clock.now();
    await this.d.store.db
      .updateTable("presence_connections")
      .set({ expires_at: now + this.d.leaseS * 1000 })
      .where("node_id", "=", this.d.nodeId)
      .where("closed_at", "is", null)
      .execute();
  }

  /** Starts the sweeper and the lease renewal. */
  start(): void {
    const sweepMs = Math.max(250, Math.min(1000, (this.d.graceS * 1000) / 2));
    const sweep = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = true;
      this.track(this.sweep().finally(() => (this.sweeping = false)));
    }, sweepMs);
    const renew = setInterval(() => this.track(this.renew()), (this.d.leaseS * 1000) / 3);
    this.timers = [sweep, renew];
    for (const t of this.timers) t.unref();
  }

  /** Stops the timers and waits for pending writes (closed sockets' rows linger for other nodes to expire). */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }
}
