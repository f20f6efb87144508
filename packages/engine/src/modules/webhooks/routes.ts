import {
  BeforeSendHookSchema,
  BeforeSendHookWithSecretSchema,
  CreateWebhookRequestSchema,
  ReplayWebhookRequestSchema,
  ReplayWebhookResponseSchema,
  RotateWebhookSecretRequestSchema,
  SetBeforeSendHookRequestSchema,
  UpdateWebhookRequestSchema,
  WebhookDeliveriesQuerySchema,
  WebhookDeliveriesSchema,
  WebhookEndpointSchema,
  WebhookEndpointWithSecretSchema,
} from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { type RouteDeps, route } from "../../http/route.js";
import type { AppsService } from "../apps/index.js";
import type { BeforeSendHooks } from "./before-send.js";
import type { WebhookEndpoints } from "./endpoints.js";

const AppParams = z.strictObject({ app_id: z.string().min(1).max(64) });
const EndpointParams = AppParams.extend({ id: z.string().min(1).max(64) });

/** `/admin/v1/apps/{app_id}/webhooks…` and `/hooks/before-send` (the CLI's `utd webhook …` and `utd hook …`). */
export function registerWebhookAdminRoutes(
  http: FastifyInstance,
  deps: RouteDeps,
  apps: AppsService,
  eps: WebhookEndpoints,
  hooks: BeforeSendHooks,
  wake: () => void,
): void {
  const app = async (id: string) => (await apps.get(id)).id;
  route(http, deps, {
    method: "POST",
    url: "/admin/v1/apps/:app_id/webhooks",
    summary: "Add a webhook endpoint (the signing secret is returned only here)",
    tags: ["admin"],
    auth: "admin",
    params: AppParams,
    body: CreateWebhookRequestSchema,
    response: WebhookEndpointWithSecretSchema,
    status: 201,
    handler: async ({ params, body }) => eps.create(await app(params.app_id), body),
  });
  route(http, deps, {
    method: "GET",
    url: "/admin/v1/apps/:app_id/webhooks",
    summary: "List webhook endpoints",
    tags: ["admin"],
    auth: "admin",
    params: AppParams,
    response: z.object({ endpoints: z.array(WebhookEndpointSchema) }),
    handler: async ({ params }) => ({ endpoints: await eps.list(await app(params.app_id)) }),
  });
  route(http, deps, {
    method: "GET",
    url: "/admin/v1/apps/:app_id/webhooks/:id",
    summary: "Show a webhook endpoint",
    tags: ["admin"],
    auth: "admin",
    params: EndpointParams,
    response: WebhookEndpointSchema,
    handler: async ({ params }) => eps.get(await app(params.app_id), params.id),
  });
  route(http, deps, {
    method: "PATCH",
    url: "/admin/v1/apps/:app_id/webhooks/:id",
    summary: "Change a webhook endpoint's URL or events, or enable/disable it",
    tags: ["admin"],
    auth: "admin",
    params: EndpointParams,
    body: UpdateWebhookRequestSchema,
    response: WebhookEndpointSchema,
    handler: async ({ params, body }) => {
      const r = await eps.update(await app(params.app_id), params.id, body);
      wake();
      return r;
    },
  });
  route(http, deps, {
    method: "DELETE",
    url: "/admin/v1/apps/:app_id/webhooks/:id",
    summary: "Remove a webhook endpoint and its queue",
    tags: ["admin"],
    auth: "admin",
    params: EndpointParams,
    status: 204,
    handler: async ({ params }) => {
      await eps.remove(await app(params.app_id), params.id);
    },
  });
  route(http, deps, {
    method: "POST",
    url: "/admin/v1/apps/:app_id/webhooks/:id/rotate-secret",
    summary: "New signing secret; the old one keeps signing for overlap_s (default a day)",
    tags: ["admin"],
    auth: "admin",
    params: EndpointParams,
    body: RotateWebhookSecretRequestSchema,
    response: WebhookEndpointWithSecretSchema,
    handler: async ({ params, body }) => eps.rotate(await app(params.app_id), params.id, body?.overlap_s ?? 86400),
  });
  route(http, deps, {
    method: "GET",
    url: "/admin/v1/apps/:app_id/webhooks/:id/deliveries",
    summary: "Delivery log: queued events by state (dead = the dead-letter list) and the last attempts",
    tags: ["admin"],
    auth: "admin",
    params: EndpointParams,
    query: WebhookDeliveriesQuerySchema,
    response: WebhookDeliveriesSchema,
    handler: async ({ params, query }) => eps.deliveries(await app(params.app_id), params.id, query.state, query.limit),
  });
  route(http, deps, {
    method: "POST",
    url: "/admin/v1/apps/:app_id/webhooks/:id/replay",
    summary: "Send an event again (same webhook-id), or every dead-lettered one",
    tags: ["admin"],
    auth: "admin",
    params: EndpointParams,
    body: ReplayWebhookRequestSchema,
    response: ReplayWebhookResponseSchema,
    status: 202,
    handler: async ({ params, body }) => {
      const replayed = await eps.replay(await app(params.app_id), params.id, body);
      wake();
      return { replayed };
    },
  });
  route(http, deps, {
    method: "PUT",
    url: "/admin/v1/apps/:app_id/hooks/before-send",
    summary: "Set the app's before-send hook (URL, timeout, fail-open or fail-closed); the signing secret is returned only here",
    tags: ["admin"],
    auth: "admin",
    params: AppParams,
    body: SetBeforeSendHookRequestSchema,
    response: BeforeSendHookWithSecretSchema,
    handler: async ({ params, body }) => hooks.set(await app(params.app_id), body),
  });
  route(http, deps, {
    method: "GET",
    url: "/admin/v1/apps/:app_id/hooks/before-send",
    summary: "Show the app's before-send hook (without its secret)",
    tags: ["admin"],
    auth: "admin",
    params: AppParams,
    response: BeforeSendHookSchema,
    handler: async ({ params }) => hooks.get(await app(params.app_id)),
  });
  route(http, deps, {
    method: "DELETE",
    url: "/admin/v1/apps/:app_id/hooks/before-send",
    summary: "Remove the app's before-send hook",
    tags: ["admin"],
    auth: "admin",
    params: AppParams,
    status: 204,
    handler: async ({ params }) => {
      await hooks.remove(await app(params.app_id));
    },
  });
}
