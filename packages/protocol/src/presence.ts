import { z } from "zod";
import { Identity, Timestamp } from "./common.js";
import { PRESENCE_MAX_IDENTITIES, PRESENCE_STATUSES } from "./constants/presence.js";
import { RequestId } from "./ws-frames.js";

/** One identity's presence: online while any of its devices is connected (after a short grace period). */
export const PresenceSchema = z.object({
  identity: z.string(),
  status: z.enum(PRESENCE_STATUSES),
  /** Last time the identity was connected (now while online); null when never seen. */
  last_seen_at: Timestamp.nullable(),
  /** Connected device ids (devices without an id count as `null`-free anonymous sockets and are not listed). */
  devices: z.array(z.string()),
});
export type Presence = z.infer<typeof PresenceSchema>;

/** `GET /api/v1/presence?identities=a,b` */
export const PresenceQuerySchema = z.strictObject({
  identities: z
    .string()
    .min(1)
    .max(PRESENCE_MAX_IDENTITIES * 130)
    .transform((s) => s.split(",").filter((x) => x !== ""))
    .pipe(z.array(Identity).min(1).max(PRESENCE_MAX_IDENTITIES)),
});
export const PresenceListSchema = z.object({ presence: z.array(PresenceSchema) });
export type PresenceList = z.infer<typeof PresenceListSchema>;

/** Data of `presence.changed`. */
export const PresenceChangedDataSchema = PresenceSchema;
export type PresenceChangedData = Presence;

/**
 * WebSocket `presence.watch` / `presence.unwatch`: receive `presence.changed` for these identities.
 * The watch list belongs to the user's stream (all devices) and survives a resume; the reply to
 * `presence.watch` carries their current presence.
 */
export const PresenceWatchFrameSchema = z.strictObject({
  type: z.enum(["presence.watch", "presence.unwatch"]),
  id: RequestId.optional(),
  identities: z.array(Identity).min(1).max(PRESENCE_MAX_IDENTITIES),
});
