import type { Kysely } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";

/** A stored call. Timestamps are epoch ms; `ring_deadline` is set only while the call rings. */
export interface CallsTable {
  id: string;
  app_id: string;
  type: string;
  status: string;
  caller_identity: string;
  caller_name: string | null;
  caller_device_id: string | null;
  callee_identity: string;
  callee_name: string | null;
  /** JSON object. */
  metadata: string;
  answered_device_id: string | null;
  end_reason: string | null;
  ended_by: string | null;
  created_at: number;
  updated_at: number;
  ring_deadline: number | null;
  answered_at: number | null;
  ended_at: number | null;
  /** The caller's idempotency key (unique per app + caller), added by 0004_signaling_call_client_id. */
  client_call_id: string | null;
}

export interface CallsTables {
  calls: CallsTable;
}

export const callsMigrations: MigrationSet = (dialect) => ({
  "0003_signaling_calls": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      await db.schema
        .createTable("calls")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("caller_identity", "text", (c) => c.notNull())
        .addColumn("caller_name", "text")
        .addColumn("caller_device_id", "text")
        .addColumn("callee_identity", "text", (c) => c.notNull())
        .addColumn("callee_name", "text")
        .addColumn("metadata", "text", (c) => c.notNull().defaultTo("{}"))
        .addColumn("answered_device_id", "text")
        .addColumn("end_reason", "text")
        .addColumn("ended_by", "text")
        .addColumn("created_at", big, (c) => c.notNull())
        .addColumn("updated_at", big, (c) => c.notNull())
        .addColumn("ring_deadline", big)
        .addColumn("answered_at", big)
        .addColumn("ended_at", big)
        .execute();
      await db.schema.createIndex("calls_caller_idx").on("calls").columns(["app_id", "caller_identity", "id"]).execute();
      await db.schema.createIndex("calls_callee_idx").on("calls").columns(["app_id", "callee_identity", "id"]).execute();
      await db.schema.createIndex("calls_ring_deadline_idx").on("calls").column("ring_deadline").execute();
      await db.schema.createIndex("calls_status_idx").on("calls").columns(["app_id", "status"]).execute();
    },
  },
  "0004_signaling_call_client_id": {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable("calls").addColumn("client_call_id", "text").execute();
      await db.schema
        .createIndex("calls_client_call_id_idx")
        .on("calls")
        .columns(["app_id", "caller_identity", "client_call_id"])
        .unique()
        .execute();
    },
  },
});
