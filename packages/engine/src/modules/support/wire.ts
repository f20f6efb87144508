import type { FastifyInstance } from "fastify";
import type { Clock } from "../../core/clock.js";
import type { EventSink } from "../../core/events.js";
import type { RouteDeps } from "../../http/route.js";
import type { Store } from "../../store/db.js";
import type { AppsService } from "../apps/service.js";
import type { ChatService } from "../chat/service.js";
import { registerSupportRoutes } from "./routes.js";
import { SupportService } from "./service.js";

export interface SupportWiring {
  store: Store;
  clock: Clock;
  events: EventSink;
  apps: AppsService;
  chat: ChatService;
}

/** Wires support conversations and the operator role, and registers their routes. */
export function registerSupportModule(http: FastifyInstance, deps: RouteDeps, w: SupportWiring): SupportService {
  const support = new SupportService({ store: w.store, clock: w.clock, events: w.events, chat: w.chat });
  registerSupportRoutes(http, deps, support, w.apps);
  return support;
}
