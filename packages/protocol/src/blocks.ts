import { z } from "zod";
import { Timestamp } from "./common.js";

/**
 * Blocking and muting other users, per user. A blocked user cannot start a direct conversation with the
 * blocker, send in an existing one, or call them (`403 blocked`, and the call never rings); their messages
 * in shared groups are hidden from the blocker (history, threads, search, unread counts, events, pushes).
 * A muted user's messages stay visible but ring no push and count in no unread badge of the muter.
 */
export const BlockedUserSchema = z.object({ identity: z.string(), created_at: Timestamp });
export type BlockedUser = z.infer<typeof BlockedUserSchema>;

/** `GET /api/v1/blocks` — everyone the caller blocked, most recent first. */
export const BlockListSchema = z.object({ blocked: z.array(BlockedUserSchema) });
export type BlockList = z.infer<typeof BlockListSchema>;

/** `GET /api/v1/mutes/users` — the users the caller muted (muted conversations: `muted` on each conversation). */
export const MuteListSchema = z.object({ muted: z.array(BlockedUserSchema) });
export type MuteList = z.infer<typeof MuteListSchema>;

/** Most users one user may block, and mute. */
export const BLOCK_LIMITS = { maxBlocked: 1000, maxMuted: 1000 } as const;
