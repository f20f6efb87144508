import { CHAT_EVENTS, type Member, type MemberEvent, type MemberPage, type MemberRole } from "@utd-stream/protocol";
import { type Kysely, sql } from "kysely";
import { iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import { webhookEvent } from "../../core/outbox.js";
import type { Database } from "../../store/schema.js";
import { type Caller, ROLE_RANK, requireRole } from "./access.js";
import type { ChatParts } from "./deps.js";
import { notify } from "./events.js";
import { pageOf, parseCursor } from "./paging.js";
import { memberIdentities, toMessage } from "./queries.js";

/** Members of conversations: list, add to a group, remove or leave, roles. */
export class MembersService {
  private readonly db: Kysely<Database>;
  constructor(private readonly d: ChatParts) {
    this.db = d.store.db;
  }

  async list(caller: Caller, id: string): Promise<Member[]> {
    return (await this.page(caller, id, {})).members;
  }

  /** The identities of a conversation the caller belongs to (conversation typing); checks access like a read. */
  async identities(caller: Caller, id: string): Promise<string[]> {
    await this.d.access.member(this.db, caller, id);
    return memberIdentities(this.db, id);
  }

  /**
   * Members in join order. With `limit`, one page of them and the cursor of the next (chatrooms have no
   * member cap, so clients page through them).
   */
  async page(caller: Caller, id: string, page: { limit?: number; after?: string | undefined }): Promise<MemberPage> {
    await this.d.access.member(this.db, caller, id);
    let q = this.db
      .selectFrom("conversation_members as cm")
      .leftJoin("chat_settings as s", (j) => j.onRef("s.app_id", "=", "cm.app_id").onRef("s.identity", "=", "cm.identity"))
      .select(["cm.identity", "cm.role", "cm.joined_at", "cm.last_read_seq", "s.share_read_receipts"])
      .where("cm.conversation_id", "=", id)
      .orderBy("cm.joined_at")
      .orderBy("cm.identity");
    const after = parseCursor(page.after);
    if (after) {
      q = q.where((eb) =>
        eb.or([eb("cm.joined_at", ">", after.at), eb.and([eb("cm.joined_at", "=", after.at), eb("cm.identity", ">", after.key)])]),
      );
    }
    if (page.limit !== undefined) q = q.limit(page.limit + 1);
    const { page: rows, next } = pageOf(await q.execute(), page.limit, (r) => ({ at: Number(r.joined_at), key: r.identity }));
    const members = rows.map((r) => ({
      identity: r.identity,
      role: r.role as MemberRole,
      joined_at: iso(Number(r.joined_at)),
      // A user who turned receipts off shows no read position to others.
      last_read_seq: r.identity === caller.identity || r.share_read_receipts !== 0 ? Number(r.last_read_seq) : null,
    }));
    return { members, next_after: next };
  }

  /** Adds members to a group (owner or admin), within `max_group_members`. Already-members are ignored. */
  async add(caller: Caller, id: string, identities: readonly string[]): Promise<Member[]> {
    const wanted = [...new Set(identities)];
    const added = await this.db.transaction().execute(async (trx) => {
      const { conv, me } = await this.d.access.member(trx, caller, id, true);
      if (conv.kind !== "group") throw ApiError.invalid(`members cannot be added to a ${conv.kind} conversation`);
      requireRole(me, "admin", "add members");
      const existing = await trx
        .selectFrom("conversation_members")
        .select("identity")
        .where("conversation_id", "=", id)
        .where("identity", "in", wanted)
        .execute();
      const known = new Set(existing.map((r) => r.identity));
      const fresh = wanted.filter((i) => !known.has(i));
      if (fresh.length === 0) return undefined;
      const max = caller.app.limits.max_group_members;
      if (Number(conv.member_count) + fresh.length > max) throw ApiError.limitExceeded("max_group_members", max);
      await this.d.records.requireUsers(caller.app.id, fresh, trx);
      const now = this.d.clock.now();
      // Newcomers can read the history, but it does not count as unread for them.
      await this.d.records.addMembers(trx, conv, fresh, now, Number(conv.last_seq));
      for (const identity of fresh) {
        await this.d.outbox?.write(
          trx,
          webhookEvent(caller.app.id, "member.added", { conversation_id: id, identity, role: "member", by: caller.identity }, `conv:${id}`),
        );
      }
      const sys = await this.d.records.appendSystem(trx, conv, now, `${caller.identity} added ${fresh.join(", ")}`, {
        event: "member.added",
        identities: fresh,
        by: caller.identity,
      });
      // The system message takes a seq: it goes out in the conversation's order (see SeqOrder), to the
      // members as of it (read under the lock).
      const slot = this.d.order.claim(id, sys.seq);
      try {
        const to = await memberIdentities(trx, id);
        await slot.recorded;
        return { fresh, sys, slot, to };
      } catch (err) {
        this.d.order.drop(slot);
        throw err;
      }
    });
    if (added) {
      this.d.outbox?.wake();
      const { to } = added;
      // The change is committed either way: a failed announcement (streams unreachable) does not fail it.
      await this.d.order
        .ready(added.slot, () => {
          for (const identity of added.fresh) {
            const ev: MemberEvent = { conversation_id: id, identity, role: "member", by: caller.identity };
            notify(this.d.events, caller.app.id, to, CHAT_EVENTS.memberAdded, ev);
          }
          return notify(this.d.events, caller.app.id, to, CHAT_EVENTS.messageNew, toMessage(added.sys, undefined));
        })
        .catch(() => undefined);
    }
    return this.list(caller, id);
  }

  /** Leaves a group or chatroom. When the owner leaves, the longest-standing admin (else member) becomes owner. */
  async leave(caller: Caller, id: string): Promise<void> {
    await this.remove(caller, id, caller.identity);
  }

  /**
   * Removes a member (owner: anyone; admin: plain members) or leaves (the caller themself).
   * Direct conversations have fixed members.
   */
  async remove(caller: Caller, id: string, identity: string): Promise<void> {
    const res = await this.db.transaction().execute(async (trx) => {
      const { conv, me } = await this.d.access.member(trx, caller, id, true);
      if (conv.kind === "direct") throw ApiError.forbidden("the members of a direct conversation cannot change");
      // Support membership follows its state (visitor + assignee); claim, transfer and close change it.
      if (conv.kind === "support") throw ApiError.forbidden("support conversation members change through claim, transfer and close");
      const self = identity === caller.identity;
      const target = self ? me : await this.d.access.membership(trx, id, identity);
      if (!target) throw ApiError.notFound("member");
      if (!self) {
        requireRole(me, "admin", "remove members");
        if (ROLE_RANK[target.role] >= ROLE_RANK[me.role]) throw ApiError.forbidden(`a ${me.role} cannot remove a ${target.role}`);
      }
      const now = this.d.clock.now();
      await this.d.records.removeMember(trx, [id], identity, now);
      await this.d.outbox?.write(
        trx,
        webhookEvent(caller.app.id, "member.removed", { conversation_id: id, identity, by: caller.identity }, `conv:${id}`),
      );
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
          ? await this.d.records.appendSystem(trx, conv, now, self ? `${identity} left` : `${caller.identity} removed ${identity}`, {
              event: self ? "member.left" : "member.removed",
              identity,
              by: caller.identity,
            })
          : undefined;
      // A system message takes a seq: claimed under the lock, announced in the conversation's order.
      const slot = sys ? this.d.order.claim(id, sys.seq) : undefined;
      try {
        const remaining = await memberIdentities(trx, id);
        await slot?.recorded;
        return { role: target.role, newOwner, sys, slot, remaining };
      } catch (err) {
        if (slot) this.d.order.drop(slot);
        throw err;
      }
    });
    this.d.outbox?.wake();
    const { remaining } = res;
    const announce = () => {
      const ev: MemberEvent = { conversation_id: id, identity, role: res.role, by: caller.identity };
      notify(this.d.events, caller.app.id, [...remaining, identity], CHAT_EVENTS.memberRemoved, ev);
      if (res.newOwner) {
        const up: MemberEvent = { conversation_id: id, identity: res.newOwner, role: "owner", by: caller.identity };
        notify(this.d.events, caller.app.id, remaining, CHAT_EVENTS.memberUpdated, up);
      }
      if (res.sys) return notify(this.d.events, caller.app.id, remaining, CHAT_EVENTS.messageNew, toMessage(res.sys, undefined));
    };
    if (res.slot)
      await this.d.order.ready(res.slot, announce).catch(() => undefined); // committed either way (see add)
    else announce();
  }

  /** Makes a member an admin or back (owner only). */
  async setRole(caller: Caller, id: string, identity: string, role: "admin" | "member"): Promise<Member[]> {
    const changed = await this.db.transaction().execute(async (trx) => {
      const { conv, me } = await this.d.access.member(trx, caller, id, true);
      if (conv.kind === "direct") throw ApiError.forbidden("direct conversations have no roles");
      requireRole(me, "owner", "change roles");
      if (identity === caller.identity) throw ApiError.invalid("the owner's own role cannot change");
      const target = await this.d.access.membership(trx, id, identity);
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
      notify(this.d.events, caller.app.id, await memberIdentities(this.db, id), CHAT_EVENTS.memberUpdated, ev);
    }
    return this.list(caller, id);
  }
}
