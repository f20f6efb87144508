import type { SupportConversation, SupportListQuery, SupportState } from "@utd-stream/protocol";
import type { Kysely, Selectable, Transaction } from "kysely";
import type { AppRecord } from "../../core/caller.js";
import { iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { Store } from "../../store/port.js";
import type { Database } from "../../store/schema.js";
import type { ChatService } from "../chat/index.js";
import type { SupportConversationsTable } from "./migrations.js";

export type SupportRow = Selectable<SupportConversationsTable>;
type Db = Kysely<Database> | Transaction<Database>;

/** Reads of support conversations and their wire views; they check no permission (the service does). */
export class SupportRows {
  private readonly db: Kysely<Database>;
  constructor(
    private readonly store: Store,
    private readonly chat: ChatService,
  ) {
    this.db = store.db;
  }

  /** One support conversation of the app (`not_found` otherwise); `lock` takes its row lock on PostgreSQL. */
  async get(db: Db, appId: string, id: string, lock = false): Promise<SupportRow> {
    let q = db.selectFrom("support_conversations").selectAll().where("conversation_id", "=", id).where("app_id", "=", appId);
    // On PostgreSQL the row lock serialises claims, transfers and closes of one conversation.
    if (lock && this.store.dialect === "postgres") q = q.forUpdate();
    const row = await q.executeTakeFirst();
    if (!row) throw ApiError.notFound("support conversation");
    return row;
  }

  /** The visitor's conversation that is still open, if any (at most one). */
  openOf(appId: string, visitor: string): Promise<SupportRow | undefined> {
    return this.db
      .selectFrom("support_conversations")
      .selectAll()
      .where("app_id", "=", appId)
      .where("open_key", "=", visitor)
      .executeTakeFirst();
  }

  /** The app's support conversations in a state (of one visitor, when given), most recently active first (a message or a state change), like chat's conversation list. */
  list(appId: string, q: SupportListQuery, visitor?: string): Promise<SupportRow[]> {
    let sel = this.db
      .selectFrom("support_conversations as s")
      .innerJoin("conversations as c", "c.id", "s.conversation_id")
      .selectAll("s")
      .where("s.app_id", "=", appId);
    if (visitor !== undefined) sel = sel.where("s.visitor", "=", visitor);
    if (q.state === "open") sel = sel.where("s.state", "!=", "closed");
    else if (q.state !== "all") sel = sel.where("s.state", "=", q.state);
    return (
      sel
        // Two-argument max() is SQLite's scalar greatest().
        .orderBy((eb) => eb.fn(this.store.dialect === "postgres" ? "greatest" : "max", ["c.last_active_at", "s.updated_at"]), "desc")
        .orderBy("s.conversation_id", "desc")
        .limit(q.limit)
        .execute()
    );
  }

  async toWire(app: AppRecord, row: SupportRow): Promise<SupportConversation> {
    const [one] = await this.toWireMany(app, [row]);
    if (!one) throw ApiError.notFound("support conversation");
    return one;
  }

  /** Wire views of several rows in three queries (conversations, last messages, their reactions). */
  async toWireMany(app: AppRecord, rows: readonly SupportRow[]): Promise<SupportConversation[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.conversation_id);
    const [convs, last] = await Promise.all([
      this.db.selectFrom("conversations").selectAll().where("id", "in", ids).execute(),
      this.chat.messages.lastOf(app, ids),
    ]);
    const byId = new Map(convs.map((c) => [c.id, c]));
    return rows.flatMap((row) => {
      const conv = byId.get(row.conversation_id);
      if (!conv) return [];
      return [
        {
          id: row.conversation_id,
          visitor: row.visitor,
          state: row.state as SupportState,
          assignee: row.assignee,
          custom: conv.custom === null ? null : (JSON.parse(conv.custom) as SupportConversation["custom"]),
          created_at: iso(Number(row.created_at)),
          updated_at: iso(Number(row.updated_at)),
          closed_at: row.closed_at === null ? null : iso(Number(row.closed_at)),
          closed_by: row.closed_by,
          last_seq: Number(conv.last_seq),
          last_message: last.get(row.conversation_id) ?? null,
        },
      ];
    });
  }
}
