import cors from "@fastify/cors";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from "fastify";
import type { Registry } from "prom-client";
import type { MetricsConfig } from "../core/config.js";
import { ApiError, backendUnavailable, isBackendUnavailable } from "../core/errors.js";
import { parseClientJson } from "../core/json.js";
import type { Logger } from "../core/logger.js";
import { logPath } from "./logger.js";
import { instrumentHttp, registerMetricsRoute } from "./metrics.js";

export interface HttpOptions {
  bodyLimit: number;
  /** Fastify logs through the engine's logger port (see `createLogger`). */
  logger: Logger;
  /** Origins allowed cross-origin (`*` for any); empty = same-origin only. */
  corsOrigins: string[];
  /** Proxies whose `X-Forwarded-*` headers are believed; empty = none (the socket's peer is the client). */
  trustedProxies: string[];
  metrics: Registry;
  /** Who may read `/metrics` on this port (see `registerMetricsRoute`). */
  metricsAccess: MetricsConfig;
  adminToken: string | undefined;
  version: string;
  /** Readiness: resolves when storage (and other required ports) answer. */
  ready(): Promise<void>;
}

/** The Fastify server with error mapping, OpenAPI, docs, health and metrics; modules add routes to it. */
export async function createHttp(opts: HttpOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // Typed as Fastify's base logger so the instance keeps the default FastifyInstance type modules expect.
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit,
    return503OnClosing: true,
    // Router-level failures (malformed or over-long path parameters) get the same typed body as the rest.
    frameworkErrors: (err, _req, res) => {
      const reply = res as unknown as FastifyReply;
      const e =
        err.code === "FST_ERR_MAX_PARAM_LENGTH" ? ApiError.invalid("a path parameter is too long") : ApiError.invalid("malformed URL");
      reply.code(e.status).send(e.toBody());
    },
    forceCloseConnections: "idle",
    // Forwarded headers choose the client address, scheme and host the engine uses in URLs it hands out
    // and in per-address budgets: only configured proxies may set them.
    trustProxy: opts.trustedProxies.length > 0 ? opts.trustedProxies : false,
  });

  // The API speaks JSON only: anything else is 415, not a string body that fails validation later.
  app.removeContentTypeParser("text/plain");
  // An empty JSON body means "no body" (SDKs and curl send the header anyway); malformed JSON stays a 400.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, text, done) => {
    const raw = typeof text === "string" ? text : text.toString("utf8");
    if (raw.trim() === "") return done(null, undefined);
    try {
      // Depth-limited and well-formed Unicode only (see parseClientJson).
      done(null, parseClientJson(raw));
    } catch (err) {
      done(err instanceof ApiError ? err : ApiError.invalid(`malformed JSON: ${(err as Error).message}`), undefined);
    }
  });
  // zod validates inside each route (typed errors); Fastify's own validation and serialisation are off.
  app.setValidatorCompiler(() => (data) => ({ value: data }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    const apiErr = toApiError(err);
    if (apiErr.status >= 500) req.log.error({ err }, "request failed");
    reply.code(apiErr.status).headers(apiErr.headers).send(apiErr.toBody());
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new ApiError("not_found", `no route ${req.method} ${logPath(req)}`);
    reply.code(404).send(e.toBody());
  });

  if (opts.corsOrigins.length > 0) {
    // Tokens travel in the Authorization header; the console's cookie is same-origin (SameSite=Strict), so credentials stay off.
    await app.register(cors, {
      origin: opts.corsOrigins.includes("*") ? "*" : opts.corsOrigins,
      methods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
      allowedHeaders: ["authorization", "content-type"],
      exposedHeaders: ["retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"],
      maxAge: 600,
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "UTD Stream engine API",
        version: opts.version,
        description:
          'REST API of the UTD Stream engine. Errors are `{"error":{"code","message"}}` with the HTTP status of the code. The WebSocket protocol at `/api/v1/ws` is documented in the README.',
      },
      components: {
        securitySchemes: {
          userToken: { type: "http", scheme: "bearer", description: "user_token from POST /api/v1/auth/session" },
          adminToken: { type: "http", scheme: "bearer", description: "UTD_ADMIN_TOKEN" },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs", uiConfig: { docExpansion: "list" } });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  instrumentHttp(app, opts.metrics);
  registerMetricsRoute(app, opts.metrics, opts.metricsAccess, opts.adminToken);

  app.get("/healthz", { schema: { summary: "Liveness", tags: ["ops"] } }, async () => ({
    status: "ok",
    service: "utd-stream",
    version: opts.version,
  }));
  app.get("/readyz", { schema: { summary: "Readiness (storage answers)", tags: ["ops"] } }, async (_req, reply) => {
    try {
      await opts.ready();
      return { status: "ready" };
    } catch (err) {
      reply.code(503);
      return new ApiError("unavailable", `not ready: ${err instanceof Error ? err.message : String(err)}`).toBody();
    }
  });
  return app;
}

/** Maps anything thrown to a typed API error (unknown failures become `internal`). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as Partial<FastifyError> & { message?: string };
  switch (e.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new ApiError("payload_too_large", "request body is too large");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new ApiError("unsupported_media_type", "send JSON (content-type: application/json)");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return ApiError.invalid("empty JSON body");
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return ApiError.invalid("invalid content-length");
  }
  if (e.statusCode === 400 || err instanceof SyntaxError) return ApiError.invalid(`malformed JSON: ${e.message ?? ""}`.trim());
  if (typeof e.statusCode === "number" && e.statusCode === 413) return new ApiError("payload_too_large", "request body is too large");
  if (typeof e.statusCode === "number" && e.statusCode === 415) return new ApiError("unsupported_media_type", e.message ?? "");
  if (isBackendUnavailable(err)) return backendUnavailable();
  return new ApiError("internal", "internal error");
}
