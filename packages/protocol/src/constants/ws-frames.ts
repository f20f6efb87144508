/** Limits and timings of the WebSocket gateway, as the engine applies them by default. */
export const WS_DEFAULTS = {
  /** Largest accepted client frame in bytes; larger → close 4413. (`UTD_WS_MAX_FRAME_BYTES`) */
  maxFrameBytes: 64 * 1024,
  /** Seconds between server pings; a peer silent for 2× this is closed with 4408. (`UTD_WS_HEARTBEAT_S`) */
  heartbeatS: 20,
  /** Seconds a fresh socket has to send `hello` before it is closed with 4401. */
  helloTimeoutS: 10,
  /** Events kept per user stream for resume. (`UTD_WS_RESUME_MAX_EVENTS`) */
  resumeMaxEvents: 500,
  /** Seconds a user stream (and its resume buffer) outlives its last socket. (`UTD_WS_RESUME_TTL_S`) */
  resumeTtlS: 300,
  /** Bytes a socket may have queued unsent before it is closed with 4507 (slow consumer). (`UTD_WS_MAX_BUFFERED_BYTES`) */
  maxBufferedBytes: 4 * 1024 * 1024,
} as const;

/** Frame types that are not events on the user's stream. */
export const CONTROL_FRAME_TYPES = ["welcome", "resync_required", "reply", "error", "ping", "pong"] as const;

/** Most recipients of one server-side publish. */
export const PUBLISH_MAX_IDENTITIES = 10_000;
