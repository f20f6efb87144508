import { z } from "zod";

export const PlanLimitsSchema = z.object({
  history_days: z.number().int().min(0),
  max_group_members: z.number().int().min(0),
  max_friends: z.number().int().min(0),
  max_chatrooms: z.number().int().min(0),
  /** Members of one signalling room at once (a room's policy may set less). */
  max_room_members: z.number().int().min(0),
  /** Broadcasts a signalling room may keep for late joiners (a room's policy chooses up to this; 0 = none). */
  room_history: z.number().int().min(0),
  /** Bytes one user may keep in uploads (stored files plus open reservations). */
  max_storage_bytes_per_user: z.number().int().min(0),
  /** Bytes the whole app may keep in uploads. */
  max_storage_bytes_per_app: z.number().int().min(0),
});
/** Per-plan limits, as on the wire. */
export type PlanLimits = z.infer<typeof PlanLimitsSchema>;

export interface PlanDefinition {
  signaling_enabled: boolean;
  messaging_enabled: boolean;
  limits: PlanLimits;
}
