import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { AuthContext, Authenticate } from "../core/caller.js";
import { ApiError, rateLimitHeaders } from "../core/errors.js";
import { constantTimeEqual } from "../core/secrets.js";
import { parseOr400 } from "../core/validation.js";

type Auth = "none" | "user" | "admin";

/** What a route handler receives: validated input, and the caller when the route is authenticated. */
export interface RouteContext<B, Q, P, A extends Auth> {
  body: B;
  query: Q;
  params: P;
  auth: A extends "user" ? AuthContext : undefined;
  req: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteSpec<BS extends z.ZodType, QS extends z.ZodType, PS extends z.ZodType, A extends Auth> {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  summary: string;
  tags: string[];
  auth: A;
  body?: BS;
  query?: QS;
  params?: PS;
  /** Documented 2xx response schema (OpenAPI only; not used to serialise). */
  response?: z.ZodType;
  /** Status code on success (default 200). */
  status?: number;
  handler(ctx: RouteContext<z.output<BS>, z.output<QS>, z.output<PS>, A>): Promise<unknown>;
}

/** What routes need from the engine to authenticate callers (the auth module provides `authenticate`). */
export interface RouteDeps {
  authenticate: Authenticate;
  adminToken: string | undefined;
  /**
   * Authorizes an admin request that carries no bearer by its console session (cookie + `x-csrf-token`
   * on unsafe methods); throws a typed error. Absent without the console module.
   */
  consoleAuth?: (req: FastifyRequest) => Promise<void>;
}

export function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

export function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}

/**
 * Registers a route whose input is validated by the protocol's zod schemas (typed errors on failure)
 * and whose schemas also feed the generated OpenAPI document.
 */
export function route<
  BS extends z.ZodType = z.ZodUndefined,
  QS extends z.ZodType = z.ZodUndefined,
  PS extends z.ZodType = z.ZodUndefined,
  A extends Auth = "none",
>(app: FastifyInstance, deps: RouteDeps, spec: RouteSpec<BS, QS, PS, A>): void {
  const schema: Record<string, unknown> = { summary: spec.summary, tags: spec.tags };
  if (spec.body) schema.body = jsonSchema(spec.body, "input");
  if (spec.query) schema.querystring = jsonSchema(spec.query, "input");
  if (spec.params) schema.params = jsonSchema(spec.params, "input");
  if (spec.response) schema.response = { [spec.status ?? 200]: jsonSchema(spec.response, "output") };
  if (spec.auth === "user") schema.security = [{ userToken: [] }];
  if (spec.auth === "admin") schema.security = [{ adminToken: [] }];
  app.route({
    method: spec.method,
    url: spec.url,
    schema,
    handler: async (req, reply) => {
      let auth: AuthContext | undefined;
      if (spec.auth === "user") {
        const r = await deps.authenticate(bearer(req));
        auth = r.ctx;
        if (r.rate) reply.headers(rateLimitHeaders(r.rate));
      } else if (spec.auth === "admin") {
        const token = bearer(req);
        // A bearer is always the admin token; without one, a console session cookie may stand in for it.
        if (token === undefined && deps.consoleAuth && req.headers.cookie) await deps.consoleAuth(req);
        else requireAdmin(deps.adminToken, token);
      }
      const body = spec.body ? parseOr400(spec.body, req.body ?? undefined, "body") : undefined;
      const query = spec.query ? parseOr400(spec.query, req.query, "query") : undefined;
      const params = spec.params ? parseOr400(spec.params, req.params, "params") : undefined;
      const result = await spec.handler({
        body,
        query,
        params,
        auth,
        req,
        reply,
      } as unknown as RouteContext<z.output<BS>, z.output<QS>, z.output<PS>, A>);
      if (reply.sent) return reply;
      reply.code(spec.status ?? 200);
      return result === undefined ? reply.send() : result;
    },
  });
}

function requireAdmin(expected: string | undefined, given: string | undefined): void {
  if (!expected) throw ApiError.unauthorized("the admin API is disabled: set UTD_ADMIN_TOKEN");
  if (!given || !constantTimeEqual(expected, given)) throw ApiError.unauthorized("invalid admin token");
}
