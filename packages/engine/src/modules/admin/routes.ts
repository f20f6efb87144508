import type { UserDevices } from "@utd-stream/protocol";
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
  UserDevicesSchema,
  UserRevocationSchema,
} from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { iso } from "../../core/clock.js";
import { type RouteDeps, route } from "../../http/route.js";
import type { Store } from "../../store/port.js";
import { AppsService } from "../apps/index.js";
import type { UsersService } from "../users/index.js";

const AppParams = z.object({ app_id: z.string().min(1).max(64) });
const UserParams = AppParams.extend({ identity: Identity });

/** The admin API (`/admin/v1`, bearer `UTD_ADMIN_TOKEN`); the `utd` CLI drives it when an engine runs. */
export function registerAdminRoutes(
  app: FastifyInstance,
  deps: RouteDeps,
  apps: AppsService,
  users: UsersService,
  store: Store,
  sockets: (appId: string, identity: string) => number,
): void {
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
  route(app, deps, {
    method: "POST",
    url: "/admin/v1/apps/:app_id/users/:identity/revoke",
    summary: "Sign a user out everywhere: every token issued until now stops working and open sockets close (4401)",
    tags: ["admin"],
    auth: "admin",
    params: UserParams,
    response: UserRevocationSchema,
    handler: async ({ params }) => {
      await apps.get(params.app_id);
      await users.show(params.app_id, params.identity);
      const at = await users.revoke(params.app_id, params.identity);
      return { app_id: params.app_id, identity: params.identity, revoked_at: iso(at) };
    },
  });
  route(app, deps, {
    method: "GET",
    url: "/admin/v1/apps/:app_id/users/:identity/devices",
    summary: "A user's open sockets (this node) and push devices (token shown by its last 6 characters)",
    tags: ["admin"],
    auth: "admin",
    params: UserParams,
    response: UserDevicesSchema,
    handler: async ({ params }) => {
      await apps.get(params.app_id);
      await users.show(params.app_id, params.identity);
      const rows = await store.db
        .selectFrom("push_tokens")
        .select(["id", "platform", "device_id", "token", "updated_at"])
        .where("app_id", "=", params.app_id)
        .where("identity", "=", params.identity)
        .orderBy("updated_at", "desc")
        .execute();
      return {
        app_id: params.app_id,
        identity: params.identity,
        sockets: sockets(params.app_id, params.identity),
        push_tokens: rows.map((r) => ({
          id: r.id,
          platform: r.platform as UserDevices["push_tokens"][number]["platform"],
          device_id: r.device_id,
          token_tail: r.token.slice(-6),
          updated_at: iso(Number(r.updated_at)),
        })),
      };
    },
  });
}
