import {
  type Attachment,
  type Conversation,
  type ConversationKind,
  type MemberRole,
  type Message,
  type MessageType,
  THREAD_LIMITS,
  type ThreadSummary,
} from "@utd-stream/protocol";
import type { ExpressionBuilder, Kysely, Selectable } from "kysely";
import { iso } from "../../core/clock.js";
import type { Database } from "../../store/schema.js";
import { blockedBy, mutedBy } from "../users/index.js";
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

/** The thread summaries of those of `parentIds` that have replies (participants in the order they joined). */
export async function threadSummaries(db: Db, parentIds: readonly string[]): Promise<Map<string, ThreadSummary>> {
  const out = new Map<string, ThreadSummary>();
  if (parentIds.length === 0) return out;
  const [threads, people] = await Promise.all([
    db
      .selectFrom("message_threads")
      .selectAll()
      .where("parent_id", "in", [...parentIds])
      .execute(),
    db
      .selectFrom("thread_participants")
      .select(["parent_id", "identity"])
      .where("parent_id", "in", [...parentIds])
      .orderBy("joined_at")
      .orderBy("identity")
      .execute(),
  ]);
  for (const t of threads) {
    out.set(t.parent_id, {
      reply_count: Number(t.reply_count),
      last_reply_at: t.last_reply_at === null ? null : iso(Number(t.last_reply_at)),
      last_reply_seq: Number(t.last_reply_seq),
      participants: [],
    });
  }
  for (const p of people) {
    const s = out.get(p.parent_id);
    if (s && s.participants.length < THREAD_LIMITS.maxParticipantsShown) s.participants.push(p.identity);
  }
  return out;
}

/** The wire view of a stored message; a deleted one is a tombstone without content. */
export function toMessage(row: MessageRow, reactions: Record<string, string[]> | undefined, thread: ThreadSummary | null = null): Message {
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
    thread_id: row.thread_id ?? null,
    thread,
    mentions: deleted || !row.mentions ? [] : (JSON.parse(row.mentions) as string[]),
    client_msg_id: row.client_msg_id,
    reactions: deleted ? {} : (reactions ?? {}),
    created_at: iso(Number(row.created_at)),
    edited_at: row.edited_at === null ? null : iso(Number(row.edited_at)),
    deleted,
    deleted_at: row.deleted_at === null ? null : iso(Number(row.deleted_at)),
  };
}

/** Wire views of stored messages with their reactions and (for thread parents) thread summaries. */
export async function messagesToWire(db: Db, rows: readonly MessageRow[]): Promise<Message[]> {
  const [reactions, threads] = await Promise.all([
    reactionsOf(
      db,
      rows.filter((r) => r.deleted_at === null).map((r) => r.id),
    ),
    threadSummaries(
      db,
      rows.filter((r) => !r.thread_id).map((r) => r.id),
    ),
  ]);
  return rows.map((r) => toMessage(r, reactions.get(r.id), threads.get(r.id) ?? null));
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
    .where("m.thread_id", "is", null)
    .where("m.deleted_at", "is", null)
    .where("m.sender", "<>", identity)
    .where("m.created_at", ">=", cutoff)
    // Blocked and muted users' messages count in no badge.
    .where("m.sender", "not in", blockedBy(db, appId, identity))
    .where("m.sender", "not in", mutedBy(db, appId, identity))
    .groupBy("cm.conversation_id");
  if (conversationIds) q = q.where("cm.conversation_id", "in", conversationIds);
  const rows = await q.execute();
  return new Map(rows.map((r) => [r.id, Number(r.n)]));
}

/**
 * Unread mentions of one user per conversation: messages past the user's read position that mention them
 * (inside retention, not deleted). Restricted to `conversationIds` when given.
 */
