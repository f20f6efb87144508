import {
  CHAT_EVENTS,
  type Conversation,
  type CreateConversationRequest,
  type Member,
  type MemberEvent,
  type MemberPage,
  type MemberRole,
  type UpdateConversationRequest,
} from "@utd-stream/protocol";
import { sql } from "kysely";
import { iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import { requireCapability } from "../auth/service.js";
import { type Caller, ChatCore, ROLE_RANK } from "./core.js";
import { conversationRow, conversationsToWire, memberIdentities, memberRow, toMessage } from "./queries.js";

/** Conversations and their members: create, list, close/reopen, roles, add/remove/leave, chatrooms. */
export abstract class ChatConversations extends ChatCore {
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
          .values(conversationRow(id, caller.app.id, caller.identity, "direct", req, now, key, 2))
          .onConflict((oc) => oc.columns(["app_id", "direct_key"]).doNothing())
          .executeTakeFirst();
        if (Number(ins.numInsertedOrUpdatedRows ?? 0) === 0) return false;
        await trx
          .insertInto("conversation_members")
          .values([caller.identity, peer].map((identity) => memberRow(id, caller.app.id, identity, "member", now)))
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
        .values(conversationRow(id, caller.app.id, caller.identity, req.kind, req, now, null, others.length + 1))
        .execute();
      await trx
        .insertInto("conversation_members")
        .values([
          memberRow(id, caller.app.id, caller.identity, "owner", now),
          ...others.map((identity) => memberRow(id, caller.app.id, identity, "member", now)),
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

  /** The caller's conversations, most recently active first, each with its last message and unread count. */
  async list(
    caller: Caller,
    opts: { limit: number; kind?: string | undefined; before?: string | undefined },
  ): Promise<{ conversations: Conversation[]; next_before: string | null }> {
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
    const { page, next_before } = pageOf(await q.execute(), opts.limit);
    return {
      conversations: await conversationsToWire(this.db, caller.app.id, caller.identity, this.cutoff(caller.app), page),
      next_before,
    };
  }

  /** Open chatrooms of the caller's app, most recently active first (discovery; the caller need not be a member). */
  async listChatrooms(
    caller: Caller,
    opts: { limit: number; before?: string | undefined },
  ): Promise<{ conversations: Conversation[]; next_before: string | null }> {
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
    const { page, next_before } = pageOf(await q.execute(), opts.limit);
    const list = await conversationsToWire(this.db, caller.app.id, caller.identity, this.cutoff(caller.app), page);
    return {
      // Non-members see the room, not its messages.
      conversations: list.map((c) => (c.role === null ? { ...c, last_message: null, unread_count: 0 } : c)),
      next_before,
    };
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
  async setClosed(caller: Caller, id: string, closed: boolean, opts: { moderator?: boolean } = {}): Promise<Conversation> {
    const changed = await this.db.transaction().execute(async (trx) => {
      // A moderator (the app's admin API) acts on any conversation of the app, member or not.
      const conv = opts.moderator ? await this.conv(trx, caller, id, true) : await this.memberConv(trx, caller, id, closed);
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

  /** The conversation, for a member allowed to close or reopen it (group/chatroom: admin or owner). */
  private async memberConv(trx: Parameters<ChatConversations["conv"]>[0], caller: Caller, id: string, closing: boolean) {
    const { conv, me } = await this.access(trx, caller, id, true);
    if (conv.kind !== "direct") this.requireRole(me, "admin", closing ? "close the conversation" : "reopen the conversation");
    return conv;
  }

  // ---------- members ----------

  async listMembers(caller: Caller, id: string): Promise<Member[]> {
    return (await this.pageMembers(caller, id, {})).members;
  }

  /**
   * Members in join order. With `limit`, one page of them and the cursor of the next (chatrooms have no
   * member cap, so clients page through them).
   */
  async pageMembers(caller: Caller, id: string, page: { limit?: number; after?: string | undefined }): Promise<MemberPage> {
    await this.access(this.db, caller, id);
    let q = this.db
      .selectFrom("conversation_members as cm")
      .leftJoin("chat_settings as s", (j) => j.onRef("s.app_id", "=", "cm.app_id").onRef("s.identity", "=", "cm.identity"))
      .select(["cm.identity", "cm.role", "cm.joined_at", "cm.last_read_seq", "s.share_read_receipts"])
      .where("cm.conversation_id", "=", id)
      .orderBy("cm.joined_at")
      .orderBy("cm.identity");
    const cut = page.after?.indexOf("_") ?? -1;
    if (page.after && cut > 0) {
      const at = Number(page.after.slice(0, cut));
      const who = page.after.slice(cut + 1);
      q = q.where((eb) => eb.or([eb("cm.joined_at", ">", at), eb.and([eb("cm.joined_at", "=", at), eb("cm.identity", ">", who)])]));
    }
    if (page.limit !== undefined) q = q.limit(page.limit + 1);
    const all = await q.execute();
    const rows = page.limit !== undefined ? all.slice(0, page.limit) : all;
    const last = rows.at(-1);
    const more = page.limit !== undefined && all.length > page.limit && last;
    const members = rows.map((r) => ({
      identity: r.identity,
      role: r.role as MemberRole,
      joined_at: iso(Number(r.joined_at)),
      // A user who turned receipts off shows no read position to others.
      last_read_seq: r.identity === caller.identity || r.share_read_receipts !== 0 ? Number(r.last_read_seq) : null,
    }));
    return { members, next_after: more ? `${Number(last.joined_at)}_${last.identity}` : null };
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
        // Newcomers can read the history, but it does not count as unread for them.
        .values(fresh.map((identity) => memberRow(id, caller.app.id, identity, "member", now, Number(conv.last_seq))))
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
        .values(memberRow(id, caller.app.id, caller.identity, "member", now, Number(conv.last_seq)))
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
      // Support membership follows its state (visitor + assignee); claim, transfer and close change it.
      if (conv.kind === "support") throw ApiError.forbidden("support conversation members change through claim, transfer and close");
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
}

/**
 * Conversation lists page newest first by (`last_active_at`, `id`) of the alias `c`; the cursor
 * `<last_active_at ms>_<id>` is the last row of the previous page. Both lists share this paging.
 */
function olderThan(before: string | undefined) {
  if (!before) return undefined;
  const i = before.indexOf("_");
  const at = Number(before.slice(0, i));
  const id = before.slice(i + 1);
  return sql<boolean>`(c.last_active_at < ${at} or (c.last_active_at = ${at} and c.id < ${id}))`;
}

/** The first `limit` rows (the query fetched one more to know) and the cursor of the next page. */
function pageOf<R extends { last_active_at: number; id: string }>(rows: R[], limit: number): { page: R[]; next_before: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, next_before: rows.length > limit && last ? `${Number(last.last_active_at)}_${last.id}` : null };
}
