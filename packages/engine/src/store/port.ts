import type { Kysely } from "kysely";
import type { Dialect } from "./migrations.js";
import type { Database } from "./schema.js";

export type { Dialect, MigrationSet } from "./migrations.js";

/** The storage port: one typed query layer over SQLite (embedded default) or PostgreSQL. */
export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where the data lives, without credentials (for logs). */
  describe: string;
  ping(): Promise<void>;
  close(): Promise<void>;
}
