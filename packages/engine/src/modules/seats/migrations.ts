import type { Generated, Kysely } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";

/** An occupied seat (empty seats have no row). The primary key makes a taken seat a conflict. */
export interface MediaSeatsTable {
  app_id: string;
  room_name: string;
  seat_index: number;
  identity: string;
  name: string | null;
  taken_at: number;
}

/** Requests to speak (listener → host) and invitations (host → listener) in request-mode audio rooms. */
export interface MediaSpeakRequestsTable {
  id: Generated<number>;
  app_id: string;
  room_name: string;
  identity: string;
  name: string | null;
  /** `request` | `invite`. */
  kind: string;
  /** `pending` | `approved`. Used (seat taken) requests are deleted. */
  status: string;
  seat_index: number | null;
  created_at: number;
}

export interface SeatsTables {
  media_seats: MediaSeatsTable;
  media_speak_requests: MediaSpeakRequestsTable;
}

export const seatsMigrations: MigrationSet = (dialect) => ({
  "0005_media_seats": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      await db.schema
        .createTable("media_seats")
        .addColumn("app_id", "text", (c) => c.notNull())
        .addColumn("room_name", "text", (c) => c.notNull())
        .addColumn("seat_index", "integer", (c) => c.notNull())
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("name", "text")
        .addColumn("taken_at", big, (c) => c.notNull())
        .addPrimaryKeyConstraint("media_seats_pk", ["app_id", "room_name", "seat_index"])
        .addForeignKeyConstraint("media_seats_room_fk", ["app_id", "room_name"], "media_rooms", ["app_id", "name"], (fk) =>
          fk.onDelete("cascade"),
        )
        .execute();
      // One seat per person.
      await db.schema.createIndex("media_seats_identity").on("media_seats").columns(["app_id", "room_name", "identity"]).unique().execute();
      await db.schema
        .createTable("media_speak_requests")
        .addColumn("id", dialect === "postgres" ? "serial" : "integer", (c) =>
          dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn("app_id", "text", (c) => c.notNull())
        .addColumn("room_name", "text", (c) => c.notNull())
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("name", "text")
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("seat_index", "integer")
        .addColumn("created_at", big, (c) => c.notNull())
        .addForeignKeyConstraint("media_speak_requests_room_fk", ["app_id", "room_name"], "media_rooms", ["app_id", "name"], (fk) =>
          fk.onDelete("cascade"),
        )
        .execute();
      // One open request or invitation per listener.
      await db.schema
        .createIndex("media_speak_requests_identity")
        .on("media_speak_requests")
        .columns(["app_id", "room_name", "identity"])
        .unique()
        .execute();
    },
  },
});
