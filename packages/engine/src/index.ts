import type { FastifyInstance } from "fastify";
import { Counter, type Registry } from "prom-client";
import type { z } from "zod";
import { MemoryBus } from "./bus/memory.js";
import type { Bus } from "./bus/port.js";
import { RedisBus } from "./bus/redis.js";
import { type RedisClient, redisConnector } from "./bus/redis-client.js";
import { MemoryStreamHub } from "./bus/streams-memory.js";
import { RedisStreams } from "./bus/streams-redis.js";
import { type Clock, systemClock } from "./core/clock.js";
import type { EngineConfig } from "./core/config.js";
import type { EventSink } from "./core/events.js";
import { Hooks } from "./core/hooks.js";
import { type EngineKeys, loadKeys } from "./core/keys.js";
import type { Logger } from "./core/logger.js";
import { Outbox } from "./core/outbox.js";
import { MemoryRateLimiter, type RateLimiter } from "./core/rate-limit.js";
import { RedisRateLimiter } from "./core/rate-limit-redis.js";
import { LocalFileStore, openFileStore } from "./files/index.js";
import type { FileStore } from "./files/port.js";
import { registerLocalFileRoutes } from "./files/routes.js";
import { countRefusals, livekitLatency, registerStoreGauges } from "./http/domain-metrics.js";
import { createLogger, stdoutSink } from "./http/logger.js";
import { createMetrics, listenMetrics, registerLogMetrics } from "./http/metrics.js";
import type { RouteDeps } from "./http/route.js";
import { createHttp } from "./http/server.js";
import { registerConsolePage, registerDemoPage } from "./http/static.js";
import { registerWidgetAssets } from "./http/widget-static.js";
import { LiveKitMedia } from "./media/livekit.js";
import type { MediaPort } from "./media/port.js";
import { consoleCookie } from "./modules/console/index.js";
import { MODULES, migrationsOf } from "./modules/index.js";
import type { AnyModule, ModuleDeps, ModuleInstance, ModuleName, ModuleServices } from "./modules/module.js";
import { closePushSenders, openPushSenders } from "./push/index.js";
import type { PushSenders } from "./push/port.js";
import { connectStore, type StoreOptions } from "./store/db.js";
import type { Store } from "./store/port.js";
import { VERSION } from "./version.js";
import { type GatewayConfig, loadGatewayConfig } from "./ws/config.js";
import { EVENT_CODEC, type EventStreams, type PreparedEvent } from "./ws/stream.js";

export type { Bus } from "./bus/port.js";
export { MemoryStreamHub } from "./bus/streams-memory.js";
export type { Clock } from "./core/clock.js";
export { ConfigError, type EngineConfig, loadConfig } from "./core/config.js";
export { ApiError } from "./core/errors.js";
export type { Logger } from "./core/logger.js";
export type { RateLimiter } from "./core/rate-limit.js";
export type { FileStore } from "./files/port.js";
export type { MediaPort } from "./media/port.js";
export { MODULES, migrationsOf } from "./modules/index.js";
export type { ModuleDescriptor, ModuleServices } from "./modules/module.js";
export type { PushSenders } from "./push/port.js";
export type { Store } from "./store/port.js";
export { VERSION } from "./version.js";
export type { EventStreams } from "./ws/stream.js";

/**
 * Opens the store the configuration asks for and brings its schema up to date with every module's
 * migrations (or those of `modules`).
 */
export function openStore(opts: StoreOptions, modules: readonly AnyModule[] = MODULES): Promise<Store> {
  return connectStore(opts, migrationsOf(modules));
}

/**
 * The outside world, replaceable. Anything not given gets the default `config` selects; the engine
 * closes only the ports it built (whoever passes a port closes it).
 */
export interface EnginePorts {
  /** SQLite in `dataDir` by default, PostgreSQL with `DATABASE_URL`. A given store must already be migrated (`openStore`). */
  store?: Store;
  /** In-process by default, Redis pub/sub with `REDIS_URL` (or `UTD_REDIS_CLUSTER`). */
  bus?: Bus;
  /**
   * User event streams: in-process by default, Redis Streams with `REDIS_URL` / `UTD_REDIS_CLUSTER` (any
   * node resumes any stream). Tests pass nodes of one `MemoryStreamHub` to run several engines in a process.
   */
  streams?: EventStreams;
  /** LiveKit when configured; none by default (media endpoints answer `media_unavailable`). */
  media?: MediaPort;
  /** Local disk under `dataDir` by default, S3-compatible storage with `UTD_S3_BUCKET`. */
  files?: FileStore;
  /** The real providers (APNs, FCM, Web Push) by default, at the endpoints `UTD_APNS_HOST` / `UTD_FCM_URL` choose. */
  push?: PushSenders;
  clock?: Clock;
  /** In memory by default, Redis with `REDIS_URL` (limits shared by every node). */
  limiter?: RateLimiter;
  /** pino, JSON to stdout at `UTD_LOG_LEVEL`, secrets redacted. */
  logger?: Logger;
}

