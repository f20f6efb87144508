import {
  AdminUserListSchema,
  AdminUserSchema,
  AppSchema,
  AppWithSecretSchema,
  BanRequestSchema,
  BanSchema,
  CreateAppRequestSchema,
  Identity,
  RotateKeyRequestSchema,
  UpdateAppRequestSchema,
  UsageSchema,
} from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { type RouteDeps, route } from "../../http/route.js";
import { AppsService } from "../apps/index.js";
import type { UsersService } from "../users/index.js";

const AppParams = z.object({ app_id: z.string().min(1).max(64) });
const UserParams = AppParams.extend({ identity: Identity });

/** The admin API (`/admin/v1`, bearer `UTD_ADMIN_TOKEN`); the `utd` CLI drives it when an engine runs. */
export function registerAdminRoutes(app: FastifyInstance, deps: RouteDeps, apps: AppsService, users: UsersService): void {
  route(app, deps, {
    method: "POST",
    url: "/admin/v1/apps",
    summary: "Create an app (the secret is returned only here)",
    tags: ["admin"],
    auth: "admin",
    body: CreateAppRequestSchema,
    response: AppWithSecretSchema,
    status: 201,
    handler: async ({ body }) => apps.create(body),
  });
  route(app, deps, {
    method: "GET",
    url: "/admin/v1/apps",
    summary: "List apps",
    tags: ["admin"],
    auth: "admin",
    response: z.object({ apps: z.array(AppSchema) }),
    handler: async () => ({ apps: (await apps.list()).map(AppsService.toWire) }),
  });
  route(app, deps, {
    method: "GET",
    url: "/admin/v1/apps/:app_id",
    summary: "Show an app",
    tags: ["admin"],
    auth: "admin",
    params: AppParams,
    response: AppSchema,
    handler: async ({ params }) => AppsService.toWire(await apps.get(params.app_id)),
  });
  route(app, deps, {
    method: "PATCH",
    url: "/admin/v1/apps/:app_id",
    summary: "Update plan, auth mode, capability flags or limit overrides",
    tags: ["admin"],
    auth: "admin",
    params: AppParams,
    body: UpdateAppRequestSchema,
    response: AppSchema,
    handler: async ({ params, body }) => AppsService.toWire(await apps.update(params.app_id, body)),
  });
  route(app, deps, {
    method: "POST",
    url: "/admin/v1/apps/:app_id/rotate-key",
    summary: "Rotate the publishable key (default) or the secret",
    tags: ["admin"],
    auth: "admin",
    params: AppParams,
    body: RotateKeyRequestSchema,
    response: AppSchema.or(AppWithSecretSchema),
    handler: async ({ params, body }) => apps.rotate(params.app_id, body?.which ?? "key"),
  });
  route(app, deps, {
    method: "GET",
    url: "/admin/v1/apps/:app_id/usage",
    summary: "Monthly active users per calendar month",
    tags: ["admin"],
    auth: "admin",
    params: AppParams,
    query: z.object({
      month: z
        .string()
        .regex(/^\d{4}-(0[1-9]|1[0-2])$/, "a calendar month YYYY-MM")
        .optional(),
    }),
    response: UsageSchema,
    handler: async ({ params, query }) => apps.usage(params.app_id, query.month),
  });
  route(app, deps, {
    method: "POST",
    url: "/admin/v1/apps/:app_id/bans",
    summary: "Ban an identity: its tokens stop working and its open sockets close (4403)",
    tags: ["admin"],
    auth: "admin",
    params: AppParams,
    body: BanRequestSchema,
    response: BanSchema,
    handler: async ({ params, body }) => {
      await apps.get(params.app_id);
      return users.ban(params.app_id, body.identity, body.reason);
    },
  });
  route(app, deps, {
    method: "DELETE",
    url: "/admin/v1/apps/:app_id/bans/:identity",
    summary: "Lift a ban",
    tags: ["admin"],
    auth: "admin",
    params: UserParams,
    response: BanSchema,
    handler: async ({ params }) => {
      await apps.get(params.app_id);
      return users.unban(params.app_id, params.identity);
    },
  });
  route(app, deps, {
    method: "GET",
    url: "/admin/v1/apps/:app_id/users",
    summary: "List an app's users in identity order (optionally those whose identity starts with q), a page at a time",
    tags: ["admin"],
    auth: "admin",
    params: AppParams,
    query: z.object({
      q: z.string().max(128).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
      cursor: z.string().max(128).optional(),
    }),
    response: AdminUserListSchema,
    handler: async ({ params, query }) => {
      await apps.get(params.app_id);
      return users.list(params.app_id, {
        limit: query.limit,
        ...(query.q ? { prefix: query.q } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
      });
    },
  });
  route(app, deps, {
    method: "GET",
    url: "/admin/v1/apps/:app_id/users/:identity",
    summary: "Show one user",
    tags: ["admin"],
    auth: "admin",
    params: UserParams,
    response: AdminUserSchema,
    handler: async ({ params }) => {
      await apps.get(params.app_id);
      return users.show(params.app_id, params.identity);
    },
  });
}
