import type { Attachment, Conversation, ConversationEvent, MemberRole } from "@utd-stream/protocol";
import type { Kysely, Transaction } from "kysely";
import type { Clock } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { EventSink } from "../../core/events.js";
import { newId } from "../../core/ids.js";
import type { Store } from "../../store/db.js";
import type { Database } from "../../store/schema.js";
import type { AppRecord } from "../apps/service.js";
import { requireCapability } from "../auth/service.js";
import { type ConversationRow, conversationsToWire, type MessageRow, retentionCutoff } from "./queries.js";

/** Who is acting: the app (for tenancy, capabilities and limits) and the user's identity. */
export interface Caller {
  app: AppRecord;
  identity: string;
}

/** Turns file tokens into attachments; implemented by the uploads module (refuses other apps' and unfinished files). */
export interface AttachmentResolver {
  resolve(appId: string, tokens: readonly string[]): Promise<Attachment[]>;
}

export interface ChatDeps {
  store: Store;
  clock: Clock;
  events: EventSink;
  attachments: AttachmentResolver;
}

export type Db = Kysely<Database> | Transaction<Database>;
export type Membership = { role: MemberRole; last_read_seq: number };

/** Aborts a send transaction when the same client_msg_id already stored a message (rolls back the seq). */
export class AlreadySent extends Error {
  constructor(readonly row: MessageRow) {
    super("already sent");
  }
}

export const ROLE_RANK: Record<MemberRole, number> = { owner: 3, admin: 2, member: 1 };

/** Shared lookups, access checks, seq allocation and event fan-out of the chat services. */
export abstract class ChatCore {
  protected readonly db: Kysely<Database>;
  constructor(protected readonly d: ChatDeps) {
    this.db = d.store.db;
  }

  protected now(): number {
    return this.d.clock.now();
  }

  protected cutoff(app: AppRecord): number {
    return retentionCutoff(app.limits.history_days, this.now());
  }

  protected emit(appId: string, to: readonly string[], type: string, data: unknown): void {
    if (to.length > 0) this.d.events.toUsers(appId, to, type, data);
  }

  // ---------- lookups and access ----------

  protected async conv(db: Db, caller: Caller, id: string, lock = false): Promise<ConversationRow> {
    let q = db.selectFrom("conversations").selectAll().where("id", "=", id).where("app_id", "=", caller.app.id);
    // On PostgreSQL the row lock serialises everything that changes a conversation (seq, members).
    if (lock && this.d.store.dialect === "postgres") q = q.forUpdate();
    const row = await q.executeTakeFirst();
    if (!row) throw ApiError.notFound("conversation");
    return row;
  }

  protected async membership(db: Db, conversationId: string, identity: string): Promise<Membership | undefined> {
    const m = await db
      .selectFrom("conversation_members")
      .select(["role", "last_read_seq"])
      .where("conversation_id", "=", conversationId)
      .where("identity", "=", identity)
      .executeTakeFirst();
    return m ? { role: m.role as MemberRole, last_read_seq: Number(m.last_read_seq) } : undefined;
  }

  /** The conversation and the caller's membership; non-members get `not_found` (or `forbidden` for a chatroom). */
  protected async access(db: Db, caller: Caller, id: string, lock = false): Promise<{ conv: ConversationRow; me: Membership }> {
    requireCapability(caller.app, "chat");
    // One query for the conversation (in the caller's app) and the caller's membership.
    let q = db
      .selectFrom("conversations as c")
      .leftJoin("conversation_members as cm", (j) => j.onRef("cm.conversation_id", "=", "c.id").on("cm.identity", "=", caller.identity))
      .selectAll("c")
      .select(["cm.role as my_role", "cm.last_read_seq as my_last_read_seq"])
      .where("c.id", "=", id)
      .where("c.app_id", "=", caller.app.id);
    // On PostgreSQL the row lock serialises everything that changes a conversation (seq, members).
    if (lock && this.d.store.dialect === "postgres") q = q.forUpdate("c");
    const row = await q.executeTakeFirst();
    if (!row) throw ApiError.notFound("conversation");
    const { my_role, my_last_read_seq, ...conv } = row;
    if (my_role === null) {
      if (conv.kind === "chatroom") throw ApiError.forbidden("join the chatroom first");
      throw ApiError.notFound("conversation");
    }
    return { conv, me: { role: my_role as MemberRole, last_read_seq: Number(my_last_read_seq) } };
  }

