import {
  CHAT_EVENTS,
  CHAT_LIMITS,
  type ChatSettings,
  type EditMessageRequest,
  type HistoryQuery,
  type HistoryResponse,
  type MarkReadResponse,
  type Message,
  type ReactionEvent,
  type SendMessageRequest,
  type UnreadResponse,
} from "@utd-stream/protocol";
import { ApiError } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import type { AppRecord } from "../apps/service.js";
import { requireCapability } from "../auth/service.js";
import { ChatConversations } from "./conversations.js";
import { AlreadySent, type Caller, type Db, isUniqueViolation, ROLE_RANK } from "./core.js";
import { type MessageRow, memberIdentities, messagesToWire, toMessage, unreadCounts } from "./queries.js";

export type { AttachmentResolver, Caller, ChatDeps } from "./core.js";

/**
 * Conversations, messages, receipts and unread counts. Every method checks the chat capability, the
 * caller's tenancy (another app's ids are `not_found`) and membership; events go out only after commit.
 */
/** The conversation was closed or the sender removed between the access check and the seq lock. */
class ConversationChanged extends Error {}

export class ChatService extends ChatConversations {
  // ---------- messages ----------

  /**
   * Stores a message and only then delivers it. The same `client_msg_id` from the same sender in the same
   * conversation returns the message stored the first time (`created: false`) and delivers nothing again.
   */
  async send(caller: Caller, id: string, req: SendMessageRequest, attempt = 0): Promise<{ message: Message; created: boolean }> {
    requireCapability(caller.app, "chat");
    // Checks that need no lock come first, so the conversation row is locked only for the writes.
    const { conv } = await this.access(this.db, caller, id);
    if (conv.closed_at !== null) return this.sendToClosed(caller, id, req);
    if (req.reply_to) {
      const parent = await this.db
        .selectFrom("messages")
        .select("id")
        .where("id", "=", req.reply_to)
        .where("conversation_id", "=", id)
        .where("created_at", ">=", this.cutoff(caller.app))
        .executeTakeFirst();
      if (!parent) throw ApiError.invalid("reply_to is not a message of this conversation");
    }
    const attachments = req.attachments?.length
      ? await this.d.attachments.resolve(
          caller.app.id,
          req.attachments.map((a) => a.file_token),
        )
      : [];
    let row: MessageRow;
    try {
      row = await this.db.transaction().execute(async (trx) => {
        const now = this.now();
        // Allocating the seq takes the row lock (PostgreSQL) and re-checks, under it, that the
        // conversation is still open and the caller still a member.
        const allocated = await trx
          .updateTable("conversations")
          .set((eb) => ({ last_seq: eb("last_seq", "+", 1), last_active_at: now, updated_at: now }))
          .where("id", "=", id)
          .where("app_id", "=", caller.app.id)
          .where("closed_at", "is", null)
          .where((eb) =>
            eb.exists(
              eb
                .selectFrom("conversation_members")
                .select("identity")
                .where("conversation_id", "=", id)
                .where("identity", "=", caller.identity),
            ),
          )
          .returning("last_seq")
          .executeTakeFirst();
        if (!allocated) throw new ConversationChanged();
        const seq = Number(allocated.last_seq);
        const r: MessageRow = {
          id: newId("msg", now),
          conversation_id: id,
          app_id: caller.app.id,
          seq,
          type: "text",
          sender: caller.identity,
          text: req.text ?? null,
          custom: req.custom ? JSON.stringify(req.custom) : null,
          attachments: JSON.stringify(attachments),
          reply_to: req.reply_to ?? null,
          client_msg_id: req.client_msg_id,
          created_at: now,
          edited_at: null,
          deleted_at: null,
        };
        // The unique (conversation, sender, client_msg_id) index is the idempotency check: under the
        // conversation lock a duplicate inserts nothing, and throwing rolls the seq back.
        const ins = await trx
          .insertInto("messages")
          .values(r)
          .onConflict((oc) => oc.columns(["conversation_id", "sender", "client_msg_id"]).doNothing())
          .executeTakeFirst();
        if (Number(ins.numInsertedOrUpdatedRows ?? 0) === 0) {
          const first = await this.findByClientId(id, caller, req.client_msg_id, trx);
          if (first) throw new AlreadySent(first);
          throw new Error("message insert skipped without a conflicting row");
        }
        if (attachments.length > 0) {
          await trx
            .insertInto("message_files")
            .values(
              [...new Set(attachments.map((a) => a.file_token))].map((file_id) => ({
                file_id,
                conversation_id: id,
                message_id: r.id,
                app_id: caller.app.id,
                created_at: now,
              })),
            )
            .execute();
        }
        // Sending implies having read everything before it.
        await trx
          .updateTable("conversation_members")
          .set({ last_read_seq: seq })
          .where("conversation_id", "=", id)
          .where("identity", "=", caller.identity)
          .where("last_read_seq", "<", seq)
          .execute();
        return r;
      });
    } catch (err) {
      // Closed, or the caller removed, between the check and the lock: answer as a new request would.
      if (err instanceof ConversationChanged && attempt < 2) return this.send(caller, id, req, attempt + 1);
      if (err instanceof AlreadySent) return { message: (await messagesToWire(this.db, [err.row]))[0] as Message, created: false };
      // A concurrent first send with the same id won the unique index: answer with its message.
      const winner = isUniqueViolation(err) ? await this.findByClientId(id, caller, req.client_msg_id) : undefined;
      if (winner) return { message: (await messagesToWire(this.db, [winner]))[0] as Message, created: false };
      throw err;
    }
    const message = toMessage(row, undefined);
    this.emit(caller.app.id, await memberIdentities(this.db, id), CHAT_EVENTS.messageNew, message);
    return { message, created: true };
  }

