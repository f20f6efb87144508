import { CHAT_EVENTS, type Friend, type FriendEvent, type FriendState } from "@utd-stream/protocol";
import type { Kysely, Selectable, Transaction } from "kysely";
import type { AppRecord } from "../../core/caller.js";
import { requireCapability } from "../../core/caller.js";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { EventSink } from "../../core/events.js";
import type { Store } from "../../store/port.js";
import type { Database } from "../../store/schema.js";
import type { FriendshipsTable } from "./migrations.js";

type Row = Selectable<FriendshipsTable>;
type Db = Kysely<Database> | Transaction<Database>;

export interface FriendsDeps {
  store: Store;
  clock: Clock;
  events: EventSink;
}

/**
 * Friend requests and friendships, part of the chat capability. `max_friends` caps each user's accepted
 * friends; it is checked when asking (the asker) and when accepting (both sides).
 */
export class FriendsService {
  constructor(private readonly d: FriendsDeps) {}

  private get db(): Kysely<Database> {
    return this.d.store.db;
  }

  private pair(db: Db, appId: string, a: string, b: string): Promise<Row | undefined> {
    return db
      .selectFrom("friendships")
      .selectAll()
      .where("app_id", "=", appId)
      .where((eb) =>
        eb.or([eb.and([eb("requester", "=", a), eb("addressee", "=", b)]), eb.and([eb("requester", "=", b), eb("addressee", "=", a)])]),
      )
      .executeTakeFirst();
  }

