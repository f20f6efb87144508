import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import type { Registry } from "prom-client";
import { type Clock, systemClock } from "./core/clock.js";
import type { EngineConfig } from "./core/config.js";
import type { EventSink } from "./core/events.js";
import { Hooks } from "./core/hooks.js";
import { loadKeys } from "./core/keys.js";
import { Outbox } from "./core/outbox.js";
import { MemoryRateLimiter, type RateLimiter } from "./core/rate-limit.js";
import { RedisRateLimiter } from "./core/rate-limit-redis.js";
import { createMetrics, listenMetrics } from "./http/metrics.js";
import type { RouteDeps } from "./http/route.js";
import { createHttp } from "./http/server.js";
import { registerDemoPage } from "./http/static.js";
import { registerWidgetAssets } from "./http/widget-static.js";
import { registerAdminRoutes } from "./modules/admin/routes.js";
import { AppsService } from "./modules/apps/service.js";
import { registerAuthRoutes } from "./modules/auth/routes.js";
import { AuthService } from "./modules/auth/service.js";
import { UserTokens } from "./modules/auth/tokens.js";
import { type ChatModules, registerChatModules } from "./modules/chat/wire.js";
import { createPushDelivery, type PushDelivery } from "./modules/push/index.js";
import { type MediaModules, registerMediaModules } from "./modules/rooms/wire.js";
import { createSignalRoomsModule, type SignalRoomsModule } from "./modules/sigrooms/index.js";
import { registerSupportModule } from "./modules/support/wire.js";
import { UsersService } from "./modules/users/service.js";
import { openStore, type Store } from "./store/db.js";
import { VERSION } from "./version.js";
import { createSignaling, type Signaling } from "./ws/signaling.js";

export type { Clock } from "./core/clock.js";
export { ConfigError, type EngineConfig, loadConfig } from "./core/config.js";
export { ApiError } from "./core/errors.js";
export { openStore, type Store } from "./store/db.js";
export { VERSION } from "./version.js";

/** Replaceable outside-world ports; anything not given gets the embedded default. */
export interface EnginePorts {
  store?: Store;
  clock?: Clock;
  limiter?: RateLimiter;
}

/** The services every module builds on. */
export interface EngineServices {
  apps: AppsService;
  users: UsersService;
  auth: AuthService;
  /** Media plane: LiveKit port (undefined without LiveKit), webhook hub, rooms, stage, seats. */
  media?: MediaModules;
  /** Signalling plane: WebSocket gateway (the event sink), bus, calls (`calls.onTransition`), presence, typing, push. */
  signaling: Signaling;
  /** Chat capability: conversations and messages, friends, uploads (`purgeNow` runs the retention purge). */
  chat: ChatModules;
  /** Push delivery: provider credentials, the push outbox dispatcher, conversation mutes. */
  push: PushDelivery;
  /** Signalling rooms: join/leave/publish on the socket, broadcast and members over REST, policies. */
  signalRooms: SignalRoomsModule;
}

export interface Engine {
  config: EngineConfig;
  store: Store;
  hooks: Hooks;
  clock: Clock;
  /** Where services publish user events: the WebSocket gateway (per-user streams, resume, cross-node bus). */
  events: EventSink;
  metrics: Registry;
  services: EngineServices;
  http: FastifyInstance;
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  /** Where `/metrics` is served when it has its own listener (`UTD_METRICS_PORT`), once listening. */
  metricsUrl: string | undefined;
  /** Graceful stop: refuse new work, drain in-flight requests, close sockets and storage. */
  close(): Promise<void>;
}

