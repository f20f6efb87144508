/**
 * Friendship states as the caller sees them: `friends` (accepted), `outgoing` (the caller asked),
 * `incoming` (the other asked the caller).
 */
export const FRIEND_STATES = ["friends", "outgoing", "incoming"] as const;
export type FriendState = (typeof FRIEND_STATES)[number];
