import type { ConversationKind, MemberRole } from "@utd-stream/protocol";
import type { Kysely, Transaction } from "kysely";
import { ApiError } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import type { Store } from "../../store/port.js";
import type { Database } from "../../store/schema.js";
import type { Db } from "./access.js";
import { type ConversationRow, conversationRow, type MessageRow, memberRow } from "./queries.js";

/** A conversation to create: who creates it and with whom (the creator is one of `members`). */
export interface NewConversation {
  id: string;
  appId: string;
  kind: ConversationKind;
  createdBy: string;
  name?: string | undefined;
  custom?: Record<string, unknown> | undefined;
  /** The pair key of a direct conversation (unique per app); null for every other kind. */
  directKey?: string | null;
  members: readonly { identity: string; role: MemberRole }[];
}

/**
 * The writes that keep chat's rows consistent — a conversation with its members, `member_count` with
 * the member rows, the seq with the messages — for chat's own services and for modules built on chat
 * (support). Each takes the caller's transaction (or the store) and checks no permission: callers
 * decide who may, these decide how it is stored.
 */
export class ChatRecords {
  private readonly db: Kysely<Database>;
  constructor(store: Store) {
    this.db = store.db;
  }

  /**
   * Inserts a conversation and its members. For a direct conversation whose pair already has one,
   * inserts nothing and resolves to false.
   */
  async createConversation(trx: Transaction<Database>, c: NewConversation, now: number): Promise<boolean> {
    const directKey = c.directKey ?? null;
    const row = conversationRow(c.id, c.appId, c.createdBy, c.kind, c, now, directKey, c.members.length);
    let ins = trx.insertInto("conversations").values(row);
    if (directKey !== null) ins = ins.onConflict((oc) => oc.columns(["app_id", "direct_key"]).doNothing());
    const r = await ins.executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0) === 0) return false;
    await trx
      .insertInto("conversation_members")
      .values(c.members.map((m) => memberRow(c.id, c.appId, m.identity, m.role, now)))
      .execute();
    return true;
  }

  /**
   * Adds members (already-members are left as they are) and counts them into `member_count`;
   * resolves to how many were added. `lastReadSeq` is where their unread count starts.
   */
  async addMembers(
    db: Db,
    conv: { id: string; app_id: string },
    identities: readonly string[],
    now: number,
    lastReadSeq = 0,
  ): Promise<number> {
    if (identities.length === 0) return 0;
    const ins = await db
      .insertInto("conversation_members")
      .values(identities.map((identity) => memberRow(conv.id, conv.app_id, identity, "member", now, lastReadSeq)))
      .onConflict((oc) => oc.columns(["conversation_id", "identity"]).doNothing())
      .executeTakeFirst();
    const added = Number(ins.numInsertedOrUpdatedRows ?? 0);
    if (added > 0) {
      await db
        .updateTable("conversations")
        .set((eb) => ({ member_count: eb("member_count", "+", added), updated_at: now }))
        .where("id", "=", conv.id)
        .execute();
    }
    return added;
  }

  /** Takes `identity` out of some conversations and counts them out of `member_count`; resolves to those they left. */
  async removeMember(db: Db, conversationIds: readonly string[], identity: string, now: number): Promise<string[]> {
    if (conversationIds.length === 0) return [];
    const left = await db
      .deleteFrom("conversation_members")
      .where("conversation_id", "in", conversationIds)
      .where("identity", "=", identity)
      .returning("conversation_id")
      .execute();
    const ids = left.map((l) => l.conversation_id);
    if (ids.length > 0) {
      await db
        .updateTable("conversations")
        .set((eb) => ({ member_count: eb("member_count", "-", 1), updated_at: now }))
        .where("id", "in", ids)
        .execute();
    }
    return ids;
  }

  /** Closes (no more sends) or reopens a conversation. */
  async setClosed(db: Db, id: string, closed: boolean, now: number): Promise<void> {
    await db
      .updateTable("conversations")
      .set({ closed_at: closed ? now : null, updated_at: now })
      .where("id", "=", id)
      .execute();
  }

  /** Refuses (`invalid_request`) identities that never signed in to the app. */
  async requireUsers(appId: string, identities: readonly string[], db: Db = this.db): Promise<void> {
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

  /** Allocates the next seq; the caller holds the conversation lock (`ChatAccess.member(…, lock=true)`). */
  async nextSeq(trx: Transaction<Database>, id: string, now: number): Promise<number> {
    const r = await trx
      .updateTable("conversations")
      .set((eb) => ({ last_seq: eb("last_seq", "+", 1), last_active_at: now, updated_at: now }))
      .where("id", "=", id)
      .returning("last_seq")
      .executeTakeFirstOrThrow();
    return Number(r.last_seq);
  }

  /** Appends a system message (member changes) under the conversation lock. */
  async appendSystem(
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
      thread_id: null,
      mentions: null,
      client_msg_id: null,
      created_at: now,
      edited_at: null,
      deleted_at: null,
    };
    await trx.insertInto("messages").values(row).execute();
    return row;
  }
}
