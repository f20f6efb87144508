import { PresenceListSchema, PresenceQuerySchema } from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { type RouteDeps, route } from "../../http/route.js";
import type { PresenceService } from "./service.js";

/** `GET /api/v1/presence?identities=a,b` */
export function registerPresenceRoutes(app: FastifyInstance, deps: RouteDeps, presence: PresenceService): void {
  route(app, deps, {
    method: "GET",
    url: "/api/v1/presence",
    summary: "Presence of up to 200 identities: online/offline, last seen, connected devices",
    tags: ["presence"],
    auth: "user",
    query: PresenceQuerySchema,
    response: PresenceListSchema,
    handler: async ({ auth, query }) => ({ presence: await presence.get(auth, query.identities) }),
  });
}