/** Wires an engine from configuration and ports. No module-level singletons: two engines can share a process. */
export async function createEngine(config: EngineConfig, ports: EnginePorts = {}): Promise<Engine> {
  const clock = ports.clock ?? systemClock;
  const store =
    ports.store ??
    (await openStore({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      sqliteSync: config.sqliteSync,
      poolMax: config.dbPoolMax,
    }));
  const keys = loadKeys(config.dataDir);
  const hooks = new Hooks();
  const limiter: RateLimiter =
    ports.limiter ?? (config.redisUrl ? new RedisRateLimiter(new Redis(config.redisUrl), clock) : new MemoryRateLimiter(clock));
  const metrics = createMetrics();

  const apps = new AppsService(store, keys.sealKey, clock, hooks);
  const users = new UsersService(store, clock, hooks);
  // One key signs user tokens and upload/download URLs; every node of a cluster must share it.
  const tokenKey = config.tokenSecret ? new TextEncoder().encode(config.tokenSecret) : keys.tokenKey;
  const tokens = new UserTokens(tokenKey, config.userTokenTtlS, config.sessionMaxAgeS);
  const auth = new AuthService({
    apps,
    users,
    tokens,
    limiter,
    limits: config.rateLimits,
    clock,
    identityTokenMaxTtlS: config.identityTokenMaxTtlS,
  });

  const http = await createHttp({
    bodyLimit: config.bodyLimit,
    logLevel: config.logLevel,
    corsOrigins: config.corsOrigins,
    trustedProxies: config.trustedProxies,
    metrics,
    metricsAccess: config.metrics,
    adminToken: config.adminToken,
    version: VERSION,
    ready: () => store.ping(),
  });
  const deps: RouteDeps = { auth, adminToken: config.adminToken };
  registerAuthRoutes(http, deps, auth, config.publicUrl);
  registerAdminRoutes(http, deps, apps, users);

  // --- modules: each domain wires its service and routes here (signalling, chat, media…) ---
  // Pushes and webhooks are written by the services inside the transaction of their cause.
  const outbox = new Outbox();
  const push = createPushDelivery({
    http,
    routeDeps: deps,
    store,
    clock,
    apps,
    sealKey: keys.sealKey,
    config: config.push,
    outbox,
    metrics,
  });
  const signaling = await createSignaling({ config, store, clock, hooks, auth, apps, http, routeDeps: deps, metrics, outbox });
  const events: EventSink = signaling.gateway;
  const signalRooms = await createSignalRoomsModule({
    store,
    clock,
    hooks,
    apps,
    gateway: signaling.gateway,
    bus: signaling.bus,
    limiter,
    http,
    routeDeps: deps,
    redisUrl: config.redisUrl,
    grantMaxTtlS: config.identityTokenMaxTtlS,
  });
  const mediaModules: MediaModules = await registerMediaModules(http, deps, {
    config,
    store,
    clock,
    auth,
    events,
    calls: signaling.calls,
    apps,
    users,
    hooks,
  });

  const chatModules = await registerChatModules(http, deps, {
    config,
    store,
    clock,
    events,
    apps,
    outbox,
    signingKey: tokenKey,
    ws: signaling.gateway,
    typing: signaling.typing,
  });
  // Presence goes to an identity's friends as well as to explicit watch lists.
  signaling.presence.addWatcherSource(async (appId, identity) => {
    const app = await apps.find(appId);
    if (!app?.messagingEnabled) return [];
    return (await chatModules.friends.list(app, identity)).filter((f) => f.state === "friends").map((f) => f.identity);
  });
  // Support conversations (visitor ↔ operator team) on top of chat.
  registerSupportModule(http, deps, { store, clock, events, apps, chat: chatModules.chat });
  // The chat widget and operator inbox (packages/widget/dist/browser) at /widget/ when built.
  await registerWidgetAssets(http);

  // The demo page (apps/demo/dist) at `/` when built; with `utd serve --demo` also its config endpoint.
  await registerDemoPage(http, config.demo ? { demo: { apps, dataDir: config.dataDir, livekit: Boolean(config.livekit) } } : {});

  const closers: (() => Promise<void>)[] = [];
  closers.push(() => push.close());
  closers.push(() => chatModules.close());
  closers.push(() => signaling.close());
  closers.push(() => signalRooms.close());
  if (!ports.limiter && limiter.close) closers.push(() => limiter.close?.() ?? Promise.resolve());
  let closed = false;
  let metricsListener: Awaited<ReturnType<typeof listenMetrics>> | undefined;
  const engine: Engine = {
    config,
    store,
    hooks,
    clock,
    events,
    metrics,
    services: { apps, users, auth, media: mediaModules, signaling, chat: chatModules, push, signalRooms },
    http,
    metricsUrl: undefined,
    async listen() {
      await http.listen({ port: config.port, host: config.host });
      if (config.metrics.port !== undefined) {
        metricsListener = await listenMetrics(metrics, config.metrics);
        engine.metricsUrl = metricsListener.url;
      }
      const addr = http.server.address();
      const port = typeof addr === "object" && addr ? addr.port : config.port;
      const host = config.host.includes(":") ? `[${config.host}]` : config.host;
      return `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
    },
    async close() {
      if (closed) return;
      closed = true;
      await http.close();
      await metricsListener?.close();
      for (const c of closers.reverse()) await c();
      if (!ports.store) await store.close();
    },
  };
  return engine;
}
