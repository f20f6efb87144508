import type { Kysely } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";

/** A thread: one row per message that has replies (the parent), kept by the send and delete paths. */
export interface MessageThreadsTable {
  parent_id: string;
  conversation_id: string;
  app_id: string;
  /** Live (not deleted) replies. */
  reply_count: number;
  last_reply_at: number | null;
  last_reply_seq: number;
  created_at: number;
}

/** Who takes part in a thread (the parent's sender and each replier) and how far each has read it. */
export interface ThreadParticipantsTable {
  parent_id: string;
  identity: string;
  conversation_id: string;
  app_id: string;
  last_read_seq: number;
  joined_at: number;
}

/** One row per (message, mentioned member): the per-conversation mention counts read these. */
export interface MessageMentionsTable {
  message_id: string;
  conversation_id: string;
  app_id: string;
  identity: string;
  seq: number;
  created_at: number;
}

/** A report of a message or a user, in the app's queue. */
export interface ReportsTable {
  id: string;
  app_id: string;
  kind: string;
  reporter: string;
  identity: string;
  conversation_id: string | null;
  message_id: string | null;
  message_text: string | null;
  reason: string;
  state: string;
  created_at: number;
  resolved_at: number | null;
  note: string | null;
}

/** An app's word filter (JSON `[{term, action}]`) and link policy. */
export interface ChatFiltersTable {
  app_id: string;
  words: string;
  link_policy: string;
  updated_at: number;
}

/** The tables of threads, mentions, reports and filters (the store's `Database` extends this). */
export interface ChatDepthTables {
  message_threads: MessageThreadsTable;
  thread_participants: ThreadParticipantsTable;
  message_mentions: MessageMentionsTable;
  reports: ReportsTable;
  chat_filters: ChatFiltersTable;
}

/** Threads (`thread_id` on replies), mentions (`mentions` on messages). */
export const chatDepthMigrations: MigrationSet = (dialect) => {
  const big = dialect === "postgres" ? "bigint" : "integer";
  return {
    "0009_chat_threads": {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("messages").addColumn("thread_id", "text").execute();
        await db.schema.createIndex("messages_thread_seq").on("messages").columns(["thread_id", "seq"]).execute();
        await db.schema
          .createTable("message_threads")
          .addColumn("parent_id", "text", (c) => c.primaryKey().references("messages.id").onDelete("cascade"))
          .addColumn("conversation_id", "text", (c) => c.notNull().references("conversations.id").onDelete("cascade"))
          .addColumn("app_id", "text", (c) => c.notNull())
          .addColumn("reply_count", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("last_reply_at", big)
          .addColumn("last_reply_seq", big, (c) => c.notNull().defaultTo(0))
          .addColumn("created_at", big, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("thread_participants")
          .addColumn("parent_id", "text", (c) => c.notNull().references("messages.id").onDelete("cascade"))
          .addColumn("identity", "text", (c) => c.notNull())
          .addColumn("conversation_id", "text", (c) => c.notNull().references("conversations.id").onDelete("cascade"))
          .addColumn("app_id", "text", (c) => c.notNull())
          .addColumn("last_read_seq", big, (c) => c.notNull().defaultTo(0))
          .addColumn("joined_at", big, (c) => c.notNull())
          .addPrimaryKeyConstraint("thread_participants_pk", ["parent_id", "identity"])
          .execute();
        await db.schema.createIndex("thread_participants_user").on("thread_participants").columns(["app_id", "identity"]).execute();
      },
    },
    "0010_chat_mentions": {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("messages").addColumn("mentions", "text").execute();
        await db.schema
          .createTable("message_mentions")
          .addColumn("message_id", "text", (c) => c.notNull().references("messages.id").onDelete("cascade"))
          .addColumn("conversation_id", "text", (c) => c.notNull().references("conversations.id").onDelete("cascade"))
          .addColumn("app_id", "text", (c) => c.notNull())
          .addColumn("identity", "text", (c) => c.notNull())
          .addColumn("seq", big, (c) => c.notNull())
          .addColumn("created_at", big, (c) => c.notNull())
          .addPrimaryKeyConstraint("message_mentions_pk", ["message_id", "identity"])
          .execute();
        await db.schema
          .createIndex("message_mentions_member")
          .on("message_mentions")
          .columns(["conversation_id", "identity", "seq"])
          .execute();
      },
    },
    "0012_chat_moderation": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("reports")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("reporter", "text", (c) => c.notNull())
          .addColumn("identity", "text", (c) => c.notNull())
          .addColumn("conversation_id", "text")
          .addColumn("message_id", "text")
          .addColumn("message_text", "text")
          .addColumn("reason", "text", (c) => c.notNull())
          .addColumn("state", "text", (c) => c.notNull())
          .addColumn("created_at", big, (c) => c.notNull())
          .addColumn("resolved_at", big)
          .addColumn("note", "text")
          .execute();
        await db.schema.createIndex("reports_app_state").on("reports").columns(["app_id", "state", "created_at"]).execute();
        await db.schema.createIndex("reports_reporter").on("reports").columns(["app_id", "reporter", "state"]).execute();
        await db.schema
          .createTable("chat_filters")
          .addColumn("app_id", "text", (c) => c.primaryKey().references("apps.id").onDelete("cascade"))
          .addColumn("words", "text", (c) => c.notNull().defaultTo("[]"))
          .addColumn("link_policy", "text", (c) => c.notNull().defaultTo("allow"))
          .addColumn("updated_at", big, (c) => c.notNull())
          .execute();
      },
    },
  };
};
