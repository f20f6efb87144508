import type { Presence, WsEventMap, WsEventType } from "@utd-stream/protocol";
import type { CompiledQuery, Kysely, Transaction } from "kysely";
import { type AuthContext, requireCapability } from "../../core/caller.js";
import { type Clock, iso } from "../../core/clock.js";
import type { Store } from "../../store/port.js";
import { Prepared } from "../../store/prepared.js";
import type { Database } from "../../store/schema.js";

/** Where `presence.changed` goes: the gateway delivers to users watching `identity` (plus `extra`). */
export interface PresencePublisher {
  toWatchers<K extends WsEventType>(appId: string, subject: string, extra: readonly string[], type: K, data: WsEventMap[K]): void;
}

/**
 * Extra watchers of identities beyond explicit watch lists (e.g. their friends), for several identities of
 * one app at once; an identity with none may be absent from the map.
 */
export type WatcherSource = (appId: string, identities: readonly string[]) => Promise<ReadonlyMap<string, readonly string[]>>;

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
type Db = Kysely<Database> | Transaction<Database>;

/** A socket change waiting for the next presence write (`at`: when it happened, ms). */
type PresenceOp =
  | { kind: "connect"; appId: string; identity: string; connId: string; deviceId: string | null; at: number }
  | { kind: "disconnect"; connId: string; at: number };

/** How long socket changes gather before they are written (presence is seen this much later, at most). */
const WRITE_DELAY_MS = 50;
/** Socket changes written in one transaction at most (a reconnect storm is written in a few). */
const MAX_BATCH = 2000;
/** Rows per multi-row statement (SQLite binds at most 999 parameters in older builds). */
const ROWS_PER_STATEMENT = 128;

const key = (appId: string, identity: string) => `${appId}\u0000${identity}`;
const unkey = (k: string): [string, string] => {
  const i = k.indexOf("\u0000");
  return [k.slice(0, i), k.slice(i + 1)];
};
function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}
/**
 * `xs` in parts whose sizes are powers of two up to `max` (a power of two), largest first: the statements
 * prepared per row count stay a handful per kind. One per count up to 100 (500 for closes) held hundreds of
 * compiled multi-row statements and their plans (megabytes) and prepared a new one for most batches.
 */
export function powerOfTwoChunks<T>(xs: readonly T[], max: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; ) {
    let n = max;
    while (n > xs.length - i) n >>= 1;
    out.push(xs.slice(i, i + n));
    i += n;
  }
  return out;
}

type Build = (db: Kysely<Database>, ...v: unknown[]) => { compile(): CompiledQuery<unknown>; execute(): Promise<unknown[]> };
/**
 * The batch statements for `n` rows, their values flattened in order (for {@link Prepared}):
 * `insert` — per row conn id, node, app, identity, device, connected at, lease end; `flip` — per row app,
 * identity, last seen (the offline → online flip, answering the rows that flipped); `offline` — last seen,
 * app, identity (the sweep's online → offline flip of one identity, answering its row if it flipped);
 * `close` — closed at, expires at, then `n` conn ids.
 */
const PRESENCE_STATEMENTS: Record<"insert" | "flip" | "offline" | "close", (n: number) => Build> = {
  insert:
    (n) =>
    (db, ...v) =>
      db.insertInto("presence_connections").values(
        Array.from({ length: n }, (_, i) => ({
          conn_id: v[7 * i] as string,
          node_id: v[7 * i + 1] as string,
          app_id: v[7 * i + 2] as string,
          identity: v[7 * i + 3] as string,
          device_id: v[7 * i + 4] as string | null,
          connected_at: v[7 * i + 5] as number,
          closed_at: null,
          expires_at: v[7 * i + 6] as number,
        })),
      ),
  flip:
    (n) =>
    (db, ...v) =>
      db
        .insertInto("presence_status")
        .values(
          Array.from({ length: n }, (_, i) => ({
            app_id: v[3 * i] as string,
            identity: v[3 * i + 1] as string,
            online: 1,
            last_seen_at: v[3 * i + 2] as number,
          })),
        )
        .onConflict((oc) =>
          oc
            .columns(["app_id", "identity"])
            .doUpdateSet({ online: 1, last_seen_at: (eb) => eb.ref("excluded.last_seen_at") })
            .where("presence_status.online", "=", 0),
        )
        .returning(["app_id", "identity"]),
  offline:
    () =>
    (db, ...v) =>
      db
        .updateTable("presence_status")
        .set({ online: 0, last_seen_at: v[0] as number })
        .where("app_id", "=", v[1] as string)
        .where("identity", "=", v[2] as string)
        .where("online", "=", 1)
        .returning("identity"),
  close:
    (n) =>
    (db, ...v) =>
      db
        .updateTable("presence_connections")
        .set({ closed_at: v[0] as number, expires_at: v[1] as number })
        .where("conn_id", "in", v.slice(2, 2 + n) as string[]),
};

