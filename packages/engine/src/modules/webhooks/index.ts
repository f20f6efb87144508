import { defineModule } from "../module.js";
import { BeforeSendHooks } from "./before-send.js";
import { WebhookDispatcher } from "./dispatcher.js";
import { WebhookEndpoints } from "./endpoints.js";
import { type WebhooksTables, webhooksMigrations } from "./migrations.js";
import { registerWebhookAdminRoutes } from "./routes.js";
import { WebhookWriter } from "./writer.js";

export type { BeforeSendHooks } from "./before-send.js";
export type { WebhookDispatcher } from "./dispatcher.js";
export type { WebhookEndpoints } from "./endpoints.js";
export type { WebhookWriter } from "./writer.js";

/** Webhooks, as other modules and `engine.services.webhooks` see them. */
export interface Webhooks {
  endpoints: WebhookEndpoints;
  /** The outbox writer (also used for events that are not a transaction's own, such as `push.failed`). */
  writer: WebhookWriter;
  dispatcher: WebhookDispatcher;
  /** The before-send hook in the message send path. */
  beforeSend: BeforeSendHooks;
}

declare module "../../store/schema.js" {
  interface Database extends WebhooksTables {}
}
declare module "../module.js" {
  interface ModuleServices {
    webhooks: Webhooks;
  }
}

/**
 * Outgoing webhooks (endpoints, the webhook outbox writer, the dispatcher: signed, at least once, in order,
 * retried, dead-lettered, auto-disabled) and the before-send hook, with their admin routes (docs/webhooks.md).
 */
export const webhooksModule = defineModule({
  name: "webhooks",
  needs: ["apps"],
  migrations: webhooksMigrations,
  create: ({ store, clock, keys, config, outbox, metrics, log, apps, bus }) => {
    // The endpoints (for a batch of messages) and the before-send hook are kept a moment per node; a change drops
    // the copies on every node through the bus.
    const cache = { bus, ttlMs: config.appSettingCacheS * 1000 };
    const writer = new WebhookWriter(clock, { db: store.db, cache });
    const endpoints = new WebhookEndpoints(store, keys.sealKey, clock, config.webhooks.allowNetworks, (appId) =>
      writer.endpointsChanged(appId),
    );
    const dispatcher = new WebhookDispatcher({
      store,
      clock,
      config: config.webhooks,
      endpoints,
      writer,
      metrics,
      log,
      onDisabled: (e) => {
        writer.endpointsChanged(e.appId);
        log.warn({ app_id: e.appId, endpoint_id: e.endpointId, url: e.url, reason: e.reason }, "webhook.disabled");
      },
    });
    const beforeSend = new BeforeSendHooks(store, keys.sealKey, clock, config.webhooks.allowNetworks, metrics, cache);
    outbox.add(writer, () => dispatcher.wake());
    return {
      service: { endpoints, writer, dispatcher, beforeSend },
      routes: (http, deps) => registerWebhookAdminRoutes(http, deps, apps, endpoints, beforeSend, () => dispatcher.wake()),
      start: () => dispatcher.start(),
      stop: () => dispatcher.stop(),
    };
  },
});
