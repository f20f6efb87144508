import type { MemberRole } from "@utd-stream/protocol";
import type { Kysely, Transaction } from "kysely";
import { type AppRecord, type Caller, requireCapability } from "../../core/caller.js";
import type { Clock } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import { ReadCache } from "../../core/read-cache.js";
import type { Store } from "../../store/port.js";
import { Prepared } from "../../store/prepared.js";
import type { Database } from "../../store/schema.js";
import { type ConversationRow, retentionCutoff } from "./queries.js";

export type { Caller } from "../../core/caller.js";

export type Db = Kysely<Database> | Transaction<Database>;

/** A conversation of an app, with one identity's role and read marker (null when not a member). */
function memberQuery(db: Kysely<Database>, identity: string, id: string, appId: string) {
  return db
    .selectFrom("conversations as c")
    .leftJoin("conversation_members as cm", (j) => j.onRef("cm.conversation_id", "=", "c.id").on("cm.identity", "=", identity))
    .selectAll("c")
    .select(["cm.role as my_role", "cm.last_read_seq as my_last_read_seq"])
    .where("c.id", "=", id)
    .where("c.app_id", "=", appId);
}
export type Membership = { role: MemberRole; last_read_seq: number };

export const ROLE_RANK: Record<MemberRole, number> = { owner: 3, admin: 2, member: 1 };

/** Refuses (`forbidden`) a member whose role is below `min`; `what` completes "only a … may …". */
export function requireRole(me: Membership, min: MemberRole, what: string): void {
  if (ROLE_RANK[me.role] < ROLE_RANK[min]) throw ApiError.forbidden(`only a ${min} or above may ${what}`);
}

/** How long a send may reuse the conversation row and membership an earlier send of the same member read. */
const SEND_ACCESS_MS = 2_000;
/** At most this many reused send checks are kept (the oldest goes first). */
const SEND_ACCESS_MAX = 10_000;

/**
 * The one access check of chat, injected into each chat service: the chat capability, tenancy
 * (another app's ids are `not_found`), membership, and the retention window the caller may read.
 * On PostgreSQL `lock` takes the conversation's row lock, which serialises everything that changes
 * a conversation (seq, members).
 */
export class ChatAccess {
  private readonly memberOf = new Prepared(memberQuery);
  /** `member` answers reused by sends (see `memberForSend`), by app, conversation and identity. */
  private readonly sendChecks = new ReadCache<{ conv: ConversationRow; me: Membership }>(SEND_ACCESS_MS, SEND_ACCESS_MAX);

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** The oldest creation time still served to `app` under its plan's `history_days` (0: no limit). */
  cutoff(app: AppRecord): number {
    return retentionCutoff(app.limits.history_days, this.clock.now());
  }

  /** A conversation of the caller's app, member or not (`not_found` otherwise). */
  async conversation(db: Db, caller: Caller, id: string, lock = false): Promise<ConversationRow> {
    let q = db.selectFrom("conversations").selectAll().where("id", "=", id).where("app_id", "=", caller.app.id);
    if (lock && this.store.dialect === "postgres") q = q.forUpdate();
    const row = await q.executeTakeFirst();
    if (!row) throw ApiError.notFound("conversation");
    return row;
  }

  async membership(db: Db, conversationId: string, identity: string): Promise<Membership | undefined> {
    const m = await db
      .selectFrom("conversation_members")
      .select(["role", "last_read_seq"])
      .where("conversation_id", "=", conversationId)
      .where("identity", "=", identity)
      .executeTakeFirst();
    return m ? { role: m.role as MemberRole, last_read_seq: Number(m.last_read_seq) } : undefined;
  }

  /**
   * `member` for a message send, reusing for up to two seconds what the member's previous send read here
   * (an open conversation only; `fresh` reads anew and replaces it). A send may rely on it because it
   * re-checks, in the statement that takes the conversation's row lock (or just after, under it), that the
   * conversation is still open and the sender still a member — a stale entry costs that send a retry with
   * `fresh` (which drops the entry) and never stores a message — and because it takes nothing
   * else from the entry that can change but the conversation's name, which it reads under the lock too (or
   * anew, `reused` telling it, when it runs alone).
   * Removal or closing on another node needs no message here for the same reason.
   */
  async memberForSend(
    db: Db,
    caller: Caller,
    id: string,
    fresh: boolean,
  ): Promise<{ conv: ConversationRow; me: Membership; reused: boolean }> {
    requireCapability(caller.app, "chat");
    const key = `${caller.app.id}\n${id}\n${caller.identity}`;
    const now = this.clock.now();
    if (fresh) this.sendChecks.delete(key);
    const hit = this.sendChecks.get(key, now);
    if (hit) return { ...hit, reused: true };
    const got = await this.member(db, caller, id);
    if (got.conv.closed_at === null) this.sendChecks.set(key, got, now);
    else this.sendChecks.delete(key);
    return { ...got, reused: false };
  }

  /** The conversation and the caller's membership; non-members get `not_found` (or `forbidden` for a chatroom). */
  async member(db: Db, caller: Caller, id: string, lock = false): Promise<{ conv: ConversationRow; me: Membership }> {
    requireCapability(caller.app, "chat");
    // One query for the conversation (in the caller's app) and the caller's membership; prepared once
    // (it runs before every send), except the locking variant.
    const row =
      lock && this.store.dialect === "postgres"
        ? await memberQuery(db, caller.identity, id, caller.app.id).forUpdate("c").executeTakeFirst()
        : await this.memberOf.first(db, caller.identity, id, caller.app.id);
    if (!row) throw ApiError.notFound("conversation");
    const { my_role, my_last_read_seq, ...conv } = row;
    if (my_role === null) {
      if (conv.kind === "chatroom") throw ApiError.forbidden("join the chatroom first");
      throw ApiError.notFound("conversation");
    }
    return { conv, me: { role: my_role as MemberRole, last_read_seq: Number(my_last_read_seq) } };
  }
}
