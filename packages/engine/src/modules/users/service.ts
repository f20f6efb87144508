import type { AdminUser, AdminUserList, Ban } from "@utd-stream/protocol";
import { CompiledQuery, type Selectable, sql } from "kysely";
import { BatchedLookup } from "../../core/batched-lookup.js";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { Hooks } from "../../core/hooks.js";
import { type Outbox, webhookEvent } from "../../core/outbox.js";
import type { Store } from "../../store/port.js";
import type { UsersTable } from "../apps/index.js";
import { BlockService } from "./blocks.js";

/** A stored user, as read. */
export type UserRow = Selectable<UsersTable>;

/** Users of an app: created on first session, banned/unbanned by admins, revocable. */
export class UsersService {
  /** The user reads of one turn of the event loop, by app (see {@link find}). */
  private readonly rows = new BatchedLookup<UserRow>(async (appId, identities) => {
    // One statement text for any number of identities (a list of `?` would be a new statement per count).
    const q =
      this.store.dialect === "sqlite"
        ? CompiledQuery.raw(`select * from "users" where "app_id" = ? and "identity" in (select value from json_each(?))`, [
            appId,
            JSON.stringify(identities),
          ])
        : CompiledQuery.raw(`select * from "users" where "app_id" = $1 and "identity" = any($2::text[])`, [appId, identities]);
    const { rows } = await this.store.db.executeQuery<UserRow>(q);
    return new Map(rows.map((r) => [r.identity, r]));
  });

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly hooks: Hooks,
    /** Bans and unbans write their webhooks here, in their transaction. */
    private readonly outbox?: Outbox,
    /** Each user's block and mute lists. */
    readonly blocks: BlockService = new BlockService(store, clock),
  ) {}

  /**
   * One user row. Every socket `hello` and REST call reads it (a ban or revocation must refuse the very
   * next one on any node), so the reads asked for during one turn of the event loop share one statement
   * (`core/batched-lookup.ts`): a reconnect storm reads its users by the hundred.
   */
  find(appId: string, identity: string): Promise<UserRow | undefined> {
    return this.rows.get(appId, identity);
  }

  /** The admin view of one user; `not_found` when the identity never had a session. */
  async show(appId: string, identity: string): Promise<AdminUser> {
    const row = await this.find(appId, identity);
    if (!row) throw ApiError.notFound("user");
    return UsersService.toWire(row);
  }

  /** Users in identity order, optionally those starting with `prefix`, `limit` a page, after `cursor`. */
  async list(appId: string, opts: { prefix?: string; limit: number; cursor?: string }): Promise<AdminUserList> {
    let q = this.store.db.selectFrom("users").selectAll().where("app_id", "=", appId);
    // LIKE with % _ and \ escaped: identities may contain them. Ordering is by the store's collation.
    if (opts.prefix) q = q.where(sql<boolean>`identity like ${`${opts.prefix.replace(/[\\%_]/g, "\\$&")}%`} escape '\\'`);
    if (opts.cursor) q = q.where("identity", ">", opts.cursor);
    const rows = await q
      .orderBy("identity")
      .limit(opts.limit + 1)
      .execute();
    const page = rows.slice(0, opts.limit);
    return { users: page.map(UsersService.toWire), next_cursor: rows.length > opts.limit ? (page.at(-1)?.identity ?? null) : null };
  }

  static toWire(row: UserRow): AdminUser {
    return {
      app_id: row.app_id,
      identity: row.identity,
      name: row.name,
      created_at: iso(Number(row.created_at)),
      last_seen_at: iso(Number(row.last_seen_at)),
      banned: row.banned_at !== null,
      ban_reason: row.ban_reason,
    };
  }

  /** Creates the user on first sight; refreshes name and last-seen otherwise. Returns the stored row. */
  async touch(appId: string, identity: string, name: string | undefined): Promise<UserRow> {
    const now = this.clock.now();
    await this.store.db
      .insertInto("users")
      .values({ app_id: appId, identity, name: name ?? null, created_at: now, last_seen_at: now })
      .onConflict((oc) =>
        oc.columns(["app_id", "identity"]).doUpdateSet(name === undefined ? { last_seen_at: now } : { last_seen_at: now, name }),
      )
      .execute();
    const row = await this.find(appId, identity);
    if (!row) throw new Error("user vanished after upsert");
    return row;
  }

  /** Counts an identity as active this calendar month (idempotent). */
  async recordActive(appId: string, identity: string): Promise<void> {
    const month = iso(this.clock.now()).slice(0, 7);
    await this.store.db
      .insertInto("mau")
      .values({ app_id: appId, month, identity })
      .onConflict((oc) => oc.columns(["app_id", "month", "identity"]).doNothing())
      .execute();
    this.hooks.emit("user.active", { appId, identity });
  }

  /** Bans an identity: its tokens stop working at once and its open sockets are closed (4403). */
  async ban(appId: string, identity: string, reason: string | undefined): Promise<Ban> {
    const now = this.clock.now();
    await this.store.db.transaction().execute(async (trx) => {
      await trx
        .insertInto("users")
        .values({
          app_id: appId,
          identity,
          name: null,
          created_at: now,
          last_seen_at: now,
          banned_at: now,
          ban_reason: reason ?? null,
          tokens_valid_after: now + 1,
        })
        .onConflict((oc) =>
          oc.columns(["app_id", "identity"]).doUpdateSet({ banned_at: now, ban_reason: reason ?? null, tokens_valid_after: now + 1 }),
        )
        .execute();
      await this.outbox?.write(trx, webhookEvent(appId, "user.banned", { identity, reason: reason ?? null }, `user:${identity}`));
    });
    this.outbox?.wake();
    // Push tokens are gone and the close is on the bus before the call answers.
    await this.hooks.emitAndWait("user.banned", { appId, identity });
    return { app_id: appId, identity, banned: true, reason: reason ?? null, banned_at: iso(now) };
  }

  async unban(appId: string, identity: string): Promise<Ban> {
    await this.store.db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable("users")
        .set({ banned_at: null, ban_reason: null })
        .where("app_id", "=", appId)
        .where("identity", "=", identity)
        .where("banned_at", "is not", null)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) > 0)
        await this.outbox?.write(trx, webhookEvent(appId, "user.unbanned", { identity }, `user:${identity}`));
    });
    this.outbox?.wake();
    return { app_id: appId, identity, banned: false, reason: null, banned_at: null };
  }

  /**
   * Every token of this identity issued up to now stops working (tokens minted in this very millisecond
   * too: the cut-off is one past it, and new tokens are stamped no earlier than the cut-off).
   */
  async revoke(appId: string, identity: string): Promise<number> {
    const now = this.clock.now();
    await this.store.db
      .updateTable("users")
      .set({ tokens_valid_after: now + 1 })
      .where("app_id", "=", appId)
      .where("identity", "=", identity)
      .execute();
    await this.hooks.emitAndWait("user.revoked", { appId, identity, before: now + 1 });
    return now + 1;
  }
}