export interface Engine {
  config: EngineConfig;
  store: Store;
  hooks: Hooks;
  clock: Clock;
  /** Where services publish user events: the WebSocket gateway (per-user streams, resume, cross-node bus). */
  events: EventSink;
  metrics: Registry;
  /** Every module's service, by module name. */
  services: Readonly<ModuleServices>;
  http: FastifyInstance;
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  /** Where `/metrics` is served when it has its own listener (`UTD_METRICS_PORT`), once listening. */
  metricsUrl: string | undefined;
  /**
   * The first half of a graceful exit (SIGTERM): `/readyz` answers 503 from now on; when a balancer
   * probed it in the last minute, waits `UTD_SHUTDOWN_UNREADY_S` for it to notice; then closes the
   * sockets with 4503 (reconnect elsewhere) spread over `UTD_SHUTDOWN_DRAIN_S`. REST keeps being served
   * meanwhile. Call {@link Engine.close} after it.
   */
  drain(): Promise<void>;
  /** Graceful stop: refuse new work, drain in-flight requests, close sockets, stop modules, close the ports it built. */
  close(): Promise<void>;
}

/** A `/readyz` probe this recent means a balancer watches the node: draining then waits for it to notice. */
const READY_PROBE_RECENT_MS = 60_000;

/** How long the engine waits for a Redis bus before giving up on start. */
const BUS_READY_TIMEOUT_MS = 10_000;

/**
 * The composition root: builds the ports (defaults from `config`), then every module of `modules` in
 * list order, each given the ports and the services of the modules it needs; registers their routes,
 * WebSocket verbs and connection listeners; starts them. No module-level singletons: two engines can
 * share a process.
 */
