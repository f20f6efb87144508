import { z } from "zod";
import { Identity } from "./common.js";
import { STAGE_ROLES } from "./constants/stage.js";

/** The seed's `UTDStageMember`: someone allowed to publish in a live stream. */
export const StageMemberSchema = z.object({
  identity: z.string(),
  name: z.string().nullable(),
  role: z.enum(STAGE_ROLES),
});
export type StageMember = z.infer<typeof StageMemberSchema>;

/** A viewer's raised hand, kept by the engine until the host invites them or they leave the room. */
export const StageRequestSchema = z.object({
  identity: z.string(),
  name: z.string().nullable(),
  /** Epoch milliseconds. */
  requested_at: z.number().int(),
});
export type StageRequest = z.infer<typeof StageRequestSchema>;

/** `GET /api/v1/rooms/{room_name}/stage`, and the `stage.updated` event's data. */
export const StageSchema = z.object({
  room_name: z.string(),
  members: z.array(StageMemberSchema),
  /** Raised hands, oldest first: stored, so a host who reloads still sees them. */
  requests: z.array(StageRequestSchema),
});
export type Stage = z.infer<typeof StageSchema>;

/** `GET /api/v1/rooms/{room_name}/stage/requests` (host only): the raised hands, oldest first. */
export const StageRequestListSchema = z.object({ requests: z.array(StageRequestSchema) });
export type StageRequestList = z.infer<typeof StageRequestListSchema>;

/** `POST /api/v1/rooms/{room_name}/stage/invite|remove` (host only). */
export const StageTargetRequestSchema = z.strictObject({ identity: Identity });

/** `stage.requested` — to the host(s) when a viewer raises a hand. */
export const StageRequestedEventSchema = z.object({
  room_name: z.string(),
  identity: z.string(),
  name: z.string().nullable(),
});
export type StageRequestedEvent = z.infer<typeof StageRequestedEventSchema>;
