export const PRESENCE_STATUSES = ["online", "offline"] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];

/** Most identities one presence query or watch request may name. */
export const PRESENCE_MAX_IDENTITIES = 200;

/** Most identities one user may watch at once (union of its devices). */
export const PRESENCE_MAX_WATCHED = 1000;
