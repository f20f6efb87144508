import type { Kysely } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";

/** App-level security columns (the `apps` table itself is created by the foundation migration). */
export const appsMigrations: MigrationSet = (dialect) => ({
  "0006_apps_tokens_valid_after": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      // User tokens of the app issued before this instant (ms) are void: set when the auth mode changes
      // or a key/secret is rotated.
      await db.schema
        .alterTable("apps")
        .addColumn("tokens_valid_after", big, (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
});
