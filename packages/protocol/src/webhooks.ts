import { z } from "zod";
import { CallSchema } from "./calls.js";
import { ConversationEventSchema, CustomData, MessageSchema } from "./chat.js";
import { Timestamp } from "./common.js";
import { CHAT_LIMITS } from "./constants/chat.js";
import { PUSH_PLATFORMS } from "./constants/push.js";
import { SeatsStateSchema } from "./seats.js";
import { StageSchema } from "./stage.js";
import { UploadInfoSchema } from "./uploads.js";

/**
 * Outgoing webhooks: what the engine tells an app's backend. Every delivery is a POST of
 * `{"type", "timestamp", "data"}` signed in the Standard Webhooks format (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`), at least once, in order per
 * conversation (per call, per room, per user for the other events).
 */
export const WEBHOOK_EVENT_SCHEMAS = {
  "message.new": {
    doc: "A message was stored.",
    data: z.object({ message: MessageSchema }),
  },
  "message.updated": {
    doc: "A message was edited (or its reactions changed).",
    data: z.object({ message: MessageSchema }),
  },
  "message.deleted": {
    doc: "A message was deleted (soft: the tombstone).",
    data: z.object({ message: MessageSchema }),
  },
  "conversation.created": {
    doc: "A conversation was created.",
    data: z.object({ conversation: ConversationEventSchema }),
  },
  "conversation.updated": {
    doc: "A conversation's name or custom data changed, or it was closed or reopened.",
    data: z.object({ conversation: ConversationEventSchema }),
  },
  "member.added": {
    doc: "Someone joined or was added to a conversation.",
    data: z.object({ conversation_id: z.string(), identity: z.string(), role: z.string(), by: z.string() }),
  },
  "member.removed": {
    doc: "Someone left or was removed from a conversation.",
    data: z.object({ conversation_id: z.string(), identity: z.string(), by: z.string() }),
  },
  "call.started": {
    doc: "A call was answered (it became active).",
    data: z.object({ call: CallSchema }),
  },
  "call.ended": {
    doc: "A call ended: hung up after it was answered, or declined, busy, or canceled before.",
    data: z.object({
      call: CallSchema,
      /** Seconds between the answer and the end; 0 when it was never answered. */
      duration_s: z.number().int(),
      end_reason: z.string(),
    }),
  },
  "call.missed": {
    doc: "Nobody answered before the ring timeout.",
    data: z.object({ call: CallSchema }),
  },
  "user.banned": {
    doc: "An admin banned a user (their sessions and sockets end).",
    data: z.object({ identity: z.string(), reason: z.string().nullable() }),
  },
  "user.unbanned": {
    doc: "An admin lifted a ban.",
    data: z.object({ identity: z.string() }),
  },
  "stage.updated": {
    doc: "A live stream's stage (hosts and co-hosts) changed.",
    data: z.object({ room_name: z.string(), stage: StageSchema }),
  },
  "seat.updated": {
    doc: "An audio room's seats changed.",
    data: z.object({ room_name: z.string(), seats: SeatsStateSchema }),
  },
  "upload.created": {
    doc: "A file upload was completed.",
    data: z.object({ identity: z.string(), file: UploadInfoSchema }),
  },
  "push.failed": {
    doc: "A push was given up: the provider refused it for good, the app has no credentials for it, or it ran out of attempts.",
    data: z.object({
      push_id: z.string(),
      identity: z.string(),
      platform: z.enum(PUSH_PLATFORMS),
      kind: z.string(),
      /** The call or conversation the push was about. */
      ref_id: z.string(),
      reason: z.string(),
      attempts: z.number().int(),
    }),
  },
  "webhook.disabled": {
    doc: "Admin event: an endpoint kept failing for the whole retry window and was disabled (sent to the app's other endpoints that ask for it).",
    data: z.object({ endpoint_id: z.string(), url: z.string(), reason: z.string() }),
  },
} as const;

export type WebhookEventType = keyof typeof WEBHOOK_EVENT_SCHEMAS;
export const WEBHOOK_EVENTS = Object.keys(WEBHOOK_EVENT_SCHEMAS) as WebhookEventType[];
export type WebhookEventData<K extends WebhookEventType> = z.infer<(typeof WEBHOOK_EVENT_SCHEMAS)[K]["data"]>;

/** The body of every delivery. */
export interface WebhookPayload<K extends WebhookEventType = WebhookEventType> {
  type: K;
  /** When the event happened (ISO 8601). */
  timestamp: string;
  data: WebhookEventData<K>;
}

const WebhookUrl = z.url({ protocol: /^https?$/ }).max(2048);
const EventList = z
  .array(z.enum(WEBHOOK_EVENTS as [WebhookEventType, ...WebhookEventType[]]))
  .min(1)
  .max(WEBHOOK_EVENTS.length);

/** `POST /admin/v1/apps/{app_id}/webhooks` */
export const CreateWebhookRequestSchema = z.strictObject({
  url: WebhookUrl,
  events: EventList,
  description: z.string().max(200).optional(),
});
export type CreateWebhookRequest = z.infer<typeof CreateWebhookRequestSchema>;

/** `PATCH /admin/v1/apps/{app_id}/webhooks/{id}` — `enabled: true` re-enables a disabled endpoint (its queue resumes). */
export const UpdateWebhookRequestSchema = z.strictObject({
  url: WebhookUrl.optional(),
  events: EventList.optional(),
  description: z.string().max(200).optional(),
  enabled: z.boolean().optional(),
});
export type UpdateWebhookRequest = z.infer<typeof UpdateWebhookRequestSchema>;

