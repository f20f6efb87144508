import type { FastifyInstance } from "fastify";
import type { Clock } from "../../core/clock.js";
import type { EngineConfig } from "../../core/config.js";
import type { EventSink } from "../../core/events.js";
import type { Hooks } from "../../core/hooks.js";
import type { RouteDeps } from "../../http/route.js";
import { MediaWebhookHub } from "../../media/hub.js";
import { LiveKitMedia } from "../../media/livekit.js";
import type { MediaPort } from "../../media/port.js";
import type { Store } from "../../store/db.js";
import type { AppsService } from "../apps/service.js";
import type { AuthService } from "../auth/service.js";
import type { CallsService } from "../calls/service.js";
import { registerSeatsRoutes } from "../seats/routes.js";
import { SeatsService } from "../seats/service.js";
import { registerStageRoutes } from "../stage/routes.js";
import { StageService } from "../stage/service.js";
import type { UsersService } from "../users/service.js";
import { CallMediaService, registerCallMediaRoutes } from "./call-media.js";
import { registerRoomsRoutes, registerWebhookRoute } from "./routes.js";
import { RoomsService } from "./service.js";

/** The media plane's services. `media` is undefined without LiveKit (media endpoints then answer `media_unavailable`). */
export interface MediaModules {
  media: MediaPort | undefined;
  /** Verified LiveKit webhooks; the calls module listens here for its rooms. */
  hub: MediaWebhookHub;
  rooms: RoomsService;
  stage: StageService;
  seats: SeatsService;
  /** Call rooms; present when the calls module is. */
  calls: CallMediaService | undefined;
}

/** Wires the LiveKit adapter (when configured), rooms, stage and seats, and registers their routes. */
export async function registerMediaModules(
  http: FastifyInstance,
  deps: RouteDeps,
  o: {
    config: EngineConfig;
    store: Store;
    clock: Clock;
    auth: AuthService;
    events: EventSink;
    media?: MediaPort | undefined;
    /** The calls module: call rooms open on accept and close on end. */
    calls?: CallsService;
    /** A banned or signed-out user is removed from every media room of the app. */
    hooks?: Hooks;
    /** Needed to end a call on behalf of the party who left its room last. */
    apps?: AppsService;
    users?: UsersService;
  },
): Promise<MediaModules> {
  const media = o.media ?? (o.config.livekit ? new LiveKitMedia(o.config.livekit) : undefined);
  const hub = new MediaWebhookHub();
  const rooms = new RoomsService({
    store: o.store,
    clock: o.clock,
    auth: o.auth,
    media,
    events: o.events,
    hub,
    tokenTtlS: o.config.mediaTokenTtlS,
  });
  const stage = new StageService(o.store, o.clock, rooms);
  const seats = new SeatsService(o.store, o.clock, rooms);
  registerRoomsRoutes(http, deps, rooms, o.config.publicUrl);
  registerStageRoutes(http, deps, stage);
  registerSeatsRoutes(http, deps, seats);
  let calls: CallMediaService | undefined;
  if (o.calls) {
    calls = new CallMediaService(media, o.calls, o.config.mediaTokenTtlS, o.config.callRingTimeoutS, hub, http.log);
    registerCallMediaRoutes(http, deps, calls);
  }
  if (o.hooks && media) {
    const port = media;
    const kick = async (appId: string, identity: string) => {
      for (const room of await port.listRooms(`${appId}:`)) await port.removeParticipant(room, identity);
    };
    const logged = (appId: string, identity: string) =>
      void kick(appId, identity).catch((err: unknown) =>
        http.log.warn({ err, appId, identity }, "could not remove a user from media rooms"),
      );
    o.hooks.on("user.banned", (e) => logged(e.appId, e.identity));
    o.hooks.on("user.revoked", (e) => logged(e.appId, e.identity));
  }
  await registerWebhookRoute(http, media, hub);
  return { media, hub, rooms, stage, seats, calls };
}
