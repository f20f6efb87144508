import {
  CHAT_EVENTS,
  type Conversation,
  type ConversationEvent,
  type CreateConversationRequest,
  type MemberEvent,
  type UpdateConversationRequest,
} from "@utd-stream/protocol";
import { type Kysely, sql, type Transaction } from "kysely";
import { type AppRecord, requireCapability } from "../../core/caller.js";
import { ApiError } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import { webhookEvent } from "../../core/outbox.js";
import type { Database } from "../../store/schema.js";
import { type Caller, type Db, requireRole } from "./access.js";
import type { ChatParts } from "./deps.js";
import { conversationEvent, createdEvent, notify } from "./events.js";
import { type Position, pageOf, parseCursor } from "./paging.js";
import { conversationsToWire, memberIdentities } from "./queries.js";

type Page = { conversations: Conversation[]; next_before: string | null };

/** Conversations: create, list, discover and join chatrooms, rename, close and reopen. */
export class ConversationsService {
  private readonly db: Kysely<Database>;
  constructor(private readonly d: ChatParts) {
    this.db = d.store.db;
  }

  /**
   * Creates a conversation. `direct` returns the existing one for the pair when there is one
   * (`created: false`). Groups count the creator towards `max_group_members`; chatrooms count towards
   * `max_chatrooms` (open chatrooms of the app).
   */
  async create(caller: Caller, req: CreateConversationRequest): Promise<{ conversation: Conversation; created: boolean }> {
    requireCapability(caller.app, "chat");
    const now = this.d.clock.now();
    const others = [...new Set(req.members ?? [])].filter((m) => m !== caller.identity);
    const base = {
      id: newId("conv", now),
      appId: caller.app.id,
      kind: req.kind,
      createdBy: caller.identity,
      name: req.name,
      custom: req.custom,
    };
    if (req.kind === "direct") {
      if ((req.members ?? []).length !== 1 || others.length !== 1) {
        throw ApiError.invalid("a direct conversation needs exactly one other member");
      }
      const [peer] = others as [string];
      await this.d.records.requireUsers(caller.app.id, [peer]);
      await this.d.blocks?.requireNotBlocked(caller.app.id, caller.identity, peer);
      const directKey = [caller.identity, peer].sort().join(" ");
      const members = [caller.identity, peer].map((identity) => ({ identity, role: "member" as const }));
      const created = await this.db.transaction().execute(async (trx) => {
        const made = await this.d.records.createConversation(trx, { ...base, directKey, members }, now);
        if (made)
          await this.d.outbox?.write(
            trx,
            webhookEvent(
              caller.app.id,
              "conversation.created",
              { conversation: newConversationEvent(base, caller.identity) },
              `conv:${base.id}`,
            ),
          );
        return made;
      });
      this.d.outbox?.wake();
      const row = await this.db
        .selectFrom("conversations")
        .select("id")
        .where("app_id", "=", caller.app.id)
        .where("direct_key", "=", directKey)
        .executeTakeFirstOrThrow();
      const conversation = await this.view(caller, row.id);
      if (created)
        notify(
          this.d.events,
          caller.app.id,
          conversation.members,
          CHAT_EVENTS.conversationUpdated,
          createdEvent(conversation, caller.identity),
        );
      return { conversation, created };
    }
    if (req.kind === "chatroom" && others.length > 0) throw ApiError.invalid("chatrooms are joined, not created with members");
    if (req.kind === "group") {
      const max = caller.app.limits.max_group_members;
      if (others.length + 1 > max) throw ApiError.limitExceeded("max_group_members", max);
      await this.d.records.requireUsers(caller.app.id, others);
    }
    const members = [
      { identity: caller.identity, role: "owner" as const },
      ...others.map((identity) => ({ identity, role: "member" as const })),
    ];
    await this.db.transaction().execute(async (trx) => {
      if (req.kind === "chatroom") await this.checkChatroomLimit(trx, caller.app);
      await this.d.records.createConversation(trx, { ...base, members }, now);
      await this.d.outbox?.write(
        trx,
        webhookEvent(
          caller.app.id,
          "conversation.created",
          { conversation: newConversationEvent(base, caller.identity) },
          `conv:${base.id}`,
        ),
      );
    });
    this.d.outbox?.wake();
    const conversation = await this.view(caller, base.id);
    notify(
      this.d.events,
      caller.app.id,
      [caller.identity, ...others],
      CHAT_EVENTS.conversationUpdated,
      createdEvent(conversation, caller.identity),
    );
    return { conversation, created: true };
  }

