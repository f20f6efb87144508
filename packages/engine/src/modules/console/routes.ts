import {
  ConsoleOperatorListSchema,
  ConsoleOperatorSchema,
  ConsoleSessionSchema,
  ConsoleSignInRequestSchema,
  ConsoleUsername,
  CreateConsoleOperatorRequestSchema,
} from "@utd-stream/protocol/schemas";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { ApiError } from "../../core/errors.js";
import { type RouteDeps, route } from "../../http/route.js";
import { CONSOLE_SESSION_TTL_MS, type ConsoleService } from "./service.js";

/** The console session cookie (HttpOnly, SameSite=Strict, path `/`). */
export const CONSOLE_COOKIE = "utd_console";

/** The console cookie's value in a request, if any. */
export function consoleCookie(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === CONSOLE_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

function setCookie(req: FastifyRequest, reply: FastifyReply, value: string, maxAgeS: number): void {
  const secure = req.protocol === "https" ? "; Secure" : "";
  reply.header("set-cookie", `${CONSOLE_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`);
}

/** Console sign-in (`/console/v1/session`) and operator accounts over the admin API. */
export function registerConsoleRoutes(http: FastifyInstance, deps: RouteDeps, svc: ConsoleService): void {
  route(http, deps, {
    method: "POST",
    url: "/console/v1/session",
    summary: "Sign in to the console (operator account, or the admin token); sets the HttpOnly session cookie",
    tags: ["console"],
    auth: "none",
    body: ConsoleSignInRequestSchema,
    response: ConsoleSessionSchema,
    status: 201,
    handler: async ({ body, req, reply }) => {
      const { cookie, session } = await svc.signIn(body, req.ip);
      setCookie(req, reply, cookie, CONSOLE_SESSION_TTL_MS / 1000);
      reply.header("cache-control", "no-store");
      return session;
    },
  });
  route(http, deps, {
    method: "GET",
    url: "/console/v1/session",
    summary: "The console session of the cookie (with its CSRF token), or 401",
    tags: ["console"],
    auth: "none",
    response: ConsoleSessionSchema,
    handler: async ({ req, reply }) => {
      const s = await svc.session(consoleCookie(req));
      if (!s) throw ApiError.unauthorized("no console session");
      reply.header("cache-control", "no-store");
      return s;
    },
  });
  route(http, deps, {
    method: "DELETE",
    url: "/console/v1/session",
    summary: "Sign out of the console (needs the session's x-csrf-token)",
    tags: ["console"],
    auth: "none",
    status: 204,
    handler: async ({ req, reply }) => {
      const cookie = consoleCookie(req);
      const csrf = req.headers["x-csrf-token"];
      await svc.authorize(cookie, "DELETE", typeof csrf === "string" ? csrf : undefined);
      await svc.signOut(cookie);
      setCookie(req, reply, "", 0);
    },
  });

  route(http, deps, {
    method: "POST",
    url: "/admin/v1/console/operators",
    summary: "Create a console operator account (password hashed with scrypt)",
    tags: ["admin"],
    auth: "admin",
    body: CreateConsoleOperatorRequestSchema,
    response: ConsoleOperatorSchema,
    status: 201,
    handler: async ({ body }) => svc.createOperator(body.username, body.password),
  });
  route(http, deps, {
    method: "GET",
    url: "/admin/v1/console/operators",
    summary: "List console operator accounts",
    tags: ["admin"],
    auth: "admin",
    response: ConsoleOperatorListSchema,
    handler: async () => ({ operators: await svc.listOperators() }),
  });
  route(http, deps, {
    method: "DELETE",
    url: "/admin/v1/console/operators/:username",
    summary: "Remove a console operator account and end its sessions",
    tags: ["admin"],
    auth: "admin",
    params: z.object({ username: ConsoleUsername }),
    status: 204,
    handler: async ({ params }) => {
      await svc.removeOperator(params.username);
    },
  });
}
