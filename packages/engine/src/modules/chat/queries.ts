import type { Attachment, Conversation, ConversationKind, MemberRole, Message, MessageType } from "@utd-stream/protocol";
import type { Kysely, Selectable } from "kysely";
import { iso } from "../../core/clock.js";
import type { Database } from "../../store/schema.js";
import type { ConversationsTable, MessagesTable } from "./migrations.js";

export type ConversationRow = Selectable<ConversationsTable>;
export type MessageRow = Selectable<MessagesTable>;
type Db = Kysely<Database>;

const DAY_MS = 86_400_000;

/**
 * The oldest creation time still served under a plan's `history_days`. 0 days means "no limit"
 * (messages are kept until deleted); any other value hides and purges older messages.
 */
export function retentionCutoff(historyDays: number, now: number): number {
  return historyDays > 0 ? now - historyDays * DAY_MS : 0;
}

/** Reactions of some messages: message id → reaction → identities (in the order they reacted). */
export async function reactionsOf(db: Db, messageIds: readonly string[]): Promise<Map<string, Record<string, string[]>>> {
  const out = new Map<string, Record<string, string[]>>();
  if (messageIds.length === 0) return out;
  const rows = await db
    .selectFrom("message_reactions")
    .select(["message_id", "reaction", "identity"])
    .where("message_id", "in", messageIds)
    .orderBy("created_at")
    .orderBy("identity")
    .execute();
  for (const r of rows) {
    let m = out.get(r.message_id);
    if (!m) {
      m = {};
      out.set(r.message_id, m);
    }
    const list = m[r.reaction] ?? [];
    list.push(r.identity);
    m[r.reaction] = list;
  }
  return out;
}

/** The wire view of a stored message; a deleted one is a tombstone without content. */
export function toMessage(row: MessageRow, reactions: Record<string, string[]> | undefined): Message {
  const deleted = row.deleted_at !== null;
  return {
    id: row.id,
    conversation_id: row.conversation_id,
    seq: Number(row.seq),
    type: row.type as MessageType,
    sender: row.sender,
    text: deleted ? null : row.text,
    custom: deleted || row.custom === null ? null : (JSON.parse(row.custom) as Message["custom"]),
    attachments: deleted ? [] : (JSON.parse(row.attachments) as Attachment[]),
    reply_to: row.reply_to,
    client_msg_id: row.client_msg_id,
    reactions: deleted ? {} : (reactions ?? {}),
    created_at: iso(Number(row.created_at)),
    edited_at: row.edited_at === null ? null : iso(Number(row.edited_at)),
    deleted,
    deleted_at: row.deleted_at === null ? null : iso(Number(row.deleted_at)),
  };
}

export async function messagesToWire(db: Db, rows: readonly MessageRow[]): Promise<Message[]> {
  const reactions = await reactionsOf(
    db,
    rows.filter((r) => r.deleted_at === null).map((r) => r.id),
  );
  return rows.map((r) => toMessage(r, reactions.get(r.id)));
}

/**
 * Unread counts of one user: others' live text messages past the user's read position and inside retention.
 * Restricted to `conversationIds` when given.
 */
export async function unreadCounts(
  db: Db,
  appId: string,
  identity: string,
  cutoff: number,
  conversationIds?: readonly string[],
): Promise<Map<string, number>> {
  if (conversationIds && conversationIds.length === 0) return new Map();
  let q = db
    .selectFrom("conversation_members as cm")
    .innerJoin("messages as m", "m.conversation_id", "cm.conversation_id")
    .select(["cm.conversation_id as id", (eb) => eb.fn.countAll<number>().as("n")])
    .where("cm.app_id", "=", appId)
    .where("cm.identity", "=", identity)
    .whereRef("m.seq", ">", "cm.last_read_seq")
    .where("m.type", "=", "text")
    .where("m.deleted_at", "is", null)
    .where("m.sender", "<>", identity)
    .where("m.created_at", ">=", cutoff)
    .groupBy("cm.conversation_id");
  if (conversationIds) q = q.where("cm.conversation_id", "in", conversationIds);
  const rows = await q.execute();
  return new Map(rows.map((r) => [r.id, Number(r.n)]));
}

