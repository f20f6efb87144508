import { PRESENCE_MAX_WATCHED, PresenceWatchFrameSchema } from "@utd-stream/protocol/schemas";
import { requireCapability } from "../../core/caller.js";
import { ApiError } from "../../core/errors.js";
import { defineModule, wsVerb } from "../module.js";
import { type PresenceTables, presenceMigrations } from "./migrations.js";
import { registerPresenceRoutes } from "./routes.js";
import { PresenceService } from "./service.js";

export { PresenceService } from "./service.js";

declare module "../../store/schema.js" {
  interface Database extends PresenceTables {}
}
declare module "../module.js" {
  interface ModuleServices {
    presence: PresenceService;
  }
}

/** Who is online, across nodes: sockets announce it; watch lists and friends hear `presence.changed`. */
export const presenceModule = defineModule({
  name: "presence",
  needs: ["realtime", "apps", "friends"],
  migrations: presenceMigrations,
  create: ({ store, clock, bus, log, realtime, apps, friends }) => {
    const presence = new PresenceService({
      store,
      clock,
      publisher: realtime.events,
      nodeId: bus.nodeId,
      graceS: realtime.config.presenceGraceS,
      leaseS: realtime.config.presenceLeaseS,
      log,
      // Presence goes to an identity's friends as well as to explicit watch lists.
      // One read of the app and one of the friendships for every identity announced together.
      watchers: async (appId, identities) => {
        const app = await apps.find(appId);
        if (!app?.messagingEnabled) return new Map();
        return friends.friendsOf(appId, identities);
      },
    });
    return {
      service: presence,
      routes: (http, deps) => registerPresenceRoutes(http, deps, presence),
      connections: {
        // Presence is part of the signalling capability: with it off, sockets (kept for chat) are not announced.
        connected: (ctx, conn) => {
          if (ctx.app.signalingEnabled) presence.connected(ctx.app.id, ctx.identity, conn.id, conn.deviceId);
        },
        disconnected: (ctx, conn) => presence.disconnected(ctx.app.id, ctx.identity, conn.id),
      },
      wsVerbs: [
        wsVerb("presence.watch", PresenceWatchFrameSchema, async (ctx, frame, conn) => {
          requireCapability(ctx.app, "signaling");
          if (frame.type !== "presence.watch") throw ApiError.invalid("type mismatch");
          const fresh = new Set(frame.identities);
          if (conn.watchCount() + fresh.size > PRESENCE_MAX_WATCHED)
            throw ApiError.limitExceeded("max_watched_identities", PRESENCE_MAX_WATCHED);
          conn.watch([...fresh]);
          return { presence: await presence.get(ctx, [...fresh]) };
        }),
        wsVerb("presence.unwatch", PresenceWatchFrameSchema, async (_ctx, frame, conn) => {
          conn.unwatch(frame.identities);
          return { watching: conn.watchCount() };
        }),
      ],
      start: () => presence.start(),
      stop: () => presence.stop(),
    };
  },
});