export const WebhookEndpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string().nullable(),
  enabled: z.boolean(),
  disabled_reason: z.string().nullable(),
  disabled_at: Timestamp.nullable(),
  /** Until when the previous signing secret still signs too (after a rotation with overlap). */
  previous_secret_expires_at: Timestamp.nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type WebhookEndpoint = z.infer<typeof WebhookEndpointSchema>;

/** Create and rotate answer with the signing secret (`whsec_…`): the only time it is shown. */
export const WebhookEndpointWithSecretSchema = WebhookEndpointSchema.extend({ secret: z.string() });
export type WebhookEndpointWithSecret = z.infer<typeof WebhookEndpointWithSecretSchema>;

/** `POST …/webhooks/{id}/rotate-secret` — the old secret keeps signing (a second signature) for `overlap_s`. */
export const RotateWebhookSecretRequestSchema = z
  .strictObject({
    overlap_s: z
      .number()
      .int()
      .min(0)
      .max(7 * 86400)
      .default(86400),
  })
  .optional();

/** `replayed`: a dead letter that was queued again (its copy carries on). */
export const WEBHOOK_DELIVERY_STATES = ["pending", "sending", "delivered", "dead", "replayed"] as const;

/** One event queued for one endpoint, with its last outcome (the delivery log's unit). */
export const WebhookMessageSchema = z.object({
  /** The `webhook-id`: the same on every retry and replay. */
  event_id: z.string(),
  type: z.string(),
  state: z.enum(WEBHOOK_DELIVERY_STATES),
  attempts: z.number().int(),
  last_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  created_at: Timestamp,
  next_attempt_at: Timestamp.nullable(),
  delivered_at: Timestamp.nullable(),
});
export type WebhookMessage = z.infer<typeof WebhookMessageSchema>;

/** One HTTP attempt. */
export const WebhookAttemptSchema = z.object({
  event_id: z.string(),
  type: z.string(),
  attempt: z.number().int(),
  status: z.number().int().nullable(),
  error: z.string().nullable(),
  duration_ms: z.number().int(),
  at: Timestamp,
});
export type WebhookAttempt = z.infer<typeof WebhookAttemptSchema>;

/** `GET …/webhooks/{id}/deliveries?state=&limit=` — newest first. */
export const WebhookDeliveriesQuerySchema = z.strictObject({
  state: z.enum(WEBHOOK_DELIVERY_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const WebhookDeliveriesSchema = z.object({ messages: z.array(WebhookMessageSchema), attempts: z.array(WebhookAttemptSchema) });
export type WebhookDeliveries = z.infer<typeof WebhookDeliveriesSchema>;

/** `POST …/webhooks/{id}/replay` — sends again one event (by id), or every dead-lettered one. */
export const ReplayWebhookRequestSchema = z.union([
  z.strictObject({ event_id: z.string().min(1).max(64) }),
  z.strictObject({ dead: z.literal(true) }),
]);
export const ReplayWebhookResponseSchema = z.object({ replayed: z.number().int() });

// ---------- before-send hook ----------

export const BEFORE_SEND_POLICIES = ["fail_open", "fail_closed"] as const;

/** `PUT /admin/v1/apps/{app_id}/hooks/before-send` */
export const SetBeforeSendHookRequestSchema = z.strictObject({
  url: WebhookUrl,
  /** How long the engine waits for the answer (default 2000 ms). */
  timeout_ms: z.number().int().min(50).max(10_000).default(2000),
  /** What happens when the hook times out or fails: `fail_open` stores the message, `fail_closed` refuses it (503). */
  policy: z.enum(BEFORE_SEND_POLICIES).default("fail_open"),
});
export type SetBeforeSendHookRequest = z.input<typeof SetBeforeSendHookRequestSchema>;

export const BeforeSendHookSchema = z.object({
  url: z.string(),
  timeout_ms: z.number().int(),
  policy: z.enum(BEFORE_SEND_POLICIES),
  updated_at: Timestamp,
});
export const BeforeSendHookWithSecretSchema = BeforeSendHookSchema.extend({ secret: z.string() });

/** What the engine POSTs to the before-send hook (signed like a webhook; `type` is `message.before_send`). */
export const BeforeSendRequestSchema = z.object({
  type: z.literal("message.before_send"),
  timestamp: z.string(),
  data: z.object({
    conversation_id: z.string(),
    conversation_kind: z.string(),
    sender: z.string(),
    client_msg_id: z.string(),
    text: z.string().nullable(),
    custom: z.record(z.string(), z.json()).nullable(),
    attachments: z.number().int(),
    reply_to: z.string().nullable(),
  }),
});
export type BeforeSendRequest = z.infer<typeof BeforeSendRequestSchema>;

/** The hook's answer: keep the message, refuse it (`403 rejected_by_app` with the reason; nothing stored), or store a replacement. */
export const BeforeSendResponseSchema = z.discriminatedUnion("action", [
  z.object({ action: z.literal("allow") }),
  z.object({ action: z.literal("reject"), reason: z.string().max(500).default("rejected by the app") }),
  z
    .object({
      action: z.literal("replace"),
      text: z.string().min(1).max(CHAT_LIMITS.maxTextLength).nullable().optional(),
      custom: CustomData.nullable().optional(),
    })
    .refine((r) => r.text !== undefined || r.custom !== undefined, "replace needs text or custom"),
]);
export type BeforeSendResponse = z.infer<typeof BeforeSendResponseSchema>;
