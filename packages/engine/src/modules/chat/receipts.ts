import { CHAT_EVENTS, type ChatSettings, type MarkReadResponse, type UnreadResponse } from "@utd-stream/protocol";
import type { Kysely } from "kysely";
import { requireCapability } from "../../core/caller.js";
import type { Database } from "../../store/schema.js";
import type { Caller } from "./access.js";
import type { ChatParts } from "./deps.js";
import { notify } from "./events.js";
import { memberIdentities, mentionCounts, mutedConversations, unreadCounts } from "./queries.js";

/** Read positions, unread counts and the read-receipt privacy setting. */
export class ReceiptsService {
  private readonly db: Kysely<Database>;
  constructor(private readonly d: ChatParts) {
    this.db = d.store.db;
  }

  /**
   * Marks everything up to `seq` (capped at the last seq) as read; the read position never moves back.
   * The caller's devices get `receipt.read` with the new counts; other members get it only when the
   * caller shares read receipts.
   */
  async markRead(caller: Caller, id: string, seq: number): Promise<MarkReadResponse> {
    const { conv, me } = await this.d.access.member(this.db, caller, id);
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
    const counts = await unreadCounts(this.db, caller.app.id, caller.identity, this.d.access.cutoff(caller.app));
    const res: MarkReadResponse = {
      conversation_id: id,
      last_read_seq: moved ? target : ((await this.d.access.membership(this.db, id, caller.identity))?.last_read_seq ?? last),
      unread_count: counts.get(id) ?? 0,
      total_unread: [...counts.values()].reduce((a, b) => a + b, 0),
    };
    if (moved) {
      notify(this.d.events, caller.app.id, [caller.identity], CHAT_EVENTS.receiptRead, {
        ...res,
        identity: caller.identity,
        conversation_id: id,
      });
      if ((await this.settings(caller)).share_read_receipts) {
        const others = (await memberIdentities(this.db, id)).filter((i) => i !== caller.identity);
        notify(this.d.events, caller.app.id, others, CHAT_EVENTS.receiptRead, {
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
    const cutoff = this.d.access.cutoff(caller.app);
    const [counts, mentions, muted, reads] = await Promise.all([
      unreadCounts(this.db, caller.app.id, caller.identity, cutoff),
      mentionCounts(this.db, caller.app.id, caller.identity, cutoff),
      mutedConversations(this.db, caller.identity),
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
        mention_count: mentions.get(r.conversation_id) ?? 0,
        muted: muted.has(r.conversation_id),
      }))
      .filter((c) => c.unread_count > 0 || c.mention_count > 0);
    return {
      // A muted conversation shows no badge: its count is listed but not totalled.
      total: conversations.reduce((a, c) => a + (c.muted ? 0 : c.unread_count), 0),
      conversations,
      total_mentions: conversations.reduce((a, c) => a + (c.muted ? 0 : c.mention_count), 0),
    };
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
}
