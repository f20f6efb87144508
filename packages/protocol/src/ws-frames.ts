import { z } from "zod";
import { DeviceId } from "./common.js";
import { PUBLISH_MAX_IDENTITIES } from "./constants/ws-frames.js";
import { CustomEventDataSchema } from "./events/custom.js";
import { PlanLimitsSchema } from "./plans.js";
import { CUSTOM_EVENT_TYPE_PATTERN } from "./ws-events.js";

/**
 * WebSocket frames on `/api/v1/ws` (see docs/websocket.md). Every frame is one JSON text message.
 *
 * Client → server: `hello` first, then requests `{"type":"<verb>","id":"<client id>",…}` and `ping`.
 * Server → client: `welcome`, `resync_required`, `reply`, `error`, `pong` and events
 * `{"type":"<domain.verb>","seq":N,"data":{…}}`.
 */

/** A client-chosen request id (echoed in the reply). */
export const RequestId = z.string().min(1).max(64);

/** Where a reconnecting client left off: the epoch of its stream and the last `seq` it processed. */
export const ResumeCursorSchema = z.strictObject({
  epoch: z.string().min(1).max(64),
  seq: z.number().int().min(0),
});
export type ResumeCursor = z.infer<typeof ResumeCursorSchema>;

/** The first client frame. The token never travels in the URL. */
export const HelloFrameSchema = z.strictObject({
  type: z.literal("hello"),
  token: z.string().min(1).max(4096),
  device_id: DeviceId.optional(),
  resume: ResumeCursorSchema.optional(),
});
export type HelloFrame = z.infer<typeof HelloFrameSchema>;

/** The session as the socket sees it: capability flags and plan limits read at `hello` time. */
export const WsSessionSchema = z.object({
  app_id: z.string(),
  identity: z.string(),
  device_id: z.string().nullable(),
  signaling_enabled: z.boolean(),
  messaging_enabled: z.boolean(),
  plan_limits: PlanLimitsSchema,
  /** When the token stops working (ISO-8601); send `auth` with a fresh token before then. */
  expires_at: z.string(),
});
export type WsSession = z.infer<typeof WsSessionSchema>;

/**
 * Reply to `hello`. `seq` is the last seq the client already has: when `resumed`, the missed events
 * (seq+1 …) follow in order; when not, the next event will be seq+1 of this (possibly new) epoch.
 */
export const WelcomeFrameSchema = z.object({
  type: z.literal("welcome"),
  epoch: z.string(),
  seq: z.number().int(),
  resumed: z.boolean(),
  heartbeat_s: z.number(),
  max_frame_bytes: z.number(),
  session: WsSessionSchema,
});
export type WelcomeFrame = z.infer<typeof WelcomeFrameSchema>;

/** Sent after a `welcome` with `resumed:false` when the client asked to resume: re-read state over REST. */
export const ResyncRequiredFrameSchema = z.object({ type: z.literal("resync_required"), reason: z.string() });

/** `{"type":"auth","id":…,"token":…}` — swaps the socket's token for a fresh one of the same user (extends its life). */
export const AuthFrameSchema = z.strictObject({ type: z.literal("auth"), id: RequestId, token: z.string().min(1).max(4096) });

/** The error object of a failed reply or an `error` frame (same shape as the REST error body's `error`). */
export const WireErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  capability: z.string().optional(),
  limit: z.string().optional(),
  status: z.string().optional(),
  retry_after_s: z.number().optional(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type WireError = z.infer<typeof WireErrorSchema>;

/** The answer to a client request carrying an `id`. */
export const ReplyFrameSchema = z.discriminatedUnion("ok", [
  z.object({ type: z.literal("reply"), id: z.string(), ok: z.literal(true), data: z.unknown() }),
  z.object({ type: z.literal("reply"), id: z.string(), ok: z.literal(false), error: WireErrorSchema }),
]);
export type ReplyFrame = z.infer<typeof ReplyFrameSchema>;

/** A problem with a frame that had no usable `id`. */
export const ErrorFrameSchema = z.object({ type: z.literal("error"), error: WireErrorSchema });

/** Any client request after `hello`: a verb and an optional id; the verb's own schema checks the rest. */
export const ClientFrameSchema = z.looseObject({ type: z.string().min(1).max(64), id: RequestId.optional() });

/** A server event on the user's stream. `seq` rises by one per event within an epoch. */
export const EventFrameSchema = z.object({ type: z.string(), seq: z.number().int().min(1), data: z.unknown() });
export type EventFrame = z.infer<typeof EventFrameSchema>;

/**
 * `POST /admin/v1/apps/{app_id}/events` — your backend sends a custom event to users' streams (every
 * device, resumable like any event). Types must start with `custom.` so they never pass for engine events.
 */
export const PublishEventsRequestSchema = z.strictObject({
  identities: z.array(z.string().min(1).max(128)).min(1).max(PUBLISH_MAX_IDENTITIES),
  // The pipes only type what the first check let through (`custom.${string}`, JSON): they refuse nothing more.
  type: z
    .string()
    .regex(CUSTOM_EVENT_TYPE_PATTERN, "must look like custom.<name>")
    .pipe(z.templateLiteral(["custom.", z.string()])),
  data: z
    .unknown()
    .refine((d) => d !== undefined && JSON.stringify(d).length <= 16_384, "data must be JSON of at most 16384 bytes")
    .pipe(CustomEventDataSchema),
});
export type PublishEventsRequest = z.infer<typeof PublishEventsRequestSchema>;
export const PublishEventsResponseSchema = z.object({ recipients: z.number().int() });
