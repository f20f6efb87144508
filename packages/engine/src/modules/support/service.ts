import {
  CHAT_EVENTS,
  type ConversationEvent,
  type HistoryQuery,
  type HistoryResponse,
  type MemberEvent,
  type Message,
  type SendMessageRequest,
  type StartSupportRequest,
  SUPPORT_EVENTS,
  type SupportConversation,
  type SupportEvent,
  type SupportListQuery,
  type SupportState,
} from "@utd-stream/protocol";
import type { Kysely, Transaction } from "kysely";
import { type AppRecord, type Caller, requireCapability } from "../../core/caller.js";
import type { Clock } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { EventSink } from "../../core/events.js";
import { newId } from "../../core/ids.js";
import type { Store } from "../../store/port.js";
import type { Database } from "../../store/schema.js";
import { type ChatService, memberIdentities } from "../chat/index.js";
import { Operators } from "./operators.js";
import { type SupportRow, SupportRows } from "./rows.js";

type Db = Kysely<Database> | Transaction<Database>;

export interface SupportDeps {
  store: Store;
  clock: Clock;
  events: EventSink;
  /** Chat's public services: support stores its conversations and members and pages history through them. */
  chat: ChatService;
}

/** Rolls back a start that lost the race for the visitor's one open conversation. */
class AlreadyOpen extends Error {}

/**
 * Support conversations on top of chat: a visitor starts one (kind `support`, the visitor its only
 * member), it waits in the app's queue, an operator claims it (becoming a member, so the chat API
 * serves both sides), may transfer it to another operator, and the visitor or the assignee closes it.
 * Refusals never change anything; another app's ids and other visitors' conversations are `not_found`.
 */
export class SupportService {
  private readonly db: Kysely<Database>;
  private readonly rows: SupportRows;
  constructor(private readonly d: SupportDeps) {
    this.db = d.store.db;
    this.operatorRole = new Operators(d.store, d.clock, d.chat.records);
    this.rows = new SupportRows(d.store, d.chat);
  }

  /** The operator role (admin API / CLI). */
  readonly operatorRole: Operators;

  /** Takes the operator role away; what they were handling goes back to the queue (visitor and team are told). */
  async removeOperator(app: AppRecord, identity: string): Promise<void> {
    const requeued = await this.operatorRole.remove(app.id, identity);
    for (const id of requeued) {
      const row = await this.rows.get(this.db, app.id, id);
      const conversation = await this.rows.toWire(app, row);
      this.memberEvent(app, id, CHAT_EVENTS.memberRemoved, identity, identity, [conversation.visitor, identity]);
      await this.announce(app, "requeued", identity, conversation);
    }
  }

  /** `GET /api/v1/support/me`: whether the caller is an operator (support is part of chat: refused with it off). */
  async me(caller: Caller): Promise<{ identity: string; operator: boolean }> {
    requireCapability(caller.app, "chat");
    return { identity: caller.identity, operator: await this.isOperator(caller.app.id, caller.identity) };
  }

  isOperator(appId: string, identity: string, db: Db = this.db): Promise<boolean> {
    return this.operatorRole.has(appId, identity, db);
  }

  private async operators(appId: string): Promise<string[]> {
    return (await this.operatorRole.list(appId)).map((o) => o.identity);
  }

  // ---------- visitor ----------

  /** Starts the caller's support conversation, or returns the one still open (`created: false`). */
  async start(caller: Caller, req: StartSupportRequest): Promise<{ conversation: SupportConversation; created: boolean }> {
    requireCapability(caller.app, "chat");
    const open = await this.rows.openOf(caller.app.id, caller.identity);
    if (open) {
      await this.ensureMember(open, caller.identity);
      return { conversation: await this.rows.toWire(caller.app, open), created: false };
    }
    const now = this.d.clock.now();
    const id = newId("conv", now);
    try {
      await this.db.transaction().execute(async (trx) => {
        await this.d.chat.records.createConversation(
          trx,
          {
            id,
            appId: caller.app.id,
            kind: "support",
            createdBy: caller.identity,
            custom: req.custom,
            members: [{ identity: caller.identity, role: "member" }],
          },
          now,
        );
        const ins = await trx
          .insertInto("support_conversations")
          .values({
            conversation_id: id,
            app_id: caller.app.id,
            visitor: caller.identity,
            state: "queued",
            assignee: null,
            open_key: caller.identity,
            created_at: now,
            updated_at: now,
            closed_at: null,
            closed_by: null,
          })
          .onConflict((oc) => oc.columns(["app_id", "open_key"]).doNothing())
          .executeTakeFirst();
        if (Number(ins.numInsertedOrUpdatedRows ?? 0) === 0) throw new AlreadyOpen();
      });
    } catch (err) {
      // A concurrent start won: answer with its conversation.
      const winner = await this.rows.openOf(caller.app.id, caller.identity);
      if (winner) return { conversation: await this.rows.toWire(caller.app, winner), created: false };
      throw err;
    }
    const row = await this.rows.get(this.db, caller.app.id, id);
    const conversation = await this.rows.toWire(caller.app, row);
    const created: ConversationEvent = {
      conversation_id: id,
      change: "created",
      by: caller.identity,
      name: null,
      custom: conversation.custom,
      closed: false,
      kind: "support",
    };
    this.d.events.toUsers(caller.app.id, [caller.identity], CHAT_EVENTS.conversationUpdated, created);
    await this.announce(caller.app, "started", caller.identity, conversation);
    return { conversation, created: true };
  }

