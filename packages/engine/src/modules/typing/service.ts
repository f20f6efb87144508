import type { TypingEventData, TypingFrame } from "@utd-stream/protocol";
import { type AuthContext, requireCapability } from "../../core/caller.js";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { EventSink } from "../../core/events.js";

/**
 * Who else is in a conversation, for conversation typing. The chat module provides it: return the
 * members, or throw `not_found` when the caller is not one of them.
 */
export type ConversationMembers = (ctx: AuthContext, conversationId: string) => Promise<readonly string[]>;

interface Active {
  appId: string;
  identity: string;
  conversationId: string | null;
  recipients: readonly string[];
  expiresAt: number;
}

/**
 * Typing indicators: `typing.start` / `typing.stop` to one user (`to`) or a conversation's other
 * members. A start lapses after `ttlS` unless renewed; the engine then sends `typing.stopped` itself.
 * State is per node (the typer's socket's node); events fan out through the gateway like any other.
 */
export class TypingService {
  private readonly active = new Map<string, Active>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly events: EventSink,
    private readonly clock: Clock,
    private readonly ttlS: number,
    /** Resolves `conversation_id` targets (the chat module); without it, conversation typing answers `not_found`. */
    private readonly members?: ConversationMembers,
  ) {}

  private async recipients(ctx: AuthContext, f: TypingFrame): Promise<readonly string[]> {
    if (f.to !== undefined) {
      requireCapability(ctx.app, "signaling");
      if (f.to === ctx.identity) throw ApiError.invalid("you cannot type to yourself");
      return [f.to];
    }
    requireCapability(ctx.app, "chat");
    if (!this.members || f.conversation_id === undefined) throw ApiError.notFound("conversation");
    return (await this.members(ctx, f.conversation_id)).filter((m) => m !== ctx.identity);
  }

  private static keyOf(ctx: AuthContext, f: TypingFrame): string {
    return `${ctx.app.id}\u0000${ctx.identity}\u0000${f.to !== undefined ? `u:${f.to}` : `c:${f.conversation_id}`}`;
  }

  /** Handles `typing.start` and `typing.stop`; the reply data says until when the indicator lasts. */
  async handle(ctx: AuthContext, f: TypingFrame): Promise<{ expires_at: string | null }> {
    const recipients = await this.recipients(ctx, f);
    const k = TypingService.keyOf(ctx, f);
    const conversationId = f.conversation_id ?? null;
    if (f.type === "typing.stop") {
      const a = this.active.get(k);
      if (a) {
        this.active.delete(k);
        this.emitStopped(a);
      }
      return { expires_at: null };
    }
    const expiresAt = this.clock.now() + this.ttlS * 1000;
    this.active.set(k, { appId: ctx.app.id, identity: ctx.identity, conversationId, recipients, expiresAt });
    const data: TypingEventData = { identity: ctx.identity, conversation_id: conversationId, expires_at: iso(expiresAt) };
    this.events.toUsers(ctx.app.id, recipients, "typing.started", data);
    return { expires_at: iso(expiresAt) };
  }

  private emitStopped(a: Active): void {
    const data: TypingEventData = { identity: a.identity, conversation_id: a.conversationId, expires_at: null };
    this.events.toUsers(a.appId, a.recipients, "typing.stopped", data);
  }

  /** Sends `typing.stopped` for every indicator whose time is up. */
  sweep(): void {
    const now = this.clock.now();
    for (const [k, a] of this.active) {
      if (a.expiresAt <= now) {
        this.active.delete(k);
        this.emitStopped(a);
      }
    }
  }

  /** A user's last socket closed: their indicators stop at once. */
  stopAll(appId: string, identity: string): void {
    const prefix = `${appId}\u0000${identity}\u0000`;
    for (const [k, a] of this.active) {
      if (k.startsWith(prefix)) {
        this.active.delete(k);
        this.emitStopped(a);
      }
    }
  }

  start(): void {
    this.timer = setInterval(() => this.sweep(), 500);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
