/** Push providers a device token may belong to (`apns_voip`: VoIP pushes that ring a call). */
export const PUSH_PLATFORMS = ["fcm", "apns", "apns_voip", "web"] as const;
export type PushPlatform = (typeof PUSH_PLATFORMS)[number];

/** Most push tokens one user may hold; registering more drops the oldest. */
export const PUSH_MAX_TOKENS_PER_USER = 20;

export const PUSH_PROVIDERS = ["apns", "fcm", "vapid"] as const;
export type PushProvider = (typeof PUSH_PROVIDERS)[number];
