import { PublishEventsRequestSchema, PublishEventsResponseSchema } from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { EventSink } from "../../core/events.js";
import { type RouteDeps, route } from "../../http/route.js";
import type { AppsService } from "../apps/index.js";

/** `POST /admin/v1/apps/{app_id}/events`: server-side publish of `custom.*` events to users' streams. */
export function registerGatewayRoutes(app: FastifyInstance, deps: RouteDeps, apps: AppsService, events: EventSink): void {
  route(app, deps, {
    method: "POST",
    url: "/admin/v1/apps/:app_id/events",
    summary: "Send a custom.* event to users (every device; resumable). For your backend, with the admin token",
    tags: ["admin"],
    auth: "admin",
    params: z.strictObject({ app_id: z.string().min(1).max(64) }),
    body: PublishEventsRequestSchema,
    response: PublishEventsResponseSchema,
    handler: async ({ params, body }) => {
      await apps.get(params.app_id);
      const identities = [...new Set(body.identities)];
      // Answered once the event is in every recipient's stream: publishes a client makes one after another
      // keep their order, whichever nodes they reach.
      await events.toUsers(params.app_id, identities, body.type, body.data);
      return { recipients: identities.length };
    },
  });
}
