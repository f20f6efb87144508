import type { FastifyInstance } from "fastify";
import type { Cluster, Redis } from "ioredis";
import type { Registry } from "prom-client";
import type { z } from "zod";
import type { Bus } from "../bus/port.js";
import type { Clock } from "../core/clock.js";
import type { EngineConfig } from "../core/config.js";
import type { Hooks } from "../core/hooks.js";
import type { EngineKeys } from "../core/keys.js";
import type { Logger } from "../core/logger.js";
import type { Outbox } from "../core/outbox.js";
import type { RateLimiter } from "../core/rate-limit.js";
import type { FileStore } from "../files/port.js";
import type { RouteDeps } from "../http/route.js";
import type { MediaPort } from "../media/port.js";
import type { PushSenders } from "../push/port.js";
import type { MigrationSet, Store } from "../store/port.js";
import type { ConnectionListener, WsHandler } from "../ws/gateway.js";
import type { EventStreams } from "../ws/stream.js";

/**
 * The contract every domain module follows. A module is one folder under `modules/` whose `index.ts`
 * exports a {@link ModuleDescriptor}; `createEngine` (src/index.ts) builds the descriptors of
 * `modules/index.ts` in order, hands each the ports and the services of the modules it `needs`,
 * registers what it returns (routes, WebSocket verbs, connection listeners) and starts and stops it.
 */

/**
 * The services modules offer one another, by module name. Empty here: each module adds its own entry
 * in its `index.ts` by declaration merging (`declare module "../module.js" { interface ModuleServices { chat: ChatService } }`).
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by each module through declaration merging.
export interface ModuleServices {}

export type ModuleName = keyof ModuleServices;

/** What every module may use: the engine's configuration and ports. */
export interface ModuleDeps {
  config: EngineConfig;
  store: Store;
  bus: Bus;
  /** User event streams (in-process, or Redis Streams so any node can resume them); the gateway publishes through them. */
  streams: EventStreams;
  /** The media plane (LiveKit); undefined when none is configured (media endpoints answer `media_unavailable`). */
  media: MediaPort | undefined;
  files: FileStore;
  /** The push providers (APNs, FCM, Web Push). */
  pushSenders: PushSenders;
  /**
   * Opens a connection to the engine's Redis: one server (`REDIS_URL`) or a Redis Cluster (`UTD_REDIS_CLUSTER`);
   * undefined when none is configured (one node: in-process state).
   */
  redis: (() => Redis | Cluster) | undefined;
  clock: Clock;
  limiter: RateLimiter;
  log: Logger;
  /** In-process engine events (a ban, an app change) other parts react to. */
  hooks: Hooks;
  /** Where services write the pushes (and webhooks) a change causes, inside the change's transaction. */
  outbox: Outbox;
  /** The user-token signing key and the key that seals app secrets. */
  keys: EngineKeys;
  /** The engine's Prometheus registry (`/metrics`). */
  metrics: Registry;
  /**
   * A service of a module built *later*, read when called (it throws before that module is built). Only
   * for true cycles between two modules, each of which needs the other while serving requests; say why
   * at the call site. Everything else goes in `needs`.
   */
  later<K extends ModuleName>(name: K): () => ModuleServices[K];
}

/** A WebSocket request verb a module serves: frames of `type: verb` are checked against `schema` first. */
export interface WsVerb {
  verb: string;
  schema: z.ZodType;
  handle: WsHandler<never>;
}

/** Builds a {@link WsVerb}, typing the handler's frame from the schema. */
export function wsVerb<S extends z.ZodType>(verb: string, schema: S, handle: WsHandler<z.output<S>>): WsVerb {
  return { verb, schema, handle: handle as WsHandler<never> };
}

/** What a module's `create` returns. */
export interface ModuleInstance<S> {
  /** What other modules (and `engine.services`) use. */
  service: S;
  /** Registers the module's HTTP routes (`route()` in http/route.ts). Called once every module is built. */
  routes?(http: FastifyInstance, deps: RouteDeps): void | Promise<void>;
  /** WebSocket verbs, registered on the gateway. */
  wsVerbs?: readonly WsVerb[];
  /** Told when an authenticated socket opens and closes on this node. */
  connections?: ConnectionListener;
  /** Starts timers and sweepers; called after every module is built and every route registered. */
  start?(): void | Promise<void>;
  /** Stops them and waits for pending work; modules stop in reverse order, after the HTTP server closed. */
  stop?(): void | Promise<void>;
}

/** One domain module: its migrations, the modules it builds on, and how to build it. */
export interface ModuleDescriptor<N extends ModuleName = ModuleName, D extends ModuleName = never> {
  name: N;
  /** Modules whose services this one uses; they must come earlier in the module list. */
  needs: readonly D[];
  /** The migrations creating its tables (their types are merged into `Database` in the module's index.ts). */
  migrations?: MigrationSet;
  create(deps: ModuleDeps & Pick<ModuleServices, D>): ModuleInstance<ModuleServices[N]> | Promise<ModuleInstance<ModuleServices[N]>>;
}

/** A descriptor of any module (the module list's element type). */
export type AnyModule = ModuleDescriptor<ModuleName, ModuleName>;

/** Declares a module; the identity function exists so TypeScript infers `N` and `D` from the literal. */
export function defineModule<N extends ModuleName, D extends ModuleName = never>(m: ModuleDescriptor<N, D>): ModuleDescriptor<N, D> {
  return m;
}
