import { createServer, type Server } from "node:http";
import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { MetricsConfig } from "../core/config.js";
import { ApiError } from "../core/errors.js";
import { constantTimeEqual } from "../core/secrets.js";

/** The engine's Prometheus registry (one per engine); modules register their own metrics on it. */
export function createMetrics(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "utd_" });
  return registry;
}

/** Request count and latency by method, route pattern and status. */
export function instrumentHttp(app: FastifyInstance, registry: Registry): void {
  const requests = new Counter({
    name: "utd_http_requests_total",
    help: "HTTP requests by method, route and status",
    labelNames: ["method", "route", "status"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "utd_http_request_duration_seconds",
    help: "HTTP request latency by method and route",
    labelNames: ["method", "route"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "unmatched";
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });
}

/** Whether an `Authorization` header carries `expected` as its bearer (always true when nothing is expected). */
function bearerMatches(header: string | undefined, expected: string | undefined): boolean {
  if (expected === undefined) return true;
  const given = /^Bearer\s+(\S+)$/i.exec(header ?? "")?.[1];
  return given !== undefined && constantTimeEqual(expected, given);
}

/**
 * `/metrics` on the API port, behind a bearer: `UTD_METRICS_TOKEN`, else the admin token (the metrics name
 * routes, apps' traffic and the process's health: not for anyone who can reach the API). Not registered
 * when a separate metrics listener is configured.
 */
export function registerMetricsRoute(
  app: FastifyInstance,
  registry: Registry,
  access: MetricsConfig,
  adminToken: string | undefined,
): void {
  if (access.port !== undefined) return;
  const expected = access.token ?? adminToken;
  app.get("/metrics", { schema: { hide: true } }, async (req, reply) => {
    if (expected === undefined) throw ApiError.unauthorized("metrics are disabled: set UTD_METRICS_TOKEN or UTD_ADMIN_TOKEN");
    if (!bearerMatches(req.headers.authorization, expected)) throw ApiError.unauthorized("send the metrics token as a bearer");
    reply.header("content-type", registry.contentType);
    return registry.metrics();
  });
}

/**
 * The separate metrics listener (`UTD_METRICS_PORT` on `UTD_METRICS_HOST`): only `GET /metrics`, with no
 * bearer unless `UTD_METRICS_TOKEN` is set — keep it on a private interface.
 */
export async function listenMetrics(registry: Registry, access: MetricsConfig): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (req.method !== "GET" || path !== "/metrics") {
      res
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify(new ApiError("not_found", "only GET /metrics here").toBody()));
      return;
    }
    if (!bearerMatches(req.headers.authorization, access.token)) {
      res
        .writeHead(401, { "content-type": "application/json" })
        .end(JSON.stringify(ApiError.unauthorized("send the metrics token as a bearer").toBody()));
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(access.port ?? 0, access.host, () => ok());
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : access.port;
  const host = access.host.includes(":") ? `[${access.host}]` : access.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** `utd_log_lines_dropped_total`: log lines the stdout sink dropped because its reader fell behind. */
export function registerLogMetrics(registry: Registry, sink: { readonly dropped: number }): void {
  let reported = 0;
  new Counter({
    name: "utd_log_lines_dropped_total",
    help: "Log lines dropped (not written) because the stdout reader fell behind; logging never blocks the engine",
    registers: [registry],
    collect() {
      const d = sink.dropped - reported;
      if (d > 0) {
        this.inc(d);
        reported += d;
      }
    },
  });
}
