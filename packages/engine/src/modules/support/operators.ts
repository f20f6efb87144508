import type { Operator } from "@utd-stream/protocol";
import type { Kysely, Transaction } from "kysely";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { Store } from "../../store/db.js";
import type { Database } from "../../store/schema.js";

type Db = Kysely<Database> | Transaction<Database>;

/** The operator role per app: who may see the support queue and claim conversations. Used by the engine and the CLI on storage. */
export class Operators {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
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

  /** Takes the role away (`not_found` when `identity` is not an operator). Conversations they hold stay assigned. */
  async remove(appId: string, identity: string): Promise<void> {
    const r = await this.store.db
      .deleteFrom("support_operators")
      .where("app_id", "=", appId)
      .where("identity", "=", identity)
      .executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw ApiError.notFound("operator");
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
