import { ClientFrameSchema, type WireError } from "@utd-stream/protocol/schemas";
import type { FastifyBaseLogger } from "fastify";
import type { RawData } from "ws";
import type { z } from "zod";
import type { AuthContext } from "../core/caller.js";
import { ApiError, backendUnavailable, isBackendUnavailable } from "../core/errors.js";
import { parseClientJson } from "../core/json.js";
import { parseOr400 } from "../core/validation.js";
import type { WsConnection } from "./connection.js";

/**
 * A WebSocket request handler. `ctx` is the socket's `AuthContext` (kept current when the app changes);
 * the frame has passed the handler's schema. Return the reply `data`; throw `ApiError` for a typed error reply.
 */
export type WsHandler<F> = (ctx: AuthContext, frame: F, conn: WsConnection) => Promise<unknown>;

export type ClientFrame = z.output<typeof ClientFrameSchema>;

/** Something replies can be sent to (a socket). */
export interface ReplySink {
  send(obj: unknown): void;
}

/** An open socket as verbs see it: its current auth context (it changes with the app) and whether it closed. */
export interface VerbSocket extends ReplySink, WsConnection {
  readonly ctx: AuthContext | undefined;
  readonly closed: boolean;
}

/** Verbs the gateway itself answers; modules cannot take them. */
const RESERVED = new Set(["hello", "ping", "auth"]);

/** The wire form of an error: an `ApiError` as is, anything else as `internal` (its details stay in the log). */
export function wireError(err: unknown): WireError {
  if (err instanceof ApiError) return err.toBody().error as WireError;
  if (isBackendUnavailable(err)) return backendUnavailable().toBody().error as WireError;
  return { code: "internal", message: "internal error" };
}

/** A reply to request `id`, or a bare `error` frame when the request had none. */
export function sendError(c: ReplySink, id: string | undefined, err: unknown): void {
  const error = wireError(err);
  c.send(id ? { type: "reply", id, ok: false, error } : { type: "error", error });
}

/** Charges one request frame to its caller's budgets; throws `rate_limited` when one is spent. */
export type ChargeRequest = (ctx: AuthContext) => Promise<unknown>;

/**
 * Decodes one client message into a frame `{type, id?, …}`, or the typed error to answer with (and
 * the request id, when the message had a usable one).
 */
export function decodeFrame(data: RawData, isBinary: boolean): { frame: ClientFrame } | { error: ApiError; id?: string } {
  if (isBinary) return { error: ApiError.invalid("binary frames are not supported; send JSON text") };
  let raw: unknown;
  try {
    // Depth-limited and well-formed Unicode only (see parseClientJson).
    // A Buffer is decoded in place (Buffer.from would copy it first); an ArrayBuffer gets a view, not a copy.
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    raw = parseClientJson(bytes.toString("utf8"));
  } catch (err) {
    return { error: err instanceof ApiError ? err : ApiError.invalid("malformed JSON") };
  }
  const base = ClientFrameSchema.safeParse(raw);
  if (base.success) return { frame: base.data };
  const id = typeof (raw as { id?: unknown })?.id === "string" ? ((raw as { id: string }).id as string) : undefined;
  const error = ApiError.invalid("a frame is a JSON object with a string type");
  return id && id.length <= 64 ? { error, id } : { error };
}

/**
 * The request verbs other modules register ({@link Verbs.handle}) and their dispatch: the frame is
 * checked against the verb's schema (`invalid_argument` otherwise), the handler runs with the socket's
 * auth context, and a frame with an `id` gets a `reply`.
 */
export class Verbs {
  private readonly handlers = new Map<string, { schema: z.ZodType; fn: WsHandler<never> }>();

  constructor(
    private readonly log: FastifyBaseLogger,
    /** Spends the request budgets of the frame's user and app (see GatewayDeps.chargeRequest). */
    private readonly charge?: ChargeRequest,
  ) {}

  /** The registered verbs (the authorization matrix holds a row for each). */
  list(): string[] {
    return [...this.handlers.keys()];
  }

  handle<S extends z.ZodType>(verb: string, schema: S, fn: WsHandler<z.output<S>>): void {
    if (this.handlers.has(verb) || RESERVED.has(verb)) throw new Error(`WebSocket verb "${verb}" is already handled`);
    this.handlers.set(verb, { schema, fn: fn as WsHandler<never> });
  }

  /**
   * Runs the frame's verb for an open socket; an unknown verb is `invalid_argument`. With `settle` (an
   * app change heard but not yet re-read) the verb waits for it, so it runs on the new settings, never
   * the old, with the socket's context as it is then.
   */
  dispatch(c: VerbSocket, frame: ClientFrame, settle: Promise<void> | undefined): void {
    const h = this.handlers.get(frame.type);
    if (!h) {
      sendError(c, frame.id, ApiError.invalid(`unknown frame type "${frame.type}"`));
      return;
    }
    void this.run(c, frame.id, h, frame, settle);
  }

  private async run(
    c: VerbSocket,
    id: string | undefined,
    h: { schema: z.ZodType; fn: WsHandler<never> },
    frame: unknown,
    settle: Promise<void> | undefined,
  ): Promise<void> {
    try {
      if (settle) await settle;
      const ctx = c.ctx;
      if (!ctx || c.closed) return;
      // A request over the socket costs what it costs over REST: no way around the per-user/per-app budgets.
      if (this.charge) await this.charge(ctx);
      const parsed = parseOr400(h.schema, frame, "frame");
      const data = await h.fn(ctx, parsed as never, c);
      if (id) c.send({ type: "reply", id, ok: true, data: data ?? null });
    } catch (err) {
      if (!(err instanceof ApiError)) this.log.error({ err }, "ws: handler failed");
      sendError(c, id, err);
    }
  }
}