  /** A send to a closed conversation: a retry of a message stored before the close still gets it. */
  private async sendToClosed(caller: Caller, id: string, req: SendMessageRequest): Promise<{ message: Message; created: boolean }> {
    const again = await this.findByClientId(id, caller, req.client_msg_id);
    if (again) return { message: (await messagesToWire(this.db, [again]))[0] as Message, created: false };
    throw ApiError.conflict("this conversation is closed", "closed");
  }

  private findByClientId(conversationId: string, caller: Caller, clientMsgId: string, db: Db = this.db): Promise<MessageRow | undefined> {
    return db
      .selectFrom("messages")
      .selectAll()
      .where("conversation_id", "=", conversationId)
      .where("app_id", "=", caller.app.id)
      .where("sender", "=", caller.identity)
      .where("client_msg_id", "=", clientMsgId)
      .executeTakeFirst();
  }

  /** A page of history by seq, oldest first, inside the plan's retention window. */
  async history(caller: Caller, id: string, q: HistoryQuery): Promise<HistoryResponse> {
    const { conv } = await this.access(this.db, caller, id);
    let sel = this.db
      .selectFrom("messages")
      .selectAll()
      .where("conversation_id", "=", id)
      .where("created_at", ">=", this.cutoff(caller.app));
    if (q.after !== undefined) sel = sel.where("seq", ">", q.after);
    if (q.before !== undefined) sel = sel.where("seq", "<", q.before);
    const forward = q.after !== undefined;
    const rows = await sel
      .orderBy("seq", forward ? "asc" : "desc")
      .limit(q.limit + 1)
      .execute();
    const has_more = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    if (!forward) page.reverse();
    return { messages: await messagesToWire(this.db, page), has_more, last_seq: Number(conv.last_seq) };
  }

  private async ownMessage(trx: Db, caller: Caller, id: string, messageId: string, need: "sender" | "member"): Promise<MessageRow> {
    const row = await trx
      .selectFrom("messages")
      .selectAll()
      .where("id", "=", messageId)
      .where("conversation_id", "=", id)
      .where("created_at", ">=", this.cutoff(caller.app))
      .executeTakeFirst();
    if (!row) throw ApiError.notFound("message");
    if (row.deleted_at !== null) throw ApiError.conflict("this message was deleted", "deleted");
    if (need === "sender" && row.sender !== caller.identity) throw ApiError.forbidden("only the sender may change a message");
    return row;
  }

