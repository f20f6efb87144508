/**
 * The database schema as Kysely sees it. Empty here on purpose: the store knows no module. Each module
 * adds its tables in its `index.ts` by declaration merging, next to the migrations that create them:
 *
 * ```ts
 * declare module "../../store/schema.js" {
 *   interface Database extends ChatTables {}
 * }
 * ```
 *
 * Timestamps are epoch milliseconds; booleans are 0/1 integers (portable across SQLite and PostgreSQL).
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by each module through declaration merging.
export interface Database {}
