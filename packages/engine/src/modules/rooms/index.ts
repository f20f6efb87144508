import { MediaWebhookHub } from "../../media/hub.js";
import { defineModule } from "../module.js";
import { CallMediaService, registerCallMediaRoutes } from "./call-media.js";
import { JoinGuard } from "./join-guard.js";
import { type RoomsTables, roomsMigrations } from "./migrations.js";
import { registerRoomsRoutes, registerWebhookRoute } from "./routes.js";
import { RoomsService } from "./service.js";

export { CallMediaService } from "./call-media.js";
export { inRoom, isRoom, roomColumns } from "./scope.js";
export { type GrantSource, type RoomListener, type RoomRow, RoomsService } from "./service.js";

declare module "../../store/schema.js" {
  interface Database extends RoomsTables {}
}
declare module "../module.js" {
  interface ModuleServices {
    rooms: RoomsService;
  }
}

/**
 * Live streams and audio rooms on the media port (LiveKit): room tokens with server-decided
 * permissions, call rooms (opened on accept, closed on end), and LiveKit's signed webhooks.
 * Without a media port the media endpoints answer `media_unavailable`.
 */
export const roomsModule = defineModule({
  name: "rooms",
  needs: ["auth", "realtime", "calls", "users", "apps"],
  migrations: roomsMigrations,
  create: ({ store, clock, config, media, hooks, log, auth, realtime, calls, users, apps }) => {
    const hub = new MediaWebhookHub();
    const rooms = new RoomsService({ store, clock, auth, media, events: realtime.events, hub, tokenTtlS: config.mediaTokenTtlS });
    const callMedia = new CallMediaService(media, calls, config.mediaTokenTtlS, config.callRingTimeoutS, hub, log);
    if (media) {
      // Whoever joins with a token that no longer reflects the truth (banned, revoked, demoted, call over) is corrected.
      new JoinGuard({
        hub,
        media,
        rooms,
        log,
        findUser: (appId, identity) => users.find(appId, identity),
        findApp: (appId) => apps.find(appId),
        findCall: (appId, callId) => calls.peek(appId, callId),
      });
      // A banned or signed-out user is removed from every media room of the app.
      const kick = async (appId: string, identity: string) => {
        for (const room of await media.listRooms(`${appId}:`)) await media.removeParticipant(room, identity);
      };
      const logged = (appId: string, identity: string) =>
        void kick(appId, identity).catch((err: unknown) => log.warn({ err, appId, identity }, "could not remove a user from media rooms"));
      hooks.on("user.banned", (e) => logged(e.appId, e.identity));
      hooks.on("user.revoked", (e) => logged(e.appId, e.identity));
    }
    return {
      service: rooms,
      routes: async (http, deps) => {
        registerRoomsRoutes(http, deps, rooms, config.publicUrl);
        registerCallMediaRoutes(http, deps, callMedia);
        await registerWebhookRoute(http, media, hub);
      },
    };
  },
});
