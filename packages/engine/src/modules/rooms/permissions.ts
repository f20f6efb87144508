import type { MediaPermission, TrackSourceName } from "@utd-stream/protocol";

/** Subscribe and send data (hand raising, chat, gifts); never publish media. */
export const AUDIENCE: MediaPermission = Object.freeze({
  can_publish: false,
  can_subscribe: true,
  can_publish_data: true,
  can_publish_sources: [],
}) as MediaPermission;

/** Publish exactly `sources` (plus subscribe and data). */
export function permissionWith(sources: readonly TrackSourceName[]): MediaPermission {
  return { can_publish: true, can_subscribe: true, can_publish_data: true, can_publish_sources: [...sources].sort() };
}

/**
 * The attribute every room token carries: the issue time (ms) of the user session it was minted for, so
 * a join can be dated against revocations (a room token dies with its session; see join-guard.ts).
 */
export const ISSUED_AT_ATTRIBUTE = "utd_iat";
