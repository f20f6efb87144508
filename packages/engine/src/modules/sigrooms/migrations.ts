import type { Kysely } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";

/**
 * A signalling room's own policy (rooms without a row take the app's defaults). Membership itself is
 * ephemeral and never stored here: it lives in the room backplane (memory or Redis).
 */
export interface SignalRoomPoliciesTable {
  app_id: string;
  room: string;
  /** `open` | `members` | `token`. */
  policy: string;
  publish_role: string | null;
  max_members: number | null;
  history: number | null;
  updated_at: number;
}

/** A room's allow-list (and role assignments). */
export interface SignalRoomAllowedTable {
  app_id: string;
  room: string;
  identity: string;
  role: string;
}

export interface SignalRoomsTables {
  signal_room_policies: SignalRoomPoliciesTable;
  signal_room_allowed: SignalRoomAllowedTable;
}

export const signalRoomsMigrations: MigrationSet = (dialect) => ({
  "0007_signal_rooms": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      await db.schema
        .createTable("signal_room_policies")
        .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
        .addColumn("room", "text", (c) => c.notNull())
        .addColumn("policy", "text", (c) => c.notNull())
        .addColumn("publish_role", "text")
        .addColumn("max_members", "integer")
        .addColumn("history", "integer")
        .addColumn("updated_at", big, (c) => c.notNull())
        .addPrimaryKeyConstraint("signal_room_policies_pk", ["app_id", "room"])
        .execute();
      await db.schema
        .createTable("signal_room_allowed")
        .addColumn("app_id", "text", (c) => c.notNull())
        .addColumn("room", "text", (c) => c.notNull())
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("signal_room_allowed_pk", ["app_id", "room", "identity"])
        .addForeignKeyConstraint("signal_room_allowed_policy_fk", ["app_id", "room"], "signal_room_policies", ["app_id", "room"], (c) =>
          c.onDelete("cascade"),
        )
        .execute();
    },
  },
});
