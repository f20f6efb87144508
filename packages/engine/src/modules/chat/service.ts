import {
  type Attachment,
  CHAT_EVENTS,
  type ChatSettings,
  type Conversation,
  type ConversationEvent,
  type CreateConversationRequest,
  type EditMessageRequest,
  type HistoryQuery,
  type HistoryResponse,
  type MarkReadResponse,
  type Member,
  type MemberEvent,
  type MemberRole,
  type Message,
  type ReactionEvent,
  type SendMessageRequest,
  type UnreadResponse,
  type UpdateConversationRequest,
} from "@utd-stream/protocol";
import { type Kysely, sql, type Transaction } from "kysely";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { EventSink } from "../../core/events.js";
import { newId } from "../../core/ids.js";
import type { Store } from "../../store/db.js";
import type { Database } from "../../store/schema.js";
import type { AppRecord } from "../apps/service.js";
import { requireCapability } from "../auth/service.js";
import {
  type ConversationRow,
  conversationsToWire,
  type MessageRow,
  memberIdentities,
  messagesToWire,
  retentionCutoff,
  toMessage,
  unreadCounts,
} from "./queries.js";

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

type Db = Kysely<Database> | Transaction<Database>;
type Membership = { role: MemberRole; last_read_seq: number };

/** Aborts a send transaction when the same client_msg_id already stored a message (rolls back the seq). */
class AlreadySent extends Error {
  constructor(readonly row: MessageRow) {
    super("already sent");
  }
}

const ROLE_RANK: Record<MemberRole, number> = { owner: 3, admin: 2, member: 1 };

/**
 * Conversations, messages, receipts and unread counts. Every method checks the chat capability, the
 * caller's tenancy (another app's ids are `not_found`) and membership; events go out only after commit.
 */
export class ChatService {
  private readonly db: Kysely<Database>;
  constructor(private readonly d: ChatDeps) {
    this.db = d.store.db;
  }

  private now(): number {
    return this.d.clock.now();
  }

  private cutoff(app: AppRecord): number {
    return retentionCutoff(app.limits.history_days, this.now());
  }

  private emit(appId: string, to: readonly string[], type: string, data: unknown): void {
    if (to.length > 0) this.d.events.toUsers(appId, to, type, data);
  }

  // ---------- lookups and access ----------

  private async conv(db: Db, caller: Caller, id: string, lock = false): Promise<ConversationRow> {
    let q = db.selectFrom("conversations").selectAll().where("id", "=", id).where("app_id", "=", caller.app.id);
    // On PostgreSQL the row lock serialises everything that changes a conversation (seq, members).
    if (lock && this.d.store.dialect === "postgres") q = q.forUpdate();
    const row = await q.executeTakeFirst();
    if (!row) throw ApiError.notFound("conversation");
    return row;
  }

  private async membership(db: Db, conversationId: string, identity: string): Promise<Membership | undefined> {
    const m = await db
      .selectFrom("conversation_members")
      .select(["role", "last_read_seq"])
      .where("conversation_id", "=", conversationId)
      .where("identity", "=", identity)
      .executeTakeFirst();
    return m ? { role: m.role as MemberRole, last_read_seq: Number(m.last_read_seq) } : undefined;
  }

  /** The conversation and the caller's membership; non-members get `not_found` (or `forbidden` for a chatroom). */
  private async access(db: Db, caller: Caller, id: string, lock = false): Promise<{ conv: ConversationRow; me: Membership }> {
    requireCapability(caller.app, "chat");
    const conv = await this.conv(db, caller, id, lock);
    const me = await this.membership(db, id, caller.identity);
    if (!me) {
      if (conv.kind === "chatroom") throw ApiError.forbidden("join the chatroom first");
      throw ApiError.notFound("conversation");
    }
    return { conv, me };
  }

  private requireRole(me: Membership, min: MemberRole, what: string): void {
    if (ROLE_RANK[me.role] < ROLE_RANK[min]) throw ApiError.forbidden(`only a ${min} or above may ${what}`);
  }

