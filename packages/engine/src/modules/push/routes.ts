import {
  ConversationMuteSchema,
  Id,
  MuteConversationRequestSchema,
  PushTokenListSchema,
  PushTokenParamsSchema,
  PushTokenSchema,
  RegisterPushTokenRequestSchema,
  UnregisterPushTokenRequestSchema,
  UnregisterPushTokenResponseSchema,
} from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { type RouteDeps, route } from "../../http/route.js";
import type { ConversationMutes } from "./mute.js";
import type { PushService } from "./service.js";

/** `/api/v1/push/tokens`: register, list and remove device push tokens. */
export function registerPushRoutes(app: FastifyInstance, deps: RouteDeps, push: PushService): void {
  route(app, deps, {
    method: "POST",
    url: "/api/v1/push/tokens",
    summary: "Register a device push token (fcm, apns, apns_voip, web); deduplicated",
    tags: ["push"],
    auth: "user",
    body: RegisterPushTokenRequestSchema,
    response: PushTokenSchema,
    handler: async ({ auth, body }) => push.register(auth, body),
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/push/tokens",
    summary: "The caller's push tokens",
    tags: ["push"],
    auth: "user",
    response: PushTokenListSchema,
    handler: async ({ auth }) => ({ tokens: await push.list(auth) }),
  });
  route(app, deps, {
    method: "DELETE",
    url: "/api/v1/push/tokens/:id",
    summary: "Remove one of the caller's push tokens",
    tags: ["push"],
    auth: "user",
    params: PushTokenParamsSchema,
    status: 204,
    handler: async ({ auth, params }) => {
      await push.remove(auth, params.id);
    },
  });
  route(app, deps, {
    method: "POST",
    url: "/api/v1/push/tokens/unregister",
    summary: "Remove the caller's tokens by token value or device (e.g. on logout)",
    tags: ["push"],
    auth: "user",
    body: UnregisterPushTokenRequestSchema,
    response: UnregisterPushTokenResponseSchema,
    handler: async ({ auth, body }) => ({ removed: await push.unregister(auth, body) }),
  });
}

/** `/api/v1/conversations/{id}/mute`: a member's conversation mute (no message pushes while muted). */
export function registerMuteRoutes(app: FastifyInstance, deps: RouteDeps, mutes: ConversationMutes): void {
  const Params = z.strictObject({ id: Id });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/conversations/:id/mute",
    summary: "Whether the caller muted this conversation",
    tags: ["push"],
    auth: "user",
    params: Params,
    response: ConversationMuteSchema,
    handler: async ({ auth, params }) => mutes.get(auth, params.id),
  });
  route(app, deps, {
    method: "PUT",
    url: "/api/v1/conversations/:id/mute",
    summary: "Mute or unmute a conversation for the caller (muted: no message pushes)",
    tags: ["push"],
    auth: "user",
    params: Params,
    body: MuteConversationRequestSchema,
    response: ConversationMuteSchema,
    handler: async ({ auth, params, body }) => mutes.set(auth, params.id, body.muted),
  });
}
