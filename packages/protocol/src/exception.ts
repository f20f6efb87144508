import { type Capability, ERROR_CODES, type ErrorBody, type ErrorCode, isErrorCode } from "./errors.js";

/**
 * The one error type both SDKs throw for a failed engine call (seed: `UTDStreamException`).
 * `code` is the engine's stable error code; `statusCode` the HTTP status (0 for network failures).
 */
export class UTDStreamException extends Error {
  override name = "UTDStreamException";
  /** Which capability is off, for `feature_disabled`. */
  readonly capability: Capability | undefined;
  /** Which plan limit was hit, for `limit_exceeded`. */
  readonly limit: string | undefined;
  /** Seconds to wait, for `rate_limited`. */
  readonly retryAfterS: number | undefined;

  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode | "network_error" | "unknown",
    message: string,
    readonly details: Partial<ErrorBody["error"]> = {},
  ) {
    super(message);
    this.capability = details.capability;
    this.limit = details.limit;
    this.retryAfterS = details.retry_after_s;
  }

  /** Builds the exception from an HTTP status and whatever body came back. */
  static fromResponse(statusCode: number, body: unknown): UTDStreamException {
    const err = (body as Partial<ErrorBody> | undefined)?.error;
    if (err && isErrorCode(err.code)) return new UTDStreamException(statusCode, err.code, err.message ?? err.code, err);
    return new UTDStreamException(statusCode, "unknown", `HTTP ${statusCode}`);
  }

  /** From a WebSocket error reply (`{code, message}`); the status comes from the code table. */
  static fromWire(err: { code: string; message?: string } & Partial<ErrorBody["error"]>): UTDStreamException {
    if (isErrorCode(err.code))
      return new UTDStreamException(ERROR_CODES[err.code].status, err.code, err.message ?? err.code, err as ErrorBody["error"]);
    return new UTDStreamException(0, "unknown", err.message ?? err.code);
  }

  static network(message: string): UTDStreamException {
    return new UTDStreamException(0, "network_error", message);
  }

  get isBanned(): boolean {
    return this.code === "banned";
  }
  get isRateLimited(): boolean {
    return this.code === "rate_limited";
  }
  /** Any 403, including `banned` and `feature_disabled`. */
  get isForbidden(): boolean {
    return this.statusCode === 403;
  }
  get isFeatureDisabled(): boolean {
    return this.code === "feature_disabled";
  }
  get isSignalingDisabled(): boolean {
    return this.isFeatureDisabled && this.capability === "signaling";
  }
  get isChatDisabled(): boolean {
    return this.isFeatureDisabled && this.capability === "chat";
  }
  /** The other user blocked you (no direct conversation, messages or calls to them). */
  get isBlocked(): boolean {
    return this.code === "blocked";
  }
  /** The app's word filter or link policy refused the message. */
  get isContentRejected(): boolean {
    return this.code === "content_rejected";
  }
  get isUnauthorized(): boolean {
    return this.code === "unauthorized";
  }
  /** Whether the same call may succeed later unchanged. */
  get retryable(): boolean {
    if (this.code === "network_error") return true;
    return this.code !== "unknown" && ERROR_CODES[this.code].retryable;
  }
}
