import type { Kysely } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";

/** Identities with the operator role in an app (managed by the admin API and `utd operator`). */
export interface SupportOperatorsTable {
  app_id: string;
  identity: string;
  created_at: number;
}

/**
 * The support state of a chat conversation of kind `support` (the messages, members and receipts live
 * in the chat tables). Timestamps are epoch ms.
 */
export interface SupportConversationsTable {
  conversation_id: string;
  app_id: string;
  visitor: string;
  state: string;
  assignee: string | null;
  /** The visitor's identity while the conversation is open, null once closed: unique per app, so a visitor has one open at a time. */
  open_key: string | null;
  created_at: number;
  updated_at: number;
  closed_at: number | null;
  closed_by: string | null;
}

export interface SupportTables {
  support_operators: SupportOperatorsTable;
  support_conversations: SupportConversationsTable;
}

export const supportMigrations: MigrationSet = (dialect) => ({
  "0005_support_1": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      await db.schema
        .createTable("support_operators")
        .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("created_at", big, (c) => c.notNull())
        .addPrimaryKeyConstraint("support_operators_pk", ["app_id", "identity"])
        .execute();
      await db.schema
        .createTable("support_conversations")
        .addColumn("conversation_id", "text", (c) => c.primaryKey().references("conversations.id").onDelete("cascade"))
        .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
        .addColumn("visitor", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("assignee", "text")
        .addColumn("open_key", "text")
        .addColumn("created_at", big, (c) => c.notNull())
        .addColumn("updated_at", big, (c) => c.notNull())
        .addColumn("closed_at", big)
        .addColumn("closed_by", "text")
        .execute();
      await db.schema
        .createIndex("support_conversations_open")
        .unique()
        .on("support_conversations")
        .columns(["app_id", "open_key"])
        .execute();
      await db.schema
        .createIndex("support_conversations_queue")
        .on("support_conversations")
        .columns(["app_id", "state", "updated_at"])
        .execute();
      await db.schema
        .createIndex("support_conversations_visitor")
        .on("support_conversations")
        .columns(["app_id", "visitor", "updated_at"])
        .execute();
    },
  },
});