/** Builds the caller's view of some conversations (role, read position, unread count, last message). */
/** The last message of each conversation (one query), when it is still inside the retention window. */
export function lastMessages(db: Db, conversationIds: readonly string[], cutoff: number): Promise<MessageRow[]> {
  return db
    .selectFrom("messages as m")
    .innerJoin("conversations as c", (j) => j.onRef("c.id", "=", "m.conversation_id").onRef("c.last_seq", "=", "m.seq"))
    .selectAll("m")
    .where("c.id", "in", conversationIds)
    .where("m.created_at", ">=", cutoff)
    .execute();
}

/** A new `conversation_members` row (`lastReadSeq` 0: everything so far counts as unread). */
export function memberRow(conversationId: string, appId: string, identity: string, role: MemberRole, now: number, lastReadSeq = 0) {
  return { conversation_id: conversationId, app_id: appId, identity, role, joined_at: now, last_read_seq: lastReadSeq };
}

/** A new `conversations` row, created by `createdBy` with `memberCount` members. */
export function conversationRow(
  id: string,
  appId: string,
  createdBy: string,
  kind: ConversationKind,
  fields: { name?: string | undefined; custom?: Record<string, unknown> | undefined },
  now: number,
  directKey: string | null,
  memberCount: number,
) {
  return {
    id,
    app_id: appId,
    kind,
    name: fields.name ?? null,
    custom: fields.custom ? JSON.stringify(fields.custom) : null,
    created_by: createdBy,
    direct_key: directKey,
    created_at: now,
    updated_at: now,
    last_active_at: now,
    last_seq: 0,
    closed_at: null,
    member_count: memberCount,
  };
}

export async function conversationsToWire(
  db: Db,
  appId: string,
  identity: string,
  cutoff: number,
  rows: readonly (ConversationRow & { role: string | null; last_read_seq: number | null })[],
): Promise<Conversation[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const directIds = rows.filter((r) => r.kind === "direct").map((r) => r.id);
  const [unread, lastRows, directMembers] = await Promise.all([
    unreadCounts(db, appId, identity, cutoff, ids),
    lastMessages(db, ids, cutoff),
    directIds.length === 0
      ? Promise.resolve([])
      : db
          .selectFrom("conversation_members")
          .select(["conversation_id", "identity"])
          .where("conversation_id", "in", directIds)
          .orderBy("identity")
          .execute(),
  ]);
  const last = new Map((await messagesToWire(db, lastRows)).map((m) => [m.conversation_id, m]));
  const members = new Map<string, string[]>();
  for (const m of directMembers) members.set(m.conversation_id, [...(members.get(m.conversation_id) ?? []), m.identity]);
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind as ConversationKind,
    name: r.name,
    custom: r.custom === null ? null : (JSON.parse(r.custom) as Conversation["custom"]),
    created_by: r.created_by,
    created_at: iso(Number(r.created_at)),
    last_active_at: iso(Number(r.last_active_at)),
    closed: r.closed_at !== null,
    closed_at: r.closed_at === null ? null : iso(Number(r.closed_at)),
    member_count: Number(r.member_count),
    members: members.get(r.id) ?? [],
    role: (r.role as MemberRole | null) ?? null,
    last_seq: Number(r.last_seq),
    last_read_seq: Number(r.last_read_seq ?? 0),
    unread_count: unread.get(r.id) ?? 0,
    last_message: last.get(r.id) ?? null,
  }));
}

/** The identities of a conversation's members (the recipients of its events). */
export async function memberIdentities(db: Db, conversationId: string): Promise<string[]> {
  const rows = await db.selectFrom("conversation_members").select("identity").where("conversation_id", "=", conversationId).execute();
  return rows.map((r) => r.identity);
}
