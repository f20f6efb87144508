/** `free`: anyone takes an empty seat; `request`: only approved or invited listeners (and hosts) may. */
export const SEAT_MODES = ["free", "request"] as const;
export type SeatMode = (typeof SEAT_MODES)[number];

/** Most seats an audio room may have. */
export const MAX_SEATS = 50;

export const SPEAK_REQUEST_KINDS = ["request", "invite"] as const;

export const SPEAK_REQUEST_STATUSES = ["pending", "approved"] as const;
