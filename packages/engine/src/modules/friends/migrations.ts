import type { Kysely } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";

/** One row per ordered request: `requester` asked `addressee`; `accepted_at` set once accepted. */
export interface FriendshipsTable {
  app_id: string;
  requester: string;
  addressee: string;
  created_at: number;
  updated_at: number;
  accepted_at: number | null;
}

export interface FriendsTables {
  friendships: FriendshipsTable;
}

export const friendsMigrations: MigrationSet = (dialect) => ({
  "0003_friends_1": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      await db.schema
        .createTable("friendships")
        .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
        .addColumn("requester", "text", (c) => c.notNull())
        .addColumn("addressee", "text", (c) => c.notNull())
        .addColumn("created_at", big, (c) => c.notNull())
        .addColumn("updated_at", big, (c) => c.notNull())
        .addColumn("accepted_at", big)
        .addPrimaryKeyConstraint("friendships_pk", ["app_id", "requester", "addressee"])
        .execute();
      await db.schema.createIndex("friendships_addressee").on("friendships").columns(["app_id", "addressee"]).execute();
    },
  },
});