  /** The caller's conversations, most recently active first, each with its last message and unread count. */
  async list(caller: Caller, opts: { limit: number; kind?: string | undefined; before?: string | undefined }): Promise<Page> {
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
      .limit(opts.limit + 1);
    if (opts.kind) q = q.where("c.kind", "=", opts.kind);
    const older = olderThan(opts.before);
    if (older) q = q.where(older);
    const { page, next } = pageOf(await q.execute(), opts.limit, activity);
    return {
      conversations: await conversationsToWire(this.db, caller.app.id, caller.identity, this.d.access.cutoff(caller.app), page),
      next_before: next,
    };
  }

  /** Open chatrooms of the caller's app, most recently active first (discovery; the caller need not be a member). */
  async listChatrooms(caller: Caller, opts: { limit: number; before?: string | undefined }): Promise<Page> {
    requireCapability(caller.app, "chat");
    let q = this.db
      .selectFrom("conversations as c")
      .leftJoin("conversation_members as cm", (j) => j.onRef("cm.conversation_id", "=", "c.id").on("cm.identity", "=", caller.identity))
      .selectAll("c")
      .select(["cm.role", "cm.last_read_seq"])
      .where("c.app_id", "=", caller.app.id)
      .where("c.kind", "=", "chatroom")
      .where("c.closed_at", "is", null)
      .orderBy("c.last_active_at", "desc")
      .orderBy("c.id", "desc")
      .limit(opts.limit + 1);
    const older = olderThan(opts.before);
    if (older) q = q.where(older);
    const { page, next } = pageOf(await q.execute(), opts.limit, activity);
    const list = await conversationsToWire(this.db, caller.app.id, caller.identity, this.d.access.cutoff(caller.app), page);
    return {
      // Non-members see the room, not its messages.
      conversations: list.map((c) => (c.role === null ? { ...c, last_message: null, unread_count: 0, mention_count: 0, muted: false } : c)),
      next_before: next,
    };
  }

  async get(caller: Caller, id: string): Promise<Conversation> {
    await this.d.access.member(this.db, caller, id);
    return this.view(caller, id);
  }

  /** The caller's view of a conversation (role, read position, unread count, last message); checks nothing. */
  async view(caller: Caller, id: string): Promise<Conversation> {
    const row = await this.db
      .selectFrom("conversations as c")
      .leftJoin("conversation_members as cm", (j) => j.onRef("cm.conversation_id", "=", "c.id").on("cm.identity", "=", caller.identity))
      .selectAll("c")
      .select(["cm.role", "cm.last_read_seq"])
      .where("c.id", "=", id)
      .executeTakeFirstOrThrow();
    const [c] = await conversationsToWire(this.db, caller.app.id, caller.identity, this.d.access.cutoff(caller.app), [row]);
    if (!c) throw ApiError.notFound("conversation");
    return c;
  }

  /** Renames or changes custom data (owner or admin; either member of a direct conversation). */
  async update(caller: Caller, id: string, req: UpdateConversationRequest): Promise<Conversation> {
    const { conv, me } = await this.d.access.member(this.db, caller, id);
    if (conv.kind !== "direct") requireRole(me, "admin", "change the conversation");
    const patch: { updated_at: number; name?: string | null; custom?: string | null } = { updated_at: this.d.clock.now() };
    if (req.name !== undefined) patch.name = req.name;
    if (req.custom !== undefined) patch.custom = req.custom === null ? null : JSON.stringify(req.custom);
    const after = await this.db.transaction().execute(async (trx) => {
      await trx.updateTable("conversations").set(patch).where("id", "=", id).execute();
      const row = await this.d.access.conversation(trx, caller, id);
      await this.d.outbox?.write(
        trx,
        webhookEvent(
          caller.app.id,
          "conversation.updated",
          { conversation: conversationEvent(row, "updated", caller.identity) },
          `conv:${id}`,
        ),
      );
      return row;
    });
    this.d.outbox?.wake();
    const to = await memberIdentities(this.db, id);
    notify(this.d.events, caller.app.id, to, CHAT_EVENTS.conversationUpdated, conversationEvent(after, "updated", caller.identity));
    return this.view(caller, id);
  }

