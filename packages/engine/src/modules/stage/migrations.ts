import type { Kysely } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";

/** A viewer's raised hand in a live stream; the row goes when the host invites them or they leave the room. */
export interface MediaStageRequestsTable {
  app_id: string;
  room_name: string;
  identity: string;
  name: string | null;
  requested_at: number;
}

export interface StageTables {
  media_stage_requests: MediaStageRequestsTable;
}

export const stageMigrations: MigrationSet = (dialect) => ({
  "0009_media_stage_requests": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("media_stage_requests")
        .addColumn("app_id", "text", (c) => c.notNull())
        .addColumn("room_name", "text", (c) => c.notNull())
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("name", "text")
        .addColumn("requested_at", dialect === "postgres" ? "bigint" : "integer", (c) => c.notNull())
        .addPrimaryKeyConstraint("media_stage_requests_pk", ["app_id", "room_name", "identity"])
        .addForeignKeyConstraint("media_stage_requests_room_fk", ["app_id", "room_name"], "media_rooms", ["app_id", "name"], (fk) =>
          fk.onDelete("cascade"),
        )
        .execute();
    },
  },
});
