import {
  PushConfigSchema,
  PushCredentialInfoSchema,
  PushProviderParamsSchema,
  SetApnsCredentialsRequestSchema,
  SetFcmCredentialsRequestSchema,
  SetVapidCredentialsRequestSchema,
} from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { type RouteDeps, route } from "../../http/route.js";
import type { AppsService } from "../apps/index.js";
import type { PushCredentials } from "./credentials.js";

const AppParams = z.strictObject({ app_id: z.string().min(1).max(64) });

/** `/admin/v1/apps/{app_id}/push…`: provider credentials (write-only: reads show fingerprints) — `utd push set-*`. */
export function registerPushAdminRoutes(http: FastifyInstance, deps: RouteDeps, apps: AppsService, creds: PushCredentials): void {
  route(http, deps, {
    method: "GET",
    url: "/admin/v1/apps/:app_id/push",
    summary: "Push configuration: credential fingerprints (never the keys) and whether message pushes carry text",
    tags: ["admin"],
    auth: "admin",
    params: AppParams,
    response: PushConfigSchema,
    handler: async ({ params }) => {
      const app = await apps.get(params.app_id);
      return { credentials: await creds.info(app.id), include_message_text: app.settings.push_include_text !== false };
    },
  });
  route(http, deps, {
    method: "PUT",
    url: "/admin/v1/apps/:app_id/push/apns",
    summary: "Set the app's APNs token credentials (.p8 key, key id, team id, bundle id); encrypted at rest",
    tags: ["admin"],
    auth: "admin",
    params: AppParams,
    body: SetApnsCredentialsRequestSchema,
    response: PushCredentialInfoSchema,
    handler: async ({ params, body }) => creds.setApns((await apps.get(params.app_id)).id, body),
  });
  route(http, deps, {
    method: "PUT",
    url: "/admin/v1/apps/:app_id/push/fcm",
    summary: "Set the app's FCM HTTP v1 service account; encrypted at rest",
    tags: ["admin"],
    auth: "admin",
    params: AppParams,
    body: SetFcmCredentialsRequestSchema,
    response: PushCredentialInfoSchema,
    handler: async ({ params, body }) => creds.setFcm((await apps.get(params.app_id)).id, body),
  });
  route(http, deps, {
    method: "PUT",
    url: "/admin/v1/apps/:app_id/push/vapid",
    summary: "Set the app's Web Push VAPID keys; encrypted at rest",
    tags: ["admin"],
    auth: "admin",
    params: AppParams,
    body: SetVapidCredentialsRequestSchema,
    response: PushCredentialInfoSchema,
    handler: async ({ params, body }) => creds.setVapid((await apps.get(params.app_id)).id, body),
  });
  route(http, deps, {
    method: "DELETE",
    url: "/admin/v1/apps/:app_id/push/:provider",
    summary: "Remove one provider's credentials (apns, fcm or vapid)",
    tags: ["admin"],
    auth: "admin",
    params: PushProviderParamsSchema,
    status: 204,
    handler: async ({ params }) => {
      await creds.remove((await apps.get(params.app_id)).id, params.provider);
    },
  });
}
