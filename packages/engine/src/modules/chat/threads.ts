import {
  CHAT_EVENTS,
  type HistoryQuery,
  type HistoryResponse,
  type MarkThreadReadResponse,
  type Message,
  type Thread,
  type ThreadEvent,
  type ThreadList,
  type ThreadListQuery,
} from "@utd-stream/protocol";
import { type Kysely, sql, type Transaction } from "kysely";
import { requireCapability } from "../../core/caller.js";
import { ApiError } from "../../core/errors.js";
import type { Database } from "../../store/schema.js";
import { blockedBy } from "../users/index.js";
import type { Caller, Db } from "./access.js";
import type { ChatParts } from "./deps.js";
import { notify } from "./events.js";
import { historyWindow, pageOf, parseCursor } from "./paging.js";
import { type MessageRow, memberIdentities, messagesToWire, notFromBlocked, threadSummaries } from "./queries.js";

/**
 * Threads: a reply names its parent in `thread_id` and stays out of the main timeline. The parent carries
 * the summary (reply count, last reply time, participants); each participant (the parent's sender and
 * every replier) has a read position and an unread count in the thread.
 */
export class ThreadsService {
  private readonly db: Kysely<Database>;
  constructor(private readonly d: ChatParts) {
    this.db = d.store.db;
  }

  /**
   * The parent a reply may name: a live text message of the conversation's main timeline, inside retention
   * (`invalid_argument` otherwise, so a bad `thread_id` changes nothing).
   */
  async parentFor(caller: Caller, conversationId: string, threadId: string, db: Db = this.db): Promise<MessageRow> {
    const parent = await db
      .selectFrom("messages")
      .selectAll()
      .where("id", "=", threadId)
      .where("conversation_id", "=", conversationId)
      .where("created_at", ">=", this.d.access.cutoff(caller.app))
      .executeTakeFirst();
    if (!parent) throw ApiError.invalid("thread_id is not a message of this conversation");
    if (parent.thread_id !== null) throw ApiError.invalid("thread_id names a reply: threads do not nest (reply to its parent)");
    if (parent.type !== "text") throw ApiError.invalid("a system message cannot start a thread");
    if (parent.deleted_at !== null) throw ApiError.invalid("thread_id names a deleted message");
    return parent;
  }

  /**
   * Counts a stored reply into its thread, inside the send's transaction (under the conversation lock):
   * the summary moves, the replier reads up to their reply, and the parent's sender takes part.
   */
  static async recordReply(trx: Transaction<Database>, reply: MessageRow, parent: MessageRow): Promise<void> {
    const now = Number(reply.created_at);
    const seq = Number(reply.seq);
    await trx
      .insertInto("message_threads")
      .values({
        parent_id: parent.id,
        conversation_id: reply.conversation_id,
        app_id: reply.app_id,
        reply_count: 1,
        last_reply_at: now,
        last_reply_seq: seq,
        created_at: now,
      })
      .onConflict((oc) =>
        oc.column("parent_id").doUpdateSet((eb) => ({
          reply_count: eb(eb.ref("message_threads.reply_count"), "+", 1),
          last_reply_at: now,
          last_reply_seq: seq,
        })),
      )
      .execute();
    const row = (identity: string, lastRead: number, joined: number) => ({
      parent_id: parent.id,
      identity,
      conversation_id: reply.conversation_id,
      app_id: reply.app_id,
      last_read_seq: lastRead,
      joined_at: joined,
    });
    if (parent.sender !== null && parent.sender !== reply.sender) {
      await trx
        .insertInto("thread_participants")
        .values(row(parent.sender, 0, Number(parent.created_at)))
        .onConflict((oc) => oc.columns(["parent_id", "identity"]).doNothing())
        .execute();
    }
    if (reply.sender !== null) {
      await trx
        .insertInto("thread_participants")
        .values(row(reply.sender, seq, parent.sender === reply.sender ? Number(parent.created_at) : now))
        .onConflict((oc) => oc.columns(["parent_id", "identity"]).doUpdateSet({ last_read_seq: seq }))
        .execute();
    }
  }

