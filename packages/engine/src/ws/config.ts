import { TYPING_TTL_S, WS_DEFAULTS } from "@utd-stream/protocol";
import { bucket, int } from "../core/config.js";

/** Gateway limits and timings (see docs/websocket.md). Each has an environment variable. */
export interface GatewayConfig {
  /** `UTD_WS_MAX_FRAME_BYTES`: larger client frames close the socket with 4413. */
  maxFrameBytes: number;
  /** `UTD_WS_HEARTBEAT_S`: ping interval; a peer silent for 2× this is closed with 4408. */
  heartbeatS: number;
  /** `UTD_WS_HELLO_TIMEOUT_S`: a socket that has not sent `hello` by then is closed with 4401. */
  helloTimeoutS: number;
  /** `UTD_WS_RESUME_MAX_EVENTS`: events kept per user stream for resume. */
  resumeMaxEvents: number;
  /** `UTD_WS_RESUME_TTL_S`: how long a user stream outlives its last socket. */
  resumeTtlS: number;
  /** `UTD_WS_FRAMES_PER_S` as "burst/per-second": client frame budget per socket. */
  frameBurst: number;
  framesPerS: number;
  /** `UTD_PRESENCE_GRACE_S`: an identity stays online this long after its last socket drops (page reloads do not flap). */
  presenceGraceS: number;
  /** `UTD_PRESENCE_LEASE_S`: a node renews its connections' lease; a crashed node's users go offline after this. */
  presenceLeaseS: number;
  /** `UTD_TYPING_TTL_S`: a typing indicator lapses after this unless renewed. */
  typingTtlS: number;
  /** `UTD_WS_MAX_BUFFERED_BYTES`: a socket whose unsent data passes this is closed with 4507 (slow consumer). */
  maxBufferedBytes: number;
  /** `UTD_WS_MAX_SOCKETS_PER_IDENTITY`: past it (on one node) the identity's oldest socket is closed with 4409. */
  maxSocketsPerIdentity: number;
}

/** Reads the gateway configuration from the environment. */
export function loadGatewayConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  const { burst: frameBurst, perSecond: framesPerS } = bucket(env, "UTD_WS_FRAMES_PER_S", { burst: 100, perSecond: 50 });
  return {
    maxFrameBytes: int(env, "UTD_WS_MAX_FRAME_BYTES", WS_DEFAULTS.maxFrameBytes, 256),
    heartbeatS: int(env, "UTD_WS_HEARTBEAT_S", WS_DEFAULTS.heartbeatS, 1),
    helloTimeoutS: int(env, "UTD_WS_HELLO_TIMEOUT_S", WS_DEFAULTS.helloTimeoutS, 1),
    resumeMaxEvents: int(env, "UTD_WS_RESUME_MAX_EVENTS", WS_DEFAULTS.resumeMaxEvents, 1),
    resumeTtlS: int(env, "UTD_WS_RESUME_TTL_S", WS_DEFAULTS.resumeTtlS, 1),
    frameBurst,
    framesPerS,
    presenceGraceS: int(env, "UTD_PRESENCE_GRACE_S", 5, 0),
    presenceLeaseS: int(env, "UTD_PRESENCE_LEASE_S", 60, 3),
    typingTtlS: int(env, "UTD_TYPING_TTL_S", TYPING_TTL_S, 1),
    maxBufferedBytes: int(env, "UTD_WS_MAX_BUFFERED_BYTES", WS_DEFAULTS.maxBufferedBytes, 1024),
    maxSocketsPerIdentity: int(env, "UTD_WS_MAX_SOCKETS_PER_IDENTITY", 20, 1),
  };
}