  private async friendCount(db: Db, appId: string, identity: string): Promise<number> {
    const r = await db
      .selectFrom("friendships")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("app_id", "=", appId)
      .where("accepted_at", "is not", null)
      .where((eb) => eb.or([eb("requester", "=", identity), eb("addressee", "=", identity)]))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  private async checkLimit(db: Db, app: AppRecord, identities: readonly string[]): Promise<void> {
    const max = app.limits.max_friends;
    for (const i of identities) if ((await this.friendCount(db, app.id, i)) >= max) throw ApiError.limitExceeded("max_friends", max);
  }

  private stateFor(row: Row, me: string): FriendState {
    if (row.accepted_at !== null) return "friends";
    return row.requester === me ? "outgoing" : "incoming";
  }

  private toWire(row: Row, me: string): Friend {
    return {
      identity: row.requester === me ? row.addressee : row.requester,
      state: this.stateFor(row, me),
      created_at: iso(Number(row.created_at)),
      updated_at: iso(Number(row.updated_at)),
    };
  }

  private notify(app: AppRecord, a: string, b: string, row: Row | undefined): void {
    const forA: FriendEvent = { identity: b, state: row ? this.stateFor(row, a) : null };
    const forB: FriendEvent = { identity: a, state: row ? this.stateFor(row, b) : null };
    this.d.events.toUsers(app.id, [a], CHAT_EVENTS.friendUpdated, forA);
    this.d.events.toUsers(app.id, [b], CHAT_EVENTS.friendUpdated, forB);
  }

  /** Serialises limit checks per app on PostgreSQL (SQLite transactions are already serial). */
  private async lockApp(trx: Transaction<Database>, appId: string): Promise<void> {
    if (this.d.store.dialect === "postgres") await trx.selectFrom("apps").select("id").where("id", "=", appId).forUpdate().execute();
  }

  /** Asks `identity` to be friends; when they already asked the caller, this accepts. Idempotent. */
  async request(app: AppRecord, me: string, identity: string): Promise<Friend> {
    requireCapability(app, "chat");
    if (identity === me) throw ApiError.invalid("you cannot befriend yourself");
    const user = await this.db
      .selectFrom("users")
      .select("identity")
      .where("app_id", "=", app.id)
      .where("identity", "=", identity)
      .executeTakeFirst();
    if (!user) throw ApiError.notFound("user");
    const { row, changed } = await this.db.transaction().execute(async (trx) => {
      await this.lockApp(trx, app.id);
      const existing = await this.pair(trx, app.id, me, identity);
      const now = this.d.clock.now();
      if (existing && (existing.accepted_at !== null || existing.requester === me)) return { row: existing, changed: false };
      if (existing) {
        await this.checkLimit(trx, app, [me, identity]);
        await trx
          .updateTable("friendships")
          .set({ accepted_at: now, updated_at: now })
          .where("app_id", "=", app.id)
          .where("requester", "=", identity)
          .where("addressee", "=", me)
          .execute();
        return { row: { ...existing, accepted_at: now, updated_at: now }, changed: true };
      }
      await this.checkLimit(trx, app, [me]);
      const fresh: Row = { app_id: app.id, requester: me, addressee: identity, created_at: now, updated_at: now, accepted_at: null };
      await trx.insertInto("friendships").values(fresh).execute();
      return { row: fresh, changed: true };
    });
    if (changed) this.notify(app, me, identity, row);
    return this.toWire(row, me);
  }

  /** Accepts `identity`'s pending request (both sides must be under `max_friends`). */
  async accept(app: AppRecord, me: string, identity: string): Promise<Friend> {
    requireCapability(app, "chat");
    const row = await this.db.transaction().execute(async (trx) => {
      await this.lockApp(trx, app.id);
      const existing = await this.pair(trx, app.id, me, identity);
      if (existing?.accepted_at != null) return existing;
      if (!existing || existing.requester !== identity) throw ApiError.notFound("friend request");
      await this.checkLimit(trx, app, [me, identity]);
      const now = this.d.clock.now();
      await trx
        .updateTable("friendships")
        .set({ accepted_at: now, updated_at: now })
        .where("app_id", "=", app.id)
        .where("requester", "=", identity)
        .where("addressee", "=", me)
        .execute();
      return { ...existing, accepted_at: now, updated_at: now };
    });
    this.notify(app, me, identity, row);
    return this.toWire(row, me);
  }

  /** Declines `identity`'s pending request. */
  async decline(app: AppRecord, me: string, identity: string): Promise<void> {
    requireCapability(app, "chat");
    const r = await this.db
      .deleteFrom("friendships")
      .where("app_id", "=", app.id)
      .where("requester", "=", identity)
      .where("addressee", "=", me)
      .where("accepted_at", "is", null)
      .executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw ApiError.notFound("friend request");
    this.notify(app, me, identity, undefined);
  }

  /** Ends a friendship, or withdraws the caller's own pending request. */
  async remove(app: AppRecord, me: string, identity: string): Promise<void> {
    requireCapability(app, "chat");
    const existing = await this.pair(this.db, app.id, me, identity);
    if (!existing || (existing.accepted_at === null && existing.requester !== me)) throw ApiError.notFound("friend");
    await this.db
      .deleteFrom("friendships")
      .where("app_id", "=", app.id)
      .where("requester", "=", existing.requester)
      .where("addressee", "=", existing.addressee)
      .execute();
    this.notify(app, me, identity, undefined);
  }

  /** Friends and pending requests both ways, newest change first. */
  /**
   * The accepted friends of each of `identities` (one query for them all): who hears their presence.
   * Identities with none are absent from the map.
   */
  async friendsOf(appId: string, identities: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (identities.length === 0) return out;
    const want = new Set(identities);
    const rows = await this.db
      .selectFrom("friendships")
      .select(["requester", "addressee"])
      .where("app_id", "=", appId)
      .where("accepted_at", "is not", null)
      .where((eb) => eb.or([eb("requester", "in", [...want]), eb("addressee", "in", [...want])]))
      .execute();
    const add = (me: string, friend: string) => {
      if (!want.has(me)) return;
      const list = out.get(me) ?? [];
      list.push(friend);
      out.set(me, list);
    };
    for (const r of rows) {
      add(r.requester, r.addressee);
      add(r.addressee, r.requester);
    }
    return out;
  }

  async list(app: AppRecord, me: string): Promise<Friend[]> {
    requireCapability(app, "chat");
    const rows = await this.db
      .selectFrom("friendships")
      .selectAll()
      .where("app_id", "=", app.id)
      .where((eb) => eb.or([eb("requester", "=", me), eb("addressee", "=", me)]))
      .orderBy("updated_at", "desc")
      .execute();
    return rows.map((r) => this.toWire(r, me));
  }
}
