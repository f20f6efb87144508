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
