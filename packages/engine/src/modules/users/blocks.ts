import { BLOCK_LIMITS, BlockedUserSchema, BlockListSchema, Identity, MuteListSchema } from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import type { Kysely, SelectQueryBuilder } from "kysely";
import { z } from "zod";
import type { AuthContext } from "../../core/caller.js";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import { type RouteDeps, route } from "../../http/route.js";
import type { MigrationSet } from "../../store/migrations.js";
import type { Store } from "../../store/port.js";
import type { Database } from "../../store/schema.js";

/** One user's block (or mute) of another, per app. */
export interface UserBlocksTable {
  app_id: string;
  identity: string;
  /** The blocked (or muted) identity. */
  target: string;
  created_at: number;
}

export interface BlockTables {
  user_blocks: UserBlocksTable;
  user_mutes: UserBlocksTable;
}

export const blockMigrations: MigrationSet = (dialect) => ({
  "0011_user_blocks": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      for (const table of ["user_blocks", "user_mutes"]) {
        await db.schema
          .createTable(table)
          .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
          .addColumn("identity", "text", (c) => c.notNull())
          .addColumn("target", "text", (c) => c.notNull())
          .addColumn("created_at", big, (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_pk`, ["app_id", "identity", "target"])
          .execute();
        await db.schema.createIndex(`${table}_target`).on(table).columns(["app_id", "target"]).execute();
      }
    },
  },
});

type Kind = "user_blocks" | "user_mutes";
type Db = Kysely<Database>;

/**
 * Per-user block and mute lists. Other modules ask `isBlocked` (direct conversations, calls) and filter
 * reads with `blockedBy`/`mutedBy` subqueries (history, search, unread counts, pushes).
 */
export class BlockService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Whether `identity` blocked `target` in the app. */
  async isBlocked(appId: string, identity: string, target: string, db: Db = this.store.db): Promise<boolean> {
    const r = await db
      .selectFrom("user_blocks")
      .select("target")
      .where("app_id", "=", appId)
      .where("identity", "=", identity)
      .where("target", "=", target)
      .executeTakeFirst();
    return r !== undefined;
  }

  /** Refuses (`403 blocked`) when `identity` blocked `caller`. */
  async requireNotBlocked(appId: string, caller: string, identity: string, db: Db = this.store.db): Promise<void> {
    if (await this.isBlocked(appId, identity, caller, db)) throw new ApiError("blocked", "this user blocked you");
  }

  async list(ctx: AuthContext, kind: Kind): Promise<{ identity: string; created_at: string }[]> {
    const rows = await this.store.db
      .selectFrom(kind)
      .select(["target", "created_at"])
      .where("app_id", "=", ctx.app.id)
      .where("identity", "=", ctx.identity)
      .orderBy("created_at", "desc")
      .orderBy("target")
      .execute();
    return rows.map((r) => ({ identity: r.target, created_at: iso(Number(r.created_at)) }));
  }

  /** Adds `target` to the caller's list (idempotent: the first time stays). Unknown users and yourself are refused. */
  async add(ctx: AuthContext, kind: Kind, target: string): Promise<{ identity: string; created_at: string }> {
    if (target === ctx.identity) throw ApiError.invalid(`you cannot ${kind === "user_blocks" ? "block" : "mute"} yourself`);
    const db = this.store.db;
    const user = await db
      .selectFrom("users")
      .select("identity")
      .where("app_id", "=", ctx.app.id)
      .where("identity", "=", target)
      .executeTakeFirst();
    if (!user) throw ApiError.notFound("user");
    const count = await db
      .selectFrom(kind)
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("app_id", "=", ctx.app.id)
      .where("identity", "=", ctx.identity)
      .executeTakeFirstOrThrow();
    const max = kind === "user_blocks" ? BLOCK_LIMITS.maxBlocked : BLOCK_LIMITS.maxMuted;
    if (Number(count.n) >= max && !(await this.has(ctx, kind, target)))
      throw new ApiError("limit_exceeded", `at most ${max} users on this list`, {
        limit: kind === "user_blocks" ? "max_blocked" : "max_muted",
      });
    await db
      .insertInto(kind)
      .values({ app_id: ctx.app.id, identity: ctx.identity, target, created_at: this.clock.now() })
      .onConflict((oc) => oc.columns(["app_id", "identity", "target"]).doNothing())
      .execute();
    const row = await db
      .selectFrom(kind)
      .select("created_at")
      .where("app_id", "=", ctx.app.id)
      .where("identity", "=", ctx.identity)
      .where("target", "=", target)
      .executeTakeFirstOrThrow();
    return { identity: target, created_at: iso(Number(row.created_at)) };
  }

  /** Takes `target` off the caller's list (idempotent). */
  async remove(ctx: AuthContext, kind: Kind, target: string): Promise<void> {
    await this.store.db
      .deleteFrom(kind)
      .where("app_id", "=", ctx.app.id)
      .where("identity", "=", ctx.identity)
      .where("target", "=", target)
      .execute();
  }

  private async has(ctx: AuthContext, kind: Kind, target: string): Promise<boolean> {
    const r = await this.store.db
      .selectFrom(kind)
      .select("target")
      .where("app_id", "=", ctx.app.id)
      .where("identity", "=", ctx.identity)
      .where("target", "=", target)
      .executeTakeFirst();
    return r !== undefined;
  }
}

/** The identities `identity` blocked (a subquery for `sender not in (…)`). */
export function blockedBy(
  db: Kysely<Database>,
  appId: string,
  identity: string,
): SelectQueryBuilder<Database, "user_blocks", { target: string }> {
  return db.selectFrom("user_blocks").select("target").where("app_id", "=", appId).where("identity", "=", identity);
}

/** The identities `identity` muted (a subquery for `sender not in (…)`). */
export function mutedBy(
  db: Kysely<Database>,
  appId: string,
  identity: string,
): SelectQueryBuilder<Database, "user_mutes", { target: string }> {
  return db.selectFrom("user_mutes").select("target").where("app_id", "=", appId).where("identity", "=", identity);
}

/** Of `recipients`, those who did not block `sender` (who should get events about the sender's messages). */
export async function notBlocking(
  db: Kysely<Database>,
  appId: string,
  recipients: readonly string[],
  sender: string | null,
): Promise<string[]> {
  if (sender === null || recipients.length === 0) return [...recipients];
  const rows = await db
    .selectFrom("user_blocks")
    .select("identity")
    .where("app_id", "=", appId)
    .where("target", "=", sender)
    .where("identity", "in", [...recipients])
    .execute();
  if (rows.length === 0) return [...recipients];
  const out = new Set(rows.map((r) => r.identity));
  return recipients.filter((r) => !out.has(r));
}

const Target = z.strictObject({ identity: Identity });

/** `/api/v1/blocks` and `/api/v1/mutes/users`: each user's own lists. */
export function registerBlockRoutes(app: FastifyInstance, deps: RouteDeps, blocks: BlockService): void {
  const tags = ["users"];
  for (const [kind, base, noun, schema] of [
    ["user_blocks", "/api/v1/blocks", "block", BlockListSchema],
    ["user_mutes", "/api/v1/mutes/users", "mute", MuteListSchema],
  ] as const) {
    route(app, deps, {
      method: "GET",
      url: base,
      summary: kind === "user_blocks" ? "The users you blocked, most recent first" : "The users you muted, most recent first",
      tags,
      auth: "user",
      response: schema,
      handler: async ({ auth }) => {
        const list = await blocks.list(auth, kind);
        return kind === "user_blocks" ? { blocked: list } : { muted: list };
      },
    });
    route(app, deps, {
      method: "PUT",
      url: `${base}/:identity`,
      summary:
        kind === "user_blocks"
          ? "Block a user: no direct conversation, messages or calls from them; their group messages hidden from you (idempotent)"
          : "Mute a user: their messages ring no push and count in no unread badge of yours (idempotent)",
      tags,
      auth: "user",
      params: Target,
      response: BlockedUserSchema,
      handler: async ({ auth, params }) => blocks.add(auth, kind, params.identity),
    });
    route(app, deps, {
      method: "DELETE",
      url: `${base}/:identity`,
      summary: `Un${noun} a user (idempotent)`,
      tags,
      auth: "user",
      params: Target,
      status: 204,
      handler: async ({ auth, params }) => blocks.remove(auth, kind, params.identity),
    });
  }
}
