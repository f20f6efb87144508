import { type Kysely, type Migration, type MigrationProvider, Migrator } from "kysely";

/** The two SQL dialects the store speaks. */
export type Dialect = "sqlite" | "postgres";

/**
 * Builds a migration list for a dialect (a few column types differ between SQLite and PostgreSQL).
 * Each module owns one set; names are globally sorted, so a module adds migrations with the next free
 * number prefix.
 */
export type MigrationSet = (dialect: Dialect) => Record<string, Migration>;

/**
 * Brings a database up to date with the given migration sets (the engine passes every module's). The
 * store knows no module: it is handed the sets. Two sets naming the same migration are refused.
 */
export async function migrate(db: Kysely<unknown>, dialect: Dialect, sets: readonly MigrationSet[]): Promise<void> {
  const all: Record<string, Migration> = {};
  for (const set of sets) {
    for (const [name, migration] of Object.entries(set(dialect))) {
      if (name in all) throw new Error(`two modules define the migration ${name}`);
      all[name] = migration;
    }
  }
  const provider: MigrationProvider = { getMigrations: async () => all };
  const migrator = new Migrator({ db, provider, migrationTableName: "utd_migrations", migrationLockTableName: "utd_migrations_lock" });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName;
    throw new Error(`database migration ${failed ?? ""} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
