import type { Operator } from "@utd-stream/protocol";
import type { Kysely, Transaction } from "kysely";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { Store } from "../../store/port.js";
import type { Database } from "../../store/schema.js";
import { ChatRecords } from "../chat/index.js";

type Db = Kysely<Database> | Transaction<Database>;

/** The operator role per app: who may see the support queue and claim conversations. Used by the engine and the CLI on storage. */
export class Operators {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly records: ChatRecords = new ChatRecords(store),
  ) {}

  /** Gives `identity` the operator role in `appId` (idempotent; the identity need not have signed in yet). */
  async add(appId: string, identity: string): Promise<Operator> {
    const db = this.store.db;
    await db
      .insertInto("support_operators")
      .values({ app_id: appId, identity, created_at: this.clock.now() })
      .onConflict((oc) => oc.columns(["app_id", "identity"]).doNothing())
      .execute();
    const row = await db
      .selectFrom("support_operators")
      .selectAll()
      .where("app_id", "=", appId)
      .where("identity", "=", identity)
      .executeTakeFirstOrThrow();
    return { identity: row.identity, created_at: iso(Number(row.created_at)) };
  }

  /**
   * Takes the role away (`not_found` when `identity` is not an operator). Conversations they were
   * handling go back to the queue and they leave those chat conversations; resolves to their ids.
   */
  async remove(appId: string, identity: string): Promise<string[]> {
    const now = this.clock.now();
    return this.store.db.transaction().execute(async (trx) => {
      const r = await trx.deleteFrom("support_operators").where("app_id", "=", appId).where("identity", "=", identity).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) throw ApiError.notFound("operator");
      const held = await trx
        .selectFrom("support_conversations")
        .select("conversation_id")
        .where("app_id", "=", appId)
        .where("assignee", "=", identity)
        .where("state", "=", "assigned")
        .execute();
      const ids = held.map((h) => h.conversation_id);
      if (ids.length === 0) return ids;
      await trx
        .updateTable("support_conversations")
        .set({ state: "queued", assignee: null, updated_at: now })
        .where("conversation_id", "in", ids)
        .execute();
      await this.records.removeMember(trx, ids, identity, now);
      return ids;
    });
  }

  async list(appId: string): Promise<Operator[]> {
    const rows = await this.store.db.selectFrom("support_operators").selectAll().where("app_id", "=", appId).orderBy("identity").execute();
    return rows.map((r) => ({ identity: r.identity, created_at: iso(Number(r.created_at)) }));
  }

  async has(appId: string, identity: string, db: Db = this.store.db): Promise<boolean> {
    const row = await db
      .selectFrom("support_operators")
      .select("identity")
      .where("app_id", "=", appId)
      .where("identity", "=", identity)
      .executeTakeFirst();
    return row !== undefined;
  }
}
