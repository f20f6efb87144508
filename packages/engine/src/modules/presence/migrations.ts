import type { Kysely } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";

/**
 * One open (or recently closed) socket. Live rows are leased: the node renews `expires_at`; a closed
 * socket's row lingers for the grace period. A row past `expires_at` is gone (any node's sweeper deletes it).
 */
export interface PresenceConnectionsTable {
  conn_id: string;
  node_id: string;
  app_id: string;
  identity: string;
  device_id: string | null;
  connected_at: number;
  closed_at: number | null;
  expires_at: number;
}

/** Last known status per identity: `online` flips exactly once per change (conditional updates). */
export interface PresenceStatusTable {
  app_id: string;
  identity: string;
  online: number;
  last_seen_at: number;
}

export interface PresenceTables {
  presence_connections: PresenceConnectionsTable;
  presence_status: PresenceStatusTable;
}

export const presenceMigrations: MigrationSet = (dialect) => ({
  "0003_signaling_presence": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      await db.schema
        .createTable("presence_connections")
        .addColumn("conn_id", "text", (c) => c.primaryKey())
        .addColumn("node_id", "text", (c) => c.notNull())
        .addColumn("app_id", "text", (c) => c.notNull())
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("device_id", "text")
        .addColumn("connected_at", big, (c) => c.notNull())
        .addColumn("closed_at", big)
        .addColumn("expires_at", big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex("presence_conn_user_idx").on("presence_connections").columns(["app_id", "identity"]).execute();
      await db.schema.createIndex("presence_conn_expiry_idx").on("presence_connections").column("expires_at").execute();
      await db.schema.createIndex("presence_conn_node_idx").on("presence_connections").column("node_id").execute();
      await db.schema
        .createTable("presence_status")
        .addColumn("app_id", "text", (c) => c.notNull())
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("online", "integer", (c) => c.notNull())
        .addColumn("last_seen_at", big, (c) => c.notNull())
        .addPrimaryKeyConstraint("presence_status_pk", ["app_id", "identity"])
        .execute();
    },
  },
});