  /** Takes a deleted reply out of its thread's count (inside the delete's transaction). */
  static async recordDeleted(trx: Transaction<Database>, reply: MessageRow): Promise<void> {
    if (reply.thread_id === null) return;
    await trx
      .updateTable("message_threads")
      .set((eb) => ({ reply_count: eb("reply_count", "-", 1) }))
      .where("parent_id", "=", reply.thread_id)
      .where("reply_count", ">", 0)
      .execute();
  }

  /** `thread.updated` to every member of the conversation, with the thread's summary as stored now. */
  async announce(appId: string, conversationId: string, parentId: string): Promise<void> {
    const s = (await threadSummaries(this.db, [parentId])).get(parentId);
    if (!s) return;
    const ev: ThreadEvent = { conversation_id: conversationId, thread_id: parentId, ...s };
    notify(this.d.events, appId, await memberIdentities(this.db, conversationId), CHAT_EVENTS.threadUpdated, ev);
  }

  /** A page of a thread's replies by seq, oldest first (members only; `not_found` for no such parent). */
  async replies(caller: Caller, conversationId: string, parentId: string, q: HistoryQuery): Promise<HistoryResponse> {
    await this.d.access.member(this.db, caller, conversationId);
    const parent = await this.requireParent(caller, conversationId, parentId);
    let sel = this.db
      .selectFrom("messages")
      .selectAll()
      .where("thread_id", "=", parent.id)
      .where("conversation_id", "=", conversationId)
      .where("created_at", ">=", this.d.access.cutoff(caller.app))
      .where(notFromBlocked(this.db, caller.app.id, caller.identity));
    if (q.after !== undefined) sel = sel.where("seq", ">", q.after);
    if (q.before !== undefined) sel = sel.where("seq", "<", q.before);
    const forward = q.after !== undefined;
    const rows = await sel
      .orderBy("seq", forward ? "asc" : "desc")
      .limit(q.limit + 1)
      .execute();
    const { page, has_more } = historyWindow(rows, q.limit, forward);
    const t = await this.db.selectFrom("message_threads").select("last_reply_seq").where("parent_id", "=", parent.id).executeTakeFirst();
    return { messages: await messagesToWire(this.db, page), has_more, last_seq: Number(t?.last_reply_seq ?? 0) };
  }

  /**
   * Marks the caller's thread read up to `seq` (capped at the last reply; never backwards). Someone who
   * does not take part in the thread has nothing stored and nothing unread there.
   */
  async markRead(caller: Caller, conversationId: string, parentId: string, seq: number): Promise<MarkThreadReadResponse> {
    await this.d.access.member(this.db, caller, conversationId);
    const parent = await this.requireParent(caller, conversationId, parentId);
    const t = await this.db.selectFrom("message_threads").select("last_reply_seq").where("parent_id", "=", parent.id).executeTakeFirst();
    const target = Math.min(seq, Number(t?.last_reply_seq ?? 0));
    await this.db
      .updateTable("thread_participants")
      .set({ last_read_seq: target })
      .where("parent_id", "=", parent.id)
      .where("identity", "=", caller.identity)
      .where("last_read_seq", "<", target)
      .execute();
    const me = await this.db
      .selectFrom("thread_participants")
      .select("last_read_seq")
      .where("parent_id", "=", parent.id)
      .where("identity", "=", caller.identity)
      .executeTakeFirst();
    const unread = me ? ((await this.unreadCounts(caller, [parent.id])).get(parent.id) ?? 0) : 0;
    return {
      conversation_id: conversationId,
      thread_id: parent.id,
      last_read_seq: me ? Number(me.last_read_seq) : target,
      unread_count: unread,
    };
  }

