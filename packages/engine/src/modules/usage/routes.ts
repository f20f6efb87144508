import { DailyUsageSchema, LiveStatsSchema } from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { type RouteDeps, route } from "../../http/route.js";
import type { AppsService } from "../apps/index.js";
import type { UsageService } from "./service.js";

/** The console's usage charts and live figures, over the admin API. */
export function registerUsageRoutes(http: FastifyInstance, deps: RouteDeps, usage: UsageService, apps: AppsService): void {
  route(http, deps, {
    method: "GET",
    url: "/admin/v1/apps/:app_id/usage/daily",
    summary: "Daily usage of an app: active users, messages, call minutes, peak sockets (last `days` UTC days)",
    tags: ["admin"],
    auth: "admin",
    params: z.object({ app_id: z.string().min(1).max(64) }),
    query: z.object({ days: z.coerce.number().int().min(1).max(366).default(30) }),
    response: DailyUsageSchema,
    handler: async ({ params, query }) => {
      await apps.get(params.app_id);
      // What this node counted since its last flush is included.
      await usage.flush();
      return usage.daily(params.app_id, query.days);
    },
  });
  route(http, deps, {
    method: "GET",
    url: "/admin/v1/live",
    summary: "What the engine is doing now: sockets, users, messages/s, calls in progress, LiveKit rooms",
    tags: ["admin"],
    auth: "admin",
    response: LiveStatsSchema,
    handler: async ({ reply }) => {
      reply.header("cache-control", "no-store");
      return usage.live();
    },
  });
}
