import type { PlanDefinition } from "../plans.js";

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** Subscription plans (seed: Free / Signaling / Pro / Enterprise). */
export const PLANS = ["free", "signaling", "pro", "enterprise"] as const;
export type Plan = (typeof PLANS)[number];

/** Auth modes: `open` (app key alone mints a session) or `signed` (also needs a backend-signed JWT). */
export const AUTH_MODES = ["open", "signed"] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

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
