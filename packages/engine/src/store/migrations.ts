import { type Kysely, type Migration, type MigrationProvider, Migrator } from "kysely";
import { appsMigrations } from "../modules/apps/migrations.js";
import { callsMigrations } from "../modules/calls/migrations.js";
import { chatMigrations } from "../modules/chat/migrations.js";
import { friendsMigrations } from "../modules/friends/migrations.js";
import { presenceMigrations } from "../modules/presence/migrations.js";
import { pushMigrations } from "../modules/push/migrations.js";
import { roomsMigrations } from "../modules/rooms/migrations.js";
import { seatsMigrations } from "../modules/seats/migrations.js";
import { signalRoomsMigrations } from "../modules/sigrooms/migrations.js";
import { supportMigrations } from "../modules/support/migrations.js";
import { uploadsMigrations } from "../modules/uploads/migrations.js";
import type { Dialect } from "./db.js";

/** Builds a migration list for a dialect (a few column types differ between SQLite and PostgreSQL). */
export type MigrationSet = (dialect: Dialect) => Record<string, Migration>;

const foundation: MigrationSet = (dialect) => ({
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
});

/**
 * Every module's migrations, in order. Names are globally sorted, so a module adds its own set with
 * the next free number prefix.
 */
export const MIGRATION_SETS: MigrationSet[] = [
  foundation,
  chatMigrations,
  friendsMigrations,
  uploadsMigrations,
  roomsMigrations,
  seatsMigrations,
  callsMigrations,
  presenceMigrations,
  pushMigrations,
  supportMigrations,
  appsMigrations,
  signalRoomsMigrations,
];

export async function migrate(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const all: Record<string, Migration> = {};
  for (const set of MIGRATION_SETS) Object.assign(all, set(dialect));
  const provider: MigrationProvider = { getMigrations: async () => all };
  const migrator = new Migrator({ db, provider, migrationTableName: "utd_migrations", migrationLockTableName: "utd_migrations_lock" });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName;
    throw new Error(`database migration ${failed ?? ""} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