  protected requireRole(me: Membership, min: MemberRole, what: string): void {
    if (ROLE_RANK[me.role] < ROLE_RANK[min]) throw ApiError.forbidden(`only a ${min} or above may ${what}`);
  }

  protected async requireUsers(appId: string, identities: readonly string[], db: Db = this.db): Promise<void> {
    if (identities.length === 0) return;
    const rows = await db
      .selectFrom("users")
      .select("identity")
      .where("app_id", "=", appId)
      .where("identity", "in", [...identities])
      .execute();
    const known = new Set(rows.map((r) => r.identity));
    const unknown = identities.filter((i) => !known.has(i));
    if (unknown.length > 0) throw ApiError.invalid(`unknown users: ${unknown.slice(0, 10).join(", ")}`);
  }

  protected async view(caller: Caller, id: string): Promise<Conversation> {
    const row = await this.db
      .selectFrom("conversations as c")
      .leftJoin("conversation_members as cm", (j) => j.onRef("cm.conversation_id", "=", "c.id").on("cm.identity", "=", caller.identity))
      .selectAll("c")
      .select(["cm.role", "cm.last_read_seq"])
      .where("c.id", "=", id)
      .executeTakeFirstOrThrow();
    const [c] = await conversationsToWire(this.db, caller.app.id, caller.identity, this.cutoff(caller.app), [row]);
    if (!c) throw ApiError.notFound("conversation");
    return c;
  }

  protected convEvent(conv: ConversationRow, change: ConversationEvent["change"], by: string): ConversationEvent {
    return {
      conversation_id: conv.id,
      change,
      by,
      name: conv.name,
      custom: conv.custom === null ? null : (JSON.parse(conv.custom) as ConversationEvent["custom"]),
      closed: conv.closed_at !== null,
      kind: conv.kind as ConversationEvent["kind"],
    };
  }

  protected convEventOf(c: Conversation, by: string): ConversationEvent {
    return { conversation_id: c.id, change: "created", by, name: c.name, custom: c.custom, closed: c.closed, kind: c.kind };
  }

  /** `max_chatrooms` counts the app's chatrooms that are open (not closed); closing one frees a slot. */
  protected async checkChatroomLimit(trx: Transaction<Database>, app: AppRecord): Promise<void> {
    // Lock the app row on PostgreSQL so two concurrent creations cannot both take the last slot.
    if (this.d.store.dialect === "postgres") await trx.selectFrom("apps").select("id").where("id", "=", app.id).forUpdate().execute();
    const open = await trx
      .selectFrom("conversations")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("app_id", "=", app.id)
      .where("kind", "=", "chatroom")
      .where("closed_at", "is", null)
      .executeTakeFirstOrThrow();
    const max = app.limits.max_chatrooms;
    if (Number(open.n) >= max) throw ApiError.limitExceeded("max_chatrooms", max);
  }

  /** Allocates the next seq under the conversation lock (taken by `access(…, lock=true)`). */
  protected async nextSeq(trx: Transaction<Database>, id: string, now: number): Promise<number> {
    const r = await trx
      .updateTable("conversations")
      .set((eb) => ({ last_seq: eb("last_seq", "+", 1), last_active_at: now, updated_at: now }))
      .where("id", "=", id)
      .returning("last_seq")
      .executeTakeFirstOrThrow();
    return Number(r.last_seq);
  }

  protected async appendSystem(
    trx: Transaction<Database>,
    conv: ConversationRow,
    now: number,
    text: string,
    custom: Record<string, unknown>,
  ): Promise<MessageRow> {
    const seq = await this.nextSeq(trx, conv.id, now);
    const row: MessageRow = {
      id: newId("msg", now),
      conversation_id: conv.id,
      app_id: conv.app_id,
      seq,
      type: "system",
      sender: null,
      text,
      custom: JSON.stringify(custom),
      attachments: "[]",
      reply_to: null,
      client_msg_id: null,
      created_at: now,
      edited_at: null,
      deleted_at: null,
    };
    await trx.insertInto("messages").values(row).execute();
    return row;
  }
}

/** A unique-index violation on either store (a concurrent duplicate insert). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === "23505" || e.code === "SQLITE_CONSTRAINT_UNIQUE" || /UNIQUE constraint failed/.test(e.message ?? "");
}
