import type { Kysely } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";
import type { ChatDepthTables } from "./depth-migrations.js";

/** Timestamps are epoch ms; booleans 0/1; JSON as text (portable across SQLite and PostgreSQL). */
export interface ConversationsTable {
  id: string;
  app_id: string;
  kind: string;
  name: string | null;
  custom: string | null;
  created_by: string;
  /** For `direct`: the two identities sorted and joined, unique per app, so there is one per pair. */
  direct_key: string | null;
  created_at: number;
  updated_at: number;
  /** The last message's time (or creation); orders the conversation list. */
  last_active_at: number;
  /** The highest seq handed out; the next message gets last_seq + 1 (allocated under the row lock). */
  last_seq: number;
  closed_at: number | null;
  member_count: number;
}

export interface ConversationMembersTable {
  conversation_id: string;
  app_id: string;
  identity: string;
  role: string;
  joined_at: number;
  last_read_seq: number;
}

export interface MessagesTable {
  id: string;
  conversation_id: string;
  app_id: string;
  seq: number;
  type: string;
  sender: string | null;
  text: string | null;
  custom: string | null;
  /** JSON array of the attachments as sent (file records copied at send time). */
  attachments: string;
  reply_to: string | null;
  /** The parent message of a thread reply; null in the main timeline (migration 0009). */
  thread_id: string | null;
  /** JSON array of the mentioned members' identities; null when none (migration 0010). */
  mentions: string | null;
  /** Idempotency key, unique per (conversation, sender). */
  client_msg_id: string | null;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
}

export interface MessageReactionsTable {
  message_id: string;
  conversation_id: string;
  identity: string;
  reaction: string;
  created_at: number;
}

/** Which files were sent in which conversation: downloads are for members of those conversations. */
export interface MessageFilesTable {
  file_id: string;
  conversation_id: string;
  message_id: string;
  app_id: string;
  created_at: number;
}

export interface ChatSettingsTable {
  app_id: string;
  identity: string;
  share_read_receipts: number;
}

/** The chat module's tables (the store's `Database` extends this). */
export interface ChatTables extends ChatDepthTables {
  conversations: ConversationsTable;
  conversation_members: ConversationMembersTable;
  messages: MessagesTable;
  message_reactions: MessageReactionsTable;
  message_files: MessageFilesTable;
  chat_settings: ChatSettingsTable;
}

export const chatMigrations: MigrationSet = (dialect) => ({
  "0003_chat_1": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      await db.schema
        .createTable("conversations")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("name", "text")
        .addColumn("custom", "text")
        .addColumn("created_by", "text", (c) => c.notNull())
        .addColumn("direct_key", "text")
        .addColumn("created_at", big, (c) => c.notNull())
        .addColumn("updated_at", big, (c) => c.notNull())
        .addColumn("last_active_at", big, (c) => c.notNull())
        .addColumn("last_seq", big, (c) => c.notNull().defaultTo(0))
        .addColumn("closed_at", big)
        .addColumn("member_count", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex("conversations_direct_key").on("conversations").columns(["app_id", "direct_key"]).unique().execute();
      await db.schema.createIndex("conversations_app_kind").on("conversations").columns(["app_id", "kind", "closed_at"]).execute();
      await db.schema
        .createTable("conversation_members")
        .addColumn("conversation_id", "text", (c) => c.notNull().references("conversations.id").onDelete("cascade"))
        .addColumn("app_id", "text", (c) => c.notNull())
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("joined_at", big, (c) => c.notNull())
        .addColumn("last_read_seq", big, (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint("conversation_members_pk", ["conversation_id", "identity"])
        .execute();
      await db.schema.createIndex("conversation_members_user").on("conversation_members").columns(["app_id", "identity"]).execute();
      await db.schema
        .createTable("messages")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("conversation_id", "text", (c) => c.notNull().references("conversations.id").onDelete("cascade"))
        .addColumn("app_id", "text", (c) => c.notNull())
        .addColumn("seq", big, (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("sender", "text")
        .addColumn("text", "text")
        .addColumn("custom", "text")
        .addColumn("attachments", "text", (c) => c.notNull().defaultTo("[]"))
        .addColumn("reply_to", "text")
        .addColumn("client_msg_id", "text")
        .addColumn("created_at", big, (c) => c.notNull())
        .addColumn("edited_at", big)
        .addColumn("deleted_at", big)
        .execute();
      await db.schema.createIndex("messages_conv_seq").on("messages").columns(["conversation_id", "seq"]).unique().execute();
      await db.schema
        .createIndex("messages_client_id")
        .on("messages")
        .columns(["conversation_id", "sender", "client_msg_id"])
        .unique()
        .execute();
      await db.schema.createIndex("messages_app_created").on("messages").columns(["app_id", "created_at"]).execute();
      await db.schema
        .createTable("message_reactions")
        .addColumn("message_id", "text", (c) => c.notNull().references("messages.id").onDelete("cascade"))
        .addColumn("conversation_id", "text", (c) => c.notNull())
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("reaction", "text", (c) => c.notNull())
        .addColumn("created_at", big, (c) => c.notNull())
        .addPrimaryKeyConstraint("message_reactions_pk", ["message_id", "identity", "reaction"])
        .execute();
      await db.schema
        .createTable("message_files")
        .addColumn("file_id", "text", (c) => c.notNull())
        .addColumn("conversation_id", "text", (c) => c.notNull().references("conversations.id").onDelete("cascade"))
        .addColumn("message_id", "text", (c) => c.notNull().references("messages.id").onDelete("cascade"))
        .addColumn("app_id", "text", (c) => c.notNull())
        .addColumn("created_at", big, (c) => c.notNull())
        .addPrimaryKeyConstraint("message_files_pk", ["file_id", "message_id"])
        .execute();
      await db.schema.createIndex("message_files_conv").on("message_files").columns(["file_id", "conversation_id"]).execute();
      await db.schema
        .createTable("chat_settings")
        .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("share_read_receipts", "integer", (c) => c.notNull().defaultTo(1))
        .addPrimaryKeyConstraint("chat_settings_pk", ["app_id", "identity"])
        .execute();
    },
  },
});
