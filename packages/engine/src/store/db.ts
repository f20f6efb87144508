import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import pg from "pg";
import { ensurePrivateDir, ensurePrivateFile } from "../core/private-fs.js";
import { type MigrationSet, migrate } from "./migrations.js";
import type { Store } from "./port.js";
import type { Database } from "./schema.js";
import { GroupCommitSqliteDialect } from "./sqlite-group-commit.js";

export type { Dialect, MigrationSet } from "./migrations.js";
export type { Store } from "./port.js";

export interface StoreOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  /** SQLite durability (default FULL: an acknowledged write survives power loss). */
  sqliteSync?: "FULL" | "NORMAL";
  /**
   * SQLite group commit (default on; see store/sqlite-group-commit.ts). Reads outside a transaction then run
   * on a read-only connection that sees committed data only; a write that fails reports only after the
   * group it saw is committed, so "insert, catch the conflict, read the winner" finds the winner.
   */
  sqliteGroupCommit?: boolean;
  /** PostgreSQL pool size (default 20). */
  poolMax?: number;
}

/**
 * Opens the store the configuration asks for and brings its schema up to date with `migrations` (the
 * engine passes every module's sets; see `openStore` in the engine's index).
 */
export async function connectStore(opts: StoreOptions, migrations: readonly MigrationSet[]): Promise<Store> {
  const store = opts.databaseUrl
    ? openPostgres(opts.databaseUrl, opts.poolMax ?? 20)
    : openSqlite(opts.dataDir, opts.sqliteSync ?? "FULL", opts.sqliteGroupCommit ?? true);
  try {
    await migrate(store.db as Kysely<unknown>, store.dialect, migrations);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

function openSqlite(dataDir: string, sync: "FULL" | "NORMAL", groupCommit: boolean): Store {
  // Messages, push tokens and sealed secrets live here: 0700 directory, 0600 files (SQLite gives its WAL
  // and shared-memory files the database file's mode).
  ensurePrivateDir(dataDir);
  const file = join(dataDir, "utd.sqlite");
  ensurePrivateFile(file, ["-wal", "-shm"]);
  const database = new SqliteDatabase(file);
  database.pragma("journal_mode = WAL");
  database.pragma(`synchronous = ${sync}`);
  database.pragma("foreign_keys = ON");
  database.pragma("busy_timeout = 5000");
  // Group commit (default): concurrent transactions share one durable COMMIT; each still resolves only once stored.
  const dialect = groupCommit ? new GroupCommitSqliteDialect(file, database) : new SqliteDialect({ database });
  const db = new Kysely<Database>({ dialect });
  return {
    db,
    dialect: "sqlite",
    describe: `sqlite:${file}`,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

function openPostgres(url: string, max: number): Store {
  // bigint columns hold epoch-millisecond timestamps, well inside Number's exact range.
  const types = {
    getTypeParser: (oid: number, format?: string) =>
      oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as "text"),
  };
  const pool = new pg.Pool({ connectionString: url, max, types });
  // An idle pooled connection that the server drops (restart, failover, admin termination) emits an error
  // on the pool; unhandled, it would crash the process. The pool discards that client and the next query
  // opens a fresh one, or fails with a typed error of its own.
  pool.on("error", () => {});
  // The pool listens for errors only on idle connections: one the server drops while it is checked out
  // between two statements (a transaction awaiting the engine's own code) would emit an unhandled error
  // and crash the node. The connection's next query fails instead (a typed `unavailable` for the caller),
  // and the pool discards it on release, as it is no longer queryable.
  pool.on("connect", (client) => client.on("error", () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let describe = "postgres";
  try {
    const u = new URL(url);
    describe = `postgres://${u.host}${u.pathname}`;
  } catch {
    /* keep the generic description */
  }
  return {
    db,
    dialect: "postgres",
    describe,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
