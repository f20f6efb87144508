import { RoomJoinFrameSchema, RoomLeaveFrameSchema, RoomPublishFrameSchema } from "@utd-stream/protocol/schemas";
import { defineModule, wsVerb } from "../module.js";
import type { RoomBackplane } from "./backplane.js";
import { loadRoomsConfig } from "./config.js";
import { MemoryBackplane } from "./memory-backplane.js";
import { type SignalRoomsTables, signalRoomsMigrations } from "./migrations.js";
import { RoomPolicies } from "./policies.js";
import { RedisBackplane } from "./redis-backplane.js";
import { registerSignalRoomRoutes } from "./routes.js";
import { SignalRooms } from "./service.js";

export type { RoomBackplane } from "./backplane.js";
export type { RoomPolicies } from "./policies.js";
export type { SignalRooms } from "./service.js";

/** The signalling-rooms module's service. */
export interface SignalRoomsModule {
  rooms: SignalRooms;
  policies: RoomPolicies;
  backplane: RoomBackplane;
}

declare module "../../store/schema.js" {
  interface Database extends SignalRoomsTables {}
}
declare module "../module.js" {
  interface ModuleServices {
    signalRooms: SignalRoomsModule;
  }
}

/**
 * Signalling rooms (the third part of the signalling capability, beside presence and calls): the
 * `room.join`/`room.leave`/`room.publish` verbs, the REST routes under `/api/v1/rooms/{room}/…`
 * (broadcast, members, policy), and the backplane that shares rooms between nodes (Redis with
 * `REDIS_URL` or a Redis Cluster with `UTD_REDIS_CLUSTER`, in-process otherwise).
 */
export const signalRoomsModule = defineModule({
  name: "signalRooms",
  needs: ["realtime", "apps"],
  migrations: signalRoomsMigrations,
  create: async ({ store, clock, hooks, bus, limiter, log, redis, config: engineConfig, apps }) => {
    const config = loadRoomsConfig();
    const backplane: RoomBackplane = redis
      ? new RedisBackplane({
          connect: redis,
          nodeId: bus.nodeId,
          leaseS: config.nodeLeaseS,
          onError: (err) => log.warn({ err }, "redis room backplane error"),
        })
      : new MemoryBackplane();
    await backplane.ready();
    const policies = new RoomPolicies(store, clock);
    const rooms = new SignalRooms({
      backplane,
      policies,
      limiter,
      clock,
      config,
      nodeId: bus.nodeId,
      // Longest accepted `exp - now` of a room grant: the same bound as identity tokens.
      grantMaxTtlS: engineConfig.identityTokenMaxTtlS,
      log,
    });
    // Capability switches and bans reach every node through the bus. On the node that made the change the
    // bus delivers at once, and the admin call waits for the re-read (hooks: app.updated), so rooms are
    // closed before it answers — like the gateway's sockets.
    const reloads = new Map<string, Promise<void>>();
    const unsub = bus.subscribe((m) => {
      if (m.kind === "app") {
        const p = apps.find(m.appId).then(
          (app) => rooms.appChanged(app, m.appId),
          (err: unknown) => log.warn({ err, appId: m.appId }, "signalling rooms: could not reload app"),
        );
        reloads.set(m.appId, p);
        void p.finally(() => {
          if (reloads.get(m.appId) === p) reloads.delete(m.appId);
        });
      } else if (m.kind === "close" && m.reason === "banned") rooms.banned(m.appId, m.identity);
    });
    const unhook = hooks.on("app.updated", (e) => reloads.get(e.appId));
    return {
      service: { rooms, policies, backplane },
      routes: (http, deps) => registerSignalRoomRoutes(http, deps, rooms, policies, apps),
      wsVerbs: [
        wsVerb("room.join", RoomJoinFrameSchema, (ctx, frame, conn) => rooms.join(ctx, frame, conn)),
        wsVerb("room.leave", RoomLeaveFrameSchema, (ctx, frame, conn) => rooms.leave(ctx, frame.room, conn)),
        wsVerb("room.publish", RoomPublishFrameSchema, (ctx, frame, conn) => rooms.publish(ctx, frame, conn)),
      ],
      connections: { connected: () => {}, disconnected: (_ctx, conn) => rooms.disconnected(conn) },
      start: () => rooms.start(),
      stop: async () => {
        unsub();
        unhook();
        await rooms.stop();
        await backplane.close(config.graceS);
      },
    };
  },
});
