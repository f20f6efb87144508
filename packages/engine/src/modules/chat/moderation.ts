import type { ChatFilters, CreateReportRequest, Report, ReportAction, ReportList } from "@utd-stream/protocol";
import { type Kysely, type Selectable, sql } from "kysely";
import type { AppRecord } from "../../core/caller.js";
import { requireCapability } from "../../core/caller.js";
import { iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import type { Database } from "../../store/schema.js";
import type { Caller } from "./access.js";
import type { ChatParts } from "./deps.js";
import type { ReportsTable } from "./depth-migrations.js";
import { filtersOf } from "./filters.js";
import type { MessagesService } from "./messages.js";
import { pageOf, parseCursor } from "./paging.js";

type ReportRow = Selectable<ReportsTable>;

/** What resolving a report needs from the users module. */
export interface Banner {
  ban(appId: string, identity: string, reason: string | undefined): Promise<unknown>;
}

/**
 * Reports (a per-app queue the admin API lists and resolves) and the per-app word filter and link
 * policy, applied before storage on every send and edit.
 */
export class ModerationService {
  private readonly db: Kysely<Database>;
  constructor(
    private readonly d: ChatParts,
    private readonly messages: MessagesService,
    private readonly users?: Banner,
  ) {
    this.db = d.store.db;
  }

  /** The app's filters (none configured: allow everything). */
  filters(appId: string): Promise<ChatFilters> {
    return filtersOf(this.db, appId);
  }

  /** Replaces the app's filters. */
  async setFilters(appId: string, f: ChatFilters): Promise<ChatFilters> {
    const words = JSON.stringify(f.words);
    const now = this.d.clock.now();
    await this.db
      .insertInto("chat_filters")
      .values({ app_id: appId, words, link_policy: f.link_policy, updated_at: now })
      .onConflict((oc) => oc.column("app_id").doUpdateSet({ words, link_policy: f.link_policy, updated_at: now }))
      .execute();
    this.d.filters.changed(appId);
    return this.filters(appId);
  }

  /** Files a report (idempotent while open: the same reporter and target get the open report back). */
  async report(caller: Caller, req: CreateReportRequest): Promise<{ report: Report; created: boolean }> {
    requireCapability(caller.app, "chat");
    let target: string;
    let conversationId: string | null = null;
    let messageId: string | null = null;
    let text: string | null = null;
    if (req.kind === "message") {
      await this.d.access.member(this.db, caller, req.conversation_id);
      const m = await this.db
        .selectFrom("messages")
        .select(["id", "sender", "text", "deleted_at"])
        .where("id", "=", req.message_id)
        .where("conversation_id", "=", req.conversation_id)
        .where("created_at", ">=", this.d.access.cutoff(caller.app))
        .executeTakeFirst();
      if (!m) throw ApiError.notFound("message");
      if (m.sender === null) throw ApiError.invalid("system messages cannot be reported");
      if (m.deleted_at !== null) throw ApiError.conflict("this message was deleted", "deleted");
      if (m.sender === caller.identity) throw ApiError.invalid("you cannot report your own message");
      target = m.sender;
      conversationId = req.conversation_id;
      messageId = m.id;
      text = m.text;
    } else {
      if (req.identity === caller.identity) throw ApiError.invalid("you cannot report yourself");
      const u = await this.db
        .selectFrom("users")
        .select("identity")
        .where("app_id", "=", caller.app.id)
        .where("identity", "=", req.identity)
        .executeTakeFirst();
      if (!u) throw ApiError.notFound("user");
      target = req.identity;
    }
    let open = this.db
      .selectFrom("reports")
      .selectAll()
      .where("app_id", "=", caller.app.id)
      .where("reporter", "=", caller.identity)
      .where("state", "=", "open")
      .where("kind", "=", req.kind)
      .where("identity", "=", target);
    open = messageId === null ? open.where("message_id", "is", null) : open.where("message_id", "=", messageId);
    const existing = await open.executeTakeFirst();
    if (existing) return { report: toReport(existing), created: false };
    const now = this.d.clock.now();
    const row: ReportRow = {
      id: newId("rep", now),
      app_id: caller.app.id,
      kind: req.kind,
      reporter: caller.identity,
      identity: target,
      conversation_id: conversationId,
      message_id: messageId,
      message_text: text,
      reason: req.reason,
      state: "open",
      created_at: now,
      resolved_at: null,
      note: null,
    };
    await this.db.insertInto("reports").values(row).execute();
    return { report: toReport(row), created: true };
  }

  /** The app's reports, newest first, optionally in one state. */
  async list(app: AppRecord, q: { state?: string | undefined; limit: number; before?: string | undefined }): Promise<ReportList> {
    let sel = this.db
      .selectFrom("reports")
      .selectAll()
      .where("app_id", "=", app.id)
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(q.limit + 1);
    if (q.state) sel = sel.where("state", "=", q.state);
    const p = parseCursor(q.before);
    if (p) sel = sel.where(sql<boolean>`(created_at < ${p.at} or (created_at = ${p.at} and id < ${p.key}))`);
    const { page, next } = pageOf(await sel.execute(), q.limit, (r) => ({ at: Number(r.created_at), key: r.id }));
    return { reports: page.map(toReport), next_before: next };
  }

  /**
   * Resolves an open report: `dismiss`, `delete_message` (the reported message becomes a tombstone, its
   * members get `message.deleted`) or `ban_user` (the reported user is banned app-wide; open sockets close).
   * Only an open report (`conflict` otherwise); a report of another app is `not_found`.
   */
  async resolve(app: AppRecord, id: string, action: ReportAction, note?: string): Promise<Report> {
    const row = await this.db.selectFrom("reports").selectAll().where("id", "=", id).where("app_id", "=", app.id).executeTakeFirst();
    if (!row) throw ApiError.notFound("report");
    if (row.state !== "open") throw ApiError.conflict("this report was resolved already", row.state);
    let state: Report["state"] = "dismissed";
    if (action === "delete_message") {
      if (row.message_id === null || row.conversation_id === null) throw ApiError.invalid("a user report has no message to delete");
      await this.messages.deleteAsModerator(app, row.conversation_id, row.message_id);
      state = "message_deleted";
    } else if (action === "ban_user") {
      if (!this.users) throw ApiError.invalid("banning is not available here");
      await this.users.ban(app.id, row.identity, `report ${row.id}: ${row.reason}`.slice(0, 500));
      state = "user_banned";
    }
    const now = this.d.clock.now();
    // Every open report of the same message (or user, for a ban) is settled by the same action.
    let upd = this.db
      .updateTable("reports")
      .set({ state, resolved_at: now, note: note ?? null })
      .where("app_id", "=", app.id)
      .where("state", "=", "open");
    if (action === "delete_message" && row.message_id !== null) upd = upd.where("message_id", "=", row.message_id);
    else if (action === "ban_user") upd = upd.where("identity", "=", row.identity);
    else upd = upd.where("id", "=", row.id);
    await upd.execute();
    return toReport({ ...row, state, resolved_at: now, note: note ?? null });
  }
}

function toReport(r: ReportRow): Report {
  return {
    id: r.id,
    kind: r.kind as Report["kind"],
    reporter: r.reporter,
    identity: r.identity,
    conversation_id: r.conversation_id,
    message_id: r.message_id,
    message_text: r.message_text,
    reason: r.reason,
    state: r.state as Report["state"],
    created_at: iso(Number(r.created_at)),
    resolved_at: r.resolved_at === null ? null : iso(Number(r.resolved_at)),
  };
}
