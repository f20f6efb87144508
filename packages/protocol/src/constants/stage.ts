/** Stage roles: the room's host(s) and the co-publishers they promoted. */
export const STAGE_ROLES = ["host", "co_host"] as const;
export type StageRole = (typeof STAGE_ROLES)[number];
