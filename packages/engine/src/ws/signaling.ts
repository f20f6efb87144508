import { PRESENCE_MAX_WATCHED, PresenceWatchFrameSchema, TypingFrameSchema } from "@utd-stream/protocol";
import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import { MemoryBus } from "../bus/memory.js";
import type { Bus } from "../bus/port.js";
import { RedisBus } from "../bus/redis.js";
import type { Clock } from "../core/clock.js";
import type { EngineConfig } from "../core/config.js";
import { ApiError } from "../core/errors.js";
import type { Hooks } from "../core/hooks.js";
import type { Outbox } from "../core/outbox.js";
import type { RouteDeps } from "../http/route.js";
import type { AppsService } from "../modules/apps/service.js";
import { type AuthService, requireCapability } from "../modules/auth/service.js";
import { registerCallRoutes } from "../modules/calls/routes.js";
import { CallsService } from "../modules/calls/service.js";
import { registerPresenceRoutes } from "../modules/presence/routes.js";
import { PresenceService } from "../modules/presence/service.js";
import { registerPushRoutes } from "../modules/push/routes.js";
import { PushService } from "../modules/push/service.js";
import { TypingService } from "../modules/typing/service.js";
import type { Store } from "../store/db.js";
import { type GatewayConfig, loadGatewayConfig } from "./config.js";
import { Gateway } from "./gateway.js";
import { createGatewayMetrics } from "./metrics.js";
import { registerGatewayRoutes } from "./routes.js";

export interface SignalingDeps {
  config: EngineConfig;
  store: Store;
  clock: Clock;
  hooks: Hooks;
  auth: AuthService;
  apps: AppsService;
  http: FastifyInstance;
  routeDeps: RouteDeps;
  /** Gateway settings; read from the environment when absent. */
  gateway?: GatewayConfig;
  /** A bus to use instead of the one `config.redisUrl` selects (tests). */
  bus?: Bus;
  /** Where gateway metrics go (`/metrics`). */
  metrics?: Registry;
  /** Call changes write their pushes and webhooks here, in their own transaction. */
  outbox?: Outbox;
}

/** The signalling plane, wired: the gateway (the engine's `EventSink`), the bus, and its modules. */
export interface Signaling {
  gateway: Gateway;
  bus: Bus;
  calls: CallsService;
  presence: PresenceService;
  typing: TypingService;
  push: PushService;
  /** Stops sweepers, waits for pending writes, closes the bus. (Sockets close earlier, in Fastify's preClose.) */
  close(): Promise<void>;
}

/**
 * Builds the gateway and the presence, calls, typing and push modules; registers their routes and
 * WebSocket verbs; starts the ring-timeout and presence sweepers.
 */
export async function createSignaling(d: SignalingDeps): Promise<Signaling> {
  const gwConfig = d.gateway ?? loadGatewayConfig();
  const log = d.http.log;
  const bus: Bus =
    d.bus ?? (d.config.redisUrl ? new RedisBus(d.config.redisUrl, (err) => log.warn({ err }, "redis bus error")) : new MemoryBus());
  if (!d.bus) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("Redis did not answer within 10s (REDIS_URL)")), 10_000);
    });
    try {
      await Promise.race([bus.ready(), timeout]);
    } catch (err) {
      await bus.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
  const gateway = new Gateway({
    config: gwConfig,
    auth: d.auth,
    apps: d.apps,
    hooks: d.hooks,
    bus,
    clock: d.clock,
    log,
    metrics: createGatewayMetrics(d.metrics),
  });
  gateway.attach(d.http);

  const calls = new CallsService({
    store: d.store,
    clock: d.clock,
    events: gateway,
    ringTimeoutS: d.config.callRingTimeoutS,
    outbox: d.outbox,
    log,
  });
  const presence = new PresenceService({
    store: d.store,
    clock: d.clock,
    publisher: gateway,
    nodeId: bus.nodeId,
    graceS: gwConfig.presenceGraceS,
    leaseS: gwConfig.presenceLeaseS,
    log,
  });
  const typing = new TypingService(gateway, d.clock, gwConfig.typingTtlS);
  const push = new PushService(d.store, d.clock, d.hooks, log);

  gateway.addConnectionListener({
    // Presence is part of the signalling capability: with it off, sockets (kept for chat) are not announced.
    connected: (ctx, conn) => {
      if (ctx.app.signalingEnabled) presence.connected(ctx.app.id, ctx.identity, conn.id, conn.deviceId);
    },
    disconnected: (ctx, conn, remaining) => {
      presence.disconnected(ctx.app.id, ctx.identity, conn.id);
      // Indicators stop with the user's last socket here (another device may still be typing).
      if (remaining === 0) typing.stopAll(ctx.app.id, ctx.identity);
    },
  });
  gateway.handle("presence.watch", PresenceWatchFrameSchema, async (ctx, frame, conn) => {
    requireCapability(ctx.app, "signaling");
    if (frame.type !== "presence.watch") throw ApiError.invalid("type mismatch");
    const fresh = new Set(frame.identities);
    if (conn.watchCount() + fresh.size > PRESENCE_MAX_WATCHED) throw ApiError.limitExceeded("max_watched_identities", PRESENCE_MAX_WATCHED);
    conn.watch([...fresh]);
    return { presence: await presence.get(ctx, [...fresh]) };
  });
  gateway.handle("presence.unwatch", PresenceWatchFrameSchema, async (_ctx, frame, conn) => {
    conn.unwatch(frame.identities);
    return { watching: conn.watchCount() };
  });
  gateway.handle("typing.start", TypingFrameSchema, async (ctx, frame) => typing.handle(ctx, frame));
  gateway.handle("typing.stop", TypingFrameSchema, async (ctx, frame) => typing.handle(ctx, frame));

  registerCallRoutes(d.http, d.routeDeps, calls);
  registerPresenceRoutes(d.http, d.routeDeps, presence);
  registerPushRoutes(d.http, d.routeDeps, push);
  registerGatewayRoutes(d.http, d.routeDeps, d.apps, gateway);

  calls.start();
  presence.start();
  typing.start();

  return {
    gateway,
    bus,
    calls,
    presence,
    typing,
    push,
    async close() {
      await gateway.shutdown();
      typing.stop();
      await calls.stop();
      await presence.stop();
      push.close();
      await bus.close();
    },
  };
}
