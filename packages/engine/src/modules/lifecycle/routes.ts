import { AppDeleteReportSchema, Identity, UserErasureSchema, UserExportSchema } from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { type RouteDeps, route } from "../../http/route.js";
import type { LifecycleService } from "./service.js";

const AppParams = z.object({ app_id: z.string().min(1).max(64) });
const UserParams = AppParams.extend({ identity: Identity });

/** Admin routes of the data lifecycle: erase and export a user, delete an app (`utd user erase|export`, `utd app delete`). */
export function registerLifecycleRoutes(app: FastifyInstance, deps: RouteDeps, lifecycle: LifecycleService): void {
  route(app, deps, {
    method: "DELETE",
    url: "/admin/v1/apps/:app_id",
    summary: "Delete an app and everything of it (users, messages, files, devices…), in batches",
    tags: ["admin"],
    auth: "admin",
    params: AppParams,
    response: AppDeleteReportSchema,
    handler: async ({ params }) => lifecycle.deleteApp(params.app_id),
  });
  route(app, deps, {
    method: "DELETE",
    url: "/admin/v1/apps/:app_id/users/:identity",
    summary:
      "Erase a user's data (GDPR): messages removed or tombstoned per the app's erase_messages, files, devices, push tokens, presence; idempotent",
    tags: ["admin"],
    auth: "admin",
    params: UserParams,
    response: UserErasureSchema,
    handler: async ({ params }) => lifecycle.eraseUser(params.app_id, params.identity),
  });
  route(app, deps, {
    method: "GET",
    url: "/admin/v1/apps/:app_id/users/:identity/export",
    summary: "Everything stored about one user, as one JSON document (GDPR access)",
    tags: ["admin"],
    auth: "admin",
    params: UserParams,
    response: UserExportSchema,
    handler: async ({ params }) => lifecycle.exportUser(params.app_id, params.identity),
  });
}
