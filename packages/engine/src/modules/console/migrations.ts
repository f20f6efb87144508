import type { Kysely } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";

/** An operator account of the web console (`/console`): the platform's people, not an app's users. */
export interface ConsoleOperatorsTable {
  username: string;
  /** `scrypt$N$r$p$salt$hash` (base64url salt and hash). */
  password_hash: string;
  created_at: number;
}

/** A signed-in console session. Only a hash of the cookie value is stored, so a database read signs no one in. */
export interface ConsoleSessionsTable {
  /** sha256 (hex) of the session cookie's value. */
  id_hash: string;
  /** The operator, or null for a session opened with the admin token. */
  username: string | null;
  /** Sent back in `x-csrf-token` on every unsafe request of the session. */
  csrf_token: string;
  created_at: number;
  expires_at: number;
}

export interface ConsoleTables {
  console_operators: ConsoleOperatorsTable;
  console_sessions: ConsoleSessionsTable;
}

/** Operator accounts and their sessions. */
export const consoleMigrations: MigrationSet = (dialect) => ({
  "0009_console": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      await db.schema
        .createTable("console_operators")
        .addColumn("username", "text", (c) => c.primaryKey())
        .addColumn("password_hash", "text", (c) => c.notNull())
        .addColumn("created_at", big, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("console_sessions")
        .addColumn("id_hash", "text", (c) => c.primaryKey())
        .addColumn("username", "text", (c) => c.references("console_operators.username").onDelete("cascade"))
        .addColumn("csrf_token", "text", (c) => c.notNull())
        .addColumn("created_at", big, (c) => c.notNull())
        .addColumn("expires_at", big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex("console_sessions_expires").on("console_sessions").column("expires_at").execute();
    },
  },
});
