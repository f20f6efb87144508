/**
 * Every error the engine returns, as `{"error": {"code", "message", ...}}` with the HTTP status below.
 * `retryable` says whether the same request may succeed later unchanged (clients base retry logic on it).
 */
export const ERROR_CODES = {
  invalid_argument: { status: 400, retryable: false },
  unauthorized: { status: 401, retryable: false },
  forbidden: { status: 403, retryable: false },
  banned: { status: 403, retryable: false },
  feature_disabled: { status: 403, retryable: false },
  limit_exceeded: { status: 403, retryable: false },
  /** The app's before-send hook refused the message (`reason` says why); nothing was stored. */
  rejected_by_app: { status: 403, retryable: false },
  /** The other user blocked the caller: no direct conversation, no messages there, no calls. */
  blocked: { status: 403, retryable: false },
  /** The app's word filter or link policy refused the message (`reason`: `word` or `link`); nothing was stored. */
  content_rejected: { status: 403, retryable: false },
  not_found: { status: 404, retryable: false },
  conflict: { status: 409, retryable: false },
  payload_too_large: { status: 413, retryable: false },
  unsupported_media_type: { status: 415, retryable: false },
  rate_limited: { status: 429, retryable: true },
  internal: { status: 500, retryable: true },
  media_unavailable: { status: 503, retryable: true },
  unavailable: { status: 503, retryable: true },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

/** A stable, greppable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The capabilities an app's plan can switch off (`feature_disabled` names one of them). */
export const CAPABILITIES = ["signaling", "chat"] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** The body of every error response. Extra fields depend on the code (`capability`, `limit`, `status`, `retry_after_s`, `issues`). */
export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    /** `feature_disabled`: which capability is off. */
    capability?: Capability;
    /** `limit_exceeded`: which plan limit was hit. */
    limit?: string;
    /** `conflict` on a state machine: the current state. */
    status?: string;
    /** `rate_limited`: seconds until a retry may succeed. */
    retry_after_s?: number;
    /** `rejected_by_app`: the reason the app's before-send hook gave; `content_rejected`: `word` or `link`. */
    reason?: string;
    /** `invalid_argument`: the offending fields. */
    issues?: { path: string; message: string }[];
  };
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}
