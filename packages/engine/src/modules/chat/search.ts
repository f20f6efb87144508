import { SEARCH_LIMITS, type SearchHighlight, type SearchMessagesQuery, type SearchMessagesResponse } from "@utd-stream/protocol/schemas";
import { type Kysely, type RawBuilder, sql } from "kysely";
import { requireCapability } from "../../core/caller.js";
import { ApiError } from "../../core/errors.js";
import type { Database } from "../../store/schema.js";
import type { Caller } from "./access.js";
import type { ChatParts } from "./deps.js";
import { type MessageRow, messagesToWire } from "./queries.js";

/** Marks around a matched term in the database's highlighted text; turned into ranges, never sent. */
const OPEN = "\u0002";
const CLOSE = "\u0003";

/** A query term: a run of letters, marks and digits, optionally ending in `*` (a prefix). */
export interface SearchTerm {
  word: string;
  prefix: boolean;
}

/**
 * Splits a user's query into terms (every one must match). Punctuation separates terms and carries no
 * query syntax, so nothing a user types reaches FTS5's or PostgreSQL's query language unquoted.
 */
export function searchTerms(q: string): SearchTerm[] {
  const terms: SearchTerm[] = [];
  for (const m of q.normalize("NFC").matchAll(/([\p{L}\p{M}\p{N}]+)(\*?)/gu)) {
    terms.push({ word: (m[1] as string).toLowerCase(), prefix: m[2] === "*" });
  }
  return terms;
}

/** Ranges of the marked text with the marks taken out; undefined when the text does not come back intact. */
export function highlightRanges(marked: string, text: string): SearchHighlight[] | undefined {
  const out: SearchHighlight[] = [];
  let plain = "";
  let open = -1;
  for (const ch of marked) {
    if (ch === OPEN) open = plain.length;
    else if (ch === CLOSE && open >= 0) {
      if (plain.length > open) out.push({ start: open, end: plain.length });
      open = -1;
    } else plain += ch;
  }
  return plain === text ? out : undefined;
}

type Hit = MessageRow & { marked: string | null };

/**
 * Full-text search over the messages a caller may read: conversations of their app they are a member
 * of, inside the plan's retention window, never deleted. The index lives in the database
 * (search-migrations.ts), so edits, deletes and the retention purge reach it without this service.
 */
export class SearchService {
  private readonly db: Kysely<Database>;
  constructor(private readonly d: ChatParts) {
    this.db = d.store.db;
  }