export async function createEngine(
  config: EngineConfig,
  ports: EnginePorts = {},
  modules: readonly AnyModule[] = MODULES,
): Promise<Engine> {
  /** Ports this engine built, closed in reverse order on close (or when a later step of the build fails). */
  const owned: (() => Promise<void>)[] = [];
  const started: ModuleInstance<unknown>[] = [];
  const closeOwned = async () => {
    for (const m of started.splice(0).reverse()) await Promise.resolve(m.stop?.()).catch(() => {});
    for (const c of owned.splice(0).reverse()) await c().catch(() => {});
  };
  // A misordered or clashing list is refused before anything is opened or migrated.
  checkModuleList(modules);
  try {
    const clock = ports.clock ?? systemClock;
    const log = ports.logger ?? createLogger(config.logLevel, stdoutSink(config.logBufferBytes));
    const store = ports.store ?? (await openStore(storeOptions(config), modules));
    if (!ports.store) owned.push(() => store.close());
    const keys = engineKeys(config);
    const metrics = createMetrics();
    registerStoreGauges(metrics, store, clock);
    if (!ports.logger) registerLogMetrics(metrics, stdoutSink());
    // Registered even without LiveKit so dashboards find the series (empty) on every engine.
    const lkLatency = livekitLatency(metrics);
    const redis = redisConnector({ url: config.redisUrl, cluster: config.redisCluster });
    const baseLimiter: RateLimiter = ports.limiter ?? (redis ? new RedisRateLimiter(redis(), clock) : new MemoryRateLimiter(clock));
    if (!ports.limiter && baseLimiter.close) owned.push(() => baseLimiter.close?.() ?? Promise.resolve());
    // Wrapped so refusals are counted by budget whichever limiter runs (memory, Redis, injected).
    const limiter = countRefusals(baseLimiter, metrics);
    const bus = ports.bus ?? (await openBus(redis, log));
    if (!ports.bus) owned.push(() => bus.close());
    const streams = ports.streams ?? (await openStreams(redis, loadGatewayConfig(), log));
    if (!ports.streams) owned.push(() => streams.close());
    registerStreamTraffic(metrics, streams);
    const media = ports.media ?? (config.livekit ? new LiveKitMedia(config.livekit, lkLatency) : undefined);
    // The local file store's URLs are signed with a key derived from the token key (never usable as a token).
    const files = ports.files ?? (await openFileStore({ dataDir: config.dataDir, s3: config.s3, signingKey: keys.tokenKey, clock }));
    const pushSenders =
      ports.push ??
      openPushSenders(
        { apnsHost: config.push.apnsHost, fcmUrl: config.push.fcmUrl, ca: config.push.ca, timeoutMs: config.push.timeoutMs },
        clock,
      );
    if (!ports.push) owned.push(() => closePushSenders(pushSenders));
    const hooks = new Hooks();
    // Pushes and webhooks are written by the services inside the transaction of their cause.
    const outbox = new Outbox();

    // Graceful exit (see Engine.drain): /readyz fails once draining; the last probe says whether a balancer watches.
    let draining: Promise<void> | undefined;
    let lastReadyProbe = Number.NEGATIVE_INFINITY;
    const http = await createHttp({
      bodyLimit: config.bodyLimit,
      logger: log,
      corsOrigins: config.corsOrigins,
      trustedProxies: config.trustedProxies,
      metrics,
      metricsAccess: config.metrics,
      adminToken: config.adminToken,
      version: VERSION,
      ready: async () => {
        lastReadyProbe = clock.now();
        if (draining) throw new Error("draining: this node is shutting down");
        await store.ping();
      },
    });
    const closeHttp = () => http.close();
    owned.push(closeHttp);

    const base: Omit<ModuleDeps, "later"> = {
      config,
      store,
      bus,
      streams,
      media,
      files,
      pushSenders,
      redis,
      clock,
      limiter,
      log,
      hooks,
      outbox,
      keys,
      metrics,
    };
    const { services, instances } = await buildModules(modules, base);
    const auth = required(services, "auth");
    const realtime = required(services, "realtime");

    const consoleSvc = (services as Partial<ModuleServices>).console;
    const routeDeps: RouteDeps = {
      // REST requests reuse the handshake's app read (cleared by every app change on every node: the hook
      // here, the bus there); the user row is still read per request (bans, revocations).
      authenticate: (token, opts) => auth.authenticate(token, { ...opts, cached: true }),
      adminToken: config.adminToken,
      ...(consoleSvc
        ? {
            consoleAuth: async (req) => {
              const csrf = req.headers["x-csrf-token"];
              await consoleSvc.authorize(consoleCookie(req), req.method, typeof csrf === "string" ? csrf : undefined);
            },
          }
        : {}),
    };
    for (const m of instances) {
      await m.routes?.(http, routeDeps);
      for (const v of m.wsVerbs ?? []) realtime.events.handle(v.verb, v.schema as z.ZodType<never>, v.handle);
      if (m.connections) realtime.events.addConnectionListener(m.connections);
    }
    // Local files are served by the engine itself (signed URLs); S3 serves its own.
    if (files instanceof LocalFileStore) await registerLocalFileRoutes(http, files);
    // The chat widget and operator inbox (packages/widget/dist/browser) at /widget/ when built.
    await registerWidgetAssets(http);
    // The demo page (apps/demo/dist) at `/` when built; with `utd serve --demo` also its config endpoint.
    const apps = required(services, "apps");
    await registerDemoPage(
      http,
      config.demo ? { demo: { findApp: (id) => apps.find(id), dataDir: config.dataDir, livekit: Boolean(config.livekit) } } : {},
    );

    // The operator console (apps/console/dist) at `/console/` when built.
    await registerConsolePage(http);

    for (const m of instances) {
      await m.start?.();
      started.push(m);
    }
    // From here on, `close()` owns the teardown: the HTTP server first, then the modules, then the ports.
    const portClosers = owned.splice(0).filter((c) => c !== closeHttp);
    const modulesStarted = started.splice(0);

    let closed = false;
    let metricsListener: Awaited<ReturnType<typeof listenMetrics>> | undefined;
    const engine: Engine = {
      config,
      store,
      hooks,
      clock,
      events: realtime.events,
      metrics,
      services,
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
      drain() {
        draining ??= (async () => {
          const { unreadyS, drainS } = config.shutdown;
          const watched = clock.now() - lastReadyProbe < READY_PROBE_RECENT_MS;
          log.info({ unready_s: watched ? unreadyS : 0, drain_s: drainS, sockets: realtime.events.connectionCount }, "draining");
          if (watched && unreadyS > 0) await new Promise((r) => setTimeout(r, unreadyS * 1000));
          // 0: no drain; the sockets are closed at once with 1001 when the HTTP server closes.
          if (drainS > 0) await realtime.events.drain(drainS * 1000);
          log.info("drained: sockets closed, finishing in-flight requests");
        })();
        return draining;
      },
      async close() {
        if (closed) return;
        closed = true;
        // Fastify's preClose hook closes the sockets (the gateway) before in-flight requests drain.
        await http.close();
        await metricsListener?.close();
        for (const m of modulesStarted.reverse()) await m.stop?.();
        for (const c of portClosers.reverse()) await c();
      },
    };
    return engine;
  } catch (err) {
    await closeOwned();
    throw err;
  }
}

