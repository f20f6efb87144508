import { webhookEvent } from "../../core/outbox.js";
import { defineModule } from "../module.js";
import { registerPushAdminRoutes } from "./admin-routes.js";
import { PushCredentials } from "./credentials.js";
import { PushDispatcher } from "./dispatcher.js";
import { type PushTables, pushMigrations } from "./migrations.js";
import { ConversationMutes } from "./mute.js";
import { registerMuteRoutes, registerPushRoutes } from "./routes.js";
import { PushService } from "./service.js";
import { PushTriggers } from "./triggers.js";

export { PushCredentials } from "./credentials.js";
export type { PushDispatcher, PushFailure } from "./dispatcher.js";
export type { ConversationMutes } from "./mute.js";
export { PushService } from "./service.js";

/** Push, as other modules and `engine.services.push` see it. */
export interface Push {
  /** Device push tokens (`/api/v1/push/tokens`). */
  tokens: PushService;
  /** Per-app provider credentials, encrypted at rest (admin API, `utd push …`). */
  credentials: PushCredentials;
  /** Sends the push outbox. */
  dispatcher: PushDispatcher;
  /** Muted conversations send no push. */
  mutes: ConversationMutes;
}

declare module "../../store/schema.js" {
  interface Database extends PushTables {}
}
declare module "../module.js" {
  interface ModuleServices {
    push: Push;
  }
}

/**
 * Push notifications: device tokens (dropped when a user is banned or signs out everywhere), per-app
 * provider credentials, the outbox writer that turns calls and messages into pushes inside their
 * transaction, and the dispatcher that sends them through the push port (APNs, FCM, Web Push).
 */
export const pushModule = defineModule({
  name: "push",
  needs: ["apps", "webhooks"],
  migrations: pushMigrations,
  create: ({ store, clock, hooks, log, keys, config, outbox, pushSenders: senders, metrics, apps, webhooks }) => {
    const tokens = new PushService(store, clock, hooks, log);
    const credentials = new PushCredentials(store, keys.sealKey, clock, (appId) => {
      senders.apns.forget(appId);
      senders.fcm.forget(appId);
      senders.web.forget(appId);
    });
    const dispatcher = new PushDispatcher({
      store,
      clock,
      credentials,
      senders,
      maxAttempts: config.push.maxAttempts,
      leaseMs: config.push.leaseMs,
      pollMs: config.push.pollMs,
      metrics,
      log,
      // A push given up becomes a `push.failed` webhook (its own transaction: the give-up is the event).
      onFailed: async (f) => {
        await store.db.transaction().execute((trx) =>
          webhooks.writer.write(
            trx,
            webhookEvent(
              f.appId,
              "push.failed",
              {
                push_id: f.pushId,
                identity: f.identity,
                platform: f.platform,
                kind: f.kind,
                ref_id: f.refId,
                reason: f.reason,
                attempts: f.attempts,
              },
              `user:${f.identity}`,
            ),
          ),
        );
        webhooks.dispatcher.wake();
      },
    });
    // Calls and messages write their pushes into the outbox in their own transaction; a commit wakes the dispatcher.
    outbox.add(new PushTriggers({ clock, collapseMs: config.push.collapseMs }), () => dispatcher.wake());
    const mutes = new ConversationMutes(store, clock);
    return {
      service: { tokens, credentials, dispatcher, mutes },
      routes: (http, deps) => {
        registerPushRoutes(http, deps, tokens);
        registerMuteRoutes(http, deps, mutes);
        registerPushAdminRoutes(http, deps, apps, credentials);
      },
      start: () => dispatcher.start(),
      stop: async () => {
        await dispatcher.stop();
        tokens.close();
      },
    };
  },
});
