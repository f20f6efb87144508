import { RefreshRequestSchema, RevokeResponseSchema, SessionRequestSchema, SessionResponseSchema } from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { rateLimitHeaders } from "../../core/errors.js";
import { type RouteDeps, route } from "../../http/route.js";
import { wsUrlFor } from "../../http/urls.js";
import type { AuthService } from "./service.js";

export function registerAuthRoutes(app: FastifyInstance, deps: RouteDeps, auth: AuthService, publicUrl: string | undefined): void {
  route(app, deps, {
    method: "POST",
    url: "/api/v1/auth/session",
    summary: "Mint a user session (app id + key + identity; identity_token in signed mode)",
    tags: ["auth"],
    auth: "none",
    body: SessionRequestSchema,
    response: SessionResponseSchema,
    handler: async ({ body, req, reply }) => {
      const { body: res, rate } = await auth.mintSession(body, wsUrlFor(req, publicUrl), req.ip);
      reply.headers(rateLimitHeaders(rate));
      return res;
    },
  });
  route(app, deps, {
    method: "POST",
    url: "/api/v1/auth/refresh",
    summary: "Exchange a valid user token for a fresh one (capability flags and limits re-read)",
    tags: ["auth"],
    auth: "user",
    body: RefreshRequestSchema,
    response: SessionResponseSchema,
    handler: async ({ auth: ctx, req }) => auth.refresh(ctx, wsUrlFor(req, publicUrl)),
  });
  route(app, deps, {
    method: "POST",
    url: "/api/v1/auth/revoke",
    summary: "Sign out everywhere: every token of this user issued before now stops working",
    tags: ["auth"],
    auth: "user",
    response: RevokeResponseSchema,
    handler: async ({ auth: ctx }) => auth.revokeAll(ctx),
  });
}
