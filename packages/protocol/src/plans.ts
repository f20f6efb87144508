import { z } from "zod";

/** Subscription plans (seed: Free / Signaling / Pro / Enterprise). */
export const PLANS = ["free", "signaling", "pro", "enterprise"] as const;
export type Plan = (typeof PLANS)[number];

/** Auth modes: `open` (app key alone mints a session) or `signed` (also needs a backend-signed JWT). */
export const AUTH_MODES = ["open", "signed"] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

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

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/**
 * The plan catalogue. `max_chatrooms` counts the open chatrooms an app has open at once;
 * `history_days` is how long messages are kept and served. `max_room_members` and `room_history` bound
 * signalling rooms (members at once; broadcasts kept for late joiners); the storage limits count uploaded
 * bytes (stored files plus open reservations).
 */
export const PLAN_DEFAULTS: Record<Plan, PlanDefinition> = {
  free: {
    signaling_enabled: true,
    messaging_enabled: true,
    limits: {
      history_days: 7,
      max_group_members: 10,
      max_friends: 50,
      max_chatrooms: 1,
      max_room_members: 50,
      room_history: 0,
      max_storage_bytes_per_user: 100 * MIB,
      max_storage_bytes_per_app: GIB,
    },
  },
  signaling: {
    signaling_enabled: true,
    messaging_enabled: false,
    limits: {
      history_days: 7,
      max_group_members: 10,
      max_friends: 200,
      max_chatrooms: 1,
      max_room_members: 1000,
      room_history: 50,
      max_storage_bytes_per_user: 100 * MIB,
      max_storage_bytes_per_app: GIB,
    },
  },
  pro: {
    signaling_enabled: true,
    messaging_enabled: true,
    limits: {
      history_days: 90,
      max_group_members: 100,
      max_friends: 1000,
      max_chatrooms: 50,
      max_room_members: 1000,
      room_history: 50,
      max_storage_bytes_per_user: 2 * GIB,
      max_storage_bytes_per_app: 200 * GIB,
    },
  },
  enterprise: {
    signaling_enabled: true,
    messaging_enabled: true,
    limits: {
      history_days: 3650,
      max_group_members: 1000,
      max_friends: 10000,
      max_chatrooms: 1000,
      max_room_members: 10000,
      room_history: 300,
      max_storage_bytes_per_user: 20 * GIB,
      max_storage_bytes_per_app: 20 * 1024 * GIB,
    },
  },
};