  /** Edits the caller's own message (text and/or custom). */
  async edit(caller: Caller, id: string, messageId: string, req: EditMessageRequest): Promise<Message> {
    const { conv } = await this.access(this.db, caller, id);
    if (conv.closed_at !== null) throw ApiError.conflict("this conversation is closed", "closed");
    const row = await this.ownMessage(this.db, caller, id, messageId, "sender");
    const patch = { ...row, edited_at: this.now() };
    if (req.text !== undefined) patch.text = req.text;
    if (req.custom !== undefined) patch.custom = req.custom === null ? null : JSON.stringify(req.custom);
    if (patch.text === null && patch.custom === null && row.attachments === "[]")
      throw ApiError.invalid("a message needs text, custom or attachments");
    await this.db
      .updateTable("messages")
      .set({ text: patch.text, custom: patch.custom, edited_at: patch.edited_at })
      .where("id", "=", messageId)
      .execute();
    const [message] = await messagesToWire(this.db, [patch]);
    this.emit(caller.app.id, await memberIdentities(this.db, id), CHAT_EVENTS.messageUpdated, message);
    return message as Message;
  }

  /** Deletes a message, leaving a tombstone (the sender, or an owner/admin of a group or chatroom). */
  async delete(caller: Caller, id: string, messageId: string): Promise<Message> {
    const { me } = await this.access(this.db, caller, id);
    const row = await this.ownMessage(this.db, caller, id, messageId, "member");
    if (row.sender !== caller.identity && ROLE_RANK[me.role] < ROLE_RANK.admin)
      throw ApiError.forbidden("only the sender or an admin may delete a message");
    const now = this.now();
    await this.db.deleteFrom("message_reactions").where("message_id", "=", messageId).execute();
    await this.db
      .updateTable("messages")
      .set({ deleted_at: now, text: null, custom: null, attachments: "[]" })
      .where("id", "=", messageId)
      .execute();
    const message = toMessage({ ...row, deleted_at: now }, undefined);
    this.emit(caller.app.id, await memberIdentities(this.db, id), CHAT_EVENTS.messageDeleted, message);
    return message;
  }

  /** Adds or removes the caller's reaction (idempotent either way). */
  async react(caller: Caller, id: string, messageId: string, reaction: string, add: boolean): Promise<Message> {
    await this.access(this.db, caller, id);
    const row = await this.ownMessage(this.db, caller, id, messageId, "member");
    let changed: boolean;
    if (add) {
      const mine = await this.db
        .selectFrom("message_reactions")
        .select(["reaction"])
        .where("message_id", "=", messageId)
        .where("identity", "=", caller.identity)
        .execute();
      if (mine.length >= CHAT_LIMITS.maxReactionsPerUser && !mine.some((m) => m.reaction === reaction)) {
        throw ApiError.invalid(`at most ${CHAT_LIMITS.maxReactionsPerUser} different reactions per user on a message`);
      }
      const r = await this.db
        .insertInto("message_reactions")
        .values({ message_id: messageId, conversation_id: id, identity: caller.identity, reaction, created_at: this.now() })
        .onConflict((oc) => oc.columns(["message_id", "identity", "reaction"]).doNothing())
        .executeTakeFirst();
      changed = Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    } else {
      const r = await this.db
        .deleteFrom("message_reactions")
        .where("message_id", "=", messageId)
        .where("identity", "=", caller.identity)
        .where("reaction", "=", reaction)
        .executeTakeFirst();
      changed = Number(r.numDeletedRows) > 0;
    }
    const [message] = (await messagesToWire(this.db, [row])) as [Message];
    if (changed) {
      const ev: ReactionEvent = {
        conversation_id: id,
        message_id: messageId,
        seq: message.seq,
        reaction,
        identity: caller.identity,
        reactions: message.reactions,
      };
      this.emit(caller.app.id, await memberIdentities(this.db, id), add ? CHAT_EVENTS.reactionAdded : CHAT_EVENTS.reactionRemoved, ev);
    }
    return message;
  }

  // ---------- receipts and unread ----------

