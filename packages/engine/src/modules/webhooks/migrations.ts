import type { Generated, Kysely } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";

/** A webhook endpoint of an app. Secrets are sealed with the master key; `previous_*` signs too during a rotation's overlap. */
export interface WebhookEndpointsTable {
  id: string;
  app_id: string;
  url: string;
  /** JSON array of event types. */
  events: string;
  description: string | null;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_expires_at: number | null;
  enabled: number;
  disabled_at: number | null;
  disabled_reason: string | null;
  /** When deliveries started failing without a success since (null while healthy). */
  failing_since: number | null;
  created_at: number;
  updated_at: number;
}

/**
 * One event for one endpoint, written in the event's transaction. `seq` orders deliveries: an event waits
 * while an earlier one with the same endpoint and `order_key` is undelivered (pending or sending).
 */
export interface WebhookOutboxTable {
  seq: Generated<number>;
  /** The `webhook-id` (idempotency key): the same for every retry and replay. */
  event_id: string;
  endpoint_id: string;
  app_id: string;
  type: string;
  /** The exact JSON body that is signed and sent. */
  body: string;
  order_key: string | null;
  state: string;
  attempts: number;
  next_at: number;
  lease_until: number | null;
  created_at: number;
  delivered_at: number | null;
  last_status: number | null;
  last_error: string | null;
}

/** The delivery log: one row per HTTP attempt. */
export interface WebhookAttemptsTable {
  id: Generated<number>;
  endpoint_id: string;
  event_id: string;
  type: string;
  attempt: number;
  status: number | null;
  error: string | null;
  duration_ms: number;
  at: number;
}

/** An app's before-send hook (one per app). */
export interface BeforeSendHooksTable {
  app_id: string;
  url: string;
  secret_sealed: string;
  timeout_ms: number;
  policy: string;
  updated_at: number;
}

export interface WebhooksTables {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_outbox: WebhookOutboxTable;
  webhook_attempts: WebhookAttemptsTable;
  before_send_hooks: BeforeSendHooksTable;
}

export const webhooksMigrations: MigrationSet = (dialect) => ({
  "0008_webhooks": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      await db.schema
        .createTable("webhook_endpoints")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
        .addColumn("url", "text", (c) => c.notNull())
        .addColumn("events", "text", (c) => c.notNull())
        .addColumn("description", "text")
        .addColumn("secret_sealed", "text", (c) => c.notNull())
        .addColumn("previous_secret_sealed", "text")
        .addColumn("previous_expires_at", big)
        .addColumn("enabled", "integer", (c) => c.notNull().defaultTo(1))
        .addColumn("disabled_at", big)
        .addColumn("disabled_reason", "text")
        .addColumn("failing_since", big)
        .addColumn("created_at", big, (c) => c.notNull())
        .addColumn("updated_at", big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex("webhook_endpoints_app_idx").on("webhook_endpoints").column("app_id").execute();
      let outbox = db.schema.createTable("webhook_outbox");
      outbox =
        dialect === "postgres"
          ? outbox.addColumn("seq", "bigserial", (c) => c.primaryKey())
          : outbox.addColumn("seq", "integer", (c) => c.primaryKey().autoIncrement());
      await outbox
        .addColumn("event_id", "text", (c) => c.notNull())
        .addColumn("endpoint_id", "text", (c) => c.notNull().references("webhook_endpoints.id").onDelete("cascade"))
        .addColumn("app_id", "text", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("body", "text", (c) => c.notNull())
        .addColumn("order_key", "text")
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("next_at", big, (c) => c.notNull())
        .addColumn("lease_until", big)
        .addColumn("created_at", big, (c) => c.notNull())
        .addColumn("delivered_at", big)
        .addColumn("last_status", "integer")
        .addColumn("last_error", "text")
        .execute();
      await db.schema.createIndex("webhook_outbox_due_idx").on("webhook_outbox").columns(["state", "next_at"]).execute();
      await db.schema.createIndex("webhook_outbox_order_idx").on("webhook_outbox").columns(["endpoint_id", "order_key", "seq"]).execute();
      await db.schema.createIndex("webhook_outbox_event_idx").on("webhook_outbox").columns(["endpoint_id", "event_id"]).execute();
      let attempts = db.schema.createTable("webhook_attempts");
      attempts =
        dialect === "postgres"
          ? attempts.addColumn("id", "bigserial", (c) => c.primaryKey())
          : attempts.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
      await attempts
        .addColumn("endpoint_id", "text", (c) => c.notNull().references("webhook_endpoints.id").onDelete("cascade"))
        .addColumn("event_id", "text", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("attempt", "integer", (c) => c.notNull())
        .addColumn("status", "integer")
        .addColumn("error", "text")
        .addColumn("duration_ms", "integer", (c) => c.notNull())
        .addColumn("at", big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex("webhook_attempts_endpoint_idx").on("webhook_attempts").columns(["endpoint_id", "id"]).execute();
      await db.schema
        .createTable("before_send_hooks")
        .addColumn("app_id", "text", (c) => c.primaryKey().references("apps.id").onDelete("cascade"))
        .addColumn("url", "text", (c) => c.notNull())
        .addColumn("secret_sealed", "text", (c) => c.notNull())
        .addColumn("timeout_ms", "integer", (c) => c.notNull())
        .addColumn("policy", "text", (c) => c.notNull())
        .addColumn("updated_at", big, (c) => c.notNull())
        .execute();
    },
  },
});
