import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { Clock } from "../../core/clock.js";
import type { PushConfig } from "../../core/delivery-config.js";
import type { Outbox } from "../../core/outbox.js";
import type { RouteDeps } from "../../http/route.js";
import { ApnsSender } from "../../push/apns.js";
import { FcmSender } from "../../push/fcm.js";
import type { PushEndpoints } from "../../push/port.js";
import { WebPushSender } from "../../push/webpush.js";
import type { Store } from "../../store/db.js";
import type { AppsService } from "../apps/service.js";
import { registerPushAdminRoutes } from "./admin-routes.js";
import { PushCredentials } from "./credentials.js";
import { PushDispatcher, type PushFailure, type PushSenders } from "./dispatcher.js";
import { ConversationMutes } from "./mute.js";
import { registerMuteRoutes } from "./routes.js";
import { PushTriggers } from "./triggers.js";

export type { PushFailure } from "./dispatcher.js";

export interface PushDeliveryDeps {
  http: FastifyInstance;
  routeDeps: RouteDeps;
  store: Store;
  clock: Clock;
  apps: AppsService;
  sealKey: Buffer;
  config: PushConfig;
  outbox: Outbox;
  metrics?: Registry;
  /** Senders to use instead of the real providers (tests). */
  senders?: PushSenders;
  /** Told about every push given up (the webhooks module turns it into `push.failed`). */
  onFailed?: (f: PushFailure) => Promise<void> | void;
}

/** Push delivery, wired: credentials, the outbox writer (triggers), the dispatcher and the mute setting. */
export interface PushDelivery {
  credentials: PushCredentials;
  dispatcher: PushDispatcher;
  mutes: ConversationMutes;
  close(): Promise<void>;
}

/** Registers the push admin and mute routes, adds the push triggers to the outbox and starts the dispatcher. */
export function createPushDelivery(d: PushDeliveryDeps): PushDelivery {
  const endpoints: PushEndpoints = { apnsHost: d.config.apnsHost, fcmUrl: d.config.fcmUrl, ca: d.config.ca, timeoutMs: d.config.timeoutMs };
  const senders: PushSenders = d.senders ?? {
    apns: new ApnsSender(endpoints),
    fcm: new FcmSender(endpoints, d.clock),
    web: new WebPushSender(endpoints, d.clock),
  };
  const credentials = new PushCredentials(d.store, d.sealKey, d.clock, (appId) => {
    senders.apns.forget(appId);
    senders.fcm.forget(appId);
    senders.web.forget(appId);
  });
  const log = d.http.log;
  const dispatcher = new PushDispatcher({
    store: d.store,
    clock: d.clock,
    credentials,
    senders,
    maxAttempts: d.config.maxAttempts,
    leaseMs: d.config.leaseMs,
    pollMs: d.config.pollMs,
    metrics: d.metrics,
    log,
    ...(d.onFailed ? { onFailed: d.onFailed } : {}),
  });
  d.outbox.add(new PushTriggers({ clock: d.clock, collapseMs: d.config.collapseMs }));
  d.outbox.onCommit(() => dispatcher.wake());
  const mutes = new ConversationMutes(d.store, d.clock);
  registerPushAdminRoutes(d.http, d.routeDeps, d.apps, credentials);
  registerMuteRoutes(d.http, d.routeDeps, mutes);
  dispatcher.start();
  return {
    credentials,
    dispatcher,
    mutes,
    async close() {
      await dispatcher.stop();
      await senders.apns.close();
      await senders.fcm.close();
      await senders.web.close();
    },
  };
}