/**
 * Builds `modules` in list order. Each gets the ports, the services of the modules it `needs` (which
 * must be listed before it) and `later` for a true cycle.
 */
async function buildModules(
  modules: readonly AnyModule[],
  base: Omit<ModuleDeps, "later">,
): Promise<{ services: ModuleServices; instances: ModuleInstance<unknown>[] }> {
  const services: Partial<Record<ModuleName, unknown>> = {};
  const listed = new Set(modules.map((m) => m.name));
  const later: ModuleDeps["later"] = (name) => {
    if (!listed.has(name)) throw new Error(`a module asks for "${name}" later, but no such module is listed`);
    return () => {
      if (!(name in services)) throw new Error(`module "${name}" is not built yet`);
      return services[name] as ModuleServices[typeof name];
    };
  };
  const instances: ModuleInstance<unknown>[] = [];
  for (const m of modules) {
    // Each module sees the ports plus the services built so far; `needs` (checked above) says which it reads.
    const instance = await m.create({ ...base, ...(services as ModuleServices), later });
    services[m.name] = instance.service;
    instances.push(instance);
  }
  return { services: services as ModuleServices, instances };
}

/** Every module listed once, after the modules it needs. */
function checkModuleList(modules: readonly AnyModule[]): void {
  const seen = new Set<string>();
  for (const m of modules) {
    if (seen.has(m.name)) throw new Error(`module "${m.name}" is listed twice`);
    const missing = m.needs.filter((n) => !seen.has(n));
    if (missing.length > 0) throw new Error(`module "${m.name}" needs ${missing.join(", ")}: list it after them`);
    seen.add(m.name);
  }
}

function required<K extends ModuleName>(services: ModuleServices, name: K): ModuleServices[K] {
  if (!(name in services)) throw new Error(`the engine needs the "${name}" module`);
  return services[name];
}

function storeOptions(config: EngineConfig): StoreOptions {
  return {
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    sqliteSync: config.sqliteSync,
    sqliteGroupCommit: config.sqliteGroupCommit,
    poolMax: config.dbPoolMax,
  };
}

/** One key signs user tokens and upload/download URLs; every node of a cluster must share it. */
function engineKeys(config: EngineConfig): EngineKeys {
  const keys = loadKeys(config.dataDir);
  return config.tokenSecret ? { ...keys, tokenKey: new TextEncoder().encode(config.tokenSecret) } : keys;
}

/** `utd_streams_received_{messages,bytes}_total`: what this node receives from Redis for its users' streams. */
function registerStreamTraffic(registry: Registry, streams: EventStreams): void {
  const read = streams.received?.bind(streams);
  if (!read) return;
  new Counter({
    name: "utd_streams_received_messages_total",
    help: "Pub/sub messages this node received for the user streams it holds (Redis)",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read().messages);
    },
  });
  new Counter({
    name: "utd_streams_received_bytes_total",
    help: "Bytes (channel + payload) this node received for the user streams it holds (Redis)",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read().bytes);
    },
  });
}

/** Waits for `what` to be ready within {@link BUS_READY_TIMEOUT_MS}; closes it and throws otherwise. */
async function readyOrClose<T extends { ready(): Promise<void>; close(): Promise<void> }>(what: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("Redis did not answer within 10s (REDIS_URL / UTD_REDIS_CLUSTER)")), BUS_READY_TIMEOUT_MS);
  });
  try {
    await Promise.race([what.ready(), timeout]);
  } catch (err) {
    await what.close();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return what;
}

/** The bus the Redis configuration selects: in-process without one. */
async function openBus(redis: (() => RedisClient) | undefined, log: Logger): Promise<Bus> {
  if (!redis) return new MemoryBus();
  return readyOrClose(new RedisBus(redis, (err) => log.warn({ err }, "redis bus error")));
}

/** The user streams the Redis configuration selects: in-process without one. */
async function openStreams(redis: (() => RedisClient) | undefined, gw: GatewayConfig, log: Logger): Promise<EventStreams> {
  const limits = { maxEvents: gw.resumeMaxEvents, ttlMs: gw.resumeTtlS * 1000 };
  if (!redis) return new MemoryStreamHub<PreparedEvent>(limits).node();
  return readyOrClose(
    new RedisStreams<PreparedEvent>({
      connect: redis,
      codec: EVENT_CODEC,
      limits,
      onError: (err) => log.warn({ err }, "redis user streams error"),
    }),
  );
}