  /** The threads the caller takes part in (in conversations they are still in), most recent reply first. */
  async list(caller: Caller, q: ThreadListQuery): Promise<ThreadList> {
    requireCapability(caller.app, "chat");
    const cutoff = this.d.access.cutoff(caller.app);
    let sel = this.db
      .selectFrom("thread_participants as tp")
      .innerJoin("message_threads as t", "t.parent_id", "tp.parent_id")
      .innerJoin("conversation_members as cm", (j) =>
        j.onRef("cm.conversation_id", "=", "tp.conversation_id").onRef("cm.identity", "=", "tp.identity"),
      )
      .innerJoin("messages as p", "p.id", "tp.parent_id")
      .selectAll("p")
      .select(["tp.last_read_seq as my_last_read_seq", "t.last_reply_at as t_last_reply_at"])
      .where("tp.app_id", "=", caller.app.id)
      .where("tp.identity", "=", caller.identity)
      .where("p.created_at", ">=", cutoff)
      .orderBy("t.last_reply_at", "desc")
      .orderBy("t.parent_id", "desc")
      .limit(q.limit + 1);
    if (q.conversation_id) sel = sel.where("tp.conversation_id", "=", q.conversation_id);
    const p = parseCursor(q.before);
    if (p) sel = sel.where(sql<boolean>`(t.last_reply_at < ${p.at} or (t.last_reply_at = ${p.at} and t.parent_id < ${p.key}))`);
    const rows = await sel.execute();
    const { page, next } = pageOf(rows, q.limit, (r) => ({ at: Number(r.t_last_reply_at ?? 0), key: r.id }));
    const [parents, unread] = await Promise.all([
      messagesToWire(
        this.db,
        page.map(({ my_last_read_seq: _l, t_last_reply_at: _t, ...m }) => m),
      ),
      this.unreadCounts(caller),
    ]);
    const threads: Thread[] = page.map((r, i) => ({
      conversation_id: r.conversation_id,
      parent: parents[i] as Message,
      last_read_seq: Number(r.my_last_read_seq),
      unread_count: unread.get(r.id) ?? 0,
    }));
    return { threads, next_before: next, total_unread: [...unread.values()].reduce((a, b) => a + b, 0) };
  }

  /** Unread replies per thread of the caller (others' live replies past their read position, inside retention). */
  private async unreadCounts(caller: Caller, parentIds?: readonly string[]): Promise<Map<string, number>> {
    let q = this.db
      .selectFrom("thread_participants as tp")
      .innerJoin("conversation_members as cm", (j) =>
        j.onRef("cm.conversation_id", "=", "tp.conversation_id").onRef("cm.identity", "=", "tp.identity"),
      )
      .innerJoin("messages as r", "r.thread_id", "tp.parent_id")
      .select(["tp.parent_id as id", (eb) => eb.fn.countAll<number>().as("n")])
      .where("tp.app_id", "=", caller.app.id)
      .where("tp.identity", "=", caller.identity)
      .whereRef("r.seq", ">", "tp.last_read_seq")
      .where("r.deleted_at", "is", null)
      .where("r.sender", "<>", caller.identity)
      .where("r.sender", "not in", blockedBy(this.db, caller.app.id, caller.identity))
      .where("r.created_at", ">=", this.d.access.cutoff(caller.app))
      .groupBy("tp.parent_id");
    if (parentIds) q = q.where("tp.parent_id", "in", [...parentIds]);
    const rows = await q.execute();
    return new Map(rows.map((r) => [r.id, Number(r.n)]));
  }

  private async requireParent(caller: Caller, conversationId: string, parentId: string): Promise<MessageRow> {
    const parent = await this.db
      .selectFrom("messages")
      .selectAll()
      .where("id", "=", parentId)
      .where("conversation_id", "=", conversationId)
      .where("thread_id", "is", null)
      .where("created_at", ">=", this.d.access.cutoff(caller.app))
      .executeTakeFirst();
    if (!parent) throw ApiError.notFound("message");
    return parent;
  }
}
