import { type Kysely, sql } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";

/**
 * The message search index, kept by the database itself so that no write path can forget it: an edit,
 * a delete (the tombstone's text is null) and the retention purge change the index in the same statement.
 *
 * - SQLite: an FTS5 table over `messages.text` (external content, keyed by the message's rowid) kept by
 *   triggers. `unicode61 remove_diacritics 2` splits on Unicode separators and punctuation, so words of
 *   any space-separated script (Urdu, Arabic, Cyrillic, Devanagari…) are tokens; it does not segment
 *   scripts written without spaces (Chinese, Japanese, Thai). After a `VACUUM` (which may renumber
 *   rowids) run `INSERT INTO messages_fts(messages_fts) VALUES('rebuild')`.
 * - PostgreSQL: a GIN index over `to_tsvector('simple', text)` (no language assumed: no stemming, no
 *   stop words). An expression index, not a column, so history reads carry no tsvector.
 */
export const chatSearchMigrations: MigrationSet = (dialect) => ({
  "0008_chat_search": {
    async up(db: Kysely<unknown>) {
      if (dialect === "postgres") {
        await sql`CREATE INDEX messages_search ON messages USING gin (to_tsvector('simple', coalesce(text, '')))`.execute(db);
        return;
      }
      await sql`CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')`.execute(
        db,
      );
      // Every row is indexed, a null text as an empty document: the index then matches the table row
      // for row, which FTS5's 'integrity-check' verifies (the tests run it after edits, deletes and purges).
      await sql`CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, text) VALUES (new.rowid, new.text);
      END`.execute(db);
      await sql`CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
      END`.execute(db);
      // One trigger, in this order: the old text leaves the index before the new text enters it.
      await sql`CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
        INSERT INTO messages_fts(rowid, text) VALUES (new.rowid, new.text);
      END`.execute(db);
      // Messages stored before this migration.
      await sql`INSERT INTO messages_fts(rowid, text) SELECT rowid, text FROM messages`.execute(db);
    },
  },
});
