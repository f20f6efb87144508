import type { Generated, Kysely } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";

/**
 * The tenancy root: apps, their users, and monthly active users (one foundation migration, which
 * predates modules), then the app-level security columns.
 */
export const appsMigrations: MigrationSet = (dialect) => ({
  "0001_foundation": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      await db.schema
        .createTable("apps")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("app_key", "text", (c) => c.notNull().unique())
        .addColumn("secret_sealed", "text", (c) => c.notNull())
        .addColumn("auth_mode", "text", (c) => c.notNull())
        .addColumn("plan", "text", (c) => c.notNull())
        .addColumn("signaling_enabled", "integer")
        .addColumn("messaging_enabled", "integer")
        .addColumn("limit_overrides", "text", (c) => c.notNull().defaultTo("{}"))
        .addColumn("settings", "text", (c) => c.notNull().defaultTo("{}"))
        .addColumn("created_at", big, (c) => c.notNull())
        .addColumn("updated_at", big, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("users")
        .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("name", "text")
        .addColumn("created_at", big, (c) => c.notNull())
        .addColumn("last_seen_at", big, (c) => c.notNull())
        .addColumn("banned_at", big)
        .addColumn("ban_reason", "text")
        .addColumn("tokens_valid_after", big, (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint("users_pk", ["app_id", "identity"])
        .execute();
      await db.schema
        .createTable("mau")
        .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
        .addColumn("month", "text", (c) => c.notNull())
        .addColumn("identity", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("mau_pk", ["app_id", "month", "identity"])
        .execute();
    },
  },
  "0006_apps_tokens_valid_after": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      // User tokens of the app issued before this instant (ms) are void: set when the auth mode changes
      // or a key/secret is rotated.
      await db.schema
        .alterTable("apps")
        .addColumn("tokens_valid_after", big, (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
});

/** Timestamps are epoch milliseconds; booleans are 0/1 integers (portable across SQLite and PostgreSQL). */
export interface AppsTable {
  id: string;
  name: string;
  app_key: string;
  /** The app secret, encrypted with the engine's master key (HS256 verification needs the secret itself). */
  secret_sealed: string;
  auth_mode: string;
  plan: string;
  /** Capability overrides: null = the plan's default. */
  signaling_enabled: number | null;
  messaging_enabled: number | null;
  /** JSON of per-app limit overrides. */
  limit_overrides: string;
  /** JSON of app settings (e.g. `auto_busy`). */
  settings: string;
  created_at: number;
  updated_at: number;
  /** User tokens issued before this instant (ms) are void (auth-mode change, key or secret rotation). */
  tokens_valid_after: number;
}

export interface UsersTable {
  app_id: string;
  identity: string;
  name: string | null;
  created_at: number;
  last_seen_at: number;
  banned_at: number | null;
  ban_reason: string | null;
  /** Tokens issued before this instant (ms) no longer authenticate. */
  tokens_valid_after: Generated<number>;
}

export interface MauTable {
  app_id: string;
  /** `YYYY-MM`, UTC. */
  month: string;
  identity: string;
}

/** The foundation's tables (the users module reads and writes `users` and `mau`). */
export interface AppsTables {
  apps: AppsTable;
  users: UsersTable;
  mau: MauTable;
}
