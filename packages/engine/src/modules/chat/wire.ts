import { MessageReadFrameSchema, MessageSendFrameSchema } from "@utd-stream/protocol";
import type { FastifyInstance } from "fastify";
import type { z } from "zod";
import type { Clock } from "../../core/clock.js";
import type { EngineConfig } from "../../core/config.js";
import type { EventSink } from "../../core/events.js";
import type { Outbox } from "../../core/outbox.js";
import { openFileStore } from "../../files/index.js";
import { LocalFileStore } from "../../files/local.js";
import { registerLocalFileRoutes } from "../../files/routes.js";
import type { RouteDeps } from "../../http/route.js";
import type { Store } from "../../store/db.js";
import type { AppsService } from "../apps/service.js";
import type { AuthContext } from "../auth/service.js";
import { registerFriendRoutes } from "../friends/routes.js";
import { FriendsService } from "../friends/service.js";
import { registerUploadRoutes } from "../uploads/routes.js";
import { UploadsService } from "../uploads/service.js";
import { registerChatAdminRoutes, registerChatRoutes } from "./routes.js";
import { ChatService } from "./service.js";

/** The chat capability's services, as the engine exposes them. */
export interface ChatModules {
  chat: ChatService;
  friends: FriendsService;
  uploads: UploadsService;
  /** Runs one retention purge now; resolves to the number of messages deleted. */
  purgeNow(): Promise<number>;
  close(): Promise<void>;
}

export interface ChatWiring {
  config: EngineConfig;
  store: Store;
  clock: Clock;
  events: EventSink;
  apps: AppsService;
  /** Key material the local file store derives its URL-signing key from. */
  signingKey: Uint8Array;
  /** Pushes and webhooks chat changes cause are written here, in their transaction. */
  outbox?: Outbox;
  /** The WebSocket gateway's request registry, to serve chat verbs over the socket (absent: REST only). */
  ws?: { handle<S extends z.ZodType>(verb: string, schema: S, fn: (ctx: AuthContext, frame: z.output<S>) => Promise<unknown>): void };
  /** Conversation typing needs to know a conversation's members. */
  typing?: { setConversationMembers(fn: (ctx: AuthContext, conversationId: string) => Promise<readonly string[]>): void };
}

/**
 * Wires chat, friends, uploads and the file store, registers their routes, and starts the retention
 * sweeper (every `UTD_CHAT_RETENTION_SWEEP_S`; the cutoff comes from the injected clock).
 */
export async function registerChatModules(http: FastifyInstance, deps: RouteDeps, w: ChatWiring): Promise<ChatModules> {
  const files = await openFileStore({ dataDir: w.config.dataDir, s3: w.config.s3, signingKey: w.signingKey, clock: w.clock });
  if (files instanceof LocalFileStore) await registerLocalFileRoutes(http, files);
  // The two services reference each other through narrow interfaces (attachments ↔ download policy).
  let chat: ChatService | undefined;
  const uploads = new UploadsService({
    store: w.store,
    files,
    clock: w.clock,
    maxSize: w.config.uploadMaxBytes,
    policy: { canDownload: (app, identity, fileId) => (chat as ChatService).canDownload(app, identity, fileId) },
  });
  chat = new ChatService({ store: w.store, clock: w.clock, events: w.events, attachments: uploads, outbox: w.outbox });
  const friends = new FriendsService({ store: w.store, clock: w.clock, events: w.events });
  registerChatRoutes(http, deps, chat);
  registerChatAdminRoutes(http, deps, chat, w.apps);
  registerFriendRoutes(http, deps, friends);
  registerUploadRoutes(http, deps, uploads, w.config.publicUrl);

  const c = chat;
  w.typing?.setConversationMembers((ctx, id) => c.members.identities({ app: ctx.app, identity: ctx.identity }, id));
  if (w.ws) {
    w.ws.handle("message.send", MessageSendFrameSchema, async (ctx, f) => {
      const { type: _t, id: _i, conversation_id, ...body } = f;
      return (await c.messages.send({ app: ctx.app, identity: ctx.identity }, conversation_id, body)).message;
    });
    w.ws.handle("message.read", MessageReadFrameSchema, async (ctx, f) =>
      c.receipts.markRead({ app: ctx.app, identity: ctx.identity }, f.conversation_id, f.seq),
    );
  }
  const purgeNow = async () => {
    const apps = await w.apps.list();
    const messages = await c.purgeExpired(apps);
    await uploads.purge(apps, (app) => c.retentionCutoff(app));
    return messages;
  };
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = purgeNow().catch((err: unknown) => http.log.error({ err }, "chat retention purge failed"));
  }, w.config.chatRetentionSweepS * 1000);
  timer.unref();
  return {
    chat,
    friends,
    uploads,
    purgeNow,
    async close() {
      clearInterval(timer);
      await running;
    },
  };
}