export async function mentionCounts(
  db: Db,
  appId: string,
  identity: string,
  cutoff: number,
  conversationIds?: readonly string[],
): Promise<Map<string, number>> {
  if (conversationIds && conversationIds.length === 0) return new Map();
  let q = db
    .selectFrom("conversation_members as cm")
    .innerJoin("message_mentions as mm", (j) =>
      j.onRef("mm.conversation_id", "=", "cm.conversation_id").onRef("mm.identity", "=", "cm.identity"),
    )
    .innerJoin("messages as m", "m.id", "mm.message_id")
    .select(["cm.conversation_id as id", (eb) => eb.fn.countAll<number>().as("n")])
    .where("cm.app_id", "=", appId)
    .where("cm.identity", "=", identity)
    .whereRef("mm.seq", ">", "cm.last_read_seq")
    .where("m.deleted_at", "is", null)
    .where("mm.created_at", ">=", cutoff)
    .where("m.sender", "not in", blockedBy(db, appId, identity))
    .groupBy("cm.conversation_id");
  if (conversationIds) q = q.where("cm.conversation_id", "in", conversationIds);
  const rows = await q.execute();
  return new Map(rows.map((r) => [r.id, Number(r.n)]));
}

/**
 * The last main-timeline message of each conversation (one query; thread replies are not the
 * conversation's last message), when it is still inside the retention window.
 */
export function lastMessages(
  db: Db,
  conversationIds: readonly string[],
  cutoff: number,
  reader?: { appId: string; identity: string },
): Promise<MessageRow[]> {
  return db
    .selectFrom("messages as m")
    .selectAll("m")
    .where("m.conversation_id", "in", conversationIds)
    .where("m.thread_id", "is", null)
    .where("m.created_at", ">=", cutoff)
    .where("m.seq", "=", (eb) => {
      let last = eb
        .selectFrom("messages as l")
        .select((e) => e.fn.max("l.seq").as("s"))
        .whereRef("l.conversation_id", "=", "m.conversation_id")
        .where("l.thread_id", "is", null);
      // A reader does not see the messages of users they blocked: their last message is the one before.
      if (reader)
        last = last.where((e) => e.or([e("l.sender", "is", null), e("l.sender", "not in", blockedBy(db, reader.appId, reader.identity))]));
      return last;
    })
    .execute();
}

/** Only messages a reader may see: none of the users they blocked (system messages always). */
export function notFromBlocked(db: Db, appId: string, identity: string) {
  return (eb: ExpressionBuilder<Database, "messages">) =>
    eb.or([eb("messages.sender", "is", null), eb("messages.sender", "not in", blockedBy(db, appId, identity))]);
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
  const [unread, mentions, lastRows, directMembers, mutes] = await Promise.all([
    unreadCounts(db, appId, identity, cutoff, ids),
    mentionCounts(db, appId, identity, cutoff, ids),
    lastMessages(db, ids, cutoff, { appId, identity }),
    directIds.length === 0
      ? Promise.resolve([])
      : db
          .selectFrom("conversation_members")
          .select(["conversation_id", "identity"])
          .where("conversation_id", "in", directIds)
          .orderBy("identity")
          .execute(),
    mutedConversations(db, identity, ids),
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
    mention_count: mentions.get(r.id) ?? 0,
    muted: mutes.has(r.id),
    last_message: last.get(r.id) ?? null,
  }));
}

/** Which of some conversations `identity` muted (the push module's conversation mute). */
export async function mutedConversations(db: Db, identity: string, conversationIds?: readonly string[]): Promise<Set<string>> {
  if (conversationIds && conversationIds.length === 0) return new Set();
  let q = db.selectFrom("conversation_mutes").select("conversation_id").where("identity", "=", identity);
  if (conversationIds) q = q.where("conversation_id", "in", [...conversationIds]);
  return new Set((await q.execute()).map((r) => r.conversation_id));
}

/** The identities of a conversation's members (the recipients of its events). */
export async function memberIdentities(db: Db, conversationId: string): Promise<string[]> {
  const rows = await db.selectFrom("conversation_members").select("identity").where("conversation_id", "=", conversationId).execute();
  return rows.map((r) => r.identity);
}

/**
 * The members who get events about `sender`'s messages: every member but those who blocked the sender,
 * in one statement (the send path reads it under the conversation's lock).
 */
export async function recipientsOf(db: Db, appId: string, conversationId: string, sender: string | null): Promise<string[]> {
  let q = db.selectFrom("conversation_members").select("identity").where("conversation_id", "=", conversationId);
  if (sender !== null)
    q = q.where("identity", "not in", (eb) =>
      eb.selectFrom("user_blocks").select("identity").where("app_id", "=", appId).where("target", "=", sender),
    );
  return (await q.execute()).map((r) => r.identity);
}