  private async requireUsers(appId: string, identities: readonly string[], db: Db = this.db): Promise<void> {
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

  private async view(caller: Caller, id: string): Promise<Conversation> {
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

  private convEvent(conv: ConversationRow, change: ConversationEvent["change"], by: string): ConversationEvent {
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

  // ---------- conversations ----------

  /**
   * Creates a conversation. `direct` returns the existing one for the pair when there is one
   * (`created: false`). Groups count the creator towards `max_group_members`; chatrooms count towards
   * `max_chatrooms` (open chatrooms of the app).
   */
  async create(caller: Caller, req: CreateConversationRequest): Promise<{ conversation: Conversation; created: boolean }> {
    requireCapability(caller.app, "chat");
    const now = this.now();
    const others = [...new Set(req.members ?? [])].filter((m) => m !== caller.identity);
    if (req.kind === "direct") {
      if ((req.members ?? []).length !== 1 || others.length !== 1) {
        throw ApiError.invalid("a direct conversation needs exactly one other member");
      }
      const [peer] = others as [string];
      await this.requireUsers(caller.app.id, [peer]);
      const key = [caller.identity, peer].sort().join(" ");
      const id = newId("conv", now);
      const created = await this.db.transaction().execute(async (trx) => {
        const ins = await trx
          .insertInto("conversations")
          .values(this.newConv(id, caller, "direct", req, now, key, 2))
          .onConflict((oc) => oc.columns(["app_id", "direct_key"]).doNothing())
          .executeTakeFirst();
        if (Number(ins.numInsertedOrUpdatedRows ?? 0) === 0) return false;
        await trx
          .insertInto("conversation_members")
          .values(
            [caller.identity, peer].map((identity) => ({
              conversation_id: id,
              app_id: caller.app.id,
              identity,
              role: "member",
              joined_at: now,
              last_read_seq: 0,
            })),
          )
          .execute();
        return true;
      });
      const row = await this.db
        .selectFrom("conversations")
        .select("id")
        .where("app_id", "=", caller.app.id)
        .where("direct_key", "=", key)
        .executeTakeFirstOrThrow();
      const conversation = await this.view(caller, row.id);
      if (created)
        this.emit(caller.app.id, conversation.members, CHAT_EVENTS.conversationUpdated, {
          ...this.convEventOf(conversation, caller.identity),
        });
      return { conversation, created };
    }
    if (req.kind === "chatroom" && others.length > 0) throw ApiError.invalid("chatrooms are joined, not created with members");
    if (req.kind === "group") {
      const max = caller.app.limits.max_group_members;
      if (others.length + 1 > max) throw ApiError.limitExceeded("max_group_members", max);
      await this.requireUsers(caller.app.id, others);
    }
    const id = newId("conv", now);
    await this.db.transaction().execute(async (trx) => {
      if (req.kind === "chatroom") await this.checkChatroomLimit(trx, caller.app);
      await trx
        .insertInto("conversations")
        .values(this.newConv(id, caller, req.kind, req, now, null, others.length + 1))
        .execute();
      await trx
        .insertInto("conversation_members")
        .values([
          { conversation_id: id, app_id: caller.app.id, identity: caller.identity, role: "owner", joined_at: now, last_read_seq: 0 },
          ...others.map((identity) => ({
            conversation_id: id,
            app_id: caller.app.id,
            identity,
            role: "member",
            joined_at: now,
            last_read_seq: 0,
          })),
        ])
        .execute();
    });
    const conversation = await this.view(caller, id);
    this.emit(
      caller.app.id,
      [caller.identity, ...others],
      CHAT_EVENTS.conversationUpdated,
      this.convEventOf(conversation, caller.identity),
    );
    return { conversation, created: true };
  }

  private convEventOf(c: Conversation, by: string): ConversationEvent {
    return { conversation_id: c.id, change: "created", by, name: c.name, custom: c.custom, closed: c.closed, kind: c.kind };
  }

  private newConv(
    id: string,
    caller: Caller,
    kind: string,
    req: CreateConversationRequest,
    now: number,
    key: string | null,
    count: number,
  ) {
    return {
      id,
      app_id: caller.app.id,
      kind,
      name: req.name ?? null,
      custom: req.custom ? JSON.stringify(req.custom) : null,
      created_by: caller.identity,
      direct_key: key,
      created_at: now,
      updated_at: now,
      last_active_at: now,
      last_seq: 0,
      closed_at: null,
      member_count: count,
    };
  }

  /** `max_chatrooms` counts the app's chatrooms that are open (not closed); closing one frees a slot. */
  private async checkChatroomLimit(trx: Transaction<Database>, app: AppRecord): Promise<void> {
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

  /** The caller's conversations, most recently active first, each with its last message and unread count. */
  async list(caller: Caller, opts: { limit: number; kind?: string | undefined }): Promise<Conversation[]> {
    requireCapability(caller.app, "chat");
    let q = this.db
      .selectFrom("conversation_members as cm")
      .innerJoin("conversations as c", "c.id", "cm.conversation_id")
      .selectAll("c")
      .select(["cm.role", "cm.last_read_seq"])
      .where("cm.app_id", "=", caller.app.id)
      .where("cm.identity", "=", caller.identity)
      .orderBy("c.last_active_at", "desc")
      .orderBy("c.id", "desc")
      .limit(opts.limit);
    if (opts.kind) q = q.where("c.kind", "=", opts.kind);
    const rows = await q.execute();
    return conversationsToWire(this.db, caller.app.id, caller.identity, this.cutoff(caller.app), rows);
  }

  /** Open chatrooms of the caller's app (discovery; the caller need not be a member). */
  async listChatrooms(caller: Caller, limit: number): Promise<Conversation[]> {
    requireCapability(caller.app, "chat");
    const rows = await this.db
      .selectFrom("conversations as c")
      .leftJoin("conversation_members as cm", (j) => j.onRef("cm.conversation_id", "=", "c.id").on("cm.identity", "=", caller.identity))
      .selectAll("c")
      .select(["cm.role", "cm.last_read_seq"])
      .where("c.app_id", "=", caller.app.id)
      .where("c.kind", "=", "chatroom")
      .where("c.closed_at", "is", null)
      .orderBy("c.last_active_at", "desc")
      .limit(limit)
      .execute();
    const list = await conversationsToWire(this.db, caller.app.id, caller.identity, this.cutoff(caller.app), rows);
    // Non-members see the room, not its messages.
    return list.map((c) => (c.role === null ? { ...c, last_message: null, unread_count: 0 } : c));
  }

  async get(caller: Caller, id: string): Promise<Conversation> {
    await this.access(this.db, caller, id);
    return this.view(caller, id);
  }

  /** Renames or changes custom data (owner or admin; either member of a direct conversation). */
  async update(caller: Caller, id: string, req: UpdateConversationRequest): Promise<Conversation> {
    const { conv, me } = await this.access(this.db, caller, id);
    if (conv.kind !== "direct") this.requireRole(me, "admin", "change the conversation");
    const patch: { updated_at: number; name?: string | null; custom?: string | null } = { updated_at: this.now() };
    if (req.name !== undefined) patch.name = req.name;
    if (req.custom !== undefined) patch.custom = req.custom === null ? null : JSON.stringify(req.custom);
    await this.db.updateTable("conversations").set(patch).where("id", "=", id).execute();
    const after = await this.conv(this.db, caller, id);
    this.emit(
      caller.app.id,
      await memberIdentities(this.db, id),
      CHAT_EVENTS.conversationUpdated,
      this.convEvent(after, "updated", caller.identity),
    );
    return this.view(caller, id);
  }

  /** Closes (no more sends; history stays readable) or reopens. Reopening a chatroom counts against `max_chatrooms`. */
  async setClosed(caller: Caller, id: string, closed: boolean): Promise<Conversation> {
    const changed = await this.db.transaction().execute(async (trx) => {
      const { conv, me } = await this.access(trx, caller, id, true);
      if (conv.kind !== "direct") this.requireRole(me, "admin", closed ? "close the conversation" : "reopen the conversation");
      if ((conv.closed_at !== null) === closed) return undefined;
      if (!closed && conv.kind === "chatroom") await this.checkChatroomLimit(trx, caller.app);
      const now = this.now();
      await trx
        .updateTable("conversations")
        .set({ closed_at: closed ? now : null, updated_at: now })
        .where("id", "=", id)
        .execute();
      return { ...conv, closed_at: closed ? now : null };
    });
    if (changed) {
      this.emit(
        caller.app.id,
        await memberIdentities(this.db, id),
        CHAT_EVENTS.conversationUpdated,
        this.convEvent(changed, closed ? "closed" : "reopened", caller.identity),
      );
    }
    return this.view(caller, id);
  }

  // ---------- members ----------

  async listMembers(caller: Caller, id: string): Promise<Member[]> {
    await this.access(this.db, caller, id);
    const rows = await this.db
      .selectFrom("conversation_members as cm")
      .leftJoin("chat_settings as s", (j) => j.onRef("s.app_id", "=", "cm.app_id").onRef("s.identity", "=", "cm.identity"))
      .select(["cm.identity", "cm.role", "cm.joined_at", "cm.last_read_seq", "s.share_read_receipts"])
      .where("cm.conversation_id", "=", id)
      .orderBy("cm.joined_at")
      .orderBy("cm.identity")
      .execute();
    return rows.map((r) => ({
      identity: r.identity,
      role: r.role as MemberRole,
      joined_at: iso(Number(r.joined_at)),
      // A user who turned receipts off shows no read position to others.
      last_read_seq: r.identity === caller.identity || r.share_read_receipts !== 0 ? Number(r.last_read_seq) : null,
    }));
  }

  /** Adds members to a group (owner or admin), within `max_group_members`. Already-members are ignored. */
  async addMembers(caller: Caller, id: string, identities: readonly string[]): Promise<Member[]> {
    const wanted = [...new Set(identities)];
    const added = await this.db.transaction().execute(async (trx) => {
      const { conv, me } = await this.access(trx, caller, id, true);
      if (conv.kind !== "group") throw ApiError.invalid(`members cannot be added to a ${conv.kind} conversation`);
      this.requireRole(me, "admin", "add members");
      const existing = new Set(
        (
          await trx
            .selectFrom("conversation_members")
            .select("identity")
            .where("conversation_id", "=", id)
            .where("identity", "in", wanted)
            .execute()
        ).map((r) => r.identity),
      );
      const fresh = wanted.filter((i) => !existing.has(i));
      if (fresh.length === 0) return [];
      const max = caller.app.limits.max_group_members;
      if (Number(conv.member_count) + fresh.length > max) throw ApiError.limitExceeded("max_group_members", max);
      await this.requireUsers(caller.app.id, fresh, trx);
      const now = this.now();
      await trx
        .insertInto("conversation_members")
        .values(
          fresh.map((identity) => ({
            conversation_id: id,
            app_id: caller.app.id,
            identity,
            role: "member",
            joined_at: now,
            last_read_seq: 0,
          })),
        )
        .execute();
      await trx
        .updateTable("conversations")
        .set((eb) => ({ member_count: eb("member_count", "+", fresh.length), updated_at: now }))
        .where("id", "=", id)
        .execute();
      const sys = await this.appendSystem(trx, conv, now, `${caller.identity} added ${fresh.join(", ")}`, {
        event: "member.added",
        identities: fresh,
        by: caller.identity,
      });
      return fresh.map((identity) => ({ identity, sys }));
    });
    if (added.length > 0) {
      const to = await memberIdentities(this.db, id);
      for (const a of added) {
        const ev: MemberEvent = { conversation_id: id, identity: a.identity, role: "member", by: caller.identity };
        this.emit(caller.app.id, to, CHAT_EVENTS.memberAdded, ev);
      }
      const sys = added[0]?.sys;
      if (sys) this.emit(caller.app.id, to, CHAT_EVENTS.messageNew, toMessage(sys, undefined));
    }
    return this.listMembers(caller, id);
  }

  /** Joins an open chatroom of the caller's app (idempotent). */
  async join(caller: Caller, id: string): Promise<Conversation> {
    requireCapability(caller.app, "chat");
    const joined = await this.db.transaction().execute(async (trx) => {
      const conv = await this.conv(trx, caller, id, true);
      if (conv.kind !== "chatroom") throw ApiError.notFound("chatroom");
      if (await this.membership(trx, id, caller.identity)) return false;
      if (conv.closed_at !== null) throw ApiError.conflict("this chatroom is closed", "closed");
      const now = this.now();
      // A newcomer starts with everything so far read: unread counts what arrives after joining.
      await trx
        .insertInto("conversation_members")
        .values({
          conversation_id: id,
          app_id: caller.app.id,
          identity: caller.identity,
          role: "member",
          joined_at: now,
          last_read_seq: Number(conv.last_seq),
        })
        .execute();
      await trx
        .updateTable("conversations")
        .set((eb) => ({ member_count: eb("member_count", "+", 1) }))
        .where("id", "=", id)
        .execute();
      return true;
    });
    if (joined) {
      const ev: MemberEvent = { conversation_id: id, identity: caller.identity, role: "member", by: caller.identity };
      this.emit(caller.app.id, await memberIdentities(this.db, id), CHAT_EVENTS.memberAdded, ev);
    }
    return this.view(caller, id);
  }

  /** Leaves a group or chatroom. When the owner leaves, the longest-standing admin (else member) becomes owner. */
  async leave(caller: Caller, id: string): Promise<void> {
    await this.removeMember(caller, id, caller.identity);
  }

  /**
   * Removes a member (owner: anyone; admin: plain members) or leaves (the caller themself).
   * Direct conversations have fixed members.
   */
  async removeMember(caller: Caller, id: string, identity: string): Promise<void> {
    const res = await this.db.transaction().execute(async (trx) => {
      const { conv, me } = await this.access(trx, caller, id, true);
      if (conv.kind === "direct") throw ApiError.forbidden("the members of a direct conversation cannot change");
      const self = identity === caller.identity;
      const target = self ? me : await this.membership(trx, id, identity);
      if (!target) throw ApiError.notFound("member");
      if (!self) {
        this.requireRole(me, "admin", "remove members");
        if (ROLE_RANK[target.role] >= ROLE_RANK[me.role]) throw ApiError.forbidden(`a ${me.role} cannot remove a ${target.role}`);
      }
      const now = this.now();
      await trx.deleteFrom("conversation_members").where("conversation_id", "=", id).where("identity", "=", identity).execute();
      await trx
        .updateTable("conversations")
        .set((eb) => ({ member_count: eb("member_count", "-", 1), updated_at: now }))
        .where("id", "=", id)
        .execute();
      let newOwner: string | undefined;
      if (target.role === "owner") {
        const next = await trx
          .selectFrom("conversation_members")
          .select(["identity", "role"])
          .where("conversation_id", "=", id)
          .orderBy(sql`case when role = 'admin' then 0 else 1 end`)
          .orderBy("joined_at")
          .orderBy("identity")
          .executeTakeFirst();
        if (next) {
          newOwner = next.identity;
          await trx
            .updateTable("conversation_members")
            .set({ role: "owner" })
            .where("conversation_id", "=", id)
            .where("identity", "=", next.identity)
            .execute();
        }
      }
      const sys =
        conv.kind === "group"
          ? await this.appendSystem(trx, conv, now, self ? `${identity} left` : `${caller.identity} removed ${identity}`, {
              event: self ? "member.left" : "member.removed",
              identity,
              by: caller.identity,
            })
          : undefined;
      return { role: target.role, newOwner, sys };
    });
    const remaining = await memberIdentities(this.db, id);
    const ev: MemberEvent = { conversation_id: id, identity, role: res.role, by: caller.identity };
    this.emit(caller.app.id, [...remaining, identity], CHAT_EVENTS.memberRemoved, ev);
    if (res.newOwner) {
      const up: MemberEvent = { conversation_id: id, identity: res.newOwner, role: "owner", by: caller.identity };
      this.emit(caller.app.id, remaining, CHAT_EVENTS.memberUpdated, up);
    }
    if (res.sys) this.emit(caller.app.id, remaining, CHAT_EVENTS.messageNew, toMessage(res.sys, undefined));
  }

  /** Makes a member an admin or back (owner only). */
  async setRole(caller: Caller, id: string, identity: string, role: "admin" | "member"): Promise<Member[]> {
    const changed = await this.db.transaction().execute(async (trx) => {
      const { conv, me } = await this.access(trx, caller, id, true);
      if (conv.kind === "direct") throw ApiError.forbidden("direct conversations have no roles");
      this.requireRole(me, "owner", "change roles");
      if (identity === caller.identity) throw ApiError.invalid("the owner's own role cannot change");
      const target = await this.membership(trx, id, identity);
      if (!target) throw ApiError.notFound("member");
      if (target.role === role) return false;
      await trx
        .updateTable("conversation_members")
        .set({ role })
        .where("conversation_id", "=", id)
        .where("identity", "=", identity)
        .execute();
      return true;
    });
    if (changed) {
      const ev: MemberEvent = { conversation_id: id, identity, role, by: caller.identity };
      this.emit(caller.app.id, await memberIdentities(this.db, id), CHAT_EVENTS.memberUpdated, ev);
    }
    return this.listMembers(caller, id);
  }

  // ---------- messages ----------

  /** Allocates the next seq under the conversation lock (taken by `access(…, lock=true)`). */
  private async nextSeq(trx: Transaction<Database>, id: string, now: number): Promise<number> {
    const r = await trx
      .updateTable("conversations")
      .set((eb) => ({ last_seq: eb("last_seq", "+", 1), last_active_at: now, updated_at: now }))
      .where("id", "=", id)
      .returning("last_seq")
      .executeTakeFirstOrThrow();
    return Number(r.last_seq);
  }

  private async appendSystem(
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

  /**
   * Stores a message and only then delivers it. The same `client_msg_id` from the same sender in the same
   * conversation returns the message stored the first time (`created: false`) and delivers nothing again.
   */
  async send(caller: Caller, id: string, req: SendMessageRequest): Promise<{ message: Message; created: boolean }> {
    requireCapability(caller.app, "chat");
    // Cheap path for retries: no lock, no attachment checks.
    const prior = await this.findByClientId(id, caller, req.client_msg_id);
    if (prior) {
      await this.access(this.db, caller, id);
      return { message: (await messagesToWire(this.db, [prior]))[0] as Message, created: false };
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
        const { conv } = await this.access(trx, caller, id, true);
        const again = await this.findByClientId(id, caller, req.client_msg_id, trx);
        if (again) throw new AlreadySent(again);
        if (conv.closed_at !== null) throw ApiError.conflict("this conversation is closed", "closed");
        if (req.reply_to) {
          const parent = await trx
            .selectFrom("messages")
            .select("id")
            .where("id", "=", req.reply_to)
            .where("conversation_id", "=", id)
            .where("created_at", ">=", this.cutoff(caller.app))
            .executeTakeFirst();
          if (!parent) throw ApiError.invalid("reply_to is not a message of this conversation");
        }
        const now = this.now();
        const seq = await this.nextSeq(trx, id, now);
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
        await trx.insertInto("messages").values(r).execute();
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

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === "23505" || e.code === "SQLITE_CONSTRAINT_UNIQUE" || /UNIQUE constraint failed/.test(e.message ?? "");
}
