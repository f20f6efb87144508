import { ROOM_DEFAULTS } from "@utd-stream/protocol";
import { type BucketConfig, bucket, int } from "../../core/config.js";

/** Signalling-room limits and timings; each has an environment variable (README, docs/websocket.md). */
export interface RoomsConfig {
  /** `UTD_ROOMS_MAX_PAYLOAD_BYTES`: largest broadcast `data` (JSON bytes); larger → `payload_too_large`. */
  maxPayloadBytes: number;
  /** `UTD_ROOMS_PER_SOCKET`: rooms one socket may be in at once. */
  roomsPerSocket: number;
  /** `UTD_ROOMS_PUBLISH_RATE` (`<burst>/<per second>`): publishes per member per room. */
  publishRate: BucketConfig;
  /** `UTD_ROOMS_GRACE_S`: a dropped socket stays in its rooms this long (0 = leaves at once). */
  graceS: number;
  /** `UTD_ROOMS_NODE_LEASE_S` (Redis): a node that stops renewing its lease this long has its members removed by the others. */
  nodeLeaseS: number;
}

export function loadRoomsConfig(env: Record<string, string | undefined> = process.env): RoomsConfig {
  return {
    maxPayloadBytes: int(env, "UTD_ROOMS_MAX_PAYLOAD_BYTES", ROOM_DEFAULTS.maxPayloadBytes, 16),
    roomsPerSocket: int(env, "UTD_ROOMS_PER_SOCKET", ROOM_DEFAULTS.roomsPerSocket, 1),
    publishRate: bucket(env, "UTD_ROOMS_PUBLISH_RATE", { burst: ROOM_DEFAULTS.publishBurst, perSecond: ROOM_DEFAULTS.publishPerS }),
    graceS: int(env, "UTD_ROOMS_GRACE_S", ROOM_DEFAULTS.graceS, 0),
    nodeLeaseS: int(env, "UTD_ROOMS_NODE_LEASE_S", 30, 3),
  };
}
