import type { Kysely } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";

/** A live stream or audio room the engine has handed tokens for. Rows go when LiveKit closes the room. */
export interface MediaRoomsTable {
  app_id: string;
  /** The un-prefixed name the app uses. */
  name: string;
  /** `live_stream` | `audio_room`; fixed at creation. */
  type: string;
  /** Audio rooms: seat grid (0 = not set up yet). */
  seat_count: number;
  seat_mode: string;
  mode_id: string | null;
  created_at: number;
  updated_at: number;
}

/** Who may publish in a live stream beyond the audience: the host(s) and the co-hosts they promoted (the stage). */
export interface MediaRoomMembersTable {
  app_id: string;
  room_name: string;
  identity: string;
  /** `host` | `co_host`. */
  role: string;
  name: string | null;
  added_at: number;
}

export interface RoomsTables {
  media_rooms: MediaRoomsTable;
  media_room_members: MediaRoomMembersTable;
}

export const roomsMigrations: MigrationSet = (dialect) => ({
  "0005_media_rooms": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      await db.schema
        .createTable("media_rooms")
        .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("seat_count", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("seat_mode", "text", (c) => c.notNull().defaultTo("free"))
        .addColumn("mode_id", "text")
        .addColumn("created_at", big, (c) => c.notNull())
        .addColumn("updated_at", big, (c) => c.notNull())
        .addPrimaryKeyConstraint("media_rooms_pk", ["app_id", "name"])
        .execute();
      await db.schema
        .createTable("media_room_members")
        .addColumn("app_id", "text", (c) => c.notNull())
        .addColumn("room_name", "text", (c) => c.notNull())
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("name", "text")
        .addColumn("added_at", big, (c) => c.notNull())
        .addPrimaryKeyConstraint("media_room_members_pk", ["app_id", "room_name", "identity"])
        .addForeignKeyConstraint("media_room_members_room_fk", ["app_id", "room_name"], "media_rooms", ["app_id", "name"], (fk) =>
          fk.onDelete("cascade"),
        )
        .execute();
    },
  },
});
