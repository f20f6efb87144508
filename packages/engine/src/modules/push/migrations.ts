import type { Kysely } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";

/** A device push token. Unique per app + platform + token (by hash: provider tokens can be long). */
export interface PushTokensTable {
  id: string;
  app_id: string;
  identity: string;
  device_id: string | null;
  platform: string;
  token: string;
  token_hash: string;
  created_at: number;
  updated_at: number;
}

export interface PushTables {
  push_tokens: PushTokensTable;
}

export const pushMigrations: MigrationSet = (dialect) => ({
  "0003_signaling_push": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      await db.schema
        .createTable("push_tokens")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("device_id", "text")
        .addColumn("platform", "text", (c) => c.notNull())
        .addColumn("token", "text", (c) => c.notNull())
        .addColumn("token_hash", "text", (c) => c.notNull())
        .addColumn("created_at", big, (c) => c.notNull())
        .addColumn("updated_at", big, (c) => c.notNull())
        .addUniqueConstraint("push_tokens_unique", ["app_id", "platform", "token_hash"])
        .execute();
      await db.schema.createIndex("push_tokens_user_idx").on("push_tokens").columns(["app_id", "identity"]).execute();
    },
  },
});
