import { RoomJoinFrameSchema, RoomLeaveFrameSchema, RoomPublishFrameSchema } from "@utd-stream/protocol";
import type { FastifyInstance } from "fastify";
import type { Bus } from "../../bus/port.js";
import type { Clock } from "../../core/clock.js";
import type { Hooks } from "../../core/hooks.js";
import type { RateLimiter } from "../../core/rate-limit.js";
import type { RouteDeps } from "../../http/route.js";
import type { Store } from "../../store/db.js";
import type { Gateway } from "../../ws/gateway.js";
import type { AppsService } from "../apps/service.js";
import type { RoomBackplane } from "./backplane.js";
import { loadRoomsConfig, type RoomsConfig } from "./config.js";
import { MemoryBackplane } from "./memory-backplane.js";
import { RoomPolicies } from "./policies.js";
import { RedisBackplane } from "./redis-backplane.js";
import { registerSignalRoomRoutes } from "./routes.js";
import { SignalRooms } from "./service.js";

export { type SignalRoomsTables, signalRoomsMigrations } from "./migrations.js";

export interface SignalRoomsModuleDeps {
  store: Store;
  clock: Clock;
  hooks: Hooks;
  apps: AppsService;
  gateway: Gateway;
  bus: Bus;
  limiter: RateLimiter;
  http: FastifyInstance;
  routeDeps: RouteDeps;
  /** Redis shares rooms between nodes; the in-process backplane serves one node. */
  redisUrl: string | undefined;
  /** Longest accepted `exp - now` of a room grant (same bound as identity tokens). */
  grantMaxTtlS: number;
  config?: RoomsConfig;
  /** A backplane to use instead of the one `redisUrl` selects (tests). */
  backplane?: RoomBackplane;
}

/** The signalling-rooms module, wired. */
export interface SignalRoomsModule {
  rooms: SignalRooms;
  policies: RoomPolicies;
  backplane: RoomBackplane;
  close(): Promise<void>;
}

/**
 * Signalling rooms (the third part of the signalling capability, beside presence and calls): the
 * `room.join`/`room.leave`/`room.publish` verbs, the REST routes under `/api/v1/rooms/{room}/…`
 * (broadcast, members, policy), and the backplane that shares rooms between nodes.
 */
export async function createSignalRoomsModule(d: SignalRoomsModuleDeps): Promise<SignalRoomsModule> {
  const config = d.config ?? loadRoomsConfig();
  const log = d.http.log;
  const backplane =
    d.backplane ??
    (d.redisUrl
      ? new RedisBackplane({
          url: d.redisUrl,
          nodeId: d.bus.nodeId,
          leaseS: config.nodeLeaseS,
          onError: (err) => log.warn({ err }, "redis room backplane error"),
        })
      : new MemoryBackplane());
  await backplane.ready();
  const policies = new RoomPolicies(d.store, d.clock);
  const rooms = new SignalRooms({
    backplane,
    policies,
    limiter: d.limiter,
    clock: d.clock,
    config,
    nodeId: d.bus.nodeId,
    grantMaxTtlS: d.grantMaxTtlS,
    log,
  });

  d.gateway.handle("room.join", RoomJoinFrameSchema, (ctx, frame, conn) => rooms.join(ctx, frame, conn));
  d.gateway.handle("room.leave", RoomLeaveFrameSchema, (ctx, frame, conn) => rooms.leave(ctx, frame.room, conn));
  d.gateway.handle("room.publish", RoomPublishFrameSchema, (ctx, frame, conn) => rooms.publish(ctx, frame, conn));
  d.gateway.addConnectionListener({ connected: () => {}, disconnected: (_ctx, conn) => rooms.disconnected(conn) });
  // Capability switches and bans reach every node through the bus. On the node that made the change the
  // bus delivers at once, and the admin call waits for the re-read (hooks: app.updated), so rooms are
  // closed before it answers — like the gateway's sockets.
  const reloads = new Map<string, Promise<void>>();
  const unsub = d.bus.subscribe((m) => {
    if (m.kind === "app") {
      const p = d.apps.find(m.appId).then(
        (app) => rooms.appChanged(app, m.appId),
        (err: unknown) => log.warn({ err, appId: m.appId }, "signalling rooms: could not reload app"),
      );
      reloads.set(m.appId, p);
      void p.finally(() => {
        if (reloads.get(m.appId) === p) reloads.delete(m.appId);
      });
    } else if (m.kind === "close" && m.reason === "banned") rooms.banned(m.appId, m.identity);
  });
  const unhook = d.hooks.on("app.updated", (e) => reloads.get(e.appId));
  registerSignalRoomRoutes(d.http, d.routeDeps, rooms, policies, d.apps);
  rooms.start();
  return {
    rooms,
    policies,
    backplane,
    async close() {
      unsub();
      unhook();
      await rooms.stop();
      if (!d.backplane) await backplane.close(config.graceS);
    },
  };
}
