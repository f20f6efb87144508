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

/** `GET /api/v1/rooms/{room_name}/stage`, and the `stage.updated` event's data. */
export const StageSchema = z.object({
  room_name: z.string(),
  members: z.array(StageMemberSchema),
});
export type Stage = z.infer<typeof StageSchema>;

/** `POST /api/v1/rooms/{room_name}/stage/invite|remove` (host only). */
export const StageTargetRequestSchema = z.strictObject({ identity: Identity });

/** `stage.requested` — to the host(s) when a viewer raises a hand. */
export const StageRequestedEventSchema = z.object({
  room_name: z.string(),
  identity: z.string(),
  name: z.string().nullable(),
});
export type StageRequestedEvent = z.infer<typeof StageRequestedEventSchema>;
