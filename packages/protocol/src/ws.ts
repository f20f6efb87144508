/** WebSocket close codes used by the engine (`/api/v1/ws`). 1000/1001 keep their standard meaning. */
export const CLOSE_CODES = {
  /** The token is missing, invalid, expired or revoked (also by an auth-mode change or key rotation). Mint a new session before reconnecting. */
  unauthorized: 4401,
  /** The user is banned or the capability was switched off. Do not reconnect automatically. */
  forbidden: 4403,
  /** No frame or pong from the peer within the heartbeat timeout. Reconnect. */
  heartbeatTimeout: 4408,
  /** A frame exceeded the size limit. */
  frameTooLarge: 4413,
  /**
   * This identity opened more sockets than allowed (`UTD_WS_MAX_SOCKETS_PER_IDENTITY`, 20 by default, per
   * engine node): the engine keeps the newest and closes the oldest with this code. Do not reconnect
   * automatically — that would close another of the user's sockets in turn.
   */
  tooManySockets: 4409,
  /** Too many frames; reconnect after a pause. */
  rateLimited: 4429,
  /**
   * The socket read too slowly: its send buffer passed the engine's bound (`UTD_WS_MAX_BUFFERED_BYTES`).
   * Reconnect and resume; a client that keeps falling behind should join fewer or quieter rooms.
   */
  slowConsumer: 4507,
  /**
   * This engine node is draining (it got SIGTERM, or an operator is taking it out): reconnect at once,
   * with a little random jitter and without backoff growth, and resume. The load balancer already sends
   * new connections to the other nodes; the node spreads these closes over its drain period
   * (`UTD_SHUTDOWN_DRAIN_S`) so the survivors are not stampeded.
   */
  reconnectElsewhere: 4503,
  /** The engine is shutting down; reconnect (to another node). */
  goingAway: 1001,
} as const;
export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];