  /** Closes (no more sends; history stays readable) or reopens. Reopening a chatroom counts against `max_chatrooms`. */
  async setClosed(caller: Caller, id: string, closed: boolean, opts: { moderator?: boolean } = {}): Promise<Conversation> {
    const changed = await this.db.transaction().execute(async (trx) => {
      // A moderator (the app's admin API) acts on any conversation of the app, member or not.
      const conv = opts.moderator ? await this.d.access.conversation(trx, caller, id, true) : await this.closer(trx, caller, id, closed);
      if ((conv.closed_at !== null) === closed) return undefined;
      if (!closed && conv.kind === "chatroom") await this.checkChatroomLimit(trx, caller.app);
      const now = this.d.clock.now();
      await this.d.records.setClosed(trx, id, closed, now);
      const after = { ...conv, closed_at: closed ? now : null };
      await this.d.outbox?.write(
        trx,
        webhookEvent(
          caller.app.id,
          "conversation.updated",
          { conversation: conversationEvent(after, closed ? "closed" : "reopened", caller.identity) },
          `conv:${id}`,
        ),
      );
      return after;
    });
    if (changed) {
      this.d.outbox?.wake();
      const ev = conversationEvent(changed, closed ? "closed" : "reopened", caller.identity);
      notify(this.d.events, caller.app.id, await memberIdentities(this.db, id), CHAT_EVENTS.conversationUpdated, ev);
    }
    return this.view(caller, id);
  }

  /** The conversation, for a member allowed to close or reopen it (group/chatroom: admin or owner). */
  private async closer(trx: Db, caller: Caller, id: string, closing: boolean) {
    const { conv, me } = await this.d.access.member(trx, caller, id, true);
    if (conv.kind !== "direct") requireRole(me, "admin", closing ? "close the conversation" : "reopen the conversation");
    return conv;
  }

  /** Joins an open chatroom of the caller's app (idempotent). */
  async join(caller: Caller, id: string): Promise<Conversation> {
    requireCapability(caller.app, "chat");
    const joined = await this.db.transaction().execute(async (trx) => {
      const conv = await this.d.access.conversation(trx, caller, id, true);
      if (conv.kind !== "chatroom") throw ApiError.notFound("chatroom");
      if (await this.d.access.membership(trx, id, caller.identity)) return false;
      if (conv.closed_at !== null) throw ApiError.conflict("this chatroom is closed", "closed");
      // A newcomer starts with everything so far read: unread counts what arrives after joining.
      const added = (await this.d.records.addMembers(trx, conv, [caller.identity], this.d.clock.now(), Number(conv.last_seq))) > 0;
      if (added)
        await this.d.outbox?.write(
          trx,
          webhookEvent(
            caller.app.id,
            "member.added",
            { conversation_id: id, identity: caller.identity, role: "member", by: caller.identity },
            `conv:${id}`,
          ),
        );
      return added;
    });
    if (joined) {
      this.d.outbox?.wake();
      const ev: MemberEvent = { conversation_id: id, identity: caller.identity, role: "member", by: caller.identity };
      notify(this.d.events, caller.app.id, await memberIdentities(this.db, id), CHAT_EVENTS.memberAdded, ev);
    }
    return this.view(caller, id);
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
}

/** Conversation lists page newest first by (`last_active_at`, `id`) of the alias `c`. */
function activity(r: { last_active_at: number; id: string }): Position {
  return { at: Number(r.last_active_at), key: r.id };
}

/** Rows of the alias `c` after the cursor's position in newest-first order. */
function olderThan(before: string | undefined) {
  const p = parseCursor(before);
  if (!p) return undefined;
  return sql<boolean>`(c.last_active_at < ${p.at} or (c.last_active_at = ${p.at} and c.id < ${p.key}))`;
}

/** The `conversation.created` view of a conversation being created (inside its transaction, before any read-back). */
function newConversationEvent(
  base: { id: string; kind: string; name?: string | null | undefined; custom?: Record<string, unknown> | null | undefined },
  by: string,
): ConversationEvent {
  return {
    conversation_id: base.id,
    change: "created",
    by,
    name: base.name ?? null,
    custom: (base.custom ?? null) as ConversationEvent["custom"],
    closed: false,
    kind: base.kind as ConversationEvent["kind"],
  };
}