  /** The caller's own support conversations (as the visitor), most recently updated first. */
  async listMine(caller: Caller, q: SupportListQuery): Promise<SupportConversation[]> {
    requireCapability(caller.app, "chat");
    const rows = await this.rows.list(caller.app.id, q, caller.identity);
    return this.rows.toWireMany(caller.app, rows);
  }

  // ---------- operators ----------

  /** The team's queue (operators only; others get `forbidden`). */
  async queue(caller: Caller, q: SupportListQuery): Promise<SupportConversation[]> {
    requireCapability(caller.app, "chat");
    await this.requireOperator(caller);
    const rows = await this.rows.list(caller.app.id, q);
    return this.rows.toWireMany(caller.app, rows);
  }

  /** One support conversation: its visitor or any operator of the app; anyone else gets `not_found`. */
  async get(caller: Caller, id: string): Promise<SupportConversation> {
    return this.rows.toWire(caller.app, await this.visible(caller, id));
  }

  /** History: members through chat; operators not (yet) in it read it here so they can triage before claiming. */
  async history(caller: Caller, id: string, q: HistoryQuery): Promise<HistoryResponse> {
    const row = await this.visible(caller, id);
    if (row.visitor === caller.identity || row.assignee === caller.identity) return this.d.chat.messages.history(caller, id, q);
    return this.d.chat.messages.page(caller.app, await this.d.chat.access.conversation(this.db, caller, id), q);
  }

  /**
   * Sends through chat (same idempotency, attachments and rules), and while the conversation waits in
   * the queue also delivers `message.new` to every operator of the app, so the team's inbox is live
   * before anyone claimed it (chat itself delivers only to members).
   */
  async send(caller: Caller, id: string, req: SendMessageRequest): Promise<{ message: Message; created: boolean }> {
    const row = await this.visible(caller, id);
    const r = await this.d.chat.messages.send(caller, id, req);
    if (r.created && row.state === "queued") {
      const members = new Set(await memberIdentities(this.db, id));
      const others = (await this.operators(caller.app.id)).filter((o) => !members.has(o));
      if (others.length > 0) this.d.events.toUsers(caller.app.id, others, CHAT_EVENTS.messageNew, r.message);
    }
    return r;
  }

  /** An operator takes a queued conversation (idempotent for the same operator; `conflict` when someone else has it or it is closed). */
  async claim(caller: Caller, id: string): Promise<SupportConversation> {
    requireCapability(caller.app, "chat");
    await this.requireOperator(caller);
    const now = this.d.clock.now();
    const changed = await this.db.transaction().execute(async (trx) => {
      const row = await this.rows.get(trx, caller.app.id, id, true);
      if (row.state === "closed") throw ApiError.conflict("this support conversation is closed", "closed");
      if (row.assignee === caller.identity) {
        await this.ensureMember(row, caller.identity, trx);
        return false;
      }
      if (row.state === "assigned") throw ApiError.conflict(`already claimed by ${row.assignee ?? "another operator"}`, "assigned");
      if (row.visitor === caller.identity) throw ApiError.forbidden("an operator cannot claim their own conversation");
      await this.setAssignee(trx, row, caller.identity, now);
      return true;
    });
    const conversation = await this.get(caller, id);
    if (changed) {
      this.memberEvent(caller.app, id, CHAT_EVENTS.memberAdded, caller.identity, caller.identity, [conversation.visitor, caller.identity]);
      await this.announce(caller.app, "claimed", caller.identity, conversation);
    }
    return conversation;
  }

  /** The assignee hands the conversation to another operator of the app. */
  async transfer(caller: Caller, id: string, to: string): Promise<SupportConversation> {
    requireCapability(caller.app, "chat");
    await this.requireOperator(caller);
    const now = this.d.clock.now();
    await this.db.transaction().execute(async (trx) => {
      const row = await this.rows.get(trx, caller.app.id, id, true);
      if (row.state === "closed") throw ApiError.conflict("this support conversation is closed", "closed");
      if (row.state === "queued") throw ApiError.conflict("claim the conversation before transferring it", "queued");
      if (row.assignee !== caller.identity) throw ApiError.forbidden("only the assignee may transfer the conversation");
      if (to === caller.identity) throw ApiError.invalid("the conversation is already yours");
      if (to === row.visitor || !(await this.isOperator(caller.app.id, to, trx)))
        throw ApiError.invalid(`${to} is not an operator of this app`);
      await this.setAssignee(trx, row, to, now);
    });
    const conversation = await this.get(caller, id);
    const to3 = [conversation.visitor, caller.identity, to];
    this.memberEvent(caller.app, id, CHAT_EVENTS.memberRemoved, caller.identity, caller.identity, to3);
    this.memberEvent(caller.app, id, CHAT_EVENTS.memberAdded, to, caller.identity, to3);
    await this.announce(caller.app, "transferred", caller.identity, conversation);
    return conversation;
  }