  async messages(caller: Caller, q: SearchMessagesQuery): Promise<SearchMessagesResponse> {
    requireCapability(caller.app, "chat");
    const terms = searchTerms(q.q);
    if (terms.length === 0) throw ApiError.invalid("q needs at least one letter or digit");
    if (terms.length > SEARCH_LIMITS.maxTerms) throw ApiError.invalid(`at most ${SEARCH_LIMITS.maxTerms} terms`);
    // One conversation: the ordinary access check (another app's or a non-member's is `not_found`).
    if (q.conversation_id !== undefined) await this.d.access.member(this.db, caller, q.conversation_id);
    const offset = q.cursor ? Number(q.cursor.slice(1)) : 0;
    if (offset > SEARCH_LIMITS.maxOffset)
      throw ApiError.invalid(`results beyond ${SEARCH_LIMITS.maxOffset} are not served; narrow the query`);

    const where: RawBuilder<unknown>[] = [
      sql`m.app_id = ${caller.app.id}`,
      sql`m.deleted_at IS NULL`,
      sql`m.created_at >= ${this.d.access.cutoff(caller.app)}`,
    ];
    // Messages of users the caller blocked are hidden from them.
    where.push(
      sql`(m.sender IS NULL OR m.sender NOT IN (SELECT target FROM user_blocks WHERE app_id = ${caller.app.id} AND identity = ${caller.identity}))`,
    );
    if (q.conversation_id !== undefined) where.push(sql`m.conversation_id = ${q.conversation_id}`);
    if (q.sender !== undefined) where.push(sql`m.sender = ${q.sender}`);
    if (q.from !== undefined) where.push(sql`m.created_at >= ${Date.parse(q.from)}`);
    if (q.to !== undefined) where.push(sql`m.created_at <= ${Date.parse(q.to)}`);
    if (q.has_attachment === "true") where.push(sql`m.attachments <> '[]'`);
    if (q.has_attachment === "false") where.push(sql`m.attachments = '[]'`);
    const filters = sql.join(where, sql` AND `);
    const member = sql`JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.identity = ${caller.identity}`;
    const take = q.limit + 1;

    let rows: Hit[];
    if (this.d.store.dialect === "sqlite") {
      // Each term a quoted FTS5 string (terms hold letters, marks and digits only), `*` for a prefix.
      const match = terms.map((t) => `"${t.word}"${t.prefix ? " *" : ""}`).join(" ");
      // Across all of the caller's conversations the full-text match runs once (materialised, FTS first: a
      // plan driven from `messages` re-ran the MATCH per row, seconds at 20k rows in bench/search), then
      // ranks and pages, then highlights the page only. In one conversation the planner may instead start
      // from that conversation's rows (its index), which is cheaper when the term is common.
      const hits =
        q.conversation_id === undefined
          ? sql`hits AS MATERIALIZED (SELECT rowid AS rid, bm25(messages_fts) AS score FROM messages_fts WHERE messages_fts MATCH ${match})`
          : sql`hits AS (SELECT rowid AS rid, bm25(messages_fts) AS score FROM messages_fts WHERE messages_fts MATCH ${match})`;
      const from = q.conversation_id === undefined ? sql`hits CROSS JOIN messages m` : sql`hits JOIN messages m`;
      rows = (
        await sql<Hit>`WITH ${hits},
          top AS (
            SELECT m.rowid AS rid, hits.score AS score, m.created_at AS ca, m.id AS mid
            FROM ${from} ON m.rowid = hits.rid ${member}
            WHERE ${filters}
            ORDER BY score, ca DESC, mid DESC
            LIMIT ${take} OFFSET ${offset})
          SELECT m.*, highlight(messages_fts, 0, ${OPEN}, ${CLOSE}) AS marked
          FROM top JOIN messages_fts ON messages_fts.rowid = top.rid JOIN messages m ON m.rowid = top.rid
          WHERE messages_fts MATCH ${match}
          ORDER BY top.score, top.ca DESC, top.mid DESC`.execute(this.db)
      ).rows;
    } else {
      const parts = terms.map((t) =>
        t.prefix ? sql`to_tsquery('simple', quote_literal(${t.word}) || ':*')` : sql`plainto_tsquery('simple', ${t.word})`,
      );
      const tsq = sql.join(parts, sql` && `);
      const doc = sql`to_tsvector('simple', coalesce(m.text, ''))`;
      const opts = `StartSel="${OPEN}", StopSel="${CLOSE}", HighlightAll=true`;
      rows = (
        await sql<Hit>`SELECT m.*, ts_headline('simple', m.text, query, ${opts}) AS marked
          FROM messages m ${member}, (SELECT ${tsq} AS query) tq
          WHERE ${doc} @@ query AND ${filters}
          ORDER BY ts_rank(${doc}, query) DESC, m.created_at DESC, m.id DESC
          LIMIT ${take} OFFSET ${offset}`.execute(this.db)
      ).rows;
    }
    const page = rows.slice(0, q.limit);
    const messages = await messagesToWire(
      this.db,
      page.map(({ marked: _m, ...r }) => r),
    );
    const hits = messages.map((message, i) => {
      const marked = page[i]?.marked;
      return { message, highlights: (marked && message.text ? highlightRanges(marked, message.text) : undefined) ?? [] };
    });
    const next = offset + q.limit;
    return { hits, next_cursor: rows.length > q.limit && next <= SEARCH_LIMITS.maxOffset ? `o${next}` : null };
  }
}
