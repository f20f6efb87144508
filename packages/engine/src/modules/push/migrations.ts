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

/** One provider's credentials for an app, encrypted with the master key (like app secrets). */
export interface PushCredentialsTable {
  app_id: string;
  /** `apns` | `fcm` | `vapid` */
  provider: string;
  sealed: string;
  fingerprint: string;
  /** JSON: the non-secret identifiers shown by the admin API. */
  details: string;
  updated_at: number;
}

/**
 * The push outbox: one row per push to one device token, written in the transaction of its cause.
 * `pending` → `sending` (leased) → `sent` | `failed` | `dropped`. A lease that runs out (the engine died
 * mid-send) puts the row back in play, so nothing is lost; the provider's collapse id covers the one
 * push that may then go twice.
 */
export interface PushOutboxTable {
  id: string;
  app_id: string;
  identity: string;
  token_id: string;
  platform: string;
  /** `call.incoming` | `call.ended` | `call.missed` | `message.new` */
  kind: string;
  /** The call or conversation this push is about. */
  ref_id: string;
  collapse_key: string;
  /** JSON: the payload fields (PushData without push_id). */
  data: string;
  priority: string;
  state: string;
  attempts: number;
  next_at: number;
  lease_until: number | null;
  expires_at: number;
  created_at: number;
  updated_at: number;
  last_error: string | null;
  /** How many causes this row stands for (a collapsed burst of messages). */
  count: number;
}

/** Members who muted a conversation: they get no message pushes from it. */
export interface ConversationMutesTable {
  conversation_id: string;
  identity: string;
  app_id: string;
  created_at: number;
}

export interface PushTables {
  conversation_mutes: ConversationMutesTable;
  push_tokens: PushTokensTable;
  push_credentials: PushCredentialsTable;
  push_outbox: PushOutboxTable;
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
  "0007_push_delivery": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      await db.schema
        .createTable("push_credentials")
        .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
        .addColumn("provider", "text", (c) => c.notNull())
        .addColumn("sealed", "text", (c) => c.notNull())
        .addColumn("fingerprint", "text", (c) => c.notNull())
        .addColumn("details", "text", (c) => c.notNull())
        .addColumn("updated_at", big, (c) => c.notNull())
        .addPrimaryKeyConstraint("push_credentials_pk", ["app_id", "provider"])
        .execute();
      await db.schema
        .createTable("push_outbox")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("token_id", "text", (c) => c.notNull())
        .addColumn("platform", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("ref_id", "text", (c) => c.notNull())
        .addColumn("collapse_key", "text", (c) => c.notNull())
        .addColumn("data", "text", (c) => c.notNull())
        .addColumn("priority", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("next_at", big, (c) => c.notNull())
        .addColumn("lease_until", big)
        .addColumn("expires_at", big, (c) => c.notNull())
        .addColumn("created_at", big, (c) => c.notNull())
        .addColumn("updated_at", big, (c) => c.notNull())
        .addColumn("last_error", "text")
        .addColumn("count", "integer", (c) => c.notNull().defaultTo(1))
        .execute();
      await db.schema.createIndex("push_outbox_due_idx").on("push_outbox").columns(["state", "next_at"]).execute();
      await db.schema.createIndex("push_outbox_ref_idx").on("push_outbox").columns(["ref_id", "kind"]).execute();
      await db.schema.createIndex("push_outbox_collapse_idx").on("push_outbox").columns(["token_id", "collapse_key", "state"]).execute();
      // Conversation mute is a member setting (a row here = muted); it goes with the membership.
      await db.schema
        .createTable("conversation_mutes")
        .addColumn("conversation_id", "text", (c) => c.notNull())
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("app_id", "text", (c) => c.notNull())
        .addColumn("created_at", big, (c) => c.notNull())
        .addPrimaryKeyConstraint("conversation_mutes_pk", ["conversation_id", "identity"])
        .addForeignKeyConstraint(
          "conversation_mutes_member_fk",
          ["conversation_id", "identity"],
          "conversation_members",
          ["conversation_id", "identity"],
          (fk) => fk.onDelete("cascade"),
        )
        .execute();
    },
  },
});
