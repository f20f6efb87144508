import { MessageReadFrameSchema, MessageSendFrameSchema } from "@utd-stream/protocol/schemas";
import { defineModule, wsVerb } from "../module.js";
import { RedisAnnounceLedger } from "./announce-ledger.js";
import { chatDepthMigrations } from "./depth-migrations.js";
import { type ChatTables, chatMigrations } from "./migrations.js";
import { ChatRetention } from "./retention.js";
import { registerChatAdminRoutes, registerChatRoutes } from "./routes.js";
import { chatSearchMigrations } from "./search-migrations.js";
import { ChatService } from "./service.js";

export type { ConversationsTable, MessagesTable } from "./migrations.js";
export { memberIdentities } from "./queries.js";
export { ChatRecords } from "./records.js";
export { ChatRetention } from "./retention.js";
export { type AttachmentResolver, ChatService } from "./service.js";

declare module "../../store/schema.js" {
  interface Database extends ChatTables {}
}
declare module "../module.js" {
  interface ModuleServices {
    chat: ChatService;
  }
}

/** Conversations (direct, group, chatroom), messages, receipts and reactions, message search; retention by plan. */
export const chatModule = defineModule({
  name: "chat",
  needs: ["realtime", "apps", "uploads", "webhooks", "users"],
  migrations: (dialect) => ({ ...chatMigrations(dialect), ...chatSearchMigrations(dialect), ...chatDepthMigrations(dialect) }),
  create: ({ store, clock, config, log, outbox, realtime, apps, uploads, webhooks, users, redis, bus }) => {
    // Several nodes (Redis configured): a conversation's messages are announced in seq order cluster-wide.
    const ledger = redis
      ? new RedisAnnounceLedger({ connect: redis, nodeId: bus.nodeId, onError: (err) => log.warn({ err }, "redis announce ledger error") })
      : undefined;
    // A failing batch statement is otherwise invisible (every send then runs alone, slower): one warning per
    // 10 s at most, with how many batches failed since the last one.
    let failedBatches = 0;
    let warnedAt = Number.NEGATIVE_INFINITY;
    const onBatchFailed = (err: unknown) => {
      failedBatches++;
      const now = clock.now();
      if (now - warnedAt < 10_000 && now >= warnedAt) return;
      log.warn({ err, failed_batches: failedBatches }, "chat: send batches failed and their sends ran one by one");
      failedBatches = 0;
      warnedAt = now;
    };
    const chat = new ChatService({
      onBatchFailed,
      store,
      clock,
      events: realtime.events,
      attachments: uploads,
      outbox,
      beforeSend: webhooks.beforeSend,
      blocks: users.blocks,
      banner: users,
      settingCache: { bus, ttlMs: config.appSettingCacheS * 1000 },
      order: {
        ledger,
        onGiveUp: (conversation, seq) =>
          log.warn(
            { conversation, seq },
            "the previous message's node died before announcing it (or took 30 s); announcing the next anyway",
          ),
      },
    });
    const retention = new ChatRetention({ chat, uploads, apps, sweepS: config.chatRetentionSweepS, log });
    return {
      service: chat,
      routes: (http, deps) => {
        registerChatRoutes(http, deps, chat);
        registerChatAdminRoutes(http, deps, chat, apps);
      },
      wsVerbs: [
        wsVerb("message.send", MessageSendFrameSchema, async (ctx, f) => {
          const { type: _t, id: _i, conversation_id, ...body } = f;
          return (await chat.messages.send({ app: ctx.app, identity: ctx.identity }, conversation_id, body)).message;
        }),
        wsVerb("message.read", MessageReadFrameSchema, async (ctx, f) =>
          chat.receipts.markRead({ app: ctx.app, identity: ctx.identity }, f.conversation_id, f.seq),
        ),
      ],
      start: () => retention.start(),
      stop: async () => {
        await retention.stop();
        await ledger?.close();
      },
    };
  },
});