  /**
   * Closes the conversation: the visitor, the assignee, or any operator while it is still queued.
   * Idempotent (closing a closed one changes nothing and emits nothing). Members get
   * `conversation.updated` with `change: "closed"`.
   */
  async close(caller: Caller, id: string): Promise<SupportConversation> {
    requireCapability(caller.app, "chat");
    const now = this.d.clock.now();
    const changed = await this.db.transaction().execute(async (trx) => {
      const row = await this.visible(caller, id, trx, true);
      if (row.state === "closed") return false;
      const mayClose =
        row.visitor === caller.identity ||
        row.assignee === caller.identity ||
        (row.state === "queued" && (await this.isOperator(caller.app.id, caller.identity, trx)));
      if (!mayClose) throw ApiError.forbidden("only the visitor or the assignee may close this conversation");
      await trx
        .updateTable("support_conversations")
        .set({ state: "closed", open_key: null, closed_at: now, closed_by: caller.identity, updated_at: now })
        .where("conversation_id", "=", id)
        .execute();
      await this.d.chat.records.setClosed(trx, id, true, now);
      return true;
    });
    const conversation = await this.get(caller, id);
    if (changed) {
      const ev: ConversationEvent = {
        conversation_id: id,
        change: "closed",
        by: caller.identity,
        name: null,
        custom: conversation.custom,
        closed: true,
        kind: "support",
      };
      this.d.events.toUsers(caller.app.id, await memberIdentities(this.db, id), CHAT_EVENTS.conversationUpdated, ev);
      await this.announce(caller.app, "closed", caller.identity, conversation);
    }
    return conversation;
  }

  // ---------- internals ----------

  private async requireOperator(caller: Caller): Promise<void> {
    if (!(await this.isOperator(caller.app.id, caller.identity))) throw ApiError.forbidden("only operators of this app may do this");
  }

  /** The row when the caller may see it (its visitor or an operator of the app); `not_found` otherwise, so ids leak nothing. */
  private async visible(caller: Caller, id: string, db: Db = this.db, lock = false): Promise<SupportRow> {
    requireCapability(caller.app, "chat");
    const row = await this.rows.get(db, caller.app.id, id, lock);
    if (row.visitor !== caller.identity && !(await this.isOperator(caller.app.id, caller.identity, db))) {
      throw ApiError.notFound("support conversation");
    }
    return row;
  }

  /**
   * Puts a participant back into the chat conversation if they left it through the chat API
   * (chat's `leave` does not know about support), so claim/start heal instead of leaving a visitor
   * or assignee unable to write.
   */
  private async ensureMember(row: SupportRow, identity: string, db: Db = this.db): Promise<void> {
    await this.d.chat.records.addMembers(db, { id: row.conversation_id, app_id: row.app_id }, [identity], this.d.clock.now());
  }

  /** Makes `to` the assignee and the only operator member (the previous assignee leaves the chat conversation). */
  private async setAssignee(trx: Transaction<Database>, row: SupportRow, to: string, now: number): Promise<void> {
    const conv = { id: row.conversation_id, app_id: row.app_id };
    if (row.assignee !== null) await this.d.chat.records.removeMember(trx, [conv.id], row.assignee, now);
    // The operator has "read" nothing yet: everything the visitor wrote counts as unread for them.
    await this.d.chat.records.addMembers(trx, conv, [to], now);
    await trx
      .updateTable("support_conversations")
      .set({ state: "assigned" satisfies SupportState, assignee: to, updated_at: now })
      .where("conversation_id", "=", row.conversation_id)
      .execute();
  }

  private memberEvent(
    app: AppRecord,
    conversationId: string,
    type: "member.added" | "member.removed",
    identity: string,
    by: string,
    to: string[],
  ): void {
    const ev: MemberEvent = { conversation_id: conversationId, identity, role: "member", by };
    this.d.events.toUsers(app.id, [...new Set(to)], type, ev);
  }

  /** `support.updated` to the visitor and every operator of the app. */
  private async announce(app: AppRecord, change: SupportEvent["change"], by: string, conversation: SupportConversation): Promise<void> {
    const to = new Set([conversation.visitor, ...(await this.operators(app.id))]);
    const ev: SupportEvent = { change, by, conversation };
    this.d.events.toUsers(app.id, [...to], SUPPORT_EVENTS.supportUpdated, ev);
  }
}
