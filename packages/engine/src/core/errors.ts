import { type Capability, ERROR_CODES, type ErrorBody, type ErrorCode } from "@utd-stream/protocol";

type Details = Omit<ErrorBody["error"], "code" | "message">;

/** A typed, expected failure. Routes and the WebSocket gateway turn it into the wire error body. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Details = {},
    /** Extra response headers (e.g. `Retry-After`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }

  static invalid(message: string, issues?: { path: string; message: string }[]): ApiError {
    return new ApiError("invalid_argument", message, issues ? { issues } : {});
  }
  static unauthorized(message = "missing or invalid credentials"): ApiError {
    return new ApiError("unauthorized", message);
  }
  static forbidden(message: string): ApiError {
    return new ApiError("forbidden", message);
  }
  static notFound(what: string): ApiError {
    return new ApiError("not_found", `${what} not found`);
  }
  static conflict(message: string, status?: string): ApiError {
    return new ApiError("conflict", message, status ? { status } : {});
  }
  static featureDisabled(capability: Capability): ApiError {
    return new ApiError("feature_disabled", `the ${capability} capability is not enabled for this app's plan`, {
      capability,
    });
  }
  static limitExceeded(limit: string, max: number): ApiError {
    return new ApiError("limit_exceeded", `plan limit ${limit} (${max}) reached`, { limit });
  }
  static rateLimited(retryAfterS: number, limit?: { limit: number; remaining: number; resetS: number }): ApiError {
    const s = Math.max(1, Math.ceil(retryAfterS));
    const headers: Record<string, string> = { "retry-after": String(s) };
    if (limit) Object.assign(headers, rateLimitHeaders(limit));
    return new ApiError("rate_limited", `too many requests; retry in ${s}s`, { retry_after_s: s }, headers);
  }
}

/** The IETF `RateLimit-*` response headers for a bucket's state. */
export function rateLimitHeaders(d: { limit: number; remaining: number; resetS: number }): Record<string, string> {
  return {
    "ratelimit-limit": String(d.limit),
    "ratelimit-remaining": String(Math.max(0, d.remaining)),
    "ratelimit-reset": String(d.resetS),
  };
}

/** Node socket errors of a backend connection that is down, restarting or cut. */
const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTCONN"]);
/** PostgreSQL SQLSTATEs of a server going away or not taking connections yet (class 08, 57P01–57P03, 53300). */
const PG_UNAVAILABLE = /^(08...|57P0[123]|53300)$/;

/**
 * Whether `err` says PostgreSQL or Redis could not be reached (down, restarting, the connection cut):
 * nothing about the request was wrong, and the same request (idempotent by its client id) may succeed
 * a moment later. Such failures are answered as `unavailable` (503, retryable) rather than `internal`.
 */
export function isBackendUnavailable(err: unknown): boolean {
  if (!err || typeof err !== "object") return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; errors?: unknown };
  const code = typeof e.code === "string" ? e.code : "";
  const message = typeof e.message === "string" ? e.message : "";
  if (CONNECTION_CODES.has(code) || PG_UNAVAILABLE.test(code)) return true;
  // ioredis: a command given up on while reconnecting, or sent on a closed connection.
  if (e.name === "MaxRetriesPerRequestError" || message === "Connection is closed.") return true;
  if (message === "Command aborted due to connection close") return true;
  // Redis answering but not serving yet: loading its data set after a restart, a failover in progress.
  if (/^(LOADING|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY)\b/.test(message)) return true;
  // node-postgres: the server closed the connection, or no pooled connection could be opened in time.
  if (/^Connection terminated\b/.test(message) || /^timeout exceeded when trying to connect$/.test(message)) return true;
  if (/^Client (has encountered a connection error|was closed) and is not queryable$/.test(message)) return true;
  // Several connection attempts (one per resolved address), all refused.
  if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every(isBackendUnavailable)) return true;
  return false;
}

/** The typed answer to a backend outage (see {@link isBackendUnavailable}): 503, retry after a second. */
export function backendUnavailable(): ApiError {
  return new ApiError("unavailable", "storage or event stream unavailable; retry", { retry_after_s: 1 }, { "retry-after": "1" });
}