/**
 * Presence: online while any device of an identity holds a socket on any node, offline `graceS` after
 * the last one drops (a reload does not flap), last-seen kept. Connections live in the database with a
 * lease each node renews, so presence is right across nodes and a crashed node's users go offline
 * after `leaseS`. The online/offline flip is a conditional update: exactly one node announces it.
 *
 * Socket opens and closes are queued and written together, in order, in one transaction per batch
 * (multi-row statements): a connect used to cost three to five single-statement commits, each a
 * `synchronous=FULL` fsync on SQLite, which capped handshakes and made a reconnect storm of 10,000
 * users take tens of seconds. Announcements go out after the batch is committed.
 */
export class PresenceService {
  private readonly inflight = new Set<Promise<unknown>>();
  /** Prepared batch statements by kind and row count (see {@link statement}). */
  private readonly statements = new Map<string, Prepared<Database, unknown, unknown[]>>();
  /** Socket changes not yet written, in the order they happened. */
  private queue: PresenceOp[] = [];
  /** The writer draining `queue`, while it runs. */
  private writing: Promise<unknown> | undefined;
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
    this.enqueue({ kind: "connect", appId, identity, connId: `${this.d.nodeId}:${connId}`, deviceId, at: this.d.clock.now() });
  }

  /** A socket closed: its row lingers for the grace period. */
  disconnected(_appId: string, _identity: string, connId: string): void {
    this.enqueue({ kind: "disconnect", connId: `${this.d.nodeId}:${connId}`, at: this.d.clock.now() });
  }

  /** Resolves once every socket change queued so far is written (and announced). */
  async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private enqueue(op: PresenceOp): void {
    this.queue.push(op);
    this.kick();
  }

  /** Starts the writer unless it runs; a change queued as it finished starts it again. */
  private kick(): void {
    if (this.writing || this.queue.length === 0) return;
    const w = this.track(this.writeQueued()).finally(() => {
      if (this.writing === w) this.writing = undefined;
      this.kick();
    });
    this.writing = w;
  }

  /** Writes the next batch of the queue (one writer at a time, so a close is always written after its open). */
  private async writeQueued(): Promise<void> {
    // Opens and closes of the next few milliseconds go in one batch: on SQLite each commit is an fsync that
    // blocks the event loop, so nothing would queue up behind a commit started at once.
    await new Promise((r) => setTimeout(r, WRITE_DELAY_MS));
    const ops = this.queue.splice(0, MAX_BATCH);
    let announce: Set<string>;
    try {
      announce = await this.writeBatch(ops);
    } catch (err) {
      // One bad change must not lose the others: write them one by one.
      this.d.log?.warn({ err }, "presence: batch write failed, writing one by one");
      announce = new Set();
      for (const op of ops) {
        try {
          for (const k of await this.writeBatch([op])) announce.add(k);
        } catch (e) {
          this.d.log?.warn({ err: e }, "presence: update failed");
        }
      }
    }
    await this.announceAll(announce);
  }

  /** Writes `ops` in order in one transaction; answers the identities to announce (app\0identity). */
  private async writeBatch(ops: readonly PresenceOp[]): Promise<Set<string>> {
    const announce = new Set<string>();
    await this.d.store.db.transaction().execute(async (trx) => {
      // Runs of opens and of closes, in order: a close never overtakes the open it follows.
      for (let i = 0; i < ops.length; ) {
        const kind = ops[i]?.kind;
        let j = i;
        while (j < ops.length && ops[j]?.kind === kind) j++;
        const run = ops.slice(i, j);
        if (kind === "connect") await this.writeConnects(trx, run as Extract<PresenceOp, { kind: "connect" }>[], announce);
        else await this.writeCloses(trx, run as Extract<PresenceOp, { kind: "disconnect" }>[]);
        i = j;
      }
    });
    return announce;
  }

  private async writeCloses(trx: Db, ops: readonly Extract<PresenceOp, { kind: "disconnect" }>[]): Promise<void> {
    const byTime = new Map<number, string[]>();
    for (const op of ops) {
      const ids = byTime.get(op.at) ?? [];
      ids.push(op.connId);
      byTime.set(op.at, ids);
    }
    for (const [at, ids] of byTime) {
      for (const part of powerOfTwoChunks(ids, 512))
        await this.statement("close", part.length).execute(trx, at, at + this.d.graceS * 1000, ...part);
    }
  }

  private async writeConnects(trx: Db, ops: readonly Extract<PresenceOp, { kind: "connect" }>[], announce: Set<string>): Promise<void> {
    // A device seen earlier in this run is not new again (its row is not written yet).
    const devicesSeen = new Set<string>();
    for (const op of ops) {
      if (op.deviceId === null) continue;
      // The same device coming back within the grace period replaces its lingering row (no flap, no extra event).
      const r = await trx
        .deleteFrom("presence_connections")
        .where("app_id", "=", op.appId)
        .where("identity", "=", op.identity)
        .where("device_id", "=", op.deviceId)
        .where("closed_at", "is not", null)
        .executeTakeFirst();
      const before = await this.devicesOf(trx, op.appId, op.identity, op.at);
      const dk = `${key(op.appId, op.identity)}\u0000${op.deviceId}`;
      if (Number(r.numDeletedRows) === 0 && !before.includes(op.deviceId) && !devicesSeen.has(dk)) announce.add(key(op.appId, op.identity));
      devicesSeen.add(dk);
    }
    for (const part of powerOfTwoChunks(ops, ROWS_PER_STATEMENT)) {
      const args = part.flatMap((op) => [
        op.connId,
        this.d.nodeId,
        op.appId,
        op.identity,
        op.deviceId,
        op.at,
        op.at + this.d.leaseS * 1000,
      ]);
      await this.statement("insert", part.length).execute(trx, ...args);
    }
    // The offline → online flip: a new status row, or one that was offline (exactly one writer sees it flip).
    const latest = new Map<string, number>();
    for (const op of ops) latest.set(key(op.appId, op.identity), op.at);
    for (const part of powerOfTwoChunks([...latest], ROWS_PER_STATEMENT)) {
      const args = part.flatMap(([k, at]) => [...unkey(k), at]);
      const flipped = (await this.statement("flip", part.length).execute(trx, ...args)) as { app_id: string; identity: string }[];
      for (const f of flipped) announce.add(key(f.app_id, f.identity));
    }
  }

  /**
   * The presence writes for `rows` rows, built by Kysely once per row count and rerun
   * (`store/prepared.ts`): a batch of a reconnect storm binds hundreds of values, which Kysely would parse
   * into nodes and compile anew for every batch, and a sweep flips identities offline one by one.
   */
  private statement(kind: keyof typeof PRESENCE_STATEMENTS, rows: number): Prepared<Database, unknown, unknown[]> {
    const k = `${kind}:${rows}`;
    let p = this.statements.get(k);
    if (!p) {
      p = new Prepared(PRESENCE_STATEMENTS[kind](rows));
      this.statements.set(k, p);
    }
    return p;
  }

  private async devicesOf(db: Db, appId: string, identity: string, now: number): Promise<string[]> {
    const rows = await db
      .selectFrom("presence_connections")
      .select("device_id")
      .where("app_id", "=", appId)
      .where("identity", "=", identity)
      .where("expires_at", ">", now)
      .execute();
    return [...new Set(rows.map((r) => r.device_id).filter((d): d is string => d !== null))].sort();
  }

  /** Announces each identity (app\0identity) to its watchers: one read per app. */
  private async announceAll(keys: Iterable<string>): Promise<void> {
    const byApp = new Map<string, string[]>();
    for (const k of keys) {
      const [appId, identity] = unkey(k);
      const ids = byApp.get(appId) ?? [];
      ids.push(identity);
      byApp.set(appId, ids);
    }
    const now = this.d.clock.now();
    for (const [appId, identities] of byApp) {
      for (const part of chunks(identities, 500)) {
        const presences = await this.read(appId, part, now);
        const extra = this.d.watchers ? await this.d.watchers(appId, part) : undefined;
        for (const p of presences) this.d.publisher.toWatchers(appId, p.identity, extra?.get(p.identity) ?? [], "presence.changed", p);
      }
    }
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

  /**
   * Deletes expired rows and announces identities that went offline (or lost a device). The deletes and
   * flips are one transaction (one commit however many rows expired); the announcements follow it.
   */
  async sweep(): Promise<void> {
    const now = this.d.clock.now();
    const announce = new Set<string>();
    await this.d.store.db.transaction().execute(async (trx) => {
      const gone = await trx
        .deleteFrom("presence_connections")
        .where("expires_at", "<=", now)
        .returning(["app_id", "identity", "closed_at", "expires_at"])
        .execute();
      if (gone.length === 0) return;
      // Last seen is when the identity's last connection closed (not when its grace ran out); for a crashed
      // node's connection, the last lease renewal.
      const lastSeen = new Map<string, number>();
      for (const g of gone) {
        const k = key(g.app_id, g.identity);
        const at = Math.min(now, g.closed_at ?? g.expires_at - this.d.leaseS * 1000);
        lastSeen.set(k, Math.max(lastSeen.get(k) ?? 0, at));
      }
      // Which of them still hold a live connection (they lost a device only): one read per app.
      const byApp = new Map<string, string[]>();
      for (const k of lastSeen.keys()) {
        const [appId, identity] = unkey(k);
        const ids = byApp.get(appId) ?? [];
        ids.push(identity);
        byApp.set(appId, ids);
      }
      const stillOn = new Set<string>();
      for (const [appId, identities] of byApp) {
        for (const part of chunks(identities, 500)) {
          const left = await trx
            .selectFrom("presence_connections")
            .select("identity")
            .distinct()
            .where("app_id", "=", appId)
            .where("identity", "in", part)
            .where("expires_at", ">", now)
            .execute();
          for (const l of left) stillOn.add(key(appId, l.identity));
        }
      }
      for (const [k, at] of lastSeen) {
        if (stillOn.has(k)) {
          announce.add(k);
          continue;
        }
        const [appId, identity] = unkey(k);
        if ((await this.statement("offline", 1).execute(trx, at, appId, identity)).length === 1) announce.add(k);
      }
    });
    await this.announceAll(announce);
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
    await this.flushed();
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }
}