  /**
   * Marks everything up to `seq` (capped at the last seq) as read; the read position never moves back.
   * The caller's devices get `receipt.read` with the new counts; other members get it only when the
   * caller shares read receipts.
   */
  async markRead(caller: Caller, id: string, seq: number): Promise<MarkReadResponse> {
    const { conv, me } = await this.access(this.db, caller, id);
    const target = Math.min(seq, Number(conv.last_seq));
    let moved = false;
    if (target > me.last_read_seq) {
      const r = await this.db
        .updateTable("conversation_members")
        .set({ last_read_seq: target })
        .where("conversation_id", "=", id)
        .where("identity", "=", caller.identity)
        .where("last_read_seq", "<", target)
        .executeTakeFirst();
      moved = Number(r.numUpdatedRows) > 0;
    }
    const last = Math.max(target, me.last_read_seq);
    const counts = await unreadCounts(this.db, caller.app.id, caller.identity, this.cutoff(caller.app));
    const res: MarkReadResponse = {
      conversation_id: id,
      last_read_seq: moved ? target : ((await this.membership(this.db, id, caller.identity))?.last_read_seq ?? last),
      unread_count: counts.get(id) ?? 0,
      total_unread: [...counts.values()].reduce((a, b) => a + b, 0),
    };
    if (moved) {
      this.emit(caller.app.id, [caller.identity], CHAT_EVENTS.receiptRead, { ...res, identity: caller.identity, conversation_id: id });
      if ((await this.settings(caller)).share_read_receipts) {
        const others = (await memberIdentities(this.db, id)).filter((i) => i !== caller.identity);
        this.emit(caller.app.id, others, CHAT_EVENTS.receiptRead, {
          conversation_id: id,
          identity: caller.identity,
          last_read_seq: res.last_read_seq,
        });
      }
    }
    return res;
  }

  /** Per-conversation and total unread counts of the caller (every conversation they are in). */
  async unread(caller: Caller): Promise<UnreadResponse> {
    requireCapability(caller.app, "chat");
    const [counts, reads] = await Promise.all([
      unreadCounts(this.db, caller.app.id, caller.identity, this.cutoff(caller.app)),
      this.db
        .selectFrom("conversation_members")
        .select(["conversation_id", "last_read_seq"])
        .where("app_id", "=", caller.app.id)
        .where("identity", "=", caller.identity)
        .execute(),
    ]);
    const conversations = reads
      .map((r) => ({
        conversation_id: r.conversation_id,
        unread_count: counts.get(r.conversation_id) ?? 0,
        last_read_seq: Number(r.last_read_seq),
      }))
      .filter((c) => c.unread_count > 0);
    return { total: conversations.reduce((a, c) => a + c.unread_count, 0), conversations };
  }

  async settings(caller: Caller): Promise<ChatSettings> {
    requireCapability(caller.app, "chat");
    const row = await this.db
      .selectFrom("chat_settings")
      .select("share_read_receipts")
      .where("app_id", "=", caller.app.id)
      .where("identity", "=", caller.identity)
      .executeTakeFirst();
    return { share_read_receipts: row ? row.share_read_receipts !== 0 : true };
  }

  async updateSettings(caller: Caller, s: ChatSettings): Promise<ChatSettings> {
    requireCapability(caller.app, "chat");
    const v = s.share_read_receipts ? 1 : 0;
    await this.db
      .insertInto("chat_settings")
      .values({ app_id: caller.app.id, identity: caller.identity, share_read_receipts: v })
      .onConflict((oc) => oc.columns(["app_id", "identity"]).doUpdateSet({ share_read_receipts: v }))
      .execute();
    return this.settings(caller);
  }

  /** The members of a conversation the caller belongs to (for conversation typing); checks access like a read. */
  async members(caller: Caller, id: string): Promise<string[]> {
    await this.access(this.db, caller, id);
    return memberIdentities(this.db, id);
  }

  // ---------- files and retention ----------

  /** Whether `identity` is a member of a conversation where the file was sent (inside retention). */
  async canDownload(app: AppRecord, identity: string, fileId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("message_files as f")
      .innerJoin("conversation_members as cm", (j) =>
        j.onRef("cm.conversation_id", "=", "f.conversation_id").on("cm.identity", "=", identity),
      )
      .select("f.file_id")
      .where("f.file_id", "=", fileId)
      .where("f.app_id", "=", app.id)
      .where("f.created_at", ">=", this.cutoff(app))
      .executeTakeFirst();
    return row !== undefined;
  }

  /** The oldest creation time still kept for an app (0: no limit). */
  retentionCutoff(app: AppRecord): number {
    return this.cutoff(app);
  }

  /** Deletes messages older than each app's `history_days` (their reactions and file links go with them). */
  async purgeExpired(apps: readonly AppRecord[]): Promise<number> {
    let purged = 0;
    for (const app of apps) {
      const cutoff = this.cutoff(app);
      if (cutoff <= 0) continue;
      const r = await this.db.deleteFrom("messages").where("app_id", "=", app.id).where("created_at", "<", cutoff).executeTakeFirst();
      purged += Number(r.numDeletedRows);
    }
    return purged;
  }
}
