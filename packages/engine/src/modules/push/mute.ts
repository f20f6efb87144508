import type { ConversationMute } from "@utd-stream/protocol";
import { type AuthContext, requireCapability } from "../../core/caller.js";
import type { Clock } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { Store } from "../../store/port.js";

/** Conversation mute, a member setting: a muted member gets no message pushes from that conversation. */
export class ConversationMutes {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  private async requireMember(ctx: AuthContext, conversationId: string): Promise<void> {
    requireCapability(ctx.app, "chat");
    const m = await this.store.db
      .selectFrom("conversation_members")
      .select("identity")
      .where("conversation_id", "=", conversationId)
      .where("app_id", "=", ctx.app.id)
      .where("identity", "=", ctx.identity)
      .executeTakeFirst();
    // Non-members get the same answer as for a conversation that does not exist.
    if (!m) throw ApiError.notFound("conversation");
  }

  async get(ctx: AuthContext, conversationId: string): Promise<ConversationMute> {
    await this.requireMember(ctx, conversationId);
    const row = await this.store.db
      .selectFrom("conversation_mutes")
      .select("identity")
      .where("conversation_id", "=", conversationId)
      .where("identity", "=", ctx.identity)
      .executeTakeFirst();
    return { conversation_id: conversationId, muted: row !== undefined };
  }

  async set(ctx: AuthContext, conversationId: string, muted: boolean): Promise<ConversationMute> {
    await this.requireMember(ctx, conversationId);
    const db = this.store.db;
    if (muted) {
      await db
        .insertInto("conversation_mutes")
        .values({ conversation_id: conversationId, identity: ctx.identity, app_id: ctx.app.id, created_at: this.clock.now() })
        .onConflict((oc) => oc.columns(["conversation_id", "identity"]).doNothing())
        .execute();
    } else {
      await db
        .deleteFrom("conversation_mutes")
        .where("conversation_id", "=", conversationId)
        .where("identity", "=", ctx.identity)
        .execute();
    }
    return { conversation_id: conversationId, muted };
  }
}
