import { z } from "zod";
import { Identity, Timestamp } from "./common.js";
import { FRIEND_STATES } from "./constants/friends.js";

export const FriendSchema = z.object({
  identity: z.string(),
  state: z.enum(FRIEND_STATES),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Friend = z.infer<typeof FriendSchema>;

/** `GET /api/v1/friends` */
export const FriendListSchema = z.object({ friends: z.array(FriendSchema) });

/** `POST /api/v1/friends/requests` — asks `identity` to be friends (accepts at once when they already asked). */
export const FriendRequestSchema = z.strictObject({ identity: Identity });

/** Path parameter of `POST /api/v1/friends/{identity}/accept|decline` and `DELETE /api/v1/friends/{identity}`. */
export const FriendParamsSchema = z.object({ identity: Identity });

/** Data of a `friend.updated` event, sent to both sides. `state` is as the recipient sees it; null when removed. */
export const FriendEventSchema = z.object({
  identity: z.string(),
  state: z.enum(FRIEND_STATES).nullable(),
});
export type FriendEvent = z.infer<typeof FriendEventSchema>;
