import { z } from "zod";
import { DeviceId, DisplayName, Id, Identity, Timestamp } from "./common.js";
import { CALL_ACTIONS, CALL_END_REASONS } from "./constants/calls.js";
import { CALL_STATUSES, CALL_TYPES } from "./streams.js";

/** Free-form app data attached to a call (≤ 4 KB when serialised). */
export const CallMetadataSchema = z
  .record(z.string().max(64), z.json())
  .refine((m) => JSON.stringify(m).length <= 4096, "metadata must serialise to at most 4096 bytes");

/** `POST /api/v1/calls` — invite one user to a 1:1 call. */
export const CreateCallRequestSchema = z.strictObject({
  callee_identity: Identity,
  type: z.enum(CALL_TYPES),
  callee_name: DisplayName.optional(),
  metadata: CallMetadataSchema.optional(),
  /**
   * A client-chosen id that makes the invitation idempotent: sending the same one again (same caller)
   * returns the call it created instead of ringing again.
   */
  client_call_id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._:-]+$/, "may only contain letters, digits, '.', '_', ':' and '-'")
    .optional(),
});
export type CreateCallRequest = z.infer<typeof CreateCallRequestSchema>;

/** Body of `POST /api/v1/calls/{id}/<action>`: optionally which device acts (defaults to the token's device). */
export const CallActionRequestSchema = z.strictObject({ device_id: DeviceId.optional() }).optional();

export const CallIdParamsSchema = z.strictObject({ id: Id });
export const CallActionParamsSchema = z.strictObject({ id: Id, action: z.enum(CALL_ACTIONS) });

/** A call as the API and `call.*` events show it. */
export const CallSchema = z.object({
  id: z.string(),
  type: z.enum(CALL_TYPES),
  status: z.enum(CALL_STATUSES),
  caller_identity: z.string(),
  caller_name: z.string().nullable(),
  callee_identity: z.string(),
  callee_name: z.string().nullable(),
  metadata: z.record(z.string(), z.json()),
  client_call_id: z.string().nullable(),
  /** The callee device that accepted (other devices of the callee: "answered elsewhere"). */
  answered_device_id: z.string().nullable(),
  end_reason: z.enum(CALL_END_REASONS).nullable(),
  ended_by: z.string().nullable(),
  created_at: Timestamp,
  /** When ringing stops and the call becomes `missed`, while it is `initiating` or `ringing`. */
  ring_deadline_at: Timestamp.nullable(),
  answered_at: Timestamp.nullable(),
  ended_at: Timestamp.nullable(),
});
export type Call = z.infer<typeof CallSchema>;

/** `GET /api/v1/calls?limit=&before=` — the caller's call history, newest first. */
export const ListCallsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  /** A call id: return calls older than it. */
  before: Id.optional(),
  /** Only calls in these statuses, comma-separated (e.g. `initiating,ringing`: what is ringing right now). */
  status: z
    .string()
    .max(100)
    .transform((s) => s.split(","))
    .pipe(z.array(z.enum(CALL_STATUSES)).min(1).max(CALL_STATUSES.length))
    .optional(),
});
export const CallListSchema = z.object({ calls: z.array(CallSchema), next_before: z.string().nullable() });
export type CallList = z.infer<typeof CallListSchema>;

/** Data of every `call.*` event. */
export const CallEventDataSchema = z.object({ call: CallSchema });
export type CallEventData = z.infer<typeof CallEventDataSchema>;
