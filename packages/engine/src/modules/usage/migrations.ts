import type { Kysely } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";

/** One app's counters for one UTC day (`YYYY-MM-DD`), added to by every node's periodic flush. */
export interface UsageDailyTable {
  app_id: string;
  day: string;
  messages: number;
  call_seconds: number;
  /** The most sockets of the app open at once on one node that day. */
  peak_sockets: number;
}

/** Identities active (socket opened) on a day: the daily active users are the rows of a day. */
export interface UsageDailyUsersTable {
  app_id: string;
  day: string;
  identity: string;
}

export interface UsageTables {
  usage_daily: UsageDailyTable;
  usage_daily_users: UsageDailyUsersTable;
}

/** The daily usage rollup the console charts. */
export const usageMigrations: MigrationSet = (dialect) => ({
  "0009_usage_daily": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      await db.schema
        .createTable("usage_daily")
        .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
        .addColumn("day", "text", (c) => c.notNull())
        .addColumn("messages", big, (c) => c.notNull().defaultTo(0))
        .addColumn("call_seconds", big, (c) => c.notNull().defaultTo(0))
        .addColumn("peak_sockets", "integer", (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint("usage_daily_pk", ["app_id", "day"])
        .execute();
      await db.schema
        .createTable("usage_daily_users")
        .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
        .addColumn("day", "text", (c) => c.notNull())
        .addColumn("identity", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("usage_daily_users_pk", ["app_id", "day", "identity"])
        .execute();
    },
  },
});
